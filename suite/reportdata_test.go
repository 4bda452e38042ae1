package suite

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

func sampleResult() scenarios.Result {
	return scenarios.Result{
		ScenarioID: "RS-02",
		Title:      "Segments out of order",
		Verdict:    result.Fail,
		Duration:   12 * time.Millisecond,
		Findings: []result.Finding{{
			Clause: "ack.list-exact", Level: scenarios.MUST,
			Requirement: "The listed ranges are exactly the bytes received so far.",
			Expected:    "0-5/24,9-15/24", Got: "0-5/24",
		}},
		Notes: []string{"ack.list-format: module form"},
		Exchanges: []result.Exchange{{
			Step:    "segment 9-15/24",
			Request: result.Request{Method: "POST", Target: "/upload", BodyLen: 7, BodySent: 7},
			Outcome: result.OutcomeAnswered,
			Response: &result.Response{Status: 201, StatusLine: "HTTP/1.1 201 Created",
				Headers: []result.Header{{Name: "Range", Value: "0-5/24"}}},
		}},
	}
}

// TestReportEntriesRoundTrip: the entries the suite attaches are read back by package
// reports (the one reader of them: `upspec run` and `upspec report`), in process and from
// Ginkgo's JSON report, as the same scenario and the same target and run ID; the setup node
// is no scenario.
func TestReportEntriesRoundTrip(t *testing.T) {
	res := sampleResult()
	info := result.RunInfo{Target: "http://127.0.0.1:1/upload", Embedded: true, RunID: "r1"}
	report := types.Report{SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, ReportEntries: types.ReportEntries{
			{Name: result.SetupEntryName, Value: types.WrapEntryValue(info)},
		}},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-02 Segments out of order", LeafNodeLabels: []string{result.IDLabel("RS-02")}, ReportEntries: types.ReportEntries{
			{Name: result.EntryName, Value: types.WrapEntryValue(resultEntry{Result: res})},
		}},
	}}
	tests := []struct {
		name   string
		report func(t *testing.T) types.Report
	}{
		{"in process", func(*testing.T) types.Report { return report }},
		{"from JSON", func(t *testing.T) types.Report {
			data, err := json.Marshal([]types.Report{report})
			if err != nil {
				t.Fatal(err)
			}
			var back []types.Report
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			return back[0]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.report(t)
			if _, ok, err := reports.ScenarioFromSpec(r.SpecReports[0]); ok || err != nil {
				t.Errorf("the setup node read as a scenario: %v, %v", ok, err)
			}
			run, err := reports.FromGinkgo(reports.Meta{}, []types.Report{r})
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Scenarios) != 1 {
				t.Fatalf("%d scenarios read back, want 1: %+v", len(run.Scenarios), run.Scenarios)
			}
			want, _ := json.Marshal(reports.ScenarioFromResult(res))
			have, _ := json.Marshal(run.Scenarios[0])
			if string(want) != string(have) {
				t.Errorf("scenario:\n got %s\nwant %s", have, want)
			}
			m := run.Meta
			if m.Target != info.Target || m.Embedded != info.Embedded || m.RunID != info.RunID || m.Strict != info.Strict {
				t.Errorf("run metadata = %+v; want the target, run ID and strictness of %+v", m, info)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	res := sampleResult()
	s := scenarios.Scenario{ID: res.ScenarioID, Title: res.Title}
	msg := FailureMessage(s, res)
	for _, want := range []string{"RS-02 Segments out of order: FAIL, 1 finding", "ack.list-exact", "MUST",
		"exactly the bytes received", "Expected: 0-5/24,9-15/24", "Got: 0-5/24"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message does not hold %q:\n%s", want, msg)
		}
	}
	short := resultEntry{Result: res}.String()
	if !strings.HasPrefix(short, "FAIL RS-02 (12ms)") || !strings.Contains(short, "note: ack.list-format") ||
		strings.Contains(short, "POST /upload") {
		t.Errorf("entry summary:\n%s", short)
	}
	long := resultEntry{Result: res, exchanges: true}.String()
	if !strings.Contains(long, "> segment 9-15/24: POST /upload") || !strings.Contains(long, "201 Created, Range: 0-5/24") {
		t.Errorf("verbose entry does not list the exchange:\n%s", long)
	}
}

// TestConform: the spec's Gomega assertion fails for a FAIL result with FailureMessage, and
// passes for every other verdict.
func TestConform(t *testing.T) {
	res := sampleResult()
	s := scenarios.Scenario{ID: res.ScenarioID, Title: res.Title}
	m := conform(s)
	if ok, err := m.Match(res); ok || err != nil {
		t.Fatalf("Match(FAIL) = %v, %v", ok, err)
	}
	if got, want := m.FailureMessage(res), FailureMessage(s, res); got != want {
		t.Errorf("FailureMessage:\n%s\nwant:\n%s", got, want)
	}
	for _, v := range []result.Verdict{result.Pass, result.NonStrict, result.Info} {
		res.Verdict = v
		if ok, err := m.Match(res); !ok || err != nil {
			t.Errorf("Match(%s) = %v, %v", v, ok, err)
		}
	}
	if _, err := m.Match("FAIL"); err == nil {
		t.Error("Match(a string): no error")
	}
}
