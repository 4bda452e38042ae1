package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/upspec/upspec/fakeserver"
)

// TestServeMockFlagErrors: a malformed fault rule, admin prefix or journal size is one line
// and exit status 2, before anything listens.
func TestServeMockFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown action", []string{"--fault", "explode"}, `--fault: fault rule "explode": unknown key "explode"`},
		{"bad status", []string{"--fault", "status=503", "--fault", "status=99"}, `fault rule "status=99": status: "99" is not a status`},
		{"no action", []string{"--fault", "times=2"}, "no action"},
		{"two actions", []string{"--fault", "lost-reply,forget"}, "two actions"},
		{"empty rule", []string{"--fault", ""}, "empty rule"},
		{"admin prefix without slashes", []string{"--admin-prefix", "admin"}, "invalid --admin-prefix"},
		{"admin prefix over the segments", []string{"--admin-prefix", "/up/", "--path", "/up/load"}, "would cover the segment endpoint"},
		{"admin prefix over the files", []string{"--admin-prefix", "/"}, "invalid --admin-prefix"},
		{"journal size", []string{"--journal-entries", "0"}, "invalid --journal-entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runServeOnce(t, tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit status %d stdout %q, want %d and nothing", code, stdout, exitUsage)
			}
			checkOneLineError(t, stderr, tt.want)
		})
	}
}

// TestServeFaultsAndAdmin: `upspec serve --fault` fires its rules in order, -v says which
// fired and why, and the admin API answers what the server saw.
func TestServeFaultsAndAdmin(t *testing.T) {
	p := startServe(t, "--listen", "127.0.0.1:0", "-v",
		"--fault", "status=503,retry-after=2,match=first", "--fault", "lost-reply,match=last,plan=lossy")
	seg := func(start, end int64) segmentRequest {
		return segmentRequest{session: "cli1", file: "cli.bin", start: start, end: end, total: 12, body: servePattern(0, start, end)}
	}
	if a := p.send(t, "/upload", seg(0, 5)); a.status != 503 || a.header.Get("Retry-After") != "2" {
		t.Errorf("first segment: %d Retry-After %q, want 503 and 2", a.status, a.header.Get("Retry-After"))
	}
	if a := p.send(t, "/upload", seg(0, 5)); a.status != 201 || a.body != "0-5/12" {
		t.Errorf("retry: %d %q", a.status, a.body)
	}
	if a := p.send(t, "/upload", seg(6, 11)); a.status != 200 {
		t.Errorf("last segment without the plan's header: %d %q", a.status, a.body)
	}
	_, ok := p.stderr.waitFor(startTimeout, p.done, func(s string) bool {
		return strings.Contains(s, `status=503 in=6`) && strings.Contains(s, `reason="scripted fault status=503,retry-after=2,match=first" fault="status=503,retry-after=2,match=first" by=fault`)
	})
	if !ok {
		t.Errorf("-v did not log the fault: %q", p.stderr.String())
	}

	var faults struct{ Rules []fakeserver.FaultStatus }
	getJSON(t, p, "/_upspec/faults", &faults)
	if len(faults.Rules) != 2 || faults.Rules[0].Fired != 1 || faults.Rules[1].Fired != 0 || faults.Rules[1].Plan != "lossy" {
		t.Errorf("faults: %+v", faults.Rules)
	}
	var page fakeserver.JournalPage
	getJSON(t, p, "/_upspec/journal?session=cli1", &page)
	if len(page.Entries) != 3 || page.Entries[0].Fault == "" || page.Entries[2].Status != 200 {
		t.Errorf("journal: %+v", page.Entries)
	}
	var sess fakeserver.SessionInfo
	getJSON(t, p, "/_upspec/sessions/cli1", &sess)
	if sess.State != fakeserver.SessionComplete || sess.List != "0-11/12" || sess.FileName != "cli.bin" {
		t.Errorf("session: %+v", sess)
	}
	if !strings.Contains(p.stdout.String(), "admin API at "+p.base+"/_upspec/ (journal, sessions, files, faults, reset); 2 fault rules") {
		t.Errorf("stdout %q does not name the admin API", p.stdout.String())
	}
	if code, _ := p.signalWithin(t, syscall.SIGTERM, exitTimeout); code != exitOK {
		t.Errorf("exit status %d after SIGTERM", code)
	}
}

// getJSON decodes the JSON answer of GET path into v.
func getJSON(t *testing.T, p *serveProc, path string, v any) {
	t.Helper()
	c := &http.Client{Timeout: requestTimeout}
	resp, err := c.Get(p.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestServeHelpMock: the help names the flags of the mock and shows a fault.
func TestServeHelpMock(t *testing.T) {
	code, stdout, _ := runServeOnce(t, "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--fault RULE", "--admin-prefix prefix", "--journal-entries N", "--fault status=503,retry-after=2,times=2", "/_upspec/journal"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}
