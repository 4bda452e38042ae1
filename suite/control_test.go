package suite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

func resultWith(verdict result.Verdict, outcomes ...result.Outcome) scenarios.Result {
	r := scenarios.Result{ScenarioID: "XX-01", Verdict: verdict}
	for _, o := range outcomes {
		r.Exchanges = append(r.Exchanges, result.Exchange{Outcome: o})
	}
	return r
}

// TestControlStops: StopAfter failures in a row without an answer stop the run only when a
// fresh segment gets no answer either; an answer in between, or a target that answers the
// check, keeps it going.
func TestControlStops(t *testing.T) {
	silent := resultWith(result.Fail, result.OutcomeTimeout, result.OutcomeClosed)
	refused := resultWith(result.Fail, result.OutcomeError)
	answered := resultWith(result.Fail, result.OutcomeTimeout, result.OutcomeAnswered)
	passed := resultWith(result.Pass, result.OutcomeClosed)
	info := resultWith(result.Info, result.OutcomeTimeout)
	dead := func(context.Context, int) error {
		return &PreflightError{Class: PreflightNoAnswer, Msg: "preflight: target T gave no complete answer"}
	}
	alive := func(context.Context, int) error { return nil }
	answers404 := func(context.Context, int) error { return &PreflightError{Class: PreflightNotUpload, Msg: "404"} }

	tests := []struct {
		name    string
		alive   func(context.Context, int) error
		results []scenarios.Result
		stopped bool
	}{
		{"silent, then the check gets nothing", dead, []scenarios.Result{silent, refused}, true},
		{"an INFO scenario without an answer counts", dead, []scenarios.Result{info, silent}, true},
		{"an answer in between", dead, []scenarios.Result{silent, answered, silent}, false},
		{"a passing scenario in between", dead, []scenarios.Result{silent, passed, silent}, false},
		{"the check gets its 201", alive, []scenarios.Result{silent, silent, silent}, false},
		{"the check gets an answer", answers404, []scenarios.Result{silent, silent}, false},
		{"fewer than StopAfter", dead, []scenarios.Result{silent}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c control
			c.alive = tt.alive
			for _, r := range tt.results {
				c.finish(context.Background(), r)
			}
			reason := c.admit()
			if got := reason != ""; got != tt.stopped {
				t.Fatalf("stopped %v (%q), want %v", got, reason, tt.stopped)
			}
			if tt.stopped && !strings.Contains(reason, "the target stopped answering") || strings.Contains(reason, "preflight:") {
				t.Errorf("reason %q", reason)
			}
			if r, n := c.stop(); tt.stopped && (r != reason || n != 1) {
				t.Errorf("stop() = %q, %d", r, n)
			}
		})
	}
}

func TestControlDeadline(t *testing.T) {
	var c control
	if r := c.admit(); r != "" {
		t.Fatalf("no deadline: %q", r)
	}
	c.start(time.Now().Add(-time.Second), 3*time.Minute)
	if r := c.admit(); !strings.Contains(r, "time limit of 3m0s ran out") {
		t.Errorf("past the deadline: %q", r)
	}
	if _, n := c.stop(); n != 1 {
		t.Errorf("not run: %d", n)
	}
	ctx, cancel := c.bound(context.Background())
	defer cancel()
	if ctx.Err() == nil {
		t.Errorf("the bound context outlives the deadline")
	}
}

func spec(id string, state types.SpecState, labels ...string) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id + " title",
		LeafNodeLabels: append([]string{result.IDLabel(id)}, labels...), State: state}
}

// TestAccountNotRun: specs Ginkgo skipped because the run ended early get a NOT-RUN result;
// the ones the selection left out do not.
func TestAccountNotRun(t *testing.T) {
	ran := spec("AA-01", types.SpecStatePassed, "probe")
	ran.ReportEntries = []types.ReportEntry{{Name: result.EntryName, Value: types.WrapEntryValue(scenarios.Result{ScenarioID: "AA-01", Verdict: result.Pass})}}
	rep := types.Report{
		SuiteDescription:           Description,
		SuiteConfig:                types.SuiteConfig{LabelFilter: "probe", SkipStrings: []string{"AA-04"}},
		SpecialSuiteFailureReasons: []string{"Interrupted by User"},
		SpecReports: types.SpecReports{
			ran,
			spec("AA-02", types.SpecStateSkipped, "probe"),                          // not run
			spec("AA-03", types.SpecStateSkipped, "parallel"),                       // filtered out by label
			spec("AA-04", types.SpecStateSkipped, "probe"),                          // filtered out by --skip
			{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed}, // not a scenario
		},
	}
	skipped := spec("AA-05", types.SpecStateSkipped, "probe")
	skipped.Failure.Message = "needs a loopback target" // skipped by the scenario itself
	rep.SpecReports = append(rep.SpecReports, skipped)
	reps := []types.Report{rep}
	n, reason := AccountNotRun(reps)
	if n != 1 || !strings.Contains(reason, "interrupted") {
		t.Fatalf("AccountNotRun = %d, %q; want 1, interrupted", n, reason)
	}
	for _, s := range reps[0].SpecReports {
		has := hasEntry(s, result.EntryName)
		switch id, _ := result.IDFromLabels(s.Labels()); id {
		case "AA-02":
			if r, ok := s.ReportEntries[0].Value.GetRawValue().(scenarios.Result); !has || !ok || r.Verdict != result.NotRun {
				t.Errorf("AA-02 has no NOT-RUN result: %+v", s.ReportEntries)
			}
		case "AA-03", "AA-04", "AA-05":
			if has {
				t.Errorf("%s got a result", id)
			}
		}
	}
}

// TestRunStopReason: a scenario cut short by the run's deadline and a scenario never started
// give the run one reason.
func TestRunStopReason(t *testing.T) {
	var c control
	c.start(time.Now(), time.Millisecond)
	cut, unstarted := "not run: "+c.cutShort(), "not run: "+c.admit()
	want := "the run's time limit of 1ms ran out (--timeout)"
	for _, tc := range []struct{ name, skip, want string }{
		{"cut short", cut, want},
		{"never started", unstarted, want},
		{"target stopped", "not run: the target stopped answering: 3 scenarios in a row", "the target stopped answering: 3 scenarios in a row"},
		{"no prefix", "the run was interrupted during the scenario", "the run was interrupted"},
	} {
		if got := RunStopReason(tc.skip); got != tc.want {
			t.Errorf("%s: RunStopReason(%q) = %q, want %q", tc.name, tc.skip, got, tc.want)
		}
	}
}
