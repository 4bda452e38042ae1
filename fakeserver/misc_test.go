package fakeserver

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNoContinueOnRejection: a rejected Expect: 100-continue request gets its error without
// a 100 Continue, so the client never sends the body.
func TestNoContinueOnRejection(t *testing.T) {
	srv := startServer(t, Options{MaxSegmentSize: 100})
	tests := []struct {
		name   string
		q      segReq
		status int
	}{
		{"length", segment("exp", 0, 9, 20, "e.bin", nil).without("Content-Length", "Content-Length: 11", "Expect: 100-continue"), 416},
		{"too large", segment("exp", 0, 199, 200, "e.bin", nil).without("Content-Length", "Content-Length: 200", "Expect: 100-continue"), 413},
		{"malformed", segment("exp", 0, 9, 20, "e.bin", nil).without("Content-Length", "Content-Length: 10", "Expect: 100-continue").without("Session-ID", "Session-ID: a.b"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv.Addr)
			if _, err := io.WriteString(c, tt.q.wire(srv.Addr)); err != nil {
				t.Fatal(err)
			}
			if got := readReply(t, bufio.NewReader(c)); got.status != tt.status {
				t.Fatalf("first answer %d %q, want %d", got.status, got.body, tt.status)
			}
		})
	}
	// Overlap with a segment in flight: 409 before the body too.
	a := startInflight(t, srv, "exp2", 0, 0, 99, 200)
	c := dial(t, srv.Addr)
	q := segment("exp2", 50, 59, 200, "exp2.bin", nil).without("Content-Length", "Content-Length: 10", "Expect: 100-continue")
	if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, bufio.NewReader(c)); got.status != 409 {
		t.Fatalf("overlap: %d %q", got.status, got.body)
	}
	if got := a.finish(t); got.status != 201 {
		t.Fatalf("A: %d %q", got.status, got.body)
	}
}

// repeatReader yields n bytes of the test pattern without holding them.
type repeatReader struct{ off, n int64 }

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n-r.off)
	for i := range k {
		p[i] = testAlphabet[(r.off+i)%62]
	}
	r.off += k
	return int(k), nil
}

// TestStreamingMemory: a 64 MiB segment into a data directory allocates far less than its size.
func TestStreamingMemory(t *testing.T) {
	st, err := NewDirStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st})
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	const size = 64 << 20
	post := func() {
		req, err := http.NewRequest("POST", srv.UploadURL(), &repeatReader{n: size})
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", `attachment; filename="big.bin"`)
		req.Header.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", size-1, size+1))
		req.Header.Set("Session-ID", "stream")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
	}
	post() // warm the pools
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	post()
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("a 64 MiB segment allocated %d bytes", d)
	}
}

// TestDeviationPaths exercises the paths quirks use: dropping the connection without a byte
// and the false success.
func TestDeviationPaths(t *testing.T) {
	h := newHandler(Options{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &exchange{w: w, r: r}
		if r.URL.Path == "/drop" {
			h.drop(x, false)
			return
		}
		h.falseSuccess(x)
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("drop sent %q", b)
	}
	c = dial(t, addr)
	fmt.Fprintf(c, "GET /false HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := readReply(t, bufio.NewReader(c)); got.status != 200 || got.body != "completed" {
		t.Fatalf("false success: %d %q", got.status, got.body)
	}
}
