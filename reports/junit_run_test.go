package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/upspec/upspec/reports/result"
)

func TestWriteJUnit(t *testing.T) {
	run := &Run{Meta: Meta{Target: "http://127.0.0.1:1/upload", Profile: "grade"}, Scenarios: []Scenario{
		{ID: "cli.a", Title: "A", Verdict: result.Pass},
		{ID: "cli.b", Title: "B", Verdict: result.Fail, Findings: []result.Finding{{Clause: "cli.b", Detail: "abandoned upload", Message: "cli.b (MUST): B\n  abandoned upload"}}},
		{ID: "cli.c", Title: "C", Verdict: result.Skipped, SkipReason: "no fault fired"},
		{ID: "cli.d", Title: "D", Verdict: result.NonStrict, Findings: []result.Finding{{Clause: "cli.d", Message: "came early"}}},
	}}
	run.recount()
	var b bytes.Buffer
	if err := WriteJUnit(&b, run); err != nil {
		t.Fatal(err)
	}
	var got reporters.JUnitTestSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("read back: %v\n%s", err, b.String())
	}
	if got.Tests != 4 || got.Failures != 1 || len(got.TestSuites) != 1 {
		t.Fatalf("tests %d, failures %d, suites %d", got.Tests, got.Failures, len(got.TestSuites))
	}
	cs := got.TestSuites[0].TestCases
	if cs[1].Failure == nil || !strings.Contains(cs[1].Failure.Message, "cli.b: abandoned upload") || cs[0].Failure != nil {
		t.Errorf("cases %+v", cs[:2])
	}
	if cs[2].Skipped == nil || !strings.Contains(cs[2].Skipped.Message, "no fault fired") || cs[3].Failure != nil || !strings.Contains(cs[3].SystemOut, "came early") {
		t.Errorf("cases %+v", cs[2:])
	}
}
