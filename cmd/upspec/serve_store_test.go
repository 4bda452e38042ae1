package main

import (
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
)

// TestServeCompletionAfterKill: on a data directory, a retry of the completing segment after
// kill -9 and a restart, and after SIGTERM and a restart, gets the completion again, never a
// new session.
func TestServeCompletionAfterKill(t *testing.T) {
	const total = 20
	dir := t.TempDir()
	sid := fmt.Sprintf("serve-done-%d", os.Getpid())
	seg := func(start, end int64) segmentRequest {
		return segmentRequest{session: sid, file: sid + ".bin", start: start, end: end, total: total,
			body: servePattern(3, start, end)}
	}
	p := startServe(t, "--data-dir", dir)
	if a := p.send(t, "/upload", seg(0, 9)); a.status != http.StatusCreated {
		t.Fatalf("first segment: %d %q", a.status, a.body)
	}
	if a := p.send(t, "/upload", seg(10, 19)); a.status != http.StatusOK || a.body != "completed" {
		t.Fatalf("completing segment: %d %q", a.status, a.body)
	}
	p.kill()
	for _, stop := range []string{"SIGKILL", "SIGTERM"} {
		p = startServe(t, "--data-dir", dir)
		for _, s := range []segmentRequest{seg(10, 19), seg(0, 1)} {
			if a := p.send(t, "/upload", s); a.status != http.StatusOK || a.body != "completed" {
				t.Fatalf("after %s and a restart, bytes %d-%d/%d: %d %q, want 200 completed (the completion again)",
					stop, s.start, s.end, total, a.status, a.body)
			}
		}
		if stop == "SIGKILL" {
			p.kill()
		} else if code, _ := p.signal(t, syscall.SIGTERM); code != exitOK {
			t.Errorf("exit status %d, want 0", code)
		}
	}
}
