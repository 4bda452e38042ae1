package fakeserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closeCounter is a store that counts its Close calls.
type closeCounter struct {
	Store
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return c.Store.Close() }

// TestUnstartedServer: NewUnstartedServer serves on the Listener given before Start, sets URL
// and Addr, refuses a second Start, and Close closes the store once.
func TestUnstartedServer(t *testing.T) {
	st := &closeCounter{Store: NewMemoryStore()}
	srv := NewUnstartedServer(Options{Store: st})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if srv.Addr != ln.Addr().String() || srv.URL != "http://"+ln.Addr().String() {
		t.Fatalf("Addr %q URL %q, want the listener's %s", srv.Addr, srv.URL, ln.Addr())
	}
	if err := srv.Start(); err == nil {
		t.Fatal("a second Start succeeded")
	}
	if got := send(t, srv, "us", 0, 0, 5, 24, "us.bin"); got.status != http.StatusCreated || got.body != "0-5/24" {
		t.Fatalf("segment: %d %q", got.status, got.body)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if st.closed != 1 {
		t.Fatalf("store closed %d times, want 1", st.closed)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done is open after Close")
	}
	if err := srv.Err(); err != nil {
		t.Fatalf("Err after Close: %v", err)
	}
}

// TestCloseUnstarted: a server that never started closes its store, and cannot start after.
func TestCloseUnstarted(t *testing.T) {
	st := &closeCounter{Store: NewMemoryStore()}
	srv := NewUnstartedServer(Options{Store: st})
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st.closed != 1 {
		t.Fatalf("store closed %d times, want 1", st.closed)
	}
	if err := srv.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

// TestServerShutdown: Shutdown waits for the request in flight, which gets its answer, then
// closes the store.
func TestServerShutdown(t *testing.T) {
	st := &closeCounter{Store: NewMemoryStore()}
	srv := NewUnstartedServer(Options{Store: st})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	a := startInflight(t, srv, "sd", 0, 0, 99, 200)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	if got := a.finish(t); got.status != http.StatusCreated || got.body != "0-99/200" {
		t.Fatalf("in flight during Shutdown: %d %q", got.status, got.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if st.closed != 1 {
		t.Fatalf("store closed %d times, want 1", st.closed)
	}
}

// TestServerListenerFails: a listener that fails under the server stops it: Done is closed and
// Err says why.
func TestServerListenerFails(t *testing.T) {
	srv := startServer(t, Options{})
	if err := srv.Listener.Close(); err != nil {
		t.Fatal(err)
	}
	<-srv.Done()
	if err := srv.Err(); err == nil || !strings.Contains(err.Error(), "serve") {
		t.Fatalf("Err = %v, want the listener's failure", err)
	}
}

// TestHTTPTestEquivalence: httptest.NewServer(New(opts)) answers like NewServer(opts), profile
// by profile, on a sequence that touches every decision point the wire can see; the one
// difference (the header order under drop-on-malformed) is in TestQuirkAnswers' httptest runs.
func TestHTTPTestEquivalence(t *testing.T) {
	steps := [][]string{
		{"Session-ID: eq", "X-Content-Range: bytes 0-5/24"},
		{"Session-ID: eq", "X-Content-Range: bytes 3-9/24"},
		{"Session-ID: eq", "X-Content-Range: bytes 0-5/30"},
		{"Session-ID: e.q", "X-Content-Range: bytes 0-5/24"},
		{"X-Content-Range: bytes 0-5/24"},
		{"Session-ID: eq", "X-Content-Range: bytes 10-23/24"},
		{"Session-ID: eq", "X-Content-Range: bytes 0-5/24"},
	}
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			answers := func(addr string) []string {
				var out []string
				for _, st := range steps {
					h := append([]string{ct, cd}, st...)
					n := int64(6)
					if strings.Contains(st[len(st)-1], "3-9") {
						n = 7
					} else if strings.Contains(st[len(st)-1], "10-23") {
						n = 14
					}
					out = append(out, qSend(t, addr, h, qBytes(0, 0, n-1)).String())
				}
				return out
			}
			srv := startServer(t, Options{Quirks: p.Quirks})
			ts := httptest.NewServer(New(Options{Quirks: p.Quirks}))
			t.Cleanup(ts.Close)
			want, got := answers(srv.Addr), answers(ts.Listener.Addr().String())
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("httptest answers\n%v\nNewServer answers\n%v", got, want)
			}
		})
	}
}

// TestContinueAfterClaim: the 100 Continue comes only once the segment's range is claimed.
// A client that has the 100 and sends no body byte yet already holds its range: an
// overlapping segment gets 409 at once, and a disjoint one is accepted.
func TestContinueAfterClaim(t *testing.T) {
	srv := startServer(t, Options{})
	q := segment("claim", 0, 9, 20, "claim.bin", nil).without("Content-Length", "Content-Length: 10", "Expect: 100-continue")
	c := dial(t, srv.Addr)
	if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	if r := readReply(t, br); r.status != http.StatusContinue {
		t.Fatalf("want 100 Continue, got %d %q", r.status, r.body)
	}
	expectErrorReply(t, send(t, srv, "claim", 1, 5, 14, 20, "claim.bin"), http.StatusConflict, "overlaps segment 0-9")
	if got := send(t, srv, "claim", 0, 10, 19, 20, "claim.bin"); got.status != http.StatusCreated || got.body != "10-19/20" {
		t.Fatalf("disjoint segment: %d %q", got.status, got.body)
	}
	if _, err := c.Write(pattern(0, 0, 9)); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, br); got.status != http.StatusOK || got.body != "completed" {
		t.Fatalf("held segment: %d %q", got.status, got.body)
	}
}
