package suite

import "testing"

// SelfTestOnly skips a test of the suite itself when the test binary runs as the conformance
// suite (against a target, or as one of several parallel Ginkgo processes). It is for the
// suite's external tests (package suite_test).
func SelfTestOnly(t *testing.T) {
	t.Helper()
	selfTestOnly(t)
}
