// Package reports holds the result model of an upspec run and its writers: a JSON report with
// a documented, versioned schema (SCHEMA.md), a Markdown summary for CI job pages, a single
// self-contained HTML file, console lines for `upspec run`, a comparison of two runs, and a
// curl reproducer for every failing scenario.
//
// A Run is built from Ginkgo's reports (FromGinkgo: every spec that ran carries a report entry
// named result.EntryName whose value is a scenarios.Result, and a label result.IDLabel) or
// directly from results (FromResults). Its records (exchanges, findings, verdicts,
// expectations) are those of package result, the one definition that the wire client, the
// scenarios, the suite and these writers share; a JSON report read back (ReadJSON) renders
// without the scenario catalogue of the binary that reads it.
package reports

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/upspec/upspec/reports/result"
)

// SchemaVersion is the version of the JSON report schema written by WriteJSON and described
// in SCHEMA.md. It changes only when a field is removed or changes its meaning; new fields
// keep the version.
const SchemaVersion = 2

// Run is one run of the suite: its metadata, a scenario record per scenario that was
// selected, and a clause record per clause of the catalogue.
type Run struct {
	// SchemaVersion is SchemaVersion when written by this package.
	SchemaVersion int `json:"schema_version"`
	// Meta says what was tested, with what, when.
	Meta Meta `json:"run"`
	// Counts are the scenarios by verdict.
	Counts Counts `json:"counts"`
	// Scenarios are sorted by ID.
	Scenarios []Scenario `json:"scenarios"`
	// Clauses follow the catalogue's order; clauses named only by findings come last.
	Clauses []Clause `json:"clauses"`
	// SuiteErrors are failures outside any scenario (a setup node that failed, a suite
	// timeout, an interrupt). Each one fails the run.
	SuiteErrors []string `json:"suite_errors"`
}

// Meta is the run's metadata. Fields the caller leaves zero are filled from Ginkgo's report
// where it has them (start time, duration, seed, label filter).
type Meta struct {
	// Target is the segment endpoint, e.g. http://127.0.0.1:8080/upload.
	Target string `json:"target"`
	// Embedded is true when the target was the in-process reference server.
	Embedded bool `json:"embedded"`
	// Profile names the quirk profile of the embedded server or the expectations used.
	Profile string `json:"profile"`
	// Expectations names the list of expected deviations the run applied (`upspec run
	// --expect`: a built-in name or a file path); empty when none.
	Expectations string `json:"expectations"`
	// IssueTracker is the base URL of the issue tracker the expectations name (`#10` is
	// IssueTracker/10); empty when the list names none.
	IssueTracker string `json:"issue_tracker"`
	// Strict is true when SHOULD failures fail the run.
	Strict bool `json:"strict"`
	// LabelFilter is the label filter expression that selected the scenarios.
	LabelFilter string `json:"label_filter"`
	// UpspecVersion is the version of the upspec module that ran.
	UpspecVersion string `json:"upspec_version"`
	// GoVersion is the Go version the binary was built with.
	GoVersion string `json:"go_version"`
	// Seed is Ginkgo's random seed (the order of the scenarios).
	Seed int64 `json:"seed"`
	// RunID is the prefix of every session ID of the run.
	RunID string `json:"run_id"`
	// Start is when the run started.
	Start time.Time `json:"start"`
	// Duration is the wall time of the run.
	Duration time.Duration `json:"duration_ns"`
}

// Counts are the scenarios by outcome: each scenario is counted once, under KNOWN or STALE
// when the expected deviations classified it, else under its verdict. Passed and Failed are
// the two numbers of the closing line, with the same meaning on every surface (console, JSON,
// Markdown, HTML, JUnit):
//
//	Passed = Pass + NonStrict + Info
//	Failed = Fail + Stale
//	Total  = Passed + Failed + Known + Skipped + Error + NotRun
type Counts struct {
	Total int `json:"total"`
	// Passed and Failed are the numbers of the closing line `N passed, N failed`.
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	// Pass, NonStrict and Info are the scenarios with that verdict that no expected deviation
	// lists.
	Pass      int `json:"pass"`
	NonStrict int `json:"non_strict"`
	Info      int `json:"info"`
	// Fail are the FAIL scenarios that no expected deviation lists: failures of the target.
	Fail int `json:"fail"`
	// Known are the listed scenarios that failed as listed (FAIL or NON-STRICT): they do not
	// fail the run.
	Known int `json:"known"`
	// Stale are the listed scenarios that passed (PASS or INFO): they fail the run.
	Stale   int `json:"stale"`
	Skipped int `json:"skipped"`
	// Error are the scenarios in which the harness itself failed (ERROR): no verdict on the
	// target; they fail the run with their own exit status.
	Error int `json:"error"`
	// NotRun are the scenarios selected that did not start (the run stopped first).
	NotRun int `json:"not_run"`
}

// add counts one scenario under its outcome.
func (c *Counts) add(s *Scenario) {
	c.Total++
	switch {
	case s.Known():
		c.Known++
	case s.Stale():
		c.Stale++
		c.Failed++
	default:
		switch s.Verdict {
		case result.Pass:
			c.Pass++
			c.Passed++
		case result.NonStrict:
			c.NonStrict++
			c.Passed++
		case result.Info:
			c.Info++
			c.Passed++
		case result.Fail:
			c.Fail++
			c.Failed++
		case result.Error:
			c.Error++
		case result.Skipped:
			c.Skipped++
		default:
			c.NotRun++
		}
	}
}

// Of returns the count of one outcome: a verdict (ERROR, FAIL, NON-STRICT, PASS, INFO,
// SKIPPED, NOT-RUN) or KNOWN or STALE.
func (c Counts) Of(outcome string) int {
	switch outcome {
	case string(result.Pass):
		return c.Pass
	case string(result.Fail):
		return c.Fail
	case string(result.NonStrict):
		return c.NonStrict
	case string(result.Info):
		return c.Info
	case string(result.Skipped):
		return c.Skipped
	case string(result.Error):
		return c.Error
	case string(result.NotRun):
		return c.NotRun
	case string(result.Known):
		return c.Known
	case string(result.Stale):
		return c.Stale
	}
	return 0
}

// Outcomes returns the outcomes a scenario can come to, in the order every surface lists
// them: the passed ones, then the failed ones, then the rest.
func Outcomes() []string {
	return []string{string(result.Pass), string(result.NonStrict), string(result.Info),
		string(result.Fail), string(result.Stale), string(result.Known), string(result.Skipped),
		string(result.Error), string(result.NotRun)}
}

// OutcomeClass is the CSS class word of an outcome (Outcomes).
func OutcomeClass(outcome string) string {
	switch outcome {
	case string(result.Known), string(result.Stale):
		return result.ExpectOutcome(outcome).Class()
	}
	return result.Verdict(outcome).Class()
}

// Legend is what the closing line's words mean, with the counts that it does not show:
// `passed = PASS + NON-STRICT + INFO; failed = FAIL + STALE; known deviations: N; stale: N;
// not run: N`, and the engine errors when there are any.
func (c Counts) Legend() string {
	s := fmt.Sprintf("passed = PASS + NON-STRICT + INFO; failed = FAIL + STALE; known deviations: %d; stale: %d; not run: %d",
		c.Known, c.Stale, c.NotRun)
	if c.Error > 0 {
		s += fmt.Sprintf("; engine errors: %d", c.Error)
	}
	return s
}

// Scenario is what one scenario did in the run.
type Scenario struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Family  string   `json:"family"`
	Clauses []string `json:"clauses"`
	// Level is the strongest level among the scenario's clauses: MUST, SHOULD or INFO.
	Level result.Level `json:"level"`
	// Labels are the Ginkgo labels: the family and the extra labels.
	Labels   []string       `json:"labels"`
	Verdict  result.Verdict `json:"verdict"`
	Duration time.Duration  `json:"duration_ns"`
	// Findings are the failed checks.
	Findings []result.Finding `json:"findings"`
	// Checked lists the clauses whose checks ran, passing or failing, when the scenario
	// recorded them (empty otherwise: then a clause without a finding counts as held).
	Checked []string `json:"checked"`
	// Notes are observations (INFO) and messages.
	Notes      []string `json:"notes"`
	SkipReason string   `json:"skip_reason"`
	// Reproducer is the path of the curl script written for a scenario whose checks failed,
	// KNOWN ones included (see WriteReproducers); empty otherwise.
	Reproducer string `json:"reproducer"`
	// Expectation is set when the run's expected deviations list the scenario and it ran
	// (see ApplyExpectations): KNOWN or STALE, with the entry's issue and reason; nil
	// otherwise.
	Expectation *result.Expectation `json:"expectation"`
	Exchanges   []result.Exchange   `json:"exchanges"`
}

// Known reports whether the scenario failed as its expected deviation says (KNOWN).
func (s *Scenario) Known() bool { return s.Expectation != nil && s.Expectation.Outcome == result.Known }

// Stale reports whether the scenario is listed as an expected deviation but passed (STALE).
func (s *Scenario) Stale() bool { return s.Expectation != nil && s.Expectation.Outcome == result.Stale }

// Gates reports whether the scenario fails the run as a failure of the target: a FAIL that is
// not KNOWN, or a STALE entry. (In strict mode a failed SHOULD check is already a FAIL.) An
// ERROR fails the run too, as a failure of the harness (Run.EngineErrors).
func (s *Scenario) Gates() bool {
	return s.Stale() || (s.Verdict == result.Fail && !s.Known())
}

// Outcome is what the scenario came to in the run: KNOWN or STALE when the expected
// deviations say so, otherwise its verdict.
func (s *Scenario) Outcome() string {
	if s.Expectation != nil {
		return string(s.Expectation.Outcome)
	}
	return string(s.Verdict)
}

// OutcomeClass is Outcome as a lower-case word for CSS classes: known, stale, or the
// verdict's class.
func (s *Scenario) OutcomeClass() string {
	if s.Expectation != nil {
		return s.Expectation.Outcome.Class()
	}
	return s.Verdict.Class()
}

// Clause is one clause of the catalogue with the verdicts of the scenarios that check it.
type Clause struct {
	ID      string       `json:"id"`
	Level   result.Level `json:"level"`
	Section string       `json:"section"`
	Title   string       `json:"title"`
	Text    string       `json:"text"`
	// Verdict is the worst verdict among Scenarios (FAIL before NON-STRICT before PASS before
	// INFO before SKIPPED), or NOT-RUN when none ran.
	Verdict   result.Verdict `json:"verdict"`
	Scenarios []ClauseResult `json:"scenarios"`
}

// ClauseResult is the verdict of one scenario for one clause: FAIL or NON-STRICT when a
// finding names the clause (or names no clause at all); NOT-RUN when the scenario failed on
// other clauses only; otherwise the scenario's verdict (PASS, or INFO for an INFO clause).
type ClauseResult struct {
	Scenario string         `json:"scenario"`
	Verdict  result.Verdict `json:"verdict"`
}

// Failures returns the scenarios that fail the run (see Scenario.Gates): FAIL that are not
// KNOWN, then STALE, each in order.
func (r *Run) Failures() []*Scenario {
	out := r.filter(func(s *Scenario) bool { return s.Verdict == result.Fail && !s.Known() })
	return append(out, r.filter((*Scenario).Stale)...)
}

// Problems returns the scenarios whose checks failed and that no expected deviation lists as
// KNOWN: FAIL first, then NON-STRICT.
func (r *Run) Problems() []*Scenario {
	out := r.filter(func(s *Scenario) bool { return s.Verdict == result.Fail && !s.Known() })
	return append(out, r.filter(func(s *Scenario) bool { return s.Verdict == result.NonStrict && !s.Known() })...)
}

// Known returns the KNOWN scenarios (listed deviations that failed as listed), in order.
func (r *Run) Known() []*Scenario { return r.filter((*Scenario).Known) }

// Reproducible returns the scenarios that get a reproducer: every one whose checks failed
// (FAIL, NON-STRICT), KNOWN ones included: the problems first, then the KNOWN ones.
func (r *Run) Reproducible() []*Scenario {
	return append(r.Problems(), r.Known()...)
}

// Expected returns the scenarios that the expected deviations classified (KNOWN or STALE),
// in order.
func (r *Run) Expected() []*Scenario {
	return r.filter(func(s *Scenario) bool { return s.Expectation != nil })
}

func (r *Run) filter(keep func(*Scenario) bool) []*Scenario {
	var out []*Scenario
	for i := range r.Scenarios {
		if keep(&r.Scenarios[i]) {
			out = append(out, &r.Scenarios[i])
		}
	}
	return out
}

// Scenario returns the scenario with that ID.
func (r *Run) Scenario(id string) (*Scenario, bool) {
	for i := range r.Scenarios {
		if r.Scenarios[i].ID == id {
			return &r.Scenarios[i], true
		}
	}
	return nil, false
}

// EngineErrors returns the scenarios in which the harness itself failed (ERROR), in order.
func (r *Run) EngineErrors() []*Scenario {
	return r.filter(func(s *Scenario) bool { return s.Verdict == result.Error })
}

// Conforming reports whether the run passed: no scenario fails the run (a FAIL that is not
// KNOWN, or a STALE expected deviation), no engine error and no suite error. KNOWN failures
// do not gate.
func (r *Run) Conforming() bool {
	return len(r.Failures()) == 0 && len(r.SuiteErrors) == 0 && r.Counts.Error == 0
}

// Status is the run's status as a word for banners: CONFORMING, NOT CONFORMING (the target
// failed), or ENGINE ERROR (the harness failed, or the suite did outside any scenario: the
// run says nothing certain about the target).
func (r *Run) Status() string {
	switch {
	case r.Counts.Error > 0 || len(r.SuiteErrors) > 0:
		return "ENGINE ERROR"
	case !r.Conforming():
		return "NOT CONFORMING"
	}
	return "CONFORMING"
}

// EngineErrorCount is the number of failures of the harness: ERROR scenarios and suite
// errors (failures outside any scenario).
func (r *Run) EngineErrorCount() int { return r.Counts.Error + len(r.SuiteErrors) }

// FailedCount is the number the closing line calls failed: Counts.Failed (FAIL that are not
// KNOWN, and STALE).
func (r *Run) FailedCount() int { return r.Counts.Failed }

// PassedCount is the number the closing line calls passed: Counts.Passed (PASS, NON-STRICT
// and INFO scenarios that are neither KNOWN nor STALE).
func (r *Run) PassedCount() int { return r.Counts.Passed }

// recount recomputes Counts from the scenarios.
func (r *Run) recount() {
	r.Counts = Counts{}
	for i := range r.Scenarios {
		r.Counts.add(&r.Scenarios[i])
	}
}

// clip shortens s to at most n bytes (not cutting a UTF-8 sequence), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
