package reports

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/scenarios/wire"
)

// seenRequest is what the broken server received.
type seenRequest struct {
	header http.Header
	body   []byte
}

// brokenServer answers 200 "completed" to every segment, complete or not: a false success.
// A segment whose range header is a key of hold is read only once a segment with the range
// of its value has been seen whole (at most holdTimeout), so that the order in which the
// bodies end is fixed by the requests, not by the timing of the script.
func brokenServer(t *testing.T, hold map[string]string) (*httptest.Server, func() []seenRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen []seenRequest
	arrived := map[string]chan struct{}{}
	arrival := func(rng string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if arrived[rng] == nil {
			arrived[rng] = make(chan struct{})
		}
		return arrived[rng]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rng := r.Header.Get("X-Content-Range")
		if after, ok := hold[rng]; ok {
			select {
			case <-arrival(after):
			case <-time.After(holdTimeout):
			}
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, seenRequest{header: r.Header.Clone(), body: body})
		mu.Unlock()
		if ch := arrival(rng); ch != nil {
			mu.Lock()
			select {
			case <-ch:
			default:
				close(ch)
			}
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "completed")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

// holdTimeout bounds the wait of a held segment: generous, since only a script that sends
// nothing while the held request is in flight makes it expire.
const holdTimeout = 20 * time.Second

// runScript runs a reproducer with /bin/sh, bounded, with TARGET set, and RUN unless runID is
// empty, and checks its exit status.
func runScript(t *testing.T, path, target, runID string, wantExit int) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the reproducers need it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", path)
	cmd.Env = append(os.Environ(), "TARGET="+target)
	if runID != "" {
		cmd.Env = append(cmd.Env, "RUN="+runID)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("sh %s: %v\n%s", path, err, out.String())
	}
	if code != wantExit {
		t.Fatalf("sh %s against %s: exit status %d, want %d\n%s", filepath.Base(path), target, code, wantExit, out.String())
	}
	return out.String()
}

// referenceServer is the reference server: it answers every segment as the protocol says.
func referenceServer(t *testing.T) string {
	t.Helper()
	srv, err := fakeserver.NewServer(fakeserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL
}

func TestReproducerShowsTheFailure(t *testing.T) {
	run := testRun()
	dir := t.TempDir()
	paths, err := WriteReproducers(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	// CP-01 and PA-01 fail, MF-01 is NON-STRICT; the names carry the run ID.
	want := []string{"repro-u1700000000-4f2a-CP-01.sh", "repro-u1700000000-4f2a-PA-01.sh", "repro-u1700000000-4f2a-MF-01.sh"}
	if len(paths) != len(want) {
		t.Fatalf("paths = %q, want %q", paths, want)
	}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("path %d = %s, want %s", i, p, want[i])
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o100 == 0 {
			t.Errorf("%s is not an executable file: %v", p, err)
		}
	}
	cp, _ := run.Scenario("CP-01")
	if cp.Reproducer != paths[0] {
		t.Errorf("CP-01 reproducer = %q, want %q", cp.Reproducer, paths[0])
	}

	srv, seen := brokenServer(t, nil)
	// The broken server fails again: exit 1.
	out := runScript(t, paths[0], srv.URL, "repro-test", ReproExitReproduced)

	for _, s := range []string{
		">>> [1/2] first half",
		"should answer: 201 Created (ack.201-while-incomplete, MUST)",
		`answered in the run: 200 OK, body "completed"`,
		"HTTP/1.1 200 OK", // the failure happens again
		"completed",
		"REPRODUCED: CP-01 ack.201-while-incomplete: expected 201 Created",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	reqs := seen()
	if len(reqs) != 2 {
		t.Fatalf("the server saw %d requests, want 2", len(reqs))
	}
	for i, tt := range []struct {
		rng   string
		start int64
		seed  int
	}{{"bytes 0-11/24", 0, 0}, {"bytes 12-23/24", 12, 7}} {
		r := reqs[i]
		if got := r.header.Get("X-Session-ID"); got != "repro-test-CP-01-1" {
			t.Errorf("request %d: session %q, want repro-test-CP-01-1", i, got)
		}
		if got := r.header.Get("X-Content-Range"); got != tt.rng {
			t.Errorf("request %d: range %q, want %q", i, got, tt.rng)
		}
		if got, want := string(r.body), string(wire.Pattern{Seed: tt.seed}.Bytes(tt.start, 12)); got != want {
			t.Errorf("request %d: body %q, want %q (pattern seed %d from %d)", i, got, want, tt.seed, tt.start)
		}
		if r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("Content-Disposition") != `attachment; filename="repro-test-cp-01.bin"` {
			t.Errorf("request %d: headers %v", i, r.header)
		}
		for _, h := range []string{"User-Agent", "Accept", "Expect", "Transfer-Encoding"} {
			if v, ok := r.header[h]; ok {
				t.Errorf("request %d: curl added %s: %q", i, h, v)
			}
		}
	}
}

// TestReproducerExitStatus: the same script exits 1 against a server that still fails, 0
// against the reference server, 2 when the target cannot be reached; without RUN each
// execution uses session IDs of its own.
func TestReproducerExitStatus(t *testing.T) {
	run := testRun()
	paths, err := WriteReproducers(t.TempDir(), run)
	if err != nil {
		t.Fatal(err)
	}
	ref := referenceServer(t)
	out := runScript(t, paths[0], ref, "", ReproExitNotReproduced)
	if !strings.Contains(out, "NOT REPRODUCED: CP-01") || !strings.Contains(out, "201 Created") {
		t.Errorf("against the reference server:\n%s", out)
	}
	broken, seen := brokenServer(t, nil)
	runScript(t, paths[0], broken.URL, "", ReproExitReproduced)
	runScript(t, paths[0], broken.URL, "", ReproExitReproduced)
	reqs := seen()
	if len(reqs) != 4 || reqs[0].header.Get("X-Session-ID") == reqs[2].header.Get("X-Session-ID") ||
		!strings.HasPrefix(reqs[0].header.Get("X-Session-ID"), testRunID+"-repro-") {
		t.Errorf("two executions, sessions %q and %q: want distinct IDs under the run ID", reqs[0].header.Get("X-Session-ID"), reqs[2].header.Get("X-Session-ID"))
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	if out := runScript(t, paths[0], url, "", ReproExitCannotTell); !strings.Contains(out, "cannot reach") {
		t.Errorf("against a closed port:\n%s", out)
	}
}

func TestReproducerRawBodyAndBackground(t *testing.T) {
	run := testRun()
	dir := t.TempDir()
	paths, err := WriteReproducers(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	// PA-01's A (0-15) is read only after B (8-23), which the script sends while A is in flight.
	srv, seen := brokenServer(t, map[string]string{"bytes 0-15/24": "bytes 8-23/24"})

	// MF-01: a raw body with a percent sign, a quote, a newline and a control byte; a header
	// value with markup and quotes.
	runScript(t, paths[2], srv.URL, "r2", ReproExitNotReproduced) // it answered 200, not as the run's closed connection
	reqs := seen()
	if len(reqs) != 1 {
		t.Fatalf("MF-01: the server saw %d requests, want 1", len(reqs))
	}
	if got := string(reqs[0].body); got != "a%b'c\n\x01Z" {
		t.Errorf("MF-01 body = %q", got)
	}
	if got := reqs[0].header.Get("X-Content-Range"); got != "bytes 0-5/24x <script>alert(1)</script>" {
		t.Errorf("MF-01 range header = %q", got)
	}

	// PA-01: A is still in flight when B starts: it runs in the background and pauses.
	script, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), ") &\n") || !strings.Contains(string(script), "\nwait\n") {
		t.Errorf("PA-01 script runs nothing in the background:\n%s", script)
	}
	out := runScript(t, paths[1], srv.URL, "r3", ReproExitNotReproduced)
	// The answers are printed in request order, whatever order they came in.
	if a, b := strings.Index(out, ">>> [1/2] segment A"), strings.Index(out, ">>> [2/2] segment B"); a < 0 || b < a {
		t.Errorf("PA-01 answers not in request order:\n%s", out)
	}
	reqs = seen()[1:]
	if len(reqs) != 2 {
		t.Fatalf("PA-01: the server saw %d requests, want 2\n%s", len(reqs), out)
	}
	var bodies []string
	for _, r := range reqs {
		bodies = append(bodies, string(r.body))
	}
	// B ends first: the server holds A until B is in, and B can come only while A is in
	// flight (A runs in the background). A script that sent A to its end first would see A's
	// curl give up (its --max-time is shorter than holdTimeout) before it sent B.
	if n := strings.Count(out, "HTTP/1.1 200 OK"); n != 2 {
		t.Errorf("PA-01: %d answers in the output, want A's and B's\n%s", n, out)
	}
	wantA := string(wire.Pattern{Seed: 3}.Bytes(0, 16))
	wantB := string(wire.Pattern{Seed: 3}.Bytes(8, 16))
	if bodies[0] != wantB || bodies[1] != wantA {
		t.Errorf("PA-01 bodies = %q, want B %q then A %q", bodies, wantB, wantA)
	}
}

func TestReproducerNoFailures(t *testing.T) {
	run := testCatalogue().FromResults(Meta{}, testResults()[:1])
	paths, err := WriteReproducers(filepath.Join(t.TempDir(), "none"), run)
	if err != nil || len(paths) != 0 {
		t.Errorf("paths, err = %q, %v; want none", paths, err)
	}
}

func TestWithRun(t *testing.T) {
	tests := []struct {
		in, runID string
		names     []string
		want      string
	}{
		{"X-Session-ID: u1-CP-01-1", "u1", nil, `'X-Session-ID: '"${RUN}"'-CP-01-1'`},
		{"Content-Type: x", "u1", nil, `'Content-Type: x'`},
		{"it's", "", nil, `'it'\''s'`},
		{"a u1 b u1", "u1", nil, `'a '"${RUN}"' b '"${RUN}"`},
		{`Content-Disposition: attachment; filename="pa01.bin"`, "u1", []string{"pa01.bin"},
			`'Content-Disposition: attachment; filename="'"${RUN}-"'pa01.bin''"'`},
		{"/file/pa01.bin", "u1", []string{"pa01.bin"}, `'/file/'"${RUN}-"'pa01.bin'`},
	}
	for _, tt := range tests {
		if got := withRun(tt.in, tt.runID, tt.names); got != tt.want {
			t.Errorf("withRun(%q, %q) = %s, want %s", tt.in, tt.runID, got, tt.want)
		}
	}
}
