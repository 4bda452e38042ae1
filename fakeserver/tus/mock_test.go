package tus

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// tryPatch sends body at off on a connection of its own and returns the answer, or the
// transport error of a connection closed without one.
func tryPatch(t *testing.T, u string, off int64, body []byte, kv ...string) (answer, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]string{tusReq(), {"Content-Type", OffsetOctetStream, "Upload-Offset", strconv.FormatInt(off, 10)}, kv} {
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
	}
	c := &http.Client{Timeout: testWait, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b.Bytes()}, nil
}

// lastEntry returns the journal's entry of the last request of upload id with method.
func lastEntry(t *testing.T, s *Server, id, method string) fakeserver.JournalEntry {
	t.Helper()
	es := s.Admin().Journal(fakeserver.JournalFilter{Session: id})
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Method == method {
			return es[i]
		}
	}
	t.Fatalf("no %s of %s in the journal: %+v", method, id, es)
	return fakeserver.JournalEntry{}
}

// TestFaults: each action of the fault plan on a PATCH, through the wire: what the client
// sees, what HEAD says was kept, what the journal recorded, and that the upload then
// completes byte for byte from HEAD's offset (nothing acknowledged is lost).
func TestFaults(t *testing.T) {
	const size = 24
	tests := []struct {
		name       string
		rule       string
		dataDir    bool
		status     int // 0: the connection ends without an answer
		retryAfter string
		kept       int64 // HEAD's offset after the faulted PATCH of bytes 4-23; -1: the upload is gone (404)
		outcome    string
	}{
		{"status", "status=503,retry-after=2", false, 503, "2", 0, fakeserver.OutcomeAnswered},
		{"status early", "status=500,early", false, 500, "", 0, fakeserver.OutcomeAnswered},
		{"keep then status", "keep=10,then=502", false, 502, "", 14, fakeserver.OutcomeAnswered},
		{"keep then reset", "keep=10,then=reset", false, 0, "", 14, fakeserver.OutcomeReset},
		{"reset after", "reset-after=10", false, 0, "", 0, fakeserver.OutcomeReset},
		{"stall", "stall=100ms,after=10", false, 204, "", size, fakeserver.OutcomeAnswered},
		{"lost reply", "lost-reply", false, 0, "", size, fakeserver.OutcomeDropped},
		{"delay", "delay=50ms", false, 204, "", size, fakeserver.OutcomeAnswered},
		{"forget", "forget", false, 404, "", -1, fakeserver.OutcomeAnswered},
		{"restart in memory", "restart", false, 404, "", -1, fakeserver.OutcomeAnswered},
		{"restart on disk", "restart", true, 204, "", size, fakeserver.OutcomeAnswered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Faults: fakeserver.MustParseFaultRules(tt.rule + ",offset=5")}
			if tt.dataDir {
				st, err := NewDirStore(t.TempDir(), false)
				if err != nil {
					t.Fatal(err)
				}
				opts.Store = st
			}
			s := start(t, opts)
			u := create(t, s, size)
			id := path.Base(u)
			body := data(size, 3)
			// A first PATCH of bytes 0-3 holds no byte 5: the rule does not fire.
			if a := patch(t, u, 0, body[:4]); a.status != http.StatusNoContent {
				t.Fatalf("first PATCH: %d %s", a.status, a.body)
			}
			a, err := tryPatch(t, u, 4, body[4:])
			switch {
			case tt.status == 0 && err == nil:
				t.Fatalf("PATCH got %d %s, want the connection closed without an answer", a.status, a.body)
			case tt.status != 0 && err != nil:
				t.Fatalf("PATCH: %v, want %d", err, tt.status)
			case tt.status != 0 && (a.status != tt.status || a.header.Get("Retry-After") != tt.retryAfter):
				t.Fatalf("PATCH: %d Retry-After %q, want %d %q: %s", a.status, a.header.Get("Retry-After"), tt.status, tt.retryAfter, a.body)
			}
			e := lastEntry(t, s, id, http.MethodPatch)
			if e.Fault != tt.rule+",offset=5" || e.Status != tt.status || e.Outcome != tt.outcome ||
				e.RangeHeader != "Upload-Offset" || e.Range != "4" || e.Start != 4 || e.End != size-1 || e.Total != size {
				t.Errorf("journal entry %+v", e)
			}
			if tt.kept < 0 {
				if a := do(t, http.MethodHead, u, tusReq(), nil); a.status != http.StatusNotFound {
					t.Fatalf("HEAD after %s: %d, want 404", tt.rule, a.status)
				}
				return
			}
			off := offset(t, u)
			if want := max(tt.kept, 4); off != want {
				t.Fatalf("HEAD after %s: offset %d, want %d", tt.rule, off, want)
			}
			if off < size {
				if a := patch(t, u, off, body[off:]); a.status != http.StatusNoContent {
					t.Fatalf("resume at %d: %d %s", off, a.status, a.body)
				}
			}
			if got := stored(t, u); !bytes.Equal(got, body) {
				t.Fatalf("stored %q, want %q", got, body)
			}
			if fs := s.Admin().Files(); len(fs) != 1 || fs[0].Session != id || fs[0].Size != size {
				t.Errorf("files %+v", fs)
			}
		})
	}
}

// TestFaultOnCreationWithUpload: a rule fires on a creating POST that carries bytes; the
// answer still names the upload, whose kept bytes HEAD reports.
func TestFaultOnCreationWithUpload(t *testing.T) {
	s := start(t, Options{Faults: fakeserver.MustParseFaultRules("keep=6,then=503,match=first")})
	body := data(16, 1)
	a := do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Length", "16", "Content-Type", OffsetOctetStream), body)
	loc := a.header.Get("Location")
	if a.status != 503 || loc == "" {
		t.Fatalf("POST: %d Location %q: %s", a.status, loc, a.body)
	}
	if off := offset(t, loc); off != 6 {
		t.Fatalf("offset %d, want 6", off)
	}
	if e := lastEntry(t, s, path.Base(loc), http.MethodPost); e.Start != 0 || e.End != 15 || e.Total != 16 || e.Fault == "" || e.Status != 503 {
		t.Errorf("journal entry %+v", e)
	}
}

// TestFaultPlans: a rule of a named plan fires only for requests that name it; a request that
// names a plan without rules is refused.
func TestFaultPlans(t *testing.T) {
	s := start(t, Options{Faults: fakeserver.MustParseFaultRules("status=507,plan=full")})
	u := create(t, s, 4)
	if a := patch(t, u, 0, []byte("ab"), fakeserver.FaultPlanHeader, "other"); a.status != 400 {
		t.Fatalf("unknown plan: %d %s", a.status, a.body)
	}
	if a := patch(t, u, 0, []byte("ab")); a.status != 204 {
		t.Fatalf("no plan: %d %s", a.status, a.body)
	}
	if a := patch(t, u, 2, []byte("cd"), fakeserver.FaultPlanHeader, "full"); a.status != 507 {
		t.Fatalf("plan full: %d %s", a.status, a.body)
	}
	if st := s.Admin().Faults(); len(st) != 1 || st[0].Fired != 1 {
		t.Errorf("fault status %+v", st)
	}
}

// TestAdminAPI: the admin API under the default prefix: journal by session and since, the
// uploads as sessions, forgetting one, adding and clearing faults, the completed files.
func TestAdminAPI(t *testing.T) {
	var lines []string
	logf := make(chan string, 64)
	s := start(t, Options{Logf: func(f string, a ...any) { logf <- strings.TrimSpace(fmt.Sprintf(f, a...)) }})
	u := create(t, s, 4, "Upload-Metadata", "filename "+b64("a.txt"))
	id := path.Base(u)
	patch(t, u, 0, []byte("ab"))
	get := func(p string, v any) int {
		t.Helper()
		a := do(t, http.MethodGet, s.URL+fakeserver.DefaultAdminPrefix+p, nil, nil)
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Fatalf("GET %s: %d %s: %v", p, a.status, a.body, err)
		}
		return a.status
	}
	var page fakeserver.JournalPage
	if get("journal?session="+id, &page); len(page.Entries) != 2 || page.Entries[1].Range != "0" || page.Entries[1].Answer != "2" {
		t.Fatalf("journal %+v", page)
	}
	if get("journal?since="+strconv.FormatInt(page.Entries[1].Seq, 10), &page); len(page.Entries) != 0 {
		t.Fatalf("journal since the last: %+v", page.Entries)
	}
	var sess fakeserver.SessionInfo
	if st := get("sessions/"+id, &sess); st != 200 || sess.FileName != "a.txt" || sess.List != "0-1/4" || sess.Total != 4 {
		t.Fatalf("session: %d %+v", st, sess)
	}
	post := do(t, http.MethodPost, s.URL+fakeserver.DefaultAdminPrefix+"faults", hdrs{"Content-Type", "text/plain"}, []byte("status=503,times=always\n"))
	if post.status != 200 {
		t.Fatalf("POST faults: %d %s", post.status, post.body)
	}
	if a := patch(t, u, 2, []byte("cd")); a.status != 503 {
		t.Fatalf("after POST faults: %d", a.status)
	}
	if a := do(t, http.MethodDelete, s.URL+fakeserver.DefaultAdminPrefix+"faults", nil, nil); a.status != 200 {
		t.Fatalf("DELETE faults: %d", a.status)
	}
	if a := patch(t, u, 2, []byte("cd")); a.status != 204 {
		t.Fatalf("after DELETE faults: %d", a.status)
	}
	var files struct{ Files []fakeserver.CompletedFile }
	if get("files", &files); len(files.Files) != 1 || files.Files[0].Name != "a.txt" || files.Files[0].Size != 4 {
		t.Fatalf("files %+v", files)
	}
	if a := do(t, http.MethodDelete, s.URL+fakeserver.DefaultAdminPrefix+"sessions/"+id, nil, nil); a.status != 200 {
		t.Fatalf("DELETE session: %d %s", a.status, a.body)
	}
	if a := do(t, http.MethodHead, u, tusReq(), nil); a.status != 404 {
		t.Fatalf("HEAD of a forgotten upload: %d", a.status)
	}
	// One -v line per request outside the admin API: the POST, three PATCHes and the HEAD.
	for range 5 {
		select {
		case l := <-logf:
			lines = append(lines, l)
		case <-time.After(testWait):
			t.Fatalf("log lines so far:\n%s", strings.Join(lines, "\n"))
		}
	}
	if !strings.HasPrefix(lines[1], "PATCH /files/"+id+" session="+id+" range=0 status=204 in=2") ||
		!strings.Contains(lines[2], `status=503`) || !strings.Contains(lines[2], `fault="status=503,times=always"`) {
		t.Errorf("log lines:\n%s", strings.Join(lines, "\n"))
	}
	select {
	case l := <-logf:
		t.Errorf("an extra log line: %s", l)
	default:
	}
}

// b64 is s in base64, an Upload-Metadata value.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
