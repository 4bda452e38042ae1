package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
)

// Bounds of the subprocess tests. Every wait in this file is bounded by one of them.
const (
	startTimeout   = 15 * time.Second // until the first line of `upspec serve`
	exitTimeout    = 10 * time.Second // from a signal to the process's exit
	requestTimeout = 10 * time.Second // one request on the wire
)

// builtBinary builds the upspec binary once per test process, into a temporary directory that
// TestMain removes.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "upspec-serve-test-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	bin := filepath.Join(dir, "upspec")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	bin, err := builtBinary()
	if err != nil {
		fmt.Fprintln(os.Stderr, "building upspec:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(filepath.Dir(bin))
	os.Exit(code)
}

func upspecBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := builtBinary()
	if err != nil {
		tb.Fatalf("building upspec: %v", err)
	}
	return bin
}

// runServeOnce runs `upspec serve ARGS` to its end (it must end by itself within exitTimeout).
func runServeOnce(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(upspecBinary(t), append([]string{"serve"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(exitTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("upspec serve %q did not exit within %v; stdout %q stderr %q", args, exitTimeout, out.String(), errb.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func TestServeUsageErrors(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // a piece of the message
	}{
		{"unknown flag", []string{"--bogus"}, "unknown flag: --bogus"},
		{"unknown shorthand", []string{"-x"}, "unknown shorthand flag"},
		{"missing value", []string{"--listen"}, "flag needs an argument"},
		{"positional argument", []string{"extra"}, `unexpected argument "extra"`},
		{"listen without port", []string{"--listen", "8080"}, `invalid --listen "8080"`},
		{"listen port out of range", []string{"--listen", "127.0.0.1:99999"}, "invalid port"},
		{"listen named port", []string{"--listen", "127.0.0.1:http"}, "invalid port"},
		{"path without slash", []string{"--path", "upload"}, "invalid --path"},
		{"path with query", []string{"--path", "/upload?x=1"}, "invalid --path"},
		{"path under the files", []string{"--path", "/file/upload"}, "the built-in backend serves files"},
		{"file size unit", []string{"--max-file-size", "10Q"}, "unknown unit"},
		{"file size negative", []string{"--max-file-size", "-1"}, "--max-file-size"},
		{"file size overflow", []string{"--max-file-size", "9999999999999G"}, "too large"},
		{"segment size empty", []string{"--max-segment-size", ""}, "does not start with a number"},
		{"range format", []string{"--range-format", "fancy"}, "want module or compact"},
		{"completion ttl zero", []string{"--completion-ttl", "0s"}, "invalid --completion-ttl"},
		{"completion ttl syntax", []string{"--completion-ttl", "ten"}, "--completion-ttl"},
		{"fsync without data dir", []string{"--fsync"}, "--fsync needs --data-dir"},
		{"empty data dir", []string{"--data-dir", ""}, "--data-dir is empty"},
		{"data dir is a file", []string{"--data-dir", notADir}, "cannot use data directory"},
		{"upload pass scheme", []string{"--upload-pass", "ftp://example.org/x"}, "invalid --upload-pass"},
		{"upload pass relative", []string{"--upload-pass", "/done"}, "invalid --upload-pass"},
		{"bad bool", []string{"--fsync=maybe"}, "--fsync"},
		{"min body rate unit", []string{"--min-body-rate", "1KiB/h"}, "--min-body-rate"},
		{"min body rate negative", []string{"--min-body-rate", "-1"}, "--min-body-rate"},
		{"max sessions negative", []string{"--max-sessions", "-1"}, "invalid --max-sessions"},
		{"max sessions syntax", []string{"--max-sessions", "many"}, "--max-sessions"},
		{"session ttl negative", []string{"--session-ttl", "-1h"}, "invalid --session-ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runServeOnce(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			checkOneLineError(t, stderr, tt.want)
		})
	}
}

// checkOneLineError checks the shape `upspec serve: <what is wrong>; <what to do>\n`.
func checkOneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr %q: want exactly one line", stderr)
	}
	if !strings.HasPrefix(stderr, "upspec serve: ") || !strings.Contains(stderr, "; ") {
		t.Errorf("stderr %q: want `upspec serve: <what is wrong>; <what to do>`", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q: want it to mention %q", stderr, want)
	}
}

func TestServeHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runServeOnce(t, arg)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d stderr %q, want 0 and nothing", code, stderr)
			}
			for _, want := range []string{"Usage: upspec serve", "Examples:", "--listen", "--path", "--data-dir",
				"--fsync", "--upload-pass", "--max-file-size", "--max-segment-size", "--range-format",
				"--completion-ttl", "--min-body-rate", "--max-sessions", "--session-ttl", "-v, --verbose"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("help does not mention %q", want)
				}
			}
		})
	}
}

func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, stdout, stderr := runServeOnce(t, "--listen", ln.Addr().String())
	if code != exitUsage || stdout != "" {
		t.Errorf("exit %d stdout %q, want %d and nothing", code, stdout, exitUsage)
	}
	checkOneLineError(t, stderr, "address already in use")
}

// serveProc is a running `upspec serve` subprocess. Its Cleanup kills it.
type serveProc struct {
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	done    chan struct{} // closed when the process has been waited for
	base    string        // http://host:port
	upload  string        // the segment endpoint URL from the first line
	address string        // host:port
}

// startServe starts `upspec serve --listen 127.0.0.1:0 ARGS` and waits for its first line.
func startServe(tb testing.TB, args ...string) *serveProc {
	tb.Helper()
	p := &serveProc{stdout: newSyncBuffer(), stderr: newSyncBuffer(), done: make(chan struct{})}
	p.cmd = exec.Command(upspecBinary(tb), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start upspec serve: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.kill)

	line, ok := p.stdout.firstLine(startTimeout, p.done)
	if !ok {
		p.kill()
		tb.Fatalf("upspec serve %q printed no first line within %v; stdout %q stderr %q",
			args, startTimeout, p.stdout.String(), p.stderr.String())
	}
	const marker = "upspec serve: listening on "
	if !strings.HasPrefix(line, marker) {
		tb.Fatalf("first line %q: want it to start with %q", line, marker)
	}
	p.upload = strings.Fields(strings.TrimPrefix(line, marker))[0]
	u, err := url.Parse(p.upload)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		tb.Fatalf("first line %q: no URL", line)
	}
	p.address = u.Host
	p.base = "http://" + u.Host
	return p
}

// kill sends SIGKILL (if the process still runs) and waits for it.
func (p *serveProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
	}
}

// signal sends sig and waits for the exit; it returns the exit status and how long it took.
func (p *serveProc) signal(tb testing.TB, sig os.Signal) (int, time.Duration) {
	tb.Helper()
	return p.signalWithin(tb, sig, exitTimeout)
}

// signalWithin is signal with a bound of its own.
func (p *serveProc) signalWithin(tb testing.TB, sig os.Signal, bound time.Duration) (int, time.Duration) {
	tb.Helper()
	t0 := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(bound):
		tb.Fatalf("no exit within %v of %v; stderr %q", bound, sig, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(t0)
}

// syncBuffer collects the output of a subprocess; it is safe for concurrent use.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // one pending notification of new bytes
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{written: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.written <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the collected text satisfies ok, the process ends, or timeout passes.
func (b *syncBuffer) waitFor(timeout time.Duration, done <-chan struct{}, ok func(string) bool) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if s := b.String(); ok(s) {
			return s, true
		}
		select {
		case <-b.written:
		case <-done:
			s := b.String()
			return s, ok(s)
		case <-deadline.C:
			return b.String(), false
		}
	}
}

func (b *syncBuffer) firstLine(timeout time.Duration, done <-chan struct{}) (string, bool) {
	s, ok := b.waitFor(timeout, done, func(s string) bool { return strings.Contains(s, "\n") })
	if !ok {
		return "", false
	}
	return s[:strings.IndexByte(s, '\n')], true
}

// servePattern returns bytes [start, end] of the test file with the given seed: byte i is
// alphabet[(i+seed) mod 62], as the scenarios make them.
func servePattern(seed int, start, end int64) []byte {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, end-start+1)
	for i := range b {
		b[i] = alphabet[(start+int64(i)+int64(seed))%int64(len(alphabet))]
	}
	return b
}

// segmentRequest is one segment of a session.
type segmentRequest struct {
	session, file     string
	start, end, total int64
	body              []byte // the whole body (end-start+1 bytes)
}

func (s segmentRequest) header(host, path string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n", path, host)
	fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"%s\"\r\n", s.file)
	fmt.Fprintf(&b, "X-Content-Range: bytes %d-%d/%d\r\nSession-ID: %s\r\n", s.start, s.end, s.total, s.session)
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(s.body))
	return b.Bytes()
}

// serveAnswer is a response read off the wire.
type serveAnswer struct {
	status int
	header http.Header
	body   string
}

// send writes the segment on a new connection and reads the answer.
func (p *serveProc) send(tb testing.TB, path string, s segmentRequest) serveAnswer {
	tb.Helper()
	conn := p.dial(tb)
	defer conn.Close()
	if _, err := conn.Write(append(s.header(p.address, path), s.body...)); err != nil {
		tb.Fatalf("bytes %d-%d/%d: write: %v", s.start, s.end, s.total, err)
	}
	a, err := readServeAnswer(conn)
	if err != nil {
		tb.Fatalf("bytes %d-%d/%d: %v", s.start, s.end, s.total, err)
	}
	return a
}

// sendHalf writes the header and the first half of the body and returns the open connection.
func (p *serveProc) sendHalf(tb testing.TB, path string, s segmentRequest) net.Conn {
	tb.Helper()
	conn := p.dial(tb)
	if _, err := conn.Write(append(s.header(p.address, path), s.body[:len(s.body)/2]...)); err != nil {
		conn.Close()
		tb.Fatalf("bytes %d-%d/%d: write: %v", s.start, s.end, s.total, err)
	}
	return conn
}

func (p *serveProc) dial(tb testing.TB) net.Conn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", p.address, requestTimeout)
	if err != nil {
		tb.Fatalf("dial %s: %v", p.address, err)
	}
	if err := conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		tb.Fatal(err)
	}
	return conn
}

func readServeAnswer(conn net.Conn) (serveAnswer, error) {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return serveAnswer{}, fmt.Errorf("read response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return serveAnswer{}, fmt.Errorf("read response body: %w", err)
	}
	return serveAnswer{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

// get fetches a URL of the server with a bounded client.
func (p *serveProc) get(tb testing.TB, path string) (int, []byte) {
	tb.Helper()
	c := &http.Client{Timeout: requestTimeout}
	resp, err := c.Get(p.base + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: body: %v", path, err)
	}
	return resp.StatusCode, body
}

// TestServeSeedFlowAndSignals runs the seed's flow (0-5, 9-15, 16-23, 6-8 of a 24-byte file)
// against the standalone server and stops it with a signal.
func TestServeSeedFlowAndSignals(t *testing.T) {
	tests := []struct {
		name   string
		sig    syscall.Signal
		args   []string
		want   []string // the 201 bodies, then the completion
		logged bool
	}{
		{"module form, SIGTERM", syscall.SIGTERM, nil,
			[]string{"0-5/24", "0-5/24,9-15/24", "0-5/24,9-23/24"}, false},
		{"compact form, SIGINT, verbose", syscall.SIGINT, []string{"--range-format", "compact", "-v"},
			[]string{"0-5/24", "0-5,9-15/24", "0-5,9-23/24"}, true},
		{"data directory, SIGTERM", syscall.SIGTERM, []string{"--data-dir", t.TempDir(), "--path", "/up"},
			[]string{"0-5/24", "0-5/24,9-15/24", "0-5/24,9-23/24"}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startServe(t, tt.args...)
			path := strings.TrimPrefix(p.upload, p.base)
			first, _ := p.stdout.firstLine(0, p.done)
			if (strings.Contains(strings.Join(tt.args, " "), "--data-dir")) != strings.Contains(first, "storage: directory") {
				t.Errorf("first line %q does not name the storage", first)
			}
			if !strings.Contains(first, "backend: built-in, files at "+p.base+"/file/") {
				t.Errorf("first line %q does not name the backend", first)
			}
			sid := fmt.Sprintf("serve-seed-%d-%d", os.Getpid(), i)
			name := sid + ".txt"
			for j, seg := range [][2]int64{{0, 5}, {9, 15}, {16, 23}, {6, 8}} {
				a := p.send(t, path, segmentRequest{session: sid, file: name, start: seg[0], end: seg[1], total: 24,
					body: servePattern(0, seg[0], seg[1])})
				if j < 3 {
					if a.status != http.StatusCreated || a.body != tt.want[j] || a.header.Get("Range") != tt.want[j] {
						t.Fatalf("bytes %d-%d/24: %d Range %q body %q, want 201 %q", seg[0], seg[1], a.status,
							a.header.Get("Range"), a.body, tt.want[j])
					}
					continue
				}
				if a.status != http.StatusOK || a.body != "completed" {
					t.Fatalf("last segment: %d %q, want 200 completed", a.status, a.body)
				}
			}
			if status, body := p.get(t, "/file/"+name); status != http.StatusOK || !bytes.Equal(body, servePattern(0, 0, 23)) {
				t.Fatalf("GET /file/%s: %d %q, want 200 %q", name, status, body, servePattern(0, 0, 23))
			}
			if tt.logged {
				if _, ok := p.stderr.waitFor(exitTimeout, p.done, func(s string) bool { return strings.Count(s, "\n") >= 5 }); !ok {
					t.Errorf("-v: stderr %q, want a line per request", p.stderr.String())
				}
			}
			code, took := p.signal(t, tt.sig)
			if code != exitOK {
				t.Errorf("exit status %d after %v, want 0; stderr %q", code, tt.sig, p.stderr.String())
			}
			t.Logf("exit after %v in %v", tt.sig, took)
			if c, err := net.DialTimeout("tcp", p.address, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the exit", p.address)
			}
		})
	}
}

// TestServeFlagsReachTheServer checks that the limits and the completion TTL given as flags
// are the ones the server applies.
func TestServeFlagsReachTheServer(t *testing.T) {
	type step struct {
		start, end, total int64
		pause             time.Duration // before the step: lets a completion TTL run out
		status            int
		body              string
	}
	tests := []struct {
		name  string
		args  []string
		steps []step
	}{
		{"segment above --max-segment-size", []string{"--max-segment-size", "1K"},
			[]step{{0, 1024, 4096, 0, http.StatusRequestEntityTooLarge, ""}, {0, 1023, 4096, 0, http.StatusCreated, "0-1023/4096"}}},
		{"total above --max-file-size", []string{"--max-file-size", "2KiB"},
			[]step{{0, 9, 2049, 0, http.StatusRequestEntityTooLarge, ""}, {0, 9, 2048, 0, http.StatusCreated, "0-9/2048"}}},
		{"retry within the completion TTL", nil,
			[]step{{0, 5, 12, 0, http.StatusCreated, "0-5/12"}, {6, 11, 12, 0, http.StatusOK, "completed"},
				{0, 5, 12, 0, http.StatusOK, "completed"}}},
		{"retry after a short --completion-ttl", []string{"--completion-ttl", "1ms"},
			[]step{{0, 5, 12, 0, http.StatusCreated, "0-5/12"}, {6, 11, 12, 0, http.StatusOK, "completed"},
				{0, 5, 12, 50 * time.Millisecond, http.StatusCreated, "0-5/12"}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startServe(t, tt.args...)
			sid := fmt.Sprintf("serve-flags-%d-%d", os.Getpid(), i)
			for _, st := range tt.steps {
				time.Sleep(st.pause)
				a := p.send(t, "/upload", segmentRequest{session: sid, file: sid + ".bin", start: st.start, end: st.end,
					total: st.total, body: servePattern(0, st.start, st.end)})
				if a.status != st.status || (st.body != "" && a.body != st.body) {
					t.Fatalf("bytes %d-%d/%d: %d %q, want %d %q", st.start, st.end, st.total, a.status, a.body, st.status, st.body)
				}
			}
		})
	}
}

// TestServeUploadPass completes a file with --upload-pass and checks what the backend got and
// that its answer is relayed.
func TestServeUploadPass(t *testing.T) {
	type got struct {
		fields map[string]string
		err    error
	}
	received := make(chan got, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := got{fields: map[string]string{}}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			g.err = err
		} else {
			for k, v := range r.MultipartForm.Value {
				g.fields[k] = v[0]
			}
		}
		received <- g
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "stored by the backend")
	}))
	defer backend.Close()

	p := startServe(t, "--upload-pass", backend.URL+"/done")
	first, _ := p.stdout.firstLine(0, p.done)
	if !strings.Contains(first, "backend: upload-pass "+backend.URL+"/done") {
		t.Errorf("first line %q does not name the backend", first)
	}
	sid := fmt.Sprintf("serve-pass-%d", os.Getpid())
	if a := p.send(t, "/upload", segmentRequest{session: sid, file: "a.txt", start: 0, end: 5, total: 10,
		body: servePattern(3, 0, 5)}); a.status != http.StatusCreated {
		t.Fatalf("first segment: %d %q", a.status, a.body)
	}
	a := p.send(t, "/upload", segmentRequest{session: sid, file: "a.txt", start: 6, end: 9, total: 10, body: servePattern(3, 6, 9)})
	if a.status != http.StatusAccepted || a.body != "stored by the backend" || a.header.Get("X-Backend") != "yes" {
		t.Fatalf("last segment: %d %q %v, want the backend's 202 relayed", a.status, a.body, a.header)
	}
	select {
	case g := <-received:
		if g.err != nil {
			t.Fatalf("backend: %v", g.err)
		}
		if g.fields["name"] != "a.txt" || g.fields["size"] != "10" || g.fields["md5"] == "" {
			t.Errorf("backend form %v: want name a.txt, size 10 and an md5", g.fields)
		}
	case <-time.After(requestTimeout):
		t.Fatal("the backend got no request")
	}
}

// TestServeSignalWhileUploading checks that a signal ends the server within the grace period
// even while a segment body hangs half sent.
func TestServeSignalWhileUploading(t *testing.T) {
	p := startServe(t)
	s := segmentRequest{session: fmt.Sprintf("serve-hang-%d", os.Getpid()), file: "hang.bin", start: 0, end: 1<<20 - 1,
		total: 2 << 20, body: servePattern(1, 0, 1<<20-1)}
	before := procIO(p.cmd.Process.Pid, "rchar")
	if before < 0 {
		t.Skip("needs /proc/PID/io to see the request reach the handler")
	}
	conn := p.sendHalf(t, "/upload", s)
	defer conn.Close()
	// The request must be in the handler (its body being read), not still in the socket.
	if !serveWaitUntil(exitTimeout, func() bool { return procIO(p.cmd.Process.Pid, "rchar") >= before+int64(len(s.body)/2) }) {
		t.Fatalf("the server did not read the half body within %v", exitTimeout)
	}
	code, took := p.signalWithin(t, syscall.SIGTERM, serveShutdownGrace+exitTimeout)
	if code != exitOK {
		t.Errorf("exit status %d, want 0; stderr %q", code, p.stderr.String())
	}
	// signalWithin bounds the exit (grace period plus exitTimeout); the grace period itself is
	// a lower bound, which no load can break.
	if took < serveShutdownGrace {
		t.Errorf("exit took %v, want the grace period %v for the request in flight first", took, serveShutdownGrace)
	}
	t.Logf("exit in %v with a half-sent segment", took)
}

// TestServeRestartKeepsAcknowledgedRanges kills the server (SIGKILL) while segment bodies are
// half sent, twice, restarts it on the same data directory, and checks that a 2-byte probe
// lists exactly the ranges acknowledged before each kill; then it finishes the file and
// compares the stored bytes. The half-sent bodies carry other bytes than the file's, so that a
// server that kept any of them would store a wrong file.
func TestServeRestartKeepsAcknowledgedRanges(t *testing.T) {
	// Segments larger than the server's body buffer (256 KiB), so that the half body of a
	// segment in flight at the kill can already be in the data file, unacknowledged.
	const (
		seg   = 1 << 20
		total = 16 * seg
		seed  = 7
	)
	dir := t.TempDir()
	sid := fmt.Sprintf("serve-restart-%d", os.Getpid())
	other := sid + "-other" // a second session whose only segment is cut by the kill
	name := sid + ".bin"
	segment := func(session string, i int64, seed int) segmentRequest {
		return segmentRequest{session: session, file: session + ".bin", start: i * seg, end: (i+1)*seg - 1, total: total,
			body: servePattern(seed, i*seg, (i+1)*seg-1)}
	}
	acked := ranges.NewSet(total)
	probe := func(p *serveProc, session, want string) {
		t.Helper()
		a := p.send(t, "/upload", segmentRequest{session: session, file: session + ".bin", start: 0, end: 1, total: total,
			body: servePattern(seed, 0, 1)})
		if a.status != http.StatusCreated || a.body != want || a.header.Get("Range") != want {
			t.Fatalf("session %s: probe bytes 0-1/%d after restart: %d Range %q body %q; want 201 %q (the ranges acknowledged before the kill)",
				session, total, a.status, a.header.Get("Range"), a.body, want)
		}
	}
	// round sends the segments of sid (201 each), then half of each body of halves, and kills.
	round := func(p *serveProc, segments []int64, halves ...segmentRequest) {
		t.Helper()
		for _, i := range segments {
			s := segment(sid, i, seed)
			a := p.send(t, "/upload", s)
			acked.Add(ranges.Range{Start: s.start, End: s.end})
			if want := acked.Format(ranges.FormatModule); a.status != http.StatusCreated || a.body != want {
				t.Fatalf("bytes %d-%d/%d: %d %q, want 201 %q", s.start, s.end, total, a.status, a.body, want)
			}
		}
		before := procIO(p.cmd.Process.Pid, "wchar")
		for _, h := range halves {
			conn := p.sendHalf(t, "/upload", h)
			defer conn.Close()
		}
		// Give the server the chance to store part of the half bodies before the kill, so that
		// the kill finds unacknowledged bytes on disk; the verdict does not depend on it.
		wrote := serveWaitUntil(2*time.Second, func() bool {
			return procIO(p.cmd.Process.Pid, "wchar") >= before+int64(len(halves))*seg/2
		})
		t.Logf("kill -9 with %d half-sent segments in flight (their first halves written by the server: %v)", len(halves), wrote)
		p.kill()
	}

	p := startServe(t, "--data-dir", dir)
	round(p, []int64{0, 2, 4, 10}, segment(sid, 6, seed+1))

	p = startServe(t, "--data-dir", dir)
	probe(p, sid, acked.Format(ranges.FormatModule))
	round(p, []int64{1, 3, 12}, segment(sid, 5, seed+2), segment(sid, 7, seed+3), segment(other, 0, seed))

	p = startServe(t, "--data-dir", dir)
	probe(p, sid, acked.Format(ranges.FormatModule))
	probe(p, other, fmt.Sprintf("0-1/%d", total))
	for _, i := range []int64{5, 6, 7, 8, 9, 11, 13, 14, 15} {
		s := segment(sid, i, seed)
		a := p.send(t, "/upload", s)
		acked.Add(ranges.Range{Start: s.start, End: s.end})
		if acked.Complete() {
			if a.status != http.StatusOK || a.body != "completed" {
				t.Fatalf("last segment: %d %q, want 200 completed", a.status, a.body)
			}
		} else if a.status != http.StatusCreated {
			t.Fatalf("bytes %d-%d/%d: %d %q, want 201", s.start, s.end, total, a.status, a.body)
		}
	}
	status, body := p.get(t, "/file/"+name)
	if status != http.StatusOK || !bytes.Equal(body, servePattern(seed, 0, total-1)) {
		t.Fatalf("GET /file/%s: %d, %d bytes (first difference at %d), want 200 and the %d bytes sent",
			name, status, len(body), serveFirstDiff(body, servePattern(seed, 0, total-1)), total)
	}
	if code, _ := p.signal(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit status %d, want 0", code)
	}
}

// procIO returns a counter of /proc/PID/io: rchar (bytes read through read system calls) or
// wchar (bytes written), or -1 where that is not available.
func procIO(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+": "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// serveWaitUntil polls cond until it holds or timeout passes.
func serveWaitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func serveFirstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// BenchmarkServeRSS1GiBDataDir measures the resident memory of a standalone `upspec serve
// --data-dir` process while a 1 GiB file goes in as 1 MiB segments over one keep-alive
// connection. It reports the peak (VmHWM) and the throughput. Run it alone:
//
//	go test -run='^$' -bench=ServeRSS -benchtime=1x ./cmd/upspec/
func BenchmarkServeRSS1GiBDataDir(b *testing.B) {
	const (
		seg   = 1 << 20
		total = 1 << 30
	)
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc")
	}
	p := startServe(b, "--data-dir", b.TempDir())
	pid := p.cmd.Process.Pid
	conn, err := net.DialTimeout("tcp", p.address, requestTimeout)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 4096)
	body := make([]byte, seg)
	for i := range body {
		body[i] = byte(i*7 + i>>8)
	}
	startRSS := procStatusKiB(pid, "VmRSS")
	b.SetBytes(total)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		sid := fmt.Sprintf("rss-%d-%d", os.Getpid(), n)
		for off := int64(0); off < total; off += seg {
			s := segmentRequest{session: sid, file: sid + ".bin", start: off, end: off + seg - 1, total: total, body: body}
			h := bytes.Replace(s.header(p.address, "/upload"), []byte("Connection: close"), []byte("Connection: keep-alive"), 1)
			_ = conn.SetDeadline(time.Now().Add(requestTimeout))
			if _, err := conn.Write(h); err != nil {
				b.Fatal(err)
			}
			if _, err := conn.Write(body); err != nil {
				b.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			last := off+seg >= total
			if (last && resp.StatusCode != http.StatusOK) || (!last && resp.StatusCode != http.StatusCreated) {
				b.Fatalf("bytes %d-%d/%d: status %d", off, off+seg-1, total, resp.StatusCode)
			}
		}
	}
	b.StopTimer()
	hwm := procStatusKiB(pid, "VmHWM")
	if hwm < 0 {
		b.Fatal(errors.New("no VmHWM in /proc/PID/status"))
	}
	b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(startRSS)/1024, "start-RSS-MiB")
	b.ReportMetric(float64(procStatusKiB(pid, "VmRSS"))/1024, "end-RSS-MiB")
}

// procStatusKiB reads one "Name: N kB" field of /proc/PID/status, or -1.
func procStatusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// TestServeHostileFlags: --min-body-rate, --max-sessions and --session-ttl reach the server's
// options; a rate of 0 turns the whole-segment deadline off.
func TestServeHostileFlags(t *testing.T) {
	tests := []struct {
		args     []string
		rate     int64
		sessions int
		ttl      time.Duration
	}{
		{nil, fakeserver.DefaultMinBodyRate, 0, 0},
		{[]string{"--min-body-rate", "4KiB/s"}, 4 << 10, 0, 0},
		{[]string{"--min-body-rate", "100"}, 100, 0, 0},
		{[]string{"--min-body-rate", "0"}, -1, 0, 0},
		{[]string{"--max-sessions", "20000", "--session-ttl", "24h"}, fakeserver.DefaultMinBodyRate, 20000, 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var cfg serveConfig
			fs := newServeFlagSet(&cfg)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := cfg.validate(fs); err != nil {
				t.Fatal(err)
			}
			opts, err := cfg.options(io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if opts.MinBodyRate != tt.rate || opts.MaxSessions != tt.sessions || opts.SessionTTL != tt.ttl {
				t.Errorf("rate %d sessions %d ttl %v, want %d %d %v", opts.MinBodyRate, opts.MaxSessions, opts.SessionTTL, tt.rate, tt.sessions, tt.ttl)
			}
		})
	}
}
