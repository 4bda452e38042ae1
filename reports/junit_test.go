package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/upspec/upspec/reports/result"
)

// TestJUnit: the JUnit report agrees with the exit status: failures are the scenarios that
// gate the run (FAIL not KNOWN, STALE), engine errors are errors, KNOWN is skipped with its
// issue's address; no report entries, names `[It] <ID> <Title>`.
func TestJUnit(t *testing.T) {
	run := testRun()
	run.ApplyExpectations(testExpectations(t))
	run.Scenarios = append(run.Scenarios, Scenario{ID: "ZZ-01", Title: "Harness broke", Verdict: result.Error,
		Findings: []result.Finding{{Level: result.MUST, Engine: true, Message: "scenario panicked: boom", Detail: "scenario panicked: boom"}}})
	run.recount()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, run); err != nil {
		t.Fatal(err)
	}
	var ju reporters.JUnitTestSuites
	if err := xml.Unmarshal(buf.Bytes(), &ju); err != nil {
		t.Fatal(err)
	}
	ts := ju.TestSuites[0]
	if ts.Failures != len(run.Failures()) || ts.Failures != 2 || ts.Errors != 1 || ts.Skipped != 3 || ts.Tests != 7 {
		t.Errorf("tests %d failures %d errors %d skipped %d; want 7, 2 (CP-01, RS-01 stale), 1, 3 (2 known, 1 skipped)", ts.Tests, ts.Failures, ts.Errors, ts.Skipped)
	}
	byName := map[string]reporters.JUnitTestCase{}
	for _, tc := range ts.TestCases {
		byName[tc.Name] = tc
		if tc.Properties != nil || tc.SystemErr != "" {
			t.Errorf("%s carries report entries or a timeline", tc.Name)
		}
	}
	tests := []struct {
		name, kind, msg string
	}{
		{"[It] CP-01 Two halves: 201 for the first, the backend's answer for the second", "failure",
			"ack.201-while-incomplete (MUST): expected 201 Created; got 200 OK, body \"completed\""},
		{"[It] RS-01 Two disjoint segments are listed exactly", "failure", "STALE: listed in test-list as an expected deviation (#46 https://github.com/example/server/issues/46) but PASS"},
		{"[It] PA-01 Overlapping parallel segments", "skipped", "KNOWN deviation (upstream issue #10 https://github.com/example/server/issues/10), listed in test-list"},
		{"[It] ZZ-01 Harness broke", "error", "engine error (the harness failed, not the target)"},
		{"[It] SS-01 One session from two client addresses", "skipped", "skipped: the target is not on loopback"},
		{"[It] RS-01 Two disjoint segments are listed exactly", "failure", "remove the entry"},
	}
	for _, tt := range tests {
		tc, ok := byName[tt.name]
		if !ok {
			t.Errorf("no test case %q", tt.name)
			continue
		}
		var msg string
		switch {
		case tc.Failure != nil && tt.kind == "failure":
			msg = tc.Failure.Message
		case tc.Skipped != nil && tt.kind == "skipped":
			msg = tc.Skipped.Message
		case tc.Error != nil && tt.kind == "error":
			msg = tc.Error.Message
		default:
			t.Errorf("%s: not a %s: %+v", tt.name, tt.kind, tc)
			continue
		}
		if !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: message %q lacks %q", tt.name, msg, tt.msg)
		}
	}
}

func TestMerge(t *testing.T) {
	whole := testRun()
	a := testCatalogue().FromResults(whole.Meta, testResults()[:3])
	b := testCatalogue().FromResults(whole.Meta, testResults()[3:])
	b.Meta.Start = whole.Meta.Start.Add(whole.Meta.Duration)
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts != whole.Counts || len(m.Clauses) != len(whole.Clauses) || m.Meta.Duration != a.Meta.Duration+b.Meta.Duration {
		t.Errorf("merged counts %+v, %d clauses, took %s; want %+v, %d, %s", m.Counts, len(m.Clauses), m.Meta.Duration,
			whole.Counts, len(whole.Clauses), a.Meta.Duration+b.Meta.Duration)
	}
	for i, c := range m.Clauses {
		if c.Verdict != whole.Clauses[i].Verdict {
			t.Errorf("clause %s: %s merged, %s whole", c.ID, c.Verdict, whole.Clauses[i].Verdict)
		}
	}
	other := testCatalogue().FromResults(whole.Meta, testResults()[3:])
	other.Meta.RunID = "another"
	if _, err := Merge(a, other); err == nil || !strings.Contains(err.Error(), `report 2 has run ID "another"`) {
		t.Errorf("shards of two runs: %v", err)
	}
	if _, err := Merge(a, a); err == nil || !strings.Contains(err.Error(), "is in report 1 and in report 2") {
		t.Errorf("overlapping shards: %v", err)
	}
}
