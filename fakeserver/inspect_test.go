package fakeserver

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
)

// TestForgetInFlight: a segment in flight when its session is forgotten is not
// acknowledged: it gets a 500, and the next segment starts the session afresh.
func TestForgetInFlight(t *testing.T) {
	srv := startServer(t, Options{})
	send(t, srv, "fi", 0, 0, 7, 24, "fi.bin")
	q := segment("fi", 8, 15, 24, "fi.bin", pattern(0, 8, 15))
	c := dial(t, srv.Addr)
	w := q.wire(srv.Addr)
	if _, err := io.WriteString(c, w[:len(w)-3]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the segment in flight", func() bool {
		info, ok := srv.Session("fi")
		return ok && len(info.InFlight) == 1 && info.InFlight[0] == ranges.Range{Start: 8, End: 15}
	})
	if !srv.ForgetSession("fi") {
		t.Fatal("ForgetSession found no session")
	}
	if _, err := io.WriteString(c, w[len(w)-3:]); err != nil {
		t.Fatal(err)
	}
	got := readReply(t, bufio.NewReader(c))
	if got.status != 500 || !strings.Contains(got.body, "forgotten") {
		t.Errorf("the segment in flight got %d %q, want a 500 saying the session was forgotten", got.status, got.body)
	}
	if _, ok := srv.Session("fi"); ok {
		t.Error("the forgotten session is still there")
	}
	if got := send(t, srv, "fi", 0, 16, 23, 24, "fi.bin"); got.body != "16-23/24" {
		t.Errorf("the next segment got %q, want a new session", got.body)
	}
	// A completed session is forgotten with its completion: a retry starts it again.
	send(t, srv, "fi", 0, 0, 15, 24, "fi.bin")
	if got := send(t, srv, "fi", 0, 16, 23, 24, "fi.bin"); got.status != 200 {
		t.Fatalf("completion: %d %q", got.status, got.body)
	}
	if !srv.ForgetSession("fi") {
		t.Fatal("ForgetSession found no completed session")
	}
	if got := send(t, srv, "fi", 0, 16, 23, 24, "fi.bin"); got.body != "16-23/24" {
		t.Errorf("a retry after the completion was forgotten got %d %q, want a new session", got.status, got.body)
	}
	if code, body := qGet(t, srv, "fi.bin"); code != 200 || body != string(pattern(0, 0, 23)) {
		t.Errorf("the completed file: %d %q", code, body)
	}
	if srv.ForgetSession("a/b") || srv.ForgetSession("never") {
		t.Error("ForgetSession found a session that is not there")
	}
}

// TestRestartInFlight: a segment in flight when the server restarts (a fault) is not
// acknowledged; what the store holds survives.
func TestRestartInFlight(t *testing.T) {
	srv := startServer(t, Options{Faults: MustParseFaultRules("restart,session=other")})
	send(t, srv, "ri", 0, 0, 7, 24, "ri.bin")
	q := segment("ri", 8, 15, 24, "ri.bin", pattern(0, 8, 15))
	c := dial(t, srv.Addr)
	w := q.wire(srv.Addr)
	if _, err := io.WriteString(c, w[:len(w)-3]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the segment in flight", func() bool {
		info, ok := srv.Session("ri")
		return ok && len(info.InFlight) == 1
	})
	if got := send(t, srv, "other", 0, 0, 1, 2, "o.bin"); got.status != 200 {
		t.Fatalf("the restarting segment: %d %q", got.status, got.body)
	}
	if _, err := io.WriteString(c, w[len(w)-3:]); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, bufio.NewReader(c)); got.status != 500 {
		t.Errorf("the segment in flight across the restart got %d %q, want 500", got.status, got.body)
	}
	if info, ok := srv.Session("ri"); !ok || info.List != "0-7/24" || len(info.InFlight) != 0 {
		t.Errorf("after the restart: %+v %v, want 0-7/24 and nothing in flight", info, ok)
	}
}

// TestSessionFromStore: Session reads a session the server has not seen since it started
// from the store, as its next segment would.
func TestSessionFromStore(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	first := startServer(t, Options{Store: st})
	send(t, first, "kept", 0, 0, 7, 24, "k.bin")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st2})
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("a new server holds %d sessions in memory", n)
	}
	info, ok := srv.Session("kept")
	if !ok || info.List != "0-7/24" || info.State != SessionIncomplete {
		t.Errorf("Session(kept) = %+v, %v", info, ok)
	}
	if _, ok := srv.Session("other"); ok {
		t.Error("Session(other) found a session")
	}
}

// TestHandlerAdmin: the handler of New has the same admin face as a Server.
func TestHandlerAdmin(t *testing.T) {
	h := New(Options{Faults: MustParseFaultRules("status=502")})
	ts := httptest.NewServer(h)
	defer ts.Close()
	srv := &Server{URL: ts.URL, Addr: strings.TrimPrefix(ts.URL, "http://")}
	if got := send(t, srv, "h1", 0, 0, 1, 4, "h.bin"); got.status != 502 {
		t.Errorf("status %d, want the fault's 502", got.status)
	}
	if es := h.Admin().Journal(JournalFilter{}); len(es) != 1 || es[0].Fault != "status=502" {
		t.Errorf("journal %+v", es)
	}
	if fs := h.Admin().Faults(); len(fs) != 1 || fs[0].Fired != 1 {
		t.Errorf("faults %+v", fs)
	}
}

// TestFaultsOutsideHandler: the handler knows the fault plan only as a deviation: handler.go
// uses no name declared in faults.go but the plan's type and constructor.
func TestFaultsOutsideHandler(t *testing.T) {
	fset := token.NewFileSet()
	faults, err := parser.ParseFile(fset, "faults.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, d := range faults.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declared[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					declared[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						declared[n.Name] = true
					}
				}
			}
		}
	}
	if len(declared) < 20 {
		t.Fatalf("faults.go declares only %d names", len(declared))
	}
	handler, err := parser.ParseFile(fset, "handler.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"faultPlans": true, "newFaultPlans": true}
	ast.Inspect(handler, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && declared[id.Name] && !allowed[id.Name] {
			t.Errorf("handler.go uses %s of faults.go at %v", id.Name, fset.Position(id.Pos()))
		}
		return true
	})
}

// TestInspectWhileUploading: the journal, the sessions and the files are read while clients
// upload through a fault plan; every request is one entry, every fault that fired is in the
// journal, and every file completes with its bytes.
func TestInspectWhileUploading(t *testing.T) {
	srv := startServer(t, Options{Faults: MustParseFaultRules("status=503,times=5", "lost-reply,times=5", "reset-after=3,times=5", "keep=2,times=5")})
	const clients, total, seg = 4, 64, 8
	sent := make(chan int, clients)
	for c := range clients {
		go func() {
			sid, name := fmt.Sprintf("w%d", c), fmt.Sprintf("w%d.bin", c)
			n := 0
			for start := int64(0); start < total; {
				end := start + seg - 1
				got, rp, err := clientSend(srv, segment(sid, start, end, total, name, pattern(c, start, end)))
				n++
				if err != nil {
					t.Errorf("%s: %v", sid, err)
					break
				}
				if n > 200 {
					t.Errorf("%s: no progress after %d requests (%s)", sid, n, got)
					break
				}
				if rp.status == 201 || rp.status == 200 {
					start = end + 1
				} else if info, ok := srv.Session(sid); ok {
					// resume after what the server holds of this segment (a partial commit)
					set := ranges.NewSet(total)
					for _, r := range info.Acknowledged {
						set.Add(r)
					}
					if set.Contains(ranges.Range{Start: start, End: end}) {
						start = end + 1
					}
				}
			}
			sent <- n
		}()
	}
	var since int64
	seen := map[int64]bool{}
	requests, finished := 0, 0
	for finished < clients {
		select {
		case n := <-sent:
			requests += n
			finished++
		default:
		}
		p := srv.Admin().JournalPage(JournalFilter{Since: since})
		for _, e := range p.Entries {
			seen[e.Seq] = true
		}
		since = p.Last
		for _, s := range srv.Sessions() {
			// A session that holds acknowledged bytes is never dropped here (no forget, no
			// TTL); an empty one may be, when a fault refuses its first segment.
			if _, ok := srv.Session(s.ID); !ok && s.State == SessionIncomplete && len(s.Acknowledged) > 0 {
				t.Errorf("session %s listed but not found", s.ID)
			}
		}
		srv.Admin().Files()
		time.Sleep(time.Millisecond) // leave the CPU to the clients
	}
	for _, e := range srv.Journal(JournalFilter{Since: since}) {
		seen[e.Seq] = true
	}
	if len(seen) != requests {
		t.Errorf("the poller saw %d entries, the clients sent %d requests", len(seen), requests)
	}
	fired := 0
	for _, f := range srv.Admin().Faults() {
		fired += f.Fired
	}
	inJournal := 0
	for _, e := range srv.Journal(JournalFilter{}) {
		if e.Fault != "" {
			inJournal++
		}
	}
	if fired != 20 || inJournal != fired {
		t.Errorf("%d faults fired, %d in the journal; want 20 and 20", fired, inJournal)
	}
	if fs := srv.Admin().Files(); len(fs) != clients {
		t.Errorf("%d files completed, want %d", len(fs), clients)
	}
	for c := range clients {
		if code, body := qGet(t, srv, fmt.Sprintf("w%d.bin", c)); code != 200 || body != string(pattern(c, 0, total-1)) {
			t.Errorf("file %d: %d %q", c, code, body)
		}
	}
}
