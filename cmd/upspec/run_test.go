package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports"
)

// The upspec binary is built once per test process by TestMain (serve_test.go) and found with
// upspecBinary(t): Ginkgo runs its specs once per process, so each `upspec run` is a subprocess.

// runResult is what one `upspec run` subprocess did.
type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
	dir            string // the working directory of the run
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
	dir := t.TempDir()
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start), dir: dir}
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

// unusedAddr returns a loopback host:port that nothing listens on, for a child process to
// listen on later (--backend-listen, whose address another process must know first). The
// port lies below this machine's ephemeral range, from which every free port that the other
// tests take (":0") and every outgoing connection's port come, so that none of them takes it
// in the meantime.
func unusedAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+rand.IntN(12000))))
		if err != nil {
			continue // taken
		}
		addr := ln.Addr().String()
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		return addr
	}
	t.Fatal("no unused loopback port between 20000 and 32000")
	return ""
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
		{"unreachable target", []string{"--target", closed}, "refused the connection"},
		{"bad segment size", []string{"--segment-size", "0"}, "--segment-size"},
		{"bad timeout", []string{"--timeout", "-1s"}, "--timeout"},
		{"bad environment variable", []string{"--dry-run"}, "UPSPEC_SEGMENT_SIZE"},
		{"report in a missing directory", []string{"--junit-report", "/nonexistent/dir/junit.xml"}, "--junit-report"},
		{"HTML report in a missing directory", []string{"--html-report", "/nonexistent/dir/run.html"}, "--html-report"},
		{"Markdown report is a directory", []string{"--markdown-report", os.TempDir()}, "--markdown-report"},
		{"repro dir is a file", []string{"--repro-dir", notPEM}, "--repro-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if tt.name == "bad environment variable" {
				env = []string{"UPSPEC_SEGMENT_SIZE=lots"}
			}
			r := upspecRun(t, 30*time.Second, env, tt.args...)
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
		"--json-report", "--junit-report", "--markdown-report", "--html-report", "--repro-dir", "--expect",
		"--verbose", "--no-color", "Exit status"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// lastLineRE is the closing line of every run.
var lastLineRE = regexp.MustCompile(`^(\d+) passed, (\d+) failed( \(\d+ stale\))?(, \d+ known)?(, \d+ skipped)?$`)

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
	// --json-report is upspec's schema, and says what the console said.
	run, err := reports.ReadJSONFile(jsonReport)
	if err != nil {
		t.Fatalf("the JSON report does not read as an upspec report: %v", err)
	}
	if got := reports.ClosingLine(run); got != last {
		t.Errorf("the JSON report's closing line %q, the console's %q", got, last)
	}
	if !run.Meta.Embedded || run.Meta.Profile != "reference" || run.Meta.RunID == "" || run.Meta.UpspecVersion == "" ||
		run.Meta.Seed == 0 || run.Meta.Start.IsZero() || run.Meta.Duration == 0 || !strings.HasPrefix(run.Meta.Target, "http://127.0.0.1:") {
		t.Errorf("the JSON report's metadata is incomplete: %+v", run.Meta)
	}
	if !strings.Contains(r.stdout, "Summary") || !strings.Contains(r.stdout, "by family") || !strings.Contains(r.stdout, "by level") {
		t.Errorf("no summary by family and by level:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "[It]") || strings.Contains(r.stdout, "Ran ") {
		t.Errorf("Ginkgo's own console output is shown:\n%s", r.stdout)
	}
	// A scenario line per scenario, e.g. "PASS        RS-01  <title>  (2ms)".
	if n := len(scenarioLineRE.FindAllString(r.stdout, -1)); n != len(run.Scenarios) {
		t.Errorf("%d scenario lines, %d scenarios in the report", n, len(run.Scenarios))
	}
	// Nothing failed: no reproducers.
	if _, err := os.Stat(filepath.Join(r.dir, "upspec-repro")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a conforming run wrote reproducers (%v)", err)
	}
}

// scenarioLineRE is the line of a finished scenario.
var scenarioLineRE = regexp.MustCompile(`(?m)^(PASS|FAIL|NON-STRICT|INFO|SKIPPED|KNOWN|STALE) +[A-Z]{2}-\d{2} .*\((\d|[0-9.]+(ms|µs|s))`)

func TestRunDryRun(t *testing.T) {
	r := upspecRun(t, time.Minute, nil, "--dry-run", "--no-color")
	if r.code != exitOK {
		t.Fatalf("exit status %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "dry run: ") || lastLine(r.stdout) != "0 passed, 0 failed" {
		t.Errorf("dry run output ends %q", lastLine(r.stdout))
	}
	planned := regexp.MustCompile(`(?m)^would run +[A-Z]{2}-\d{2} `).FindAllString(r.stdout, -1)
	want := regexp.MustCompile(`dry run: (\d+) scenarios selected, none run`).FindStringSubmatch(r.stdout)
	if len(planned) == 0 || want == nil || want[1] != strconv.Itoa(len(planned)) {
		t.Errorf("a dry run lists %d scenarios, and says %q:\n%s", len(planned), want, r.stdout)
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

// TestRunNotConforming runs against a broken server with every output at once: the JSON,
// Markdown, HTML and JUnit reports are written, and the reproducers the summary names exist.
func TestRunNotConforming(t *testing.T) {
	srv := httptest.NewServer(alwaysOK())
	defer srv.Close()
	out := t.TempDir()
	jsonPath, mdPath := filepath.Join(out, "run.json"), filepath.Join(out, "run.md")
	htmlPath, junitPath := filepath.Join(out, "run.html"), filepath.Join(out, "junit.xml")
	r := upspecRun(t, 3*time.Minute, nil, "--no-color", "--target", srv.URL+"/upload", "--no-preflight",
		"--request-timeout", "2s", "--spec-timeout", "20s",
		"--json-report", jsonPath, "--markdown-report", mdPath, "--html-report", htmlPath, "--junit-report", junitPath)
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
	for _, want := range []string{"ack.final-only-when-complete", "Failures: ", "expected: ", "got: ",
		"reports: JSON " + jsonPath + ", HTML " + htmlPath + ", JUnit " + junitPath + ", Markdown " + mdPath,
		"reproducers: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the output lacks %q", want)
		}
	}

	// Every reproducer the summary names exists (relative to the run's directory) and is a
	// shell script.
	repros := regexp.MustCompile(`(?m)^  reproducer: (\S+)$`).FindAllStringSubmatch(r.stdout, -1)
	if len(repros) == 0 {
		t.Fatalf("no reproducer named:\n%s", r.stdout)
	}
	for _, rp := range repros {
		if !strings.HasPrefix(rp[1], "upspec-repro/repro-") {
			t.Errorf("reproducer %s is not in ./upspec-repro", rp[1])
		}
		data, err := os.ReadFile(filepath.Join(r.dir, rp[1]))
		if err != nil || !bytes.HasPrefix(data, []byte("#!/bin/sh\n")) {
			t.Errorf("reproducer %s: %v", rp[1], err)
		}
	}

	// The four reports.
	run, err := reports.ReadJSONFile(jsonPath)
	if err != nil {
		t.Fatalf("--json-report: %v", err)
	}
	if run.Conforming() || reports.ClosingLine(run) != last || run.Meta.Target != srv.URL+"/upload" {
		t.Errorf("the JSON report: conforming %v, closing line %q, target %q", run.Conforming(), reports.ClosingLine(run), run.Meta.Target)
	}
	for _, s := range run.Problems() {
		if s.Reproducer == "" {
			t.Errorf("%s has no reproducer in the JSON report", s.ID)
		}
	}
	for _, f := range []struct{ path, want string }{
		{mdPath, "## upspec: ❌ not conforming"},
		{htmlPath, "<!DOCTYPE html>"},
		{junitPath, "<testsuites"},
	} {
		data, err := os.ReadFile(f.path)
		if err != nil || !strings.Contains(string(data), f.want) {
			t.Errorf("%s: %v, or it lacks %q", f.path, err, f.want)
		}
	}
	if data, err := os.ReadFile(htmlPath); err == nil && !strings.Contains(string(data), last) {
		t.Errorf("the HTML report does not show the closing line %q", last)
	}
}

// TestRunNoReproducers: an empty --repro-dir writes none, and a --repro-dir elsewhere gets them.
func TestRunNoReproducers(t *testing.T) {
	srv := httptest.NewServer(alwaysOK())
	defer srv.Close()
	elsewhere := filepath.Join(t.TempDir(), "scripts")
	tests := []struct {
		name string
		dir  string
	}{{"none", ""}, {"elsewhere", elsewhere}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := upspecRun(t, 2*time.Minute, nil, "--no-color", "--target", srv.URL+"/upload", "--no-preflight", "--label-filter", "completion",
				"--request-timeout", "2s", "--repro-dir", tt.dir)
			if r.code != exitNotConform {
				t.Fatalf("exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(r.dir, "upspec-repro")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("./upspec-repro written (%v)", err)
			}
			named := strings.Contains(r.stdout, "reproducer: ")
			if tt.dir == "" && named {
				t.Errorf("reproducers named with --repro-dir '':\n%s", r.stdout)
			}
			if tt.dir != "" {
				scripts, _ := filepath.Glob(filepath.Join(tt.dir, "repro-*.sh"))
				if len(scripts) == 0 || !named || !strings.Contains(r.stdout, "reproducers: "+strconv.Itoa(len(scripts))+" in "+tt.dir+"/") {
					t.Errorf("%d scripts in %s; output:\n%s", len(scripts), tt.dir, r.stdout)
				}
			}
		})
	}
}

// dropOnMalformed is the reference server with one SHOULD deviation: where the reference
// answers 400 to a malformed header (or 415 to multipart/form-data), it closes the connection
// without a byte.
func dropOnMalformed() http.Handler {
	ref := fakeserver.New(fakeserver.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{orig: w, header: http.Header{}}
		ref.ServeHTTP(rec, r)
		multipart := rec.status == http.StatusUnsupportedMediaType && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/")
		if rec.status == http.StatusBadRequest || multipart {
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
