package tus_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/tus"
)

// tusNodeDir holds the pinned @tus/server and @tus/file-store (package.json,
// package-lock.json) and the script that serves them (server.js); `npm ci` there installs
// them (.ci/run does).
const tusNodeDir = "testdata/tusnode"

// tusNodeVersion is the @tus/server release pinned in tusNodeDir/package.json.
const tusNodeVersion = "2.4.5"

// tusNodeFileStoreVersion is the @tus/file-store release pinned there.
const tusNodeFileStoreVersion = "2.1.1"

// tusNodeMaxSize is the Tus-Max-Size the script is started with, so that the scenario of that
// limit runs.
const tusNodeMaxSize = 1 << 20

// tusNodeStartTimeout bounds node's start-up, until it prints its URL: generous, for a busy
// machine.
const tusNodeStartTimeout = time.Minute

// tusNodeStopTimeout bounds the wait for node to exit once its stdin is closed; it is then
// killed.
const tusNodeStopTimeout = 30 * time.Second

// startTusNode starts @tus/server (tusNodeDir/server.js, under node) with its FileStore in a
// temporary directory and returns its creation URL; it stops when t ends. Without node or the
// installed packages the test is skipped, except under CI=true, where it fails.
func startTusNode(t *testing.T) *url.URL {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true): run npm ci in scenarios/tus/%s", msg, tusNodeDir)
		}
		t.Skipf("%s (npm ci in scenarios/tus/%s)", msg, tusNodeDir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	for _, pkg := range []struct{ name, version string }{
		{"@tus/server", tusNodeVersion},
		{"@tus/file-store", tusNodeFileStoreVersion},
	} {
		got, err := installedVersion(pkg.name)
		switch {
		case err != nil:
			missing("%s is not installed: %v", pkg.name, err)
		case got != pkg.version:
			missing("%s %s is installed, not the pinned %s", pkg.name, got, pkg.version)
		}
	}

	cmd := exec.Command(node, "server.js", t.TempDir(), fmt.Sprint(tusNodeMaxSize))
	cmd.Dir = tusNodeDir
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = stdin.Close() // the script exits when its stdin closes
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("node: %v; stderr: %s", err, stderr.String())
			}
		case <-time.After(tusNodeStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("node did not exit within %v of its stdin closing; killed", tusNodeStopTimeout)
		}
	})

	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		s, _ := r.ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, r) // the script prints nothing else; drain it all the same
		exited <- cmd.Wait()
	}()
	select {
	case s := <-line:
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" {
			t.Fatalf("node printed %q, not its URL; stderr: %s", s, stderr.String())
		}
		return u
	case <-time.After(tusNodeStartTimeout):
		t.Fatalf("node printed no URL within %v", tusNodeStartTimeout)
	}
	return nil
}

// installedVersion returns the version of the npm package name installed in tusNodeDir.
func installedVersion(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(tusNodeDir, "node_modules", filepath.FromSlash(name), "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("%s's package.json: %w", name, err)
	}
	return pkg.Version, nil
}

// lockedBuffer is an io.Writer whose text can be read while it is written (a child's stderr).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTusNodeExpectations runs every tus scenario against @tus/server (npm, pinned in
// testdata/tusnode) with its FileStore, under node, and holds the verdicts to the built-in list
// tus-node-server-2: a listed scenario must fail (KNOWN: a fixed @tus/server is STALE and fails
// the test), and every other one must pass or be skipped for an extension it does not announce.
// The run is strict, so a SHOULD counts.
func TestTusNodeExpectations(t *testing.T) {
	target := startTusNode(t)
	exp, err := tus.LoadExpectations("tus-node-server-2")
	if err != nil {
		t.Fatal(err)
	}
	res := runAllConfig(t, scenarios.Config{
		Target:  target,
		FileURL: "http://" + target.Host + "/stored/{name}",
		Strict:  true,
		RunID:   "tusnode",
	})
	checkExpectations(t, "@tus/server "+tusNodeVersion, exp, res, map[string]string{
		// @tus/server drops the bytes that arrived when the end of the connection comes
		// within about a millisecond of them; the harness cuts right behind its bytes, but a
		// busy machine may delay the cut past that.
		"TP-04": "@tus/server keeps the bytes of a cut PATCH when the cut comes a millisecond or more after them",
	})
}
