package fakeserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testTimeout bounds every network wait of the tests.
const testTimeout = 10 * time.Second

// goroutineWait bounds the wait for a closed server's goroutines to end: generous, for a busy
// machine.
const goroutineWait = 60 * time.Second

// testAlphabet makes the content of test files: byte i of a file is testAlphabet[(i+seed)%62].
const testAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// pattern returns bytes start..end (inclusive) of the test file with seed.
func pattern(seed int, start, end int64) []byte {
	b := make([]byte, end-start+1)
	for i := range b {
		b[i] = testAlphabet[(start+int64(i)+int64(seed))%62]
	}
	return b
}

// storeKind makes a fresh store for a test.
type storeKind struct {
	name string
	make func(t *testing.T) Store
}

// storeKinds are the stores every behaviour table runs against.
func storeKinds() []storeKind {
	return []storeKind{
		{"memory", func(*testing.T) Store { return NewMemoryStore() }},
		{"dir", func(t *testing.T) Store {
			st, err := NewDirStore(t.TempDir(), false)
			if err != nil {
				t.Fatalf("NewDirStore: %v", err)
			}
			return st
		}},
		{"dir-fsync", func(t *testing.T) Store {
			st, err := NewDirStore(t.TempDir(), true)
			if err != nil {
				t.Fatalf("NewDirStore: %v", err)
			}
			return st
		}},
	}
}

// startServer starts a server with opts and closes it at the end of the test.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// reply is a response read off the wire.
type reply struct {
	status int
	header http.Header
	body   string
}

// segReq builds a raw segment request.
type segReq struct {
	method  string
	target  string
	headers []string // "Name: value" lines, exactly as written
	body    string
}

// segment returns the usual headers of a segment of a file called name.
func segment(sid string, start, end, total int64, name string, body []byte) segReq {
	return segReq{
		headers: []string{
			"Content-Type: application/octet-stream",
			fmt.Sprintf(`Content-Disposition: attachment; filename="%s"`, name),
			fmt.Sprintf("X-Content-Range: bytes %d-%d/%d", start, end, total),
			"Session-ID: " + sid,
			fmt.Sprintf("Content-Length: %d", len(body)),
		},
		body: string(body),
	}
}

// wire writes the request bytes.
func (q segReq) wire(addr string) string {
	method, target := q.method, q.target
	if method == "" {
		method = "POST"
	}
	if target == "" {
		target = DefaultPath
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, addr)
	for _, h := range q.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(q.body)
	return b.String()
}

// dial opens a connection with a deadline on everything.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatalf("deadline: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readReply reads one response from br (HEAD-less; by Content-Length).
func readReply(t *testing.T, br *bufio.Reader) reply {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// do sends q on a new connection and reads the answer.
func do(t *testing.T, srv *Server, q segReq) reply {
	t.Helper()
	c := dial(t, srv.Addr)
	if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return readReply(t, bufio.NewReader(c))
}

// send posts one segment of the pattern file and returns the answer.
func send(t *testing.T, srv *Server, sid string, seed int, start, end, total int64, name string) reply {
	t.Helper()
	return do(t, srv, segment(sid, start, end, total, name, pattern(seed, start, end)))
}

// get fetches a URL path with a bounded client.
func get(t *testing.T, srv *Server, path string) reply {
	t.Helper()
	c := dial(t, srv.Addr)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, srv.Addr)
	return readReply(t, bufio.NewReader(c))
}

// checkGoroutines fails when the number of goroutines does not come back to at most base
// within goroutineWait: it returns as soon as it does.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(goroutineWait)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, want at most %d\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectErrorReply checks the shape of an error answer: text/plain, one line.
func expectErrorReply(t *testing.T, got reply, status int, reasonPart string) {
	t.Helper()
	if got.status != status {
		t.Fatalf("status %d (%q), want %d", got.status, got.body, status)
	}
	if ct := got.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/plain; charset=utf-8", ct)
	}
	if !strings.HasSuffix(got.body, "\n") || strings.Count(got.body, "\n") != 1 {
		t.Errorf("reason %q is not one line", got.body)
	}
	if !strings.Contains(got.body, reasonPart) {
		t.Errorf("reason %q does not contain %q", got.body, reasonPart)
	}
}
