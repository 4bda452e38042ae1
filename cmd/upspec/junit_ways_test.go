package main

import (
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
)

// TestJUnitSameEveryWay: `go test ./suite -args -ginkgo.junit-report` (the suite takes the
// report over from Ginkgo) and `upspec run --junit-report` write the same test cases with the
// same outcomes for the same target (the embedded reference server), without labels and
// without report entries.
func TestJUnitSameEveryWay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the suite's test binary")
	}
	dir := t.TempDir()
	viaGoTest := filepath.Join(dir, "go-test.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "../../suite", "-args", "-ginkgo.junit-report="+viaGoTest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test ./suite: %v\n%s", err, out)
	}
	viaRun := filepath.Join(dir, "upspec-run.xml")
	if res := upspecRun(t, 3*time.Minute, nil, "--junit-report", viaRun, "--repro-dir", ""); res.code != exitOK {
		t.Fatalf("upspec run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	a, b := junitCases(t, viaGoTest), junitCases(t, viaRun)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("go test ./suite wrote %d test cases, upspec run %d; first difference:\n%s", len(a), len(b), firstDiff(a, b))
	}
}

// junitCases are the test cases of a JUnit file as "name status", sorted.
func junitCases(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ju reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &ju); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, ts := range ju.TestSuites {
		for _, tc := range ts.TestCases {
			if tc.Properties != nil {
				t.Errorf("%s: %s carries report entries", filepath.Base(path), tc.Name)
			}
			out = append(out, tc.Name+" "+tc.Status)
		}
	}
	slices.Sort(out)
	return out
}

func firstDiff(a, b []string) string {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return "only in upspec run: " + b[i]
		case i >= len(b):
			return "only in go test: " + a[i]
		case a[i] != b[i]:
			return a[i] + "\n" + b[i]
		}
	}
	return ""
}
