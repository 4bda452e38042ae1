package result

import "strings"

// ExpectOutcome is how a list of expected deviations classifies a scenario.
type ExpectOutcome string

// The outcomes of an expected deviation.
const (
	// ExpectNone: the scenario is not listed, or was skipped: its verdict stands.
	ExpectNone ExpectOutcome = ""
	// Known: listed, and failed as listed (FAIL or NON-STRICT); it does not fail the run.
	Known ExpectOutcome = "KNOWN"
	// Stale: listed, but passed (PASS or INFO); the list is out of date and the run fails.
	Stale ExpectOutcome = "STALE"
)

// Class is a lower-case word for the outcome, used for CSS classes.
func (o ExpectOutcome) Class() string { return strings.ToLower(string(o)) }

// Classify is the outcome of a listed scenario with verdict v: KNOWN for FAIL and NON-STRICT,
// STALE for PASS and INFO, ExpectNone for a skipped one.
func Classify(v Verdict) ExpectOutcome {
	switch v {
	case Fail, NonStrict:
		return Known
	case Pass, Info:
		return Stale
	}
	return ExpectNone
}

// Expectation is one entry of a list of expected deviations: a scenario known to fail for an
// implementation, the upstream issue and the reason. On a scenario's record, Outcome says
// what became of the entry in the run (KNOWN or STALE).
type Expectation struct {
	// Outcome is KNOWN or STALE on a scenario's record; ExpectNone on an entry of a list.
	Outcome ExpectOutcome `json:"outcome"`
	// ID is the scenario the entry names (on a record: the record's own ID).
	ID string `json:"-"`
	// Issue is the upstream issue (`#112`, a URL), empty when the entry names none.
	Issue string `json:"issue"`
	// Reason says why the implementation fails the scenario.
	Reason string `json:"reason"`
	// Line is the entry's line in its list (0 on a record).
	Line int `json:"-"`
}

// Describe returns the expectation as one line: `(issue) reason`, or the reason alone.
func (x Expectation) Describe() string {
	if x.Issue == "" {
		return x.Reason
	}
	return "(" + x.Issue + ") " + x.Reason
}
