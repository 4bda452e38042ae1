package fakeserver

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
)

// inflight is a segment whose headers and part of whose body are on the wire.
type inflight struct {
	c    net.Conn
	br   *bufio.Reader
	rest []byte
}

// startInflight sends the headers of segment start-end (with Expect: 100-continue), waits for
// the 100 Continue (so the server has admitted it and is reading the body), then sends the
// first half of the body.
func startInflight(t *testing.T, srv *Server, sid string, seed int, start, end, total int64) *inflight {
	t.Helper()
	body := pattern(seed, start, end)
	q := segment(sid, start, end, total, sid+".bin", nil).without("Content-Length",
		fmt.Sprintf("Content-Length: %d", len(body)), "Expect: 100-continue")
	c := dial(t, srv.Addr)
	if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
		t.Fatalf("write headers: %v", err)
	}
	br := bufio.NewReader(c)
	if r := readReply(t, br); r.status != http.StatusContinue {
		t.Fatalf("want 100 Continue, got %d %q", r.status, r.body)
	}
	half := len(body) / 2
	if _, err := c.Write(body[:half]); err != nil {
		t.Fatalf("write half: %v", err)
	}
	return &inflight{c: c, br: br, rest: body[half:]}
}

// finish sends the rest of the body and reads the answer.
func (f *inflight) finish(t *testing.T) reply {
	t.Helper()
	if _, err := f.c.Write(f.rest); err != nil {
		t.Fatalf("write rest: %v", err)
	}
	return readReply(t, f.br)
}

// TestOverlapInFlight: B overlaps A while A is in flight: exactly one 409, and the file holds
// A's bytes.
func TestOverlapInFlight(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			const total = 400000
			a := startInflight(t, srv, "ovl", 0, 0, 199999, total)
			expectErrorReply(t, send(t, srv, "ovl", 1, 100000, 299999, total, "ovl.bin"), 409, "overlaps segment 0-199999")
			expectErrorReply(t, send(t, srv, "ovl", 1, 199999, 199999, total, "ovl.bin"), 409, "overlaps")
			if got := a.finish(t); got.status != 201 || got.body != "0-199999/400000" {
				t.Fatalf("A: %d %q", got.status, got.body)
			}
			// B again, now that A is done: its overlap with A is discarded.
			if got := send(t, srv, "ovl", 1, 100000, 299999, total, "ovl.bin"); got.status != 201 || got.body != "0-299999/400000" {
				t.Fatalf("B again: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "ovl", 1, 300000, total-1, total, "ovl.bin"); got.status != 200 {
				t.Fatalf("last: %d %q", got.status, got.body)
			}
			want := string(pattern(0, 0, 199999)) + string(pattern(1, 200000, total-1))
			if f := get(t, srv, "/file/ovl.bin"); f.body != want {
				t.Fatalf("stored file differs from A's bytes then B's (%d bytes)", len(f.body))
			}
		})
	}
}

// TestDisjointInFlight: while A streams, a disjoint segment of the same session and a segment
// of another session are answered at once; A completes the file.
func TestDisjointInFlight(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			a := startInflight(t, srv, "dis", 0, 0, 99999, 200000)
			if got := send(t, srv, "dis", 0, 100000, 199999, 200000, "dis.bin"); got.status != 201 || got.body != "100000-199999/200000" {
				t.Fatalf("B: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "other", 0, 0, 1, 4, "o.bin"); got.status != 201 {
				t.Fatalf("other session: %d %q", got.status, got.body)
			}
			// A probe of bytes not in flight is not blocked either.
			if got := send(t, srv, "dis", 0, 100000, 100001, 200000, "dis.bin"); got.status != 201 {
				t.Fatalf("probe: %d %q", got.status, got.body)
			}
			if got := a.finish(t); got.status != 200 || got.body != "completed" {
				t.Fatalf("A: %d %q", got.status, got.body)
			}
			if f := get(t, srv, "/file/dis.bin"); f.body != string(pattern(0, 0, 199999)) {
				t.Fatalf("stored file differs (%d bytes)", len(f.body))
			}
		})
	}
}

// TestParallelSessions: many sessions, each sent as parallel disjoint segments; exactly one
// completion per session; every file intact.
func TestParallelSessions(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			client := &http.Client{Timeout: testTimeout}
			defer client.CloseIdleConnections()
			const sessions, segs, segLen = 8, 8, 9000
			const total = segs * segLen
			type result struct {
				sid    int
				status int
				body   string
				err    error
			}
			results := make(chan result, sessions*segs)
			var wg sync.WaitGroup
			for s := range sessions {
				for k := range segs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := int64(k * segLen)
						end := start + segLen - 1
						sid := fmt.Sprintf("par-%d", s)
						req, err := http.NewRequest("POST", srv.UploadURL(), bytes.NewReader(pattern(s, start, end)))
						if err != nil {
							results <- result{sid: s, err: err}
							return
						}
						req.Header.Set("Content-Type", "application/octet-stream")
						req.Header.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.bin"`, sid))
						req.Header.Set("X-Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, total))
						req.Header.Set("Session-ID", sid)
						resp, err := client.Do(req)
						if err != nil {
							results <- result{sid: s, err: err}
							return
						}
						b, err := io.ReadAll(resp.Body)
						_ = resp.Body.Close()
						results <- result{sid: s, status: resp.StatusCode, body: string(b), err: err}
					}()
				}
			}
			wg.Wait()
			close(results)
			completions := map[int]int{}
			for r := range results {
				switch {
				case r.err != nil:
					t.Errorf("session %d: %v", r.sid, r.err)
				case r.status == 200 && r.body == "completed":
					completions[r.sid]++
				case r.status != 201:
					t.Errorf("session %d: %d %q", r.sid, r.status, r.body)
				}
			}
			for s := range sessions {
				if completions[s] != 1 {
					t.Errorf("session %d: %d completions, want 1", s, completions[s])
				}
				if f := get(t, srv, fmt.Sprintf("/file/par-%d.bin", s)); f.body != string(pattern(s, 0, total-1)) {
					t.Errorf("session %d: stored file differs (%d bytes)", s, len(f.body))
				}
			}
		})
	}
}

// TestBadBodies: short bodies and stalled clients leave nothing acknowledged, keep what was
// acknowledged before, and leak neither goroutines nor files.
func TestBadBodies(t *testing.T) {
	tests := []struct {
		name string
		// act sends something bad for segment 6-15 of session "bad" and returns when it is done.
		act func(t *testing.T, srv *Server)
	}{
		{"short body then close", func(t *testing.T, srv *Server) {
			c := dial(t, srv.Addr)
			q := segment("bad", 6, 15, 24, "bad.bin", pattern(0, 6, 15))
			w := q.wire(srv.Addr)
			if _, err := io.WriteString(c, w[:len(w)-5]); err != nil {
				t.Fatal(err)
			}
			_ = c.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, c) // the server answers or closes
		}},
		{"stalled body", func(t *testing.T, srv *Server) {
			c := dial(t, srv.Addr)
			q := segment("bad", 6, 15, 24, "bad.bin", pattern(0, 6, 15))
			w := q.wire(srv.Addr)
			if _, err := io.WriteString(c, w[:len(w)-5]); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			b, _ := io.ReadAll(c) // the server gives up after BodyReadTimeout
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("stalled client held for %v", d)
			}
			if !strings.Contains(string(b), "408") {
				t.Errorf("stalled client got %q, want a 408", b)
			}
		}},
		{"stalled before the body", func(t *testing.T, srv *Server) {
			c := dial(t, srv.Addr)
			q := segment("bad", 6, 15, 24, "bad.bin", nil).without("Content-Length", "Content-Length: 10")
			if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(c)
			if !strings.Contains(string(b), "408") {
				t.Errorf("stalled client got %q, want a 408", b)
			}
		}},
		{"reset mid-body", func(t *testing.T, srv *Server) {
			c := dial(t, srv.Addr)
			q := segment("bad", 6, 15, 24, "bad.bin", pattern(0, 6, 15))
			w := q.wire(srv.Addr)
			if _, err := io.WriteString(c, w[:len(w)-3]); err != nil {
				t.Fatal(err)
			}
			_ = c.(*net.TCPConn).SetLinger(0)
			// Reset once the server is reading the body: the segment is in flight.
			waitFor(t, "bytes 6-15 in flight", func() bool {
				info, ok := srv.Session("bad")
				return ok && slices.Contains(info.InFlight, ranges.Range{Start: 6, End: 15})
			})
			_ = c.Close()
		}},
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					base := runtime.NumGoroutine()
					dir := t.TempDir()
					var st Store = NewMemoryStore()
					if sk.name != "memory" {
						var err error
						if st, err = NewDirStore(dir, sk.name == "dir-fsync"); err != nil {
							t.Fatal(err)
						}
					}
					srv := startServer(t, Options{Store: st, BodyReadTimeout: 200 * time.Millisecond})
					// A fresh session: the bad segment must leave nothing behind.
					tt.act(t, srv)
					if got := send(t, srv, "bad", 0, 20, 21, 24, "bad.bin"); got.status != 201 || got.body != "20-21/24" {
						t.Errorf("fresh session after the bad segment: %d %q", got.status, got.body)
					}
					// An existing session keeps what it had.
					if got := send(t, srv, "bad", 0, 0, 5, 24, "bad.bin"); got.body != "0-5/24,20-21/24" {
						t.Fatalf("first segment: %d %q", got.status, got.body)
					}
					tt.act(t, srv)
					if got := send(t, srv, "bad", 0, 0, 1, 24, "bad.bin"); got.status != 201 || got.body != "0-5/24,20-21/24" {
						t.Errorf("probe after the bad segment: %d %q", got.status, got.body)
					}
					if err := srv.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
					checkGoroutines(t, base)
					if sk.name != "memory" {
						entries, _ := os.ReadDir(filepath.Join(dir, dirSessions))
						if len(entries) != 2 {
							t.Errorf("sessions dir holds %d entries, want 2 (bad.data, bad.state)", len(entries))
						}
						tmp, _ := os.ReadDir(filepath.Join(dir, dirTmp))
						if len(tmp) != 0 {
							t.Errorf("tmp dir holds %d entries", len(tmp))
						}
					}
				})
			}
		})
	}
}

// TestBadSessionLeavesNoFiles: a first segment that never completes leaves no file.
func TestBadSessionLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st})
	c := dial(t, srv.Addr)
	w := segment("gone", 0, 9, 10, "g.bin", pattern(0, 0, 9)).wire(srv.Addr)
	_, _ = io.WriteString(c, w[:len(w)-4])
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c)
	// Close waits for every handler.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, dirSessions))
	if len(entries) != 0 {
		t.Errorf("sessions dir holds %v", entries)
	}
}
