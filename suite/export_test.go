package suite

import (
	"testing"

	"github.com/upspec/upspec/scenarios"
)

// SelfTestOnly skips a test of the suite itself when the test binary runs as the conformance
// suite (against a target, or as one of several parallel Ginkgo processes). It is for the
// suite's external tests (package suite_test).
func SelfTestOnly(t *testing.T) {
	t.Helper()
	selfTestOnly(t)
}

// Undeclared returns what a result shows that its scenario does not declare (see undeclared).
func Undeclared(r scenarios.Result, ran bool) []string { return undeclared(r, ran) }
