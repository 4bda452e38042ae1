package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// The upspec binary is built once per test process by TestMain (serve_test.go) and found with
// upspecBinary(t): Ginkgo runs its specs once per process, so each `upspec run` is a subprocess.

// runResult is what one `upspec run` subprocess did.
type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// upspecRun runs `upspec run args...` with a deadline and returns its exit status and output.
func upspecRun(t *testing.T, timeout time.Duration, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, upspecBinary(t), append([]string{"run"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("upspec run %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, res.stdout, res.stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("upspec run %s: no exit within %s\nstdout:\n%s", strings.Join(args, " "), timeout, res.stdout)
	}
	return res
}

// closedPortURL returns a loopback URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/upload"
	ln.Close()
	return u
}

func TestRunUsageErrors(t *testing.T) {
	closed := closedPortURL(t)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // part of the one stderr line
	}{
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{"flag without value", []string{"--target"}, "--target"},
		{"argument", []string{"http://127.0.0.1/upload"}, "unexpected argument"},
		{"bad label filter", []string{"--label-filter", "parallel &&"}, "--label-filter"},
		{"bad label filter parens", []string{"--label-filter", "(probe"}, "--label-filter"},
		{"bad focus", []string{"--focus", "RS-(("}, "--focus"},
		{"malformed URL", []string{"--target", "http://[::1/upload"}, "malformed URL"},
		{"not an http URL", []string{"--target", "127.0.0.1:8080/upload"}, "--target"},
		{"bad header", []string{"--target", closed, "--header", "no colon"}, "--header"},
		{"unreadable CA file", []string{"--target", closed, "--ca-file", "/nonexistent/ca.pem"}, "--ca-file"},
		{"CA file without certificate", []string{"--target", closed, "--ca-file", notPEM}, "--ca-file"},
		{"unreachable target", []string{"--target", closed}, "cannot be reached"},
		{"bad segment size", []string{"--segment-size", "0"}, "--segment-size"},
		{"bad timeout", []string{"--timeout", "0s"}, "--timeout"},
		{"report in a missing directory", []string{"--junit-report", "/nonexistent/dir/junit.xml"}, "--junit-report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := upspecRun(t, 30*time.Second, nil, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "upspec run: ") {
				t.Errorf("stderr is not one line `upspec run: ...`: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "\x1b[") {
				t.Errorf("stderr holds colour codes: %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty: %q", r.stdout)
			}
			if r.took > 10*time.Second {
				t.Errorf("took %s, want a few seconds at most", r.took)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	r := upspecRun(t, 30*time.Second, nil, "--help")
	if r.code != exitOK {
		t.Fatalf("exit status %d, want 0; stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"Usage: upspec run", "Examples:", "--target", "--header", "--insecure", "--ca-file",
		"--request-timeout", "--spec-timeout", "--segment-size", "--final-status", "--final-body", "--file-url",
		"--run-id", "--strict", "--label-filter", "--focus", "--skip", "--dry-run", "--fail-fast", "--timeout",
		"--json-report", "--junit-report", "--verbose", "--no-color", "Exit status"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// lastLineRE is the closing line of every run.
var lastLineRE = regexp.MustCompile(`^(\d+) passed, (\d+) failed(, \d+ skipped)?$`)

func TestRunEmbeddedConforms(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")
	jsonReport := filepath.Join(dir, "report.json")
	r := upspecRun(t, 3*time.Minute, []string{"NO_COLOR=1"}, "--junit-report", junit, "--json-report", jsonReport)
	if r.code != exitOK {
		t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first := strings.SplitN(r.stdout, "\n", 2)[0]
	if !strings.Contains(first, "embedded reference server") {
		t.Errorf("first line %q does not say the target is the embedded reference server", first)
	}
	last := lastLine(r.stdout)
	m := lastLineRE.FindStringSubmatch(last)
	if m == nil || m[2] != "0" || m[1] == "0" {
		t.Errorf("last line %q, want `N passed, 0 failed[, N skipped]` with N > 0", last)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("NO_COLOR set but the output holds colour codes")
	}
	for _, p := range []string{junit, jsonReport} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("report %s not written: %v", p, err)
		}
	}
	if data, err := os.ReadFile(junit); err == nil && bytes.Contains(data, []byte("[range-strings")) {
		t.Errorf("JUnit test case names carry labels")
	}
}

func TestRunDryRun(t *testing.T) {
	r := upspecRun(t, time.Minute, nil, "--dry-run", "--no-color")
	if r.code != exitOK {
		t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "dry run: ") || lastLine(r.stdout) != "0 passed, 0 failed" {
		t.Errorf("dry run output ends %q", lastLine(r.stdout))
	}
}

// alwaysOK is a broken server: it reads every segment and answers 200 "ok", a completion
// before the file is complete.
func alwaysOK() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	})
}

func TestRunNotConforming(t *testing.T) {
	srv := httptest.NewServer(alwaysOK())
	defer srv.Close()
	r := upspecRun(t, 3*time.Minute, nil, "--no-color", "--target", srv.URL+"/upload",
		"--request-timeout", "2s", "--spec-timeout", "20s")
	if r.code != exitNotConform {
		t.Fatalf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first := strings.SplitN(r.stdout, "\n", 2)[0]
	if !strings.Contains(first, srv.URL) {
		t.Errorf("first line %q does not name the target", first)
	}
	last := lastLine(r.stdout)
	m := lastLineRE.FindStringSubmatch(last)
	if m == nil || m[2] == "0" {
		t.Errorf("last line %q, want `N passed, N failed` with failures", last)
	}
	if !strings.Contains(r.stdout, "ack.final-only-when-complete") {
		t.Errorf("the output does not name the clause ack.final-only-when-complete")
	}
}

// dropOnMalformed is the reference server with one SHOULD deviation: where the reference
// answers 400 to a malformed header, it closes the connection without a byte.
func dropOnMalformed() http.Handler {
	ref := fakeserver.New(fakeserver.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{orig: w, header: http.Header{}}
		ref.ServeHTTP(rec, r)
		if rec.status == http.StatusBadRequest {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		maps.Copy(w.Header(), rec.header)
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// recorder keeps a handler's answer; Unwrap lets the handler reach the connection's deadlines.
type recorder struct {
	orig   http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header { return c.header }
func (c *recorder) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *recorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *recorder) Unwrap() http.ResponseWriter { return c.orig }

// TestRunStrict: a SHOULD deviation is NON-STRICT (counted as passed, exit 0), and fails the
// run with --strict (exit 1).
func TestRunStrict(t *testing.T) {
	srv := httptest.NewServer(dropOnMalformed())
	defer srv.Close()
	tests := []struct {
		name   string
		strict bool
		code   int
		last   *regexp.Regexp
	}{
		{"not strict", false, exitOK, regexp.MustCompile(`^[1-9]\d* passed, 0 failed$`)},
		{"strict", true, exitNotConform, regexp.MustCompile(`^0 passed, [1-9]\d* failed$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--no-color", "--target", srv.URL + "/upload", "--label-filter", "malformed"}
			if tt.strict {
				args = append(args, "--strict")
			}
			r := upspecRun(t, 2*time.Minute, nil, args...)
			if r.code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if last := lastLine(r.stdout); !tt.last.MatchString(last) {
				t.Errorf("last line %q, want %s", last, tt.last)
			}
			if !strings.Contains(r.stdout, "rob.malformed-4xx") {
				t.Errorf("the output does not name the clause rob.malformed-4xx")
			}
		})
	}
}
