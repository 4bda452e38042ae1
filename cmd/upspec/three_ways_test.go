package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/reports"
)

// suiteTestBinary builds the suite's test binary once (what `go test ./suite` runs).
var suiteTestBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "upspec-suite-test-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "suite.test") // the ginkgo CLI takes a precompiled suite by its .test name
	out, err := exec.Command("go", "test", "-c", "-o", bin, "../../suite").CombinedOutput()
	if err != nil {
		return "", errors.New("go test -c ./suite: " + err.Error() + "\n" + string(out))
	}
	return bin, nil
})

// runSuite runs the suite's test binary, directly (as go test -args does) or through the ginkgo
// CLI (`go tool ginkgo run suite.test -- args`), and returns its exit status and output.
func runSuite(t *testing.T, viaGinkgo bool, env []string, args ...string) (int, string) {
	t.Helper()
	bin, err := suiteTestBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if viaGinkgo {
		cmd = exec.CommandContext(ctx, "go", append([]string{"tool", "ginkgo", "run", "--no-color", bin, "--"}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, append([]string{"-test.run=^TestUpspec$", "-test.count=1"}, args...)...)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit) && ctx.Err() == nil:
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("%v: %v\n%s", cmd.Args, err, out.String())
	return 0, ""
}

// TestSuiteTakesTheRunFlags: the suite under go test and under the ginkgo CLI takes the flags
// of `upspec run` with the same names (--expect, the reports, --label-filter and --focus among
// them) and their environment variables, and means the same by them: a KNOWN deviation passes,
// a STALE one fails the run, and the reports are upspec's.
func TestSuiteTakesTheRunFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the suite's test binary")
	}
	backend := unusedAddr(t)
	module := startServe(t, "--profile", "nginx-upload-module", "--upload-pass", "http://"+backend+"/")
	tests := []struct {
		name      string
		viaGinkgo bool
		env       []string
		args      []string
		code      int
		known     int
		stale     int
		scenarios int
	}{
		{"go test, a KNOWN deviation", false, nil,
			[]string{"--target=" + module.upload, "--backend-listen=" + backend, "--expect=nginx-upload-module", "--focus=PA-01|PR-01"}, 0, 1, 0, 2},
		{"go test, UPSPEC_EXPECT and UPSPEC_LABEL_FILTER", false,
			[]string{"UPSPEC_TARGET=" + module.upload, "UPSPEC_BACKEND_LISTEN=" + backend, "UPSPEC_EXPECT=nginx-upload-module", "UPSPEC_LABEL_FILTER=id:PA-01 || id:PR-01"},
			nil, 0, 1, 0, 2},
		{"go test, STALE against the reference", false, nil,
			[]string{"--expect=nginx-upload-module", "--label-filter=id:CO-01 || id:PR-01"}, 1, 0, 1, 2},
		{"ginkgo run, STALE against the reference", true, nil,
			[]string{"--expect=nginx-upload-module", "--focus=CO-01|PR-01"}, 1, 0, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			jsonPath, mdPath := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.md")
			args := append(tt.args, "--json-report="+jsonPath, "--markdown-report="+mdPath, "--repro-dir="+filepath.Join(dir, "repro"))
			code, out := runSuite(t, tt.viaGinkgo, tt.env, args...)
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\n%s", code, tt.code, out)
			}
			run, err := reports.ReadJSONFile(jsonPath)
			if err != nil {
				t.Fatalf("--json-report: %v\n%s", err, out)
			}
			if len(run.Scenarios) != tt.scenarios || run.Counts.Known != tt.known || run.Counts.Stale != tt.stale ||
				run.Meta.Expectations != "nginx-upload-module" {
				t.Errorf("the JSON report: %d scenarios, %d known, %d stale, expectations %q",
					len(run.Scenarios), run.Counts.Known, run.Counts.Stale, run.Meta.Expectations)
			}
			if tt.stale > 0 && !strings.Contains(out, "did not occur (STALE: CO-01); update the list") {
				t.Errorf("the output does not name the STALE deviation:\n%s", out)
			}
			if data, err := os.ReadFile(mdPath); err != nil || !bytes.Contains(data, []byte("upspec")) {
				t.Errorf("--markdown-report: %v", err)
			}
		})
	}

	// A selection that matches nothing fails, as under upspec run.
	for _, via := range []bool{false, true} {
		code, out := runSuite(t, via, nil, "--label-filter=no-such-label")
		if code == 0 || !strings.Contains(out, `the selection matches no scenario (label filter "no-such-label"`) {
			t.Errorf("an empty selection (ginkgo CLI %v): exit status %d\n%s", via, code, out)
		}
	}
}
