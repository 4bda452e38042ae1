package reports

import "github.com/upspec/upspec/scenarios"

// ApplyExpectations classifies the run's scenarios with a list of expected deviations
// (`upspec run --expect`): a listed scenario that failed (FAIL or NON-STRICT) is KNOWN and
// does not fail the run; a listed scenario that passed (PASS or INFO) is STALE and fails it; a
// listed scenario that was skipped, and every unlisted one, keeps its verdict alone. It records
// the list's name in Meta.Expectations and recounts Counts. A nil list changes nothing.
// Applying a list again replaces the earlier classification.
func (r *Run) ApplyExpectations(e *scenarios.Expectations) {
	if e == nil {
		return
	}
	r.Meta.Expectations = e.Name
	for i := range r.Scenarios {
		r.Scenarios[i].applyExpectations(e)
	}
	r.recount()
}

// applyExpectations sets the scenario's Expectation from the list (nil when the list does not
// classify it).
func (s *Scenario) applyExpectations(e *scenarios.Expectations) {
	s.Expectation = nil
	out, x := e.Classify(scenarios.Result{ScenarioID: s.ID, Verdict: scenarios.Verdict(s.Verdict)})
	switch out {
	case scenarios.ExpectKnown:
		s.Expectation = &Expectation{Outcome: Known, Issue: x.Issue, Reason: x.Reason}
	case scenarios.ExpectStale:
		s.Expectation = &Expectation{Outcome: Stale, Issue: x.Issue, Reason: x.Reason}
	}
}

// Describe returns the expectation as one line: `(issue) reason`, or the reason alone.
func (x Expectation) Describe() string {
	if x.Issue == "" {
		return x.Reason
	}
	return "(" + x.Issue + ") " + x.Reason
}
