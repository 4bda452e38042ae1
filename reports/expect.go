package reports

import (
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/expect"
)

// ApplyExpectations classifies the run's scenarios with a list of expected deviations
// (`upspec run --expect`): a listed scenario that failed (FAIL or NON-STRICT) is KNOWN and
// does not fail the run; a listed scenario that passed (PASS or INFO) is STALE and fails it; a
// listed scenario that was skipped, and every unlisted one, keeps its verdict alone. It records
// the list's name in Meta.Expectations and recounts Counts. A nil list changes nothing.
// Applying a list again replaces the earlier classification.
func (r *Run) ApplyExpectations(e *expect.List) {
	if e == nil {
		return
	}
	r.Meta.Expectations = e.Name
	r.Meta.IssueTracker = e.Issues
	for i := range r.Scenarios {
		r.Scenarios[i].applyExpectations(e)
	}
	r.recount()
}

// applyExpectations sets the scenario's Expectation from the list (nil when the list does not
// classify it). The record keeps the entry's outcome, issue and reason.
func (s *Scenario) applyExpectations(e *expect.List) {
	s.Expectation = nil
	x, ok := e.Lookup(s.ID)
	if !ok {
		return
	}
	if out := result.Classify(s.Verdict); out != result.ExpectNone {
		s.Expectation = &result.Expectation{Outcome: out, Issue: x.Issue, Reason: x.Reason}
	}
}
