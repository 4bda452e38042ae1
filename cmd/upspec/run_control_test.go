package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// quietServer is an httptest server that logs nothing (failed handshakes and cut connections
// are the point of these targets).
func quietServer(t *testing.T, h http.Handler, tlsOn bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// rawTarget listens on a loopback port and hands every connection to serve; the cleanup closes
// the listener and the connections.
func rawTarget(t *testing.T, serve func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go serve(c, done)
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func readHead(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// TestRunPreflight: a target that is no resumable upload endpoint is one setup error: exit
// status 2, one line on stderr that names what came back and the likely cause, nothing run.
func TestRunPreflight(t *testing.T) {
	ref := quietServer(t, fakeserver.New(fakeserver.Options{}), false)
	files := quietServer(t, http.FileServer(http.Dir(t.TempDir())), false)
	redirect := quietServer(t, http.RedirectHandler("/upload/", http.StatusMovedPermanently), false)
	selfSigned := quietServer(t, fakeserver.New(fakeserver.Options{}), true)
	always := quietServer(t, alwaysOK(), false)
	silent := rawTarget(t, func(c net.Conn, done <-chan struct{}) { <-done })
	dripping := rawTarget(t, func(c net.Conn, done <-chan struct{}) {
		readHead(c)
		for _, b := range []byte("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok") {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	})
	stalled := rawTarget(t, func(c net.Conn, done <-chan struct{}) {
		readHead(c)
		_, _ = io.WriteString(c, "HTTP/1.1 201 Created\r\nContent-Length: 1000\r\n\r\n0-")
		<-done
	})

	tests := []struct {
		name   string
		target string
		want   []string
	}{
		{"mistyped path", ref.URL + "/uplod", []string{"404 Not Found", "not an upload endpoint"}},
		{"static file server", files.URL + "/upload", []string{"404 Not Found", "not an upload endpoint"}},
		{"redirect", redirect.URL + "/upload", []string{"301 Moved Permanently", "Location " + redirect.URL + "/upload/"}},
		{"silent target", "http://" + silent + "/upload", []string{"no complete answer", "does not answer"}},
		{"dripping target", "http://" + dripping + "/upload", []string{"no complete answer", "too slowly"}},
		{"stalled body", "http://" + stalled + "/upload", []string{"201 Created", "never finished the body"}},
		{"self-signed TLS", selfSigned.URL + "/upload", []string{"TLS handshake", "unknown authority", "--ca-file"}},
		{"TLS handshake timeout", "https://" + silent + "/upload", []string{"TLS handshake", "no handshake within"}},
		{"200 to everything", always.URL + "/upload", []string{"200 OK", "resumable mode is off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := upspecRun(t, time.Minute, nil, "--no-color", "--target", tt.target)
			t.Logf("%s: exit %d in %s", tt.name, r.code, r.took.Round(time.Millisecond))
			if r.code != exitUsage {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "upspec run: preflight: target "+tt.target+" ") {
				t.Errorf("stderr is not one line `upspec run: preflight: target %s ...`: %q", tt.target, r.stderr)
			}
			for _, w := range append(tt.want, "--no-preflight") {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("a scenario ran: %q", r.stdout)
			}
		})
	}

	// --no-preflight skips it: the target answering 200 to everything is then judged scenario
	// by scenario (and fails).
	r := upspecRun(t, 2*time.Minute, nil, "--no-color", "--target", always.URL+"/upload", "--no-preflight", "--label-filter", "completion")
	if r.code != exitNotConform || strings.Contains(r.stderr, "preflight") {
		t.Errorf("--no-preflight: exit status %d, want %d; stderr %q", r.code, exitNotConform, r.stderr)
	}
}

// goesSilent is the reference server for its first n requests, then a target that accepts
// every request and never answers; hung counts the requests it holds.
func goesSilent(n int64, hung *atomic.Int64, quit <-chan struct{}) http.Handler {
	ref := fakeserver.New(fakeserver.Options{})
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			ref.ServeHTTP(w, r)
			return
		}
		hung.Add(1)
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	})
}

// TestRunStopsWhenTheTargetStopsAnswering: a target that passes the preflight and then never
// answers ends the run early with exit status 2, the reason, and every scenario accounted for
// (the ones not run counted as such in the reports).
func TestRunStopsWhenTheTargetStopsAnswering(t *testing.T) {
	quit := make(chan struct{})
	var hung atomic.Int64
	srv := quietServer(t, goesSilent(1, &hung, quit), false)
	t.Cleanup(func() { close(quit) }) // runs before srv.Close
	jsonPath := filepath.Join(t.TempDir(), "run.json")
	r := upspecRun(t, 3*time.Minute, nil, "--no-color", "--target", srv.URL+"/upload", "--json-report", jsonPath)
	t.Logf("a target that stops answering after the preflight: exit %d in %s", r.code, r.took.Round(time.Millisecond))
	if r.code != exitUsage {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^upspec run: the target stopped answering: 2 scenarios in a row got no answer, and a fresh preflight request got none either \(.*\); \d+ of \d+ scenarios not run$`).MatchString(r.stderr) {
		t.Errorf("stderr does not say why the run stopped: %q", r.stderr)
	}
	run, err := reports.ReadJSONFile(jsonPath)
	if err != nil {
		t.Fatalf("the JSON report of a stopped run: %v", err)
	}
	notRun := 0
	for _, s := range run.Scenarios {
		if s.Verdict == result.NotRun {
			notRun++
			if !strings.Contains(s.SkipReason, "the target stopped answering") {
				t.Errorf("%s is not run without the reason: %q", s.ID, s.SkipReason)
			}
		}
	}
	all := len(reports.DefaultCatalogue().Scenarios)
	if len(run.Scenarios) != all || notRun == 0 || notRun > all-2 {
		t.Errorf("the report accounts for %d of %d scenarios, %d not run", len(run.Scenarios), all, notRun)
	}
}

// TestRunFailFast: --fail-fast stops after the first failure with its verdict (exit status
// 1); the scenarios after it are NOT-RUN with the reason.
func TestRunFailFast(t *testing.T) {
	srv := quietServer(t, alwaysOK(), false)
	jsonPath := filepath.Join(t.TempDir(), "run.json")
	r := upspecRun(t, 2*time.Minute, nil, "--no-color", "--target", srv.URL+"/upload", "--no-preflight", "--fail-fast",
		"--label-filter", "completion", "--json-report", jsonPath)
	if r.code != exitNotConform {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitNotConform, r.stdout, r.stderr)
	}
	run, err := reports.ReadJSONFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	failed, notRun := 0, 0
	for _, s := range run.Scenarios {
		switch s.Verdict {
		case result.Fail:
			failed++
		case result.NotRun:
			notRun++
			if !strings.Contains(s.SkipReason, "--fail-fast") {
				t.Errorf("%s: reason %q", s.ID, s.SkipReason)
			}
		}
	}
	if failed != 1 || notRun == 0 || !strings.Contains(r.stderr, "--fail-fast: the run stopped after the first failure") {
		t.Errorf("%d failed, %d not run; stderr %q", failed, notRun, r.stderr)
	}
}

// TestRunTimeLimit: scenarios that the run's time limit leaves out are NOT-RUN with the reason,
// and the run ends with exit status 2.
func TestRunTimeLimit(t *testing.T) {
	r := upspecRun(t, time.Minute, nil, "--no-color", "--timeout", "1ms", "--label-filter", "probe")
	if r.code != exitUsage {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`^upspec run: the run's time limit of 1ms ran out \(--timeout\); [1-9]\d* of [1-9]\d* scenarios not run\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q", r.stderr)
	}
	if n := strings.Count(r.stdout, "\nNOT-RUN "); n == 0 {
		t.Errorf("no NOT-RUN line:\n%s", r.stdout)
	}
}

// TestRunEmptySelection: a selection that matches no scenario is a usage error.
func TestRunEmptySelection(t *testing.T) {
	for _, args := range [][]string{{"--focus", "NO-SUCH-SCENARIO"}, {"--label-filter", "no-such-label"}} {
		r := upspecRun(t, time.Minute, nil, append([]string{"--no-color"}, args...)...)
		if r.code != exitUsage {
			t.Errorf("%v: exit status %d, want %d", args, r.code, exitUsage)
		}
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "upspec run: the selection matches no scenario ("+args[0]) {
			t.Errorf("%v: stderr %q", args, r.stderr)
		}
	}
}

// TestRunInterrupt: SIGINT stops the run cleanly: exit status 130, a line that says so, and the
// reports written with what ran.
func TestRunInterrupt(t *testing.T) {
	quit := make(chan struct{})
	var hung atomic.Int64
	srv := quietServer(t, goesSilent(1, &hung, quit), false)
	t.Cleanup(func() { close(quit) })
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.html")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, upspecBinary(t), "run", "--no-color", "--target", srv.URL+"/upload",
		"--json-report", jsonPath, "--html-report", htmlPath)
	cmd.Dir = dir
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A scenario is in flight (its request held) once the target holds a request: the suite
	// runs, and Ginkgo handles the signal.
	for hung.Load() == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("no scenario started\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("SIGINT to exit: %s", time.Since(start).Round(time.Millisecond))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want status %d\nstdout:\n%s\nstderr:\n%s", err, exitInterrupted, stdout.String(), stderr.String())
	}
	if !regexp.MustCompile(`(?m)^upspec run: interrupted: \d+ of \d+ scenarios not run; the reports hold what ran$`).MatchString(stderr.String()) {
		t.Errorf("stderr does not say the run was interrupted: %q", stderr.String())
	}
	run, err := reports.ReadJSONFile(jsonPath)
	if err != nil {
		t.Fatalf("no JSON report after the interrupt: %v", err)
	}
	notRun := 0
	for _, s := range run.Scenarios {
		if s.Verdict == result.NotRun {
			notRun++
		}
	}
	if all := len(reports.DefaultCatalogue().Scenarios); len(run.Scenarios) != all || notRun == 0 {
		t.Errorf("the report accounts for %d of %d scenarios, %d not run", len(run.Scenarios), all, notRun)
	}
	if fi, err := os.Stat(htmlPath); err != nil || fi.Size() == 0 {
		t.Errorf("no HTML report after the interrupt: %v", err)
	}
	if last := lastLine(stdout.String()); !lastLineRE.MatchString(last) {
		t.Errorf("the run does not end with its closing line: %q", last)
	}
}

// TestRunEnvironment: every flag has an environment variable, and a flag beats its variable.
func TestRunEnvironment(t *testing.T) {
	ref := quietServer(t, fakeserver.New(fakeserver.Options{}), false)
	closed := closedPortURL(t)
	target := ref.URL + "/upload"
	tests := []struct {
		name  string
		env   []string
		args  []string
		first string // part of the first line
	}{
		{"UPSPEC_TARGET", []string{"UPSPEC_TARGET=" + target}, nil, "target " + target},
		{"--target beats UPSPEC_TARGET", []string{"UPSPEC_TARGET=" + closed}, []string{"--target", target}, "target " + target},
		{"UPSPEC_LABEL_FILTER and UPSPEC_RUN_ID", []string{"UPSPEC_TARGET=" + target, "UPSPEC_LABEL_FILTER=probe", "UPSPEC_RUN_ID=env_id"}, nil, "(run ID env_id)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--no-color", "--focus", "PR-0[12]"}, tt.args...)
			r := upspecRun(t, time.Minute, tt.env, args...)
			if r.code != exitOK {
				t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if first := strings.SplitN(r.stdout, "\n", 2)[0]; !strings.Contains(first, tt.first) {
				t.Errorf("first line %q lacks %q", first, tt.first)
			}
			if last := lastLine(r.stdout); last != "2 passed, 0 failed" {
				t.Errorf("last line %q, want the two scenarios of --focus", last)
			}
		})
	}
}

// TestRunFlagsInReadme: the README's table of flags lists every flag of `upspec run` with its
// environment variable.
func TestRunFlagsInReadme(t *testing.T) {
	r := upspecRun(t, 30*time.Second, nil, "--help")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z-]+)`).FindAllStringSubmatch(r.stdout, -1)
	if len(names) < 20 {
		t.Fatalf("only %d flags in the help", len(names))
	}
	for _, m := range names {
		if m[1] == "help" {
			continue
		}
		env := "UPSPEC_" + strings.ToUpper(strings.ReplaceAll(m[1], "-", "_"))
		row := regexp.MustCompile("(?m)^\\| `--" + regexp.QuoteMeta(m[1]) + "[ `].*`" + env + "`")
		if !row.Match(readme) {
			t.Errorf("the README's table of flags has no row for --%s with %s", m[1], env)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	spec := func(id string) types.SpecReport { return specWithResult(t, id) }
	p := newProgress(&b, true)
	p.total = 12
	p.spec(spec("RS-01"))
	b.WriteString("line\n")
	p.spec(spec("RS-02"))
	if got := b.String(); got != "[ 1/12] line\n[ 2/12] " {
		t.Errorf("progress on a terminal: %q", got)
	}
	b.Reset()
	off := newProgress(&b, false)
	off.total = 12
	off.spec(spec("RS-01"))
	if b.Len() != 0 {
		t.Errorf("progress when not a terminal: %q", b.String())
	}
	if isTerminal(&b) {
		t.Errorf("a buffer is a terminal")
	}
}

// specWithResult is the report of a spec that ran scenario id and passed.
func specWithResult(t *testing.T, id string) types.SpecReport {
	t.Helper()
	return types.SpecReport{
		LeafNodeType:   types.NodeTypeIt,
		LeafNodeText:   id,
		LeafNodeLabels: []string{result.IDLabel(id)},
		State:          types.SpecStatePassed,
		ReportEntries: []types.ReportEntry{{
			Name:  result.EntryName,
			Value: types.WrapEntryValue(scenarios.Result{ScenarioID: id, Verdict: result.Pass}),
		}},
	}
}
