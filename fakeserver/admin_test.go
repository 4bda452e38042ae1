package fakeserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// adminCall sends method path (with body, a content type for it) to the server and decodes
// the JSON answer into v (when non-nil); it returns the status.
func adminCall(t *testing.T, srv *Server, method, path, contentType, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	c := &http.Client{Timeout: testTimeout}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var probe any
	if err := json.Unmarshal(b, &probe); err != nil {
		t.Fatalf("%s %s: the answer is not JSON: %v: %s", method, path, err, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// TestAdminAPI: every endpoint, in the order a client author would use them.
func TestAdminAPI(t *testing.T) {
	var completed []CompletedFile
	done := make(chan CompletedFile, 10)
	srv := startServer(t, Options{OnComplete: func(f CompletedFile) { done <- f }})
	P := DefaultAdminPrefix

	send(t, srv, "a1", 0, 0, 5, 24, "one.bin")
	send(t, srv, "a1", 0, 12, 17, 24, "one.bin")
	send(t, srv, "a2", 1, 0, 3, 4, "two.bin")
	completed = append(completed, <-done)

	var sessions struct{ Sessions []SessionInfo }
	if st := adminCall(t, srv, "GET", P+"sessions", "", "", &sessions); st != 200 {
		t.Fatalf("sessions: %d", st)
	}
	want := []SessionInfo{{ID: "a1", FileName: "one.bin", Total: 24, Acknowledged: []ranges.Range{{Start: 0, End: 5}, {Start: 12, End: 17}},
		InFlight: []ranges.Range{}, State: SessionIncomplete, List: "0-5/24,12-17/24"},
		{ID: "a2", FileName: "two.bin", Total: 4, Acknowledged: []ranges.Range{{Start: 0, End: 3}}, InFlight: []ranges.Range{}, State: SessionComplete, List: "0-3/4"}}
	if fmt.Sprint(sessions.Sessions) != fmt.Sprint(want) {
		t.Errorf("sessions:\n got %+v\nwant %+v", sessions.Sessions, want)
	}
	var one SessionInfo
	if st := adminCall(t, srv, "GET", P+"sessions/a1", "", "", &one); st != 200 || one.List != "0-5/24,12-17/24" {
		t.Errorf("sessions/a1: %d %+v", st, one)
	}
	for _, tt := range []struct {
		method, path string
		status       int
		errPart      string
	}{
		{"GET", P + "sessions/nope", 404, "no session nope"},
		{"GET", P + "sessions/..%2F..%2Fetc", 400, "invalid session ID"},
		{"GET", P + "sessions/a.b", 400, "invalid session ID"},
		{"DELETE", P + "sessions/nope", 404, "no session"},
		{"GET", P + "nothing", 404, "no admin endpoint GET " + P + "nothing"},
		{"GET", P, 404, "no admin endpoint"},
		{"POST", P + "journal", 405, "method POST not allowed"},
		{"GET", P + "reset", 405, "allowed: POST"},
		{"GET", P + "journal?since=x", 400, "since="},
		{"POST", P + "faults", 400, "no rules"},
	} {
		var e struct{ Error string }
		if st := adminCall(t, srv, tt.method, tt.path, "", "", &e); st != tt.status || !strings.Contains(e.Error, tt.errPart) {
			t.Errorf("%s %s: %d %q, want %d with %q", tt.method, tt.path, st, e.Error, tt.status, tt.errPart)
		}
	}

	var page JournalPage
	adminCall(t, srv, "GET", P+"journal?session=a1", "", "", &page)
	if len(page.Entries) != 2 || page.Entries[1].Range != "bytes 12-17/24" || page.Last != 3 {
		t.Errorf("journal?session=a1: %+v", page)
	}
	adminCall(t, srv, "GET", P+"journal?since=2", "", "", &page)
	if len(page.Entries) != 1 || page.Entries[0].Seq != 3 || page.Entries[0].Session != "a2" {
		t.Errorf("journal?since=2: %+v", page)
	}

	var files struct{ Files []CompletedFile }
	adminCall(t, srv, "GET", P+"files", "", "", &files)
	if len(files.Files) != 1 || files.Files[0].Name != "two.bin" || files.Files[0].Size != 4 || files.Files[0].URL != "/file/two.bin" ||
		files.Files[0].Session != "a2" || completed[0].Name != "two.bin" || completed[0].Session != "a2" {
		t.Errorf("files: %+v; OnComplete got %+v", files.Files, completed)
	}

	// Faults: a bad rule is a 400 that names it, and adds nothing.
	var faults struct {
		Rules []FaultStatus
		Error string
	}
	if st := adminCall(t, srv, "POST", P+"faults", "application/json", `{"rules": ["status=503,times=2", "status=999"]}`, &faults); st != 400 ||
		!strings.Contains(faults.Error, `fault rule "status=999": status: "999" is not a status from 200 to 599`) {
		t.Errorf("a bad rule: %d %q", st, faults.Error)
	}
	if st := adminCall(t, srv, "POST", P+"faults", "application/json", `{"rules": ["status=503,times=2,session=a1"]}`, &faults); st != 200 || len(faults.Rules) != 1 {
		t.Errorf("POST faults: %d %+v", st, faults)
	}
	if st := adminCall(t, srv, "POST", P+"faults", "text/plain", "# comment\n\nlost-reply,plan=p\n", &faults); st != 200 || len(faults.Rules) != 2 {
		t.Errorf("POST faults as text: %d %+v", st, faults)
	}
	if got := send(t, srv, "a1", 0, 6, 11, 24, "one.bin"); got.status != 503 {
		t.Errorf("the posted rule did not fire: %d", got.status)
	}
	adminCall(t, srv, "GET", P+"faults", "", "", &faults)
	if len(faults.Rules) != 2 || faults.Rules[0].Fired != 1 || faults.Rules[0].Times != 2 || faults.Rules[1].Plan != "p" {
		t.Errorf("GET faults: %+v", faults.Rules)
	}
	var removed struct{ Removed int }
	if adminCall(t, srv, "DELETE", P+"faults?plan=p", "", "", &removed); removed.Removed != 1 {
		t.Errorf("DELETE faults?plan=p removed %d", removed.Removed)
	}
	if adminCall(t, srv, "DELETE", P+"faults?plan=*", "", "", &removed); removed.Removed != 1 || len(srv.Admin().Faults()) != 0 {
		t.Errorf("DELETE faults?plan=* removed %d", removed.Removed)
	}

	// DELETE a session: the server lost it, and its next segment starts afresh.
	if st := adminCall(t, srv, "DELETE", P+"sessions/a1", "", "", nil); st != 200 {
		t.Errorf("DELETE sessions/a1: %d", st)
	}
	if got := send(t, srv, "a1", 0, 18, 23, 24, "one.bin"); got.body != "18-23/24" {
		t.Errorf("after DELETE the session answers %q, want only the new segment", got.body)
	}

	// Reset: no journal, no sessions, the configured faults (none).
	if st := adminCall(t, srv, "POST", P+"reset", "", "", nil); st != 200 {
		t.Errorf("reset: %d", st)
	}
	if es, ss := srv.Journal(JournalFilter{}), srv.Sessions(); len(es) != 0 || len(ss) != 0 {
		t.Errorf("after reset: %d entries, %d sessions", len(es), len(ss))
	}
	if got := send(t, srv, "a1", 0, 0, 5, 24, "one.bin"); got.body != "0-5/24" {
		t.Errorf("after reset the session answers %q", got.body)
	}
	if es := srv.Journal(JournalFilter{}); len(es) != 1 || es[0].Seq <= 3 {
		t.Errorf("after reset: %+v, want one entry that goes on numbering", es)
	}
}

// TestAdminPrefix: the admin API moves with its option and never shadows the segment
// endpoint or the files.
func TestAdminPrefix(t *testing.T) {
	srv := startServer(t, Options{AdminPrefix: "/_mock/", Path: "/_mock/upload"})
	if got := do(t, srv, segReq{target: "/_mock/upload", headers: segment("p1", 0, 1, 4, "p.bin", nil).headers[:4], body: "ab"}.with("Content-Length: 2")); got.status != 201 {
		t.Errorf("the segment endpoint under the admin prefix: %d %q", got.status, got.body)
	}
	var sessions struct{ Sessions []SessionInfo }
	if st := adminCall(t, srv, "GET", "/_mock/sessions", "", "", &sessions); st != 200 || len(sessions.Sessions) != 1 {
		t.Errorf("/_mock/sessions: %d %+v", st, sessions)
	}
	if got := get(t, srv, DefaultAdminPrefix+"sessions"); got.status != 404 || got.header.Get("Content-Type") == "application/json" {
		t.Errorf("the default prefix answers %d %s", got.status, got.header.Get("Content-Type"))
	}
	if es := srv.Journal(JournalFilter{}); len(es) != 2 || !slices.ContainsFunc(es, func(e JournalEntry) bool { return e.Path == DefaultAdminPrefix+"sessions" }) {
		t.Errorf("journal %+v: want the segment and the GET outside the admin prefix", es)
	}
}
