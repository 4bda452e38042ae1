package reports

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

func TestFromResultsCounts(t *testing.T) {
	run := testRun()
	want := Counts{Total: 6, Passed: 3, Failed: 2, Pass: 1, Fail: 2, NonStrict: 1, Info: 1, Skipped: 1}
	if run.Counts != want {
		t.Fatalf("counts = %+v, want %+v", run.Counts, want)
	}
	if run.Conforming() {
		t.Error("Conforming() = true with two failures")
	}
	var ids []string
	for _, s := range run.Scenarios {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, " "); got != "CP-01 HD-09 MF-01 PA-01 RS-01 SS-01" {
		t.Errorf("scenario order = %s, want sorted by ID", got)
	}
	if got := ClosingLine(run); got != "3 passed, 2 failed, 1 skipped" {
		t.Errorf("closing line = %q", got)
	}
}

func TestScenarioFromCatalogue(t *testing.T) {
	run := testRun()
	tests := []struct {
		id, family, level, labels string
	}{
		{"CP-01", "completion", "MUST", "completion"},
		{"MF-01", "malformed", "SHOULD", "malformed"},
		{"HD-09", "headers", "INFO", "headers"},
		{"SS-01", "sessions", "MUST", "sessions needs-loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s, ok := run.Scenario(tt.id)
			if !ok {
				t.Fatalf("no scenario %s", tt.id)
			}
			if s.Family != tt.family || s.Level.String() != tt.level || strings.Join(s.Labels, " ") != tt.labels {
				t.Errorf("family, level, labels = %q, %q, %q; want %q, %q, %q", s.Family, s.Level, s.Labels, tt.family, tt.level, tt.labels)
			}
		})
	}
}

func TestClauseVerdicts(t *testing.T) {
	run := testRun()
	tests := []struct {
		clause string
		want   result.Verdict
		scns   string // scenario:verdict pairs
	}{
		// The finding names this clause.
		{"ack.201-while-incomplete", result.Fail, "CP-01:FAIL"},
		// CP-01 failed another clause and records no checked clauses: this one held.
		{"ack.final-only-when-complete", result.Pass, "CP-01:PASS"},
		{"rob.malformed-4xx", result.NonStrict, "MF-01:NON-STRICT"},
		{"ack.list-format", result.Info, "RS-01:INFO"},
		{"ses.multi-address", result.Skipped, "SS-01:SKIPPED"},
		{"seg.large-offsets", result.NotRun, ""},
	}
	for _, tt := range tests {
		t.Run(tt.clause, func(t *testing.T) {
			var c *Clause
			for i := range run.Clauses {
				if run.Clauses[i].ID == tt.clause {
					c = &run.Clauses[i]
				}
			}
			if c == nil {
				t.Fatalf("clause %s missing", tt.clause)
			}
			var got []string
			for _, r := range c.Scenarios {
				got = append(got, r.Scenario+":"+string(r.Verdict))
			}
			if c.Verdict != tt.want || strings.Join(got, " ") != tt.scns {
				t.Errorf("verdict %s, scenarios %q; want %s, %q", c.Verdict, got, tt.want, tt.scns)
			}
		})
	}
	if len(run.Clauses) != len(scenarios.Catalogue()) {
		t.Errorf("%d clauses, want the %d of the catalogue", len(run.Clauses), len(scenarios.Catalogue()))
	}
}

func TestClauseVerdictRules(t *testing.T) {
	tests := []struct {
		name     string
		s        Scenario
		clause   string
		level    result.Level
		strict   bool
		want     result.Verdict
		nameOnly bool
	}{
		{name: "should finding, not strict", s: Scenario{Verdict: result.NonStrict, Findings: []result.Finding{{Clause: "c", Level: result.SHOULD}}}, clause: "c", level: result.SHOULD, want: result.NonStrict},
		{name: "should finding, strict", s: Scenario{Verdict: result.Fail, Findings: []result.Finding{{Clause: "c", Level: result.SHOULD}}}, clause: "c", level: result.SHOULD, strict: true, want: result.Fail},
		{name: "unnamed failure counts against every clause", s: Scenario{Verdict: result.Fail, Findings: []result.Finding{{Level: result.MUST, Message: "timeout"}}}, clause: "c", level: result.MUST, want: result.Fail},
		{name: "other clause failed, nothing recorded of the checks", s: Scenario{Verdict: result.Fail, Findings: []result.Finding{{Clause: "d", Level: result.MUST}}}, clause: "c", level: result.MUST, want: result.Pass},
		{name: "other clause failed, this one checked", s: Scenario{Verdict: result.Fail, Checked: []string{"d", "c"}, Findings: []result.Finding{{Clause: "d", Level: result.MUST}}}, clause: "c", level: result.MUST, want: result.Pass},
		{name: "other clause failed first, this one never checked", s: Scenario{Verdict: result.Fail, Checked: []string{"d"}, Findings: []result.Finding{{Clause: "d", Level: result.MUST}}}, clause: "c", level: result.MUST, want: result.NotRun},
		{name: "engine error", s: Scenario{Verdict: result.Error, Findings: []result.Finding{{Level: result.MUST, Engine: true}}}, clause: "c", level: result.MUST, want: result.Error},
		{name: "info clause held", s: Scenario{Verdict: result.Pass}, clause: "c", level: result.INFO, want: result.Info},
		{name: "skipped", s: Scenario{Verdict: result.Skipped}, clause: "c", level: result.MUST, want: result.Skipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clauseVerdict(tt.s, tt.clause, tt.level, tt.strict); got != tt.want {
				t.Errorf("clauseVerdict = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFindingOnUnknownClause(t *testing.T) {
	res := scenarios.Result{ScenarioID: "RS-01", Verdict: result.Fail,
		Findings: []result.Finding{{Clause: "x.not-in-catalogue", Level: scenarios.MUST, Message: "x"}}}
	run := testCatalogue().FromResults(Meta{}, []scenarios.Result{res})
	last := run.Clauses[len(run.Clauses)-1]
	if last.ID != "x.not-in-catalogue" || last.Verdict != result.Fail {
		t.Errorf("last clause = %s %s, want x.not-in-catalogue FAIL", last.ID, last.Verdict)
	}
}

func TestFindingDetail(t *testing.T) {
	tests := []struct {
		name string
		f    result.Finding
		want string
	}{
		{"clause with message", result.Finding{Clause: "a.b", Requirement: "Req text.",
			Message: "a.b (MUST): Title\n  Req text.\n  the list lost 0-5\n  Expected: x\n  Got: y\n  Step: s"}, "the list lost 0-5"},
		{"clause only", result.Finding{Clause: "a.b", Requirement: "Req text.",
			Message: "a.b (MUST): Title\n  Req text.\n  Expected: x\n  Got: y"}, ""},
		{"scenario failure", result.Finding{Message: "dial tcp: refused\n  Expected: an answer"}, "dial tcp: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findingDetail(tt.f); got != tt.want {
				t.Errorf("findingDetail = %q, want %q", got, tt.want)
			}
		})
	}
}

// wrapped stands for the suite's own entry type: a Result embedded in another type.
type wrapped struct {
	scenarios.Result
}

func (w wrapped) String() string { return string(w.Verdict) + " " + w.ScenarioID }

func ginkgoReport(entries map[string]any, extra ...types.SpecReport) types.Report {
	rep := types.Report{
		SuiteSucceeded: false,
		StartTime:      testStart,
		EndTime:        testStart.Add(2 * time.Second),
		SuiteConfig:    types.SuiteConfig{RandomSeed: 42, LabelFilter: "!slow"},
	}
	rep.SpecReports = append(rep.SpecReports, types.SpecReport{
		LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{{Name: result.SetupEntryName, Value: types.WrapEntryValue(map[string]any{
			"target": "http://127.0.0.1:9/upload", "embedded": true, "run_id": testRunID, "strict": false})}},
	})
	for _, r := range testResults() {
		v, ok := entries[r.ScenarioID]
		if !ok {
			v = r
		}
		state := types.SpecStatePassed
		switch r.Verdict {
		case result.Fail:
			state = types.SpecStateFailed
		case result.Skipped:
			state = types.SpecStateSkipped
		}
		rep.SpecReports = append(rep.SpecReports, types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: r.ScenarioID + " something", LeafNodeLabels: []string{result.IDLabel(r.ScenarioID)}, State: state, RunTime: r.Duration,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(v)}},
		})
	}
	rep.SpecReports = append(rep.SpecReports, extra...)
	return rep
}

func TestFromGinkgo(t *testing.T) {
	res := testResults()
	timedOut := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-02 nothing reported", LeafNodeLabels: []string{result.IDLabel("RS-02")},
		State: types.SpecStateTimedout, Failure: types.Failure{Message: "A spec timeout occurred"}}
	afterSuite := types.SpecReport{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStateFailed,
		Failure: types.Failure{Message: "stop the server:\nrefused"}}
	cat := testCatalogue()
	cat.Scenarios = append(cat.Scenarios, scenarios.Scenario{ID: "RS-02", Title: "times out", Family: "range-strings", Clauses: []string{"ack.list-exact"}})

	inProcess := []types.Report{ginkgoReport(map[string]any{"CP-01": wrapped{res[1]}, "RS-01": &res[0]}, timedOut, afterSuite)}
	data, err := json.Marshal(inProcess)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON []types.Report
	if err := json.Unmarshal(data, &fromJSON); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		reps []types.Report
	}{{"in-process", inProcess}, {"from JSON report", fromJSON}} {
		t.Run(tt.name, func(t *testing.T) {
			run, err := cat.FromGinkgo(Meta{UpspecVersion: "v0.1.0"}, tt.reps)
			if err != nil {
				t.Fatal(err)
			}
			if run.Meta.Target != "http://127.0.0.1:9/upload" || !run.Meta.Embedded || run.Meta.RunID != testRunID ||
				run.Meta.Seed != 42 || run.Meta.LabelFilter != "!slow" || run.Meta.Duration != 2*time.Second || !run.Meta.Start.Equal(testStart) {
				t.Errorf("meta = %+v", run.Meta)
			}
			want := Counts{Total: 7, Passed: 3, Failed: 3, Pass: 1, Fail: 3, NonStrict: 1, Info: 1, Skipped: 1}
			if run.Counts != want {
				t.Errorf("counts = %+v, want %+v", run.Counts, want)
			}
			cp, _ := run.Scenario("CP-01")
			if len(cp.Exchanges) != 2 || cp.Exchanges[0].Response == nil || cp.Exchanges[0].Response.Status != 200 {
				t.Errorf("CP-01 exchanges not carried over: %+v", cp.Exchanges)
			}
			if cp.Findings[0].Detail != "the server claimed completion with 12 of 24 bytes" {
				t.Errorf("CP-01 detail = %q", cp.Findings[0].Detail)
			}
			rs2, ok := run.Scenario("RS-02")
			if !ok || rs2.Verdict != result.Fail || len(rs2.Findings) != 1 || !strings.Contains(rs2.Findings[0].Message, "timeout") {
				t.Errorf("RS-02 (no entry, timed out) = %+v", rs2)
			}
			if len(run.SuiteErrors) != 1 || !strings.Contains(run.SuiteErrors[0], "stop the server:; refused") {
				t.Errorf("suite errors = %q", run.SuiteErrors)
			}
		})
	}
}

func TestFromGinkgoSuiteFailedAlone(t *testing.T) {
	rep := types.Report{SuiteSucceeded: false, SpecialSuiteFailureReasons: []string{"Interrupted by User"}}
	run, err := testCatalogue().FromGinkgo(Meta{}, []types.Report{rep})
	if err != nil {
		t.Fatal(err)
	}
	if run.Conforming() || run.Status() != "ENGINE ERROR" || run.EngineErrorCount() != 1 || ClosingLine(run) != "0 passed, 0 failed, 1 engine error" {
		t.Errorf("conforming %v, closing line %q", run.Conforming(), ClosingLine(run))
	}
}

func TestFromGinkgoBadEntry(t *testing.T) {
	rep := types.Report{SpecReports: types.SpecReports{{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "CP-01", LeafNodeLabels: []string{result.IDLabel("CP-01")},
		ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue([]int{1, 2})}},
	}}}
	if _, err := testCatalogue().FromGinkgo(Meta{}, []types.Report{rep}); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Errorf("err = %v, want a decode error", err)
	}
}

func TestSpecScenarioSkipsSetupNodes(t *testing.T) {
	tests := []struct {
		name string
		spec types.SpecReport
		ok   bool
	}{
		{"before suite", types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite}, false},
		{"an It of no scenario", types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "checks the flags"}, false},
		{"an It whose text names a scenario, without the ID label", types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "CP-01 two halves",
			State: types.SpecStateSkipped, Failure: types.Failure{Message: "Spec skipped because Skip() was called in BeforeSuite"}}, false},
		{"an It labelled with its ID, skipped in setup", types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "two halves", LeafNodeLabels: []string{result.IDLabel("CP-01")},
			State: types.SpecStateSkipped, Failure: types.Failure{Message: "Spec skipped because Skip() was called in BeforeSuite"}}, true},
		{"filtered out", types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "CP-01 two halves", LeafNodeLabels: []string{result.IDLabel("CP-01")}, State: types.SpecStateSkipped}, false},
		{"dry run", types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "CP-01 two halves", LeafNodeLabels: []string{result.IDLabel("CP-01")}, State: types.SpecStatePassed}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok, err := testCatalogue().SpecScenario(tt.spec)
			if err != nil || ok != tt.ok {
				t.Fatalf("ok, err = %v, %v; want %v", ok, err, tt.ok)
			}
			if ok && (s.Verdict != result.Skipped || s.SkipReason == "" || s.ID != "CP-01" || slices.Contains(s.Labels, result.IDLabel("CP-01"))) {
				t.Errorf("%s: verdict = %s, skip reason %q, labels %q; want SKIPPED with the reason, without the ID label", s.ID, s.Verdict, s.SkipReason, s.Labels)
			}
		})
	}
}

// TestSpecOfAnotherCatalogue: a spec is a scenario by its ID label alone, also when this
// catalogue does not know the ID (a report of another version); its labels then come from
// the spec, without the ID label.
func TestSpecOfAnotherCatalogue(t *testing.T) {
	spec := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "something new", State: types.SpecStateFailed,
		LeafNodeLabels: []string{"future", result.IDLabel("ZZ-01")}, Failure: types.Failure{Message: "boom"}}
	s, ok, err := testCatalogue().SpecScenario(spec)
	if err != nil || !ok {
		t.Fatalf("ok, err = %v, %v; want a scenario", ok, err)
	}
	if s.ID != "ZZ-01" || s.Verdict != result.Fail || strings.Join(s.Labels, ",") != "future" {
		t.Errorf("scenario %s, verdict %s, labels %q; want ZZ-01, FAIL, [future]", s.ID, s.Verdict, s.Labels)
	}
}

// TestScenarioOutsideCatalogue: a scenario that the catalogue does not list (the random run,
// a report of another version) keeps the title, family and level its result carries.
func TestScenarioOutsideCatalogue(t *testing.T) {
	s := DefaultCatalogue().Scenario(scenarios.Result{ScenarioID: "RANDOM", Title: "random schedules",
		Family: "random", Level: result.MUST, Clauses: []string{"seg.any-order"}, Verdict: result.Pass})
	if s.Title != "random schedules" || s.Family != "random" || s.Level != result.MUST {
		t.Errorf("title %q, family %q, level %v; want the result's", s.Title, s.Family, s.Level)
	}
	if g := (&Run{Scenarios: []Scenario{s}}).ByFamily(); len(g) != 1 || g[0].Name != "random" {
		t.Errorf("ByFamily = %+v, want one group random", g)
	}
}
