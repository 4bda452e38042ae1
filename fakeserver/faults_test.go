package fakeserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
)

// trySend sends q on a new connection and returns what the client sees: the answer as
// "STATUS BODY", or "reset" (the connection was reset) or "dropped" (closed unanswered).
func trySend(t *testing.T, srv *Server, q segReq, plan ...string) (string, reply) {
	t.Helper()
	got, rp, err := clientSend(srv, q, plan...)
	if err != nil {
		t.Fatal(err)
	}
	return got, rp
}

// clientSend is trySend for any goroutine: an exchange that neither answers, resets nor
// drops is an error.
func clientSend(srv *Server, q segReq, plan ...string) (string, reply, error) {
	if len(plan) > 0 {
		q.headers = append(slices.Clone(q.headers), FaultPlanHeader+": "+plan[0])
	}
	c, err := net.DialTimeout("tcp", srv.Addr, testTimeout)
	if err != nil {
		return "", reply{}, fmt.Errorf("dial %s: %w", srv.Addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		return "", reply{}, fmt.Errorf("deadline: %w", err)
	}
	if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
		return clientError(err)
	}
	resp, err := readResponse(bufio.NewReader(c))
	if err != nil {
		return clientError(err)
	}
	return fmt.Sprintf("%d %s", resp.status, resp.body), resp, nil
}

// clientError names what a client sees of a failed exchange.
func clientError(err error) (string, reply, error) {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset", reply{}, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "dropped", reply{}, nil
	}
	return "", reply{}, fmt.Errorf("the exchange failed otherwise: %w", err)
}

// readResponse reads one answer off br.
func readResponse(br *bufio.Reader) (reply, error) {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// sees reports whether the client's view got is want, or starts with want's part before a
// final "*".
func sees(got, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, p)
	}
	return got == want
}

// faultStep is one segment of a fault table and what the client must see.
type faultStep struct {
	start, end int64
	want       string            // trySend's summary, a prefix of it for a body
	header     map[string]string // headers the answer must carry
	fired      bool              // a rule fired for it (the journal says so)
	holds      string            // the session's list afterwards, "-" for none; "" unchecked
}

// finishUpload sends what the server reports missing in session sid, then checks the
// completion and the stored bytes.
func finishUpload(t *testing.T, srv *Server, sid string, seed int, total int64, name string) {
	t.Helper()
	missing := []ranges.Range{{Start: 0, End: total - 1}}
	if info, ok := srv.Session(sid); ok {
		set := ranges.NewSet(total)
		for _, r := range info.Acknowledged {
			set.Add(r)
		}
		missing = set.Missing()
	}
	var last string
	for _, r := range missing {
		last, _ = trySend(t, srv, segment(sid, r.Start, r.End, total, name, pattern(seed, r.Start, r.End)))
	}
	if len(missing) > 0 && last != "200 completed" {
		t.Fatalf("the last missing segment got %q, want 200 completed", last)
	}
	code, body := qGet(t, srv, name)
	if code != 200 || body != string(pattern(seed, 0, total-1)) {
		t.Fatalf("GET %s: %d %q, want the whole file", name, code, body)
	}
}

// TestFaultActions: each action through the wire, with what the client sees, what the
// journal says, and that nothing acknowledged is lost: after each step the session still
// holds every range a 201 listed (but for forget, which loses the session on purpose), and
// sending what the server reports missing completes the file with the right bytes.
func TestFaultActions(t *testing.T) {
	const total = 24
	tests := []struct {
		name  string
		rules []string
		loses bool // the rule loses acknowledged ranges on purpose
		steps []faultStep
	}{
		{"503 with Retry-After, twice, then success", []string{"status=503,retry-after=2,times=2,match=first"}, false, []faultStep{
			{0, 7, "503 scripted fault status=503,retry-after=2,times=2,match=first\n", map[string]string{"Retry-After": "2"}, true, ""},
			{0, 7, "503 *", map[string]string{"Retry-After": "2"}, true, ""},
			{0, 7, "201 0-7/24", nil, false, ""},
		}},
		{"500 on a middle segment", []string{"status=500,match=middle"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 15, "500 scripted fault*", nil, true, "0-7/24"},
			{16, 23, "201 0-7/24,16-23/24", nil, false, ""},
		}},
		{"502 at a byte offset", []string{"status=502,offset=10"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 15, "502 *", nil, true, ""},
			{8, 15, "201 0-15/24", nil, false, ""},
		}},
		{"413 with a body of one's own", []string{"status=413,body=<html>too%20large</html>,content-type=text/html"}, false, []faultStep{
			{0, 7, "413 <html>too large</html>", map[string]string{"Content-Type": "text/html"}, true, ""},
			{0, 7, "201 0-7/24", nil, false, ""},
		}},
		{"413 before the body", []string{"status=413,early"}, false, []faultStep{
			{0, 7, "413 *", nil, true, "-"},
		}},
		{"rules consumed in order", []string{"status=503", "status=502,times=always,session=other", "status=500"}, false, []faultStep{
			{0, 7, "503 *", nil, true, "-"},
			{0, 7, "500 *", nil, true, "-"},
			{0, 7, "201 0-7/24", nil, false, "0-7/24"},
		}},
		{"partial commit, then 500", []string{"keep=3,match=first"}, false, []faultStep{
			{0, 7, "500 scripted fault keep=3,match=first\n", nil, true, "0-2/24"},
		}},
		{"partial commit, then reset", []string{"keep=3,then=reset"}, false, []faultStep{
			{0, 7, "reset", nil, true, "0-2/24"},
		}},
		{"partial commit that completes the file", []string{"keep=100,then=503,match=last"}, false, []faultStep{
			{0, 15, "201 0-15/24", nil, false, ""},
			{16, 23, "503 *", nil, true, "0-23/24"},
			{16, 23, "200 completed", nil, false, ""},
		}},
		{"reset after 4 body bytes", []string{"reset-after=4"}, false, []faultStep{
			{0, 7, "reset", nil, true, "-"},
			{0, 7, "201 0-7/24", nil, false, "0-7/24"},
		}},
		{"reset after the whole body", []string{"reset-after=8"}, false, []faultStep{
			{0, 7, "reset", nil, true, "-"},
		}},
		{"stall, then go on", []string{"stall=100ms,after=4"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, true, ""},
		}},
		{"lost reply of the last segment", []string{"lost-reply,match=last"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 23, "dropped", nil, true, ""},
			{8, 23, "200 completed", nil, false, ""},
		}},
		{"lost reply of a middle segment", []string{"lost-reply,match=middle"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 15, "dropped", nil, true, "0-15/24"},
		}},
		{"delayed answer", []string{"delay=100ms"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, true, ""},
		}},
		{"forgotten session", []string{"forget,match=middle"}, true, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 15, "201 8-15/24", nil, true, "8-15/24"},
		}},
		{"restart", []string{"restart,match=middle", "restart,match=last,times=2"}, false, []faultStep{
			{0, 7, "201 0-7/24", nil, false, ""},
			{8, 15, "201 0-15/24", nil, true, ""},    // the store kept 0-7
			{16, 23, "200 completed", nil, true, ""}, // and 0-15
			{16, 23, "200 completed", nil, true, ""}, // and the completion
		}},
	}
	for _, sk := range storeKinds()[:2] {
		for _, tt := range tests {
			t.Run(sk.name+"/"+tt.name, func(t *testing.T) {
				rules := MustParseFaultRules(tt.rules...)
				srv := startServer(t, Options{Store: sk.make(t), Faults: rules})
				sid, name := "f1", "fault.bin"
				acked := ranges.NewSet(total)
				for i, st := range tt.steps {
					began := time.Now()
					got, rp := trySend(t, srv, segment(sid, st.start, st.end, total, name, pattern(1, st.start, st.end)))
					took := time.Since(began)
					if !sees(got, st.want) {
						t.Fatalf("step %d (%d-%d): the client sees %q, want %q", i, st.start, st.end, got, st.want)
					}
					for k, v := range st.header {
						if rp.header.Get(k) != v {
							t.Errorf("step %d: %s %q, want %q", i, k, rp.header.Get(k), v)
						}
					}
					if rp.status == 200 {
						acked = ranges.NewSet(total) // done: a later session is a new upload
					}
					if rp.status == 201 {
						l, err := ranges.ParseList(rp.body)
						if err != nil {
							t.Fatalf("step %d: list %q: %v", i, rp.body, err)
						}
						for _, r := range l.Set().Ranges() {
							acked.Add(r)
						}
					}
					es := srv.Journal(JournalFilter{})
					e := es[len(es)-1]
					if fired := e.Fault != ""; fired != st.fired || fired && (!slices.Contains(e.ShapedBy, "fault") || !slices.Contains(tt.rules, e.Fault)) {
						t.Errorf("step %d: journal fault %q shaped by %v, want fired=%v", i, e.Fault, e.ShapedBy, st.fired)
					}
					if rule, err := ParseFaultRule(e.Fault); err == nil && (rule.action == actStall || rule.action == actDelay) && (took < rule.wait || e.Duration < rule.wait) {
						t.Errorf("step %d: answered after %v (journal %v), want at least %v", i, took, e.Duration, rule.wait)
					}
					if info, ok := srv.Session(sid); st.holds != "" && (ok || st.holds != "-") && info.List != st.holds {
						t.Errorf("step %d: the session holds %q (found %v), want %q", i, info.List, ok, st.holds)
					}
					if info, ok := srv.Session(sid); !tt.loses && acked.Len() > 0 && (!ok || info.State == SessionIncomplete) {
						have := ranges.NewSet(total)
						for _, r := range info.Acknowledged {
							have.Add(r)
						}
						if !ok || len(acked.Subtract(have)) > 0 {
							t.Fatalf("step %d: the session holds %v, the client was told %v", i, info.Acknowledged, acked)
						}
					}
				}
				finishUpload(t, srv, sid, 1, total, name)
			})
		}
	}
}

// TestFaultBodyBytes: the journal says how much of the body each action read, and how the
// request ended.
func TestFaultBodyBytes(t *testing.T) {
	const total = 512 << 10
	tests := []struct {
		rule    string
		want    string // what the client sees
		read    int64
		status  int
		outcome string
	}{
		{"reset-after=256K", "reset", 256 << 10, 0, OutcomeReset},
		{"reset-after=0", "reset", 0, 0, OutcomeReset},
		{"status=413,early", "413 *", 0, 413, OutcomeAnswered},
		{"status=503", "503 *", total, 503, OutcomeAnswered},
		{"keep=1K,then=reset", "reset", total, 0, OutcomeReset},
		{"lost-reply", "dropped", total, 0, OutcomeDropped},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			srv := startServer(t, Options{Faults: MustParseFaultRules(tt.rule)})
			got, _ := trySend(t, srv, segment("big", 0, total-1, total, "big.bin", pattern(2, 0, total-1)))
			if !sees(got, tt.want) {
				t.Fatalf("the client sees %q, want %q", got, tt.want)
			}
			es := srv.Journal(JournalFilter{Session: "big"})
			if len(es) != 1 {
				t.Fatalf("journal: %d entries, want 1", len(es))
			}
			e := es[0]
			if e.BodyRead != tt.read || e.Status != tt.status || e.Outcome != tt.outcome || e.Fault != tt.rule {
				t.Errorf("journal: read %d status %d outcome %q fault %q, want %d %d %q %q",
					e.BodyRead, e.Status, e.Outcome, e.Fault, tt.read, tt.status, tt.outcome, tt.rule)
			}
		})
	}
}

// TestFaultStallBounded: a stall holds the body for its time, then the request goes on; a
// client that gives up during it leaves an entry "stalled"; closing the server ends a stall
// at once.
func TestFaultStallBounded(t *testing.T) {
	srv, err := NewServer(Options{Faults: MustParseFaultRules("stall=10m,after=4,session=long", "stall=100ms,after=4,session=gone")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	// The client sends half of the body and leaves while the server stalls.
	q := segment("gone", 0, 7, 8, "s.bin", pattern(3, 0, 7))
	c := dial(t, srv.Addr)
	w := q.wire(srv.Addr)
	if _, err := io.WriteString(c, w[:len(w)-4]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session in flight", func() bool {
		info, ok := srv.Session("gone")
		return ok && len(info.InFlight) == 1
	})
	_ = c.Close()
	waitFor(t, "the stalled entry", func() bool {
		es := srv.Journal(JournalFilter{Session: "gone"})
		return len(es) == 1 && es[0].Outcome == OutcomeStalled && es[0].BodyRead == 4
	})

	// A stall of ten minutes ends when the server closes.
	c2 := dial(t, srv.Addr)
	q2 := segment("long", 0, 7, 8, "l.bin", pattern(3, 0, 7))
	if _, err := io.WriteString(c2, q2.wire(srv.Addr)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stall", func() bool {
		info, ok := srv.Session("long")
		return ok && len(info.InFlight) == 1
	})
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close waited for the stall")
	}
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFaultPlanHeader: a rule of a named plan applies only to requests that name it; a
// request that names a plan without rules is refused; the counts are the plan's.
func TestFaultPlanHeader(t *testing.T) {
	srv := startServer(t, Options{Faults: MustParseFaultRules("status=503,plan=flaky,times=2", "status=500")})
	q := func(sid string) segReq { return segment(sid, 0, 7, 8, "p.bin", pattern(4, 0, 7)) }
	steps := []struct {
		sid, plan, want string
	}{
		{"p1", "flaky", "503 *"},
		{"p2", "", "500 *"}, // the default plan
		{"p3", "", "200 completed"},
		{"p4", "flaky", "503 *"},
		{"p5", "flaky", "200 completed"}, // the plan's rule fired its two times
		{"p6", "nope", `400 no fault plan named "nope" (header Upspec-Fault-Plan)` + "\n"},
	}
	for i, st := range steps {
		var got string
		if st.plan != "" {
			got, _ = trySend(t, srv, q(st.sid), st.plan)
		} else {
			got, _ = trySend(t, srv, q(st.sid))
		}
		if !sees(got, st.want) {
			t.Errorf("step %d: %q, want %q", i, got, st.want)
		}
	}
	want := []FaultStatus{{Rule: "status=503,plan=flaky,times=2", Plan: "flaky", Times: 2, Fired: 2}, {Rule: "status=500", Times: 1, Fired: 1}}
	if got := srv.Admin().Faults(); !slices.Equal(got, want) {
		t.Errorf("Faults() = %+v, want %+v", got, want)
	}
}
