// Package reports holds the result model of an upspec run and its writers: a JSON report with
// a documented, versioned schema (SCHEMA.md), a Markdown summary for CI job pages, a single
// self-contained HTML file, console lines for `upspec run`, a comparison of two runs, and a
// curl reproducer for every failing scenario.
//
// A Run is built from Ginkgo's reports (FromGinkgo: every spec carries a report entry named
// "upspec" whose value is a scenarios.Result) or directly from results (FromResults). The
// model carries its own record types, so a JSON report read back (ReadJSON) renders without
// the scenario catalogue of the binary that reads it.
package reports

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SchemaVersion is the version of the JSON report schema written by WriteJSON and described
// in SCHEMA.md. It changes only when a field is removed or changes its meaning; new fields
// keep the version.
const SchemaVersion = 1

// Verdict is the outcome of a scenario, or of a clause over its scenarios.
type Verdict string

// Verdicts of scenarios (the first five) and of clauses (all six).
const (
	// Pass: every check held.
	Pass Verdict = "PASS"
	// Fail: a MUST check failed (or a SHOULD check in strict mode).
	Fail Verdict = "FAIL"
	// NonStrict: only SHOULD checks failed; fails the run only in strict mode.
	NonStrict Verdict = "NON-STRICT"
	// Info: the scenario observed behaviour the document leaves open; never fails.
	Info Verdict = "INFO"
	// Skipped: a precondition was not met; the skip reason says which.
	Skipped Verdict = "SKIPPED"
	// NotRun: the clause was not established: no scenario of it ran, or the ones that ran
	// failed on other clauses first (clauses only).
	NotRun Verdict = "NOT-RUN"
)

// ScenarioVerdicts returns the five scenario verdicts, worst first.
func ScenarioVerdicts() []Verdict {
	return []Verdict{Fail, NonStrict, Pass, Info, Skipped}
}

// rank orders verdicts from worst (0) to least telling; unknown verdicts come last.
func (v Verdict) rank() int {
	switch v {
	case Fail:
		return 0
	case NonStrict:
		return 1
	case Pass:
		return 2
	case Info:
		return 3
	case Skipped:
		return 4
	case NotRun:
		return 5
	}
	return 6
}

// Failed reports whether the verdict fails the run.
func (v Verdict) Failed() bool { return v == Fail }

// Class is a lower-case word for the verdict, used for CSS classes and file names.
func (v Verdict) Class() string {
	switch v {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case NonStrict:
		return "nonstrict"
	case Info:
		return "info"
	case Skipped:
		return "skipped"
	case NotRun:
		return "notrun"
	}
	return "unknown"
}

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

// Counts are scenarios by verdict, and the expected deviations among them.
type Counts struct {
	Total     int `json:"total"`
	Pass      int `json:"pass"`
	Fail      int `json:"fail"`
	NonStrict int `json:"non_strict"`
	Info      int `json:"info"`
	Skipped   int `json:"skipped"`
	// Known are the scenarios the expectations list that failed as listed (FAIL or
	// NON-STRICT); they are counted in Fail and NonStrict too.
	Known int `json:"known"`
	// Stale are the scenarios the expectations list that passed (PASS or INFO); they are
	// counted in Pass and Info too.
	Stale int `json:"stale"`
}

// add counts one scenario: its verdict and its expectation outcome.
func (c *Counts) add(s *Scenario) {
	switch {
	case s.Known():
		c.Known++
	case s.Stale():
		c.Stale++
	}
	c.Total++
	switch s.Verdict {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
	case NonStrict:
		c.NonStrict++
	case Info:
		c.Info++
	case Skipped:
		c.Skipped++
	}
}

// Of returns the count of one verdict.
func (c Counts) Of(v Verdict) int {
	switch v {
	case Pass:
		return c.Pass
	case Fail:
		return c.Fail
	case NonStrict:
		return c.NonStrict
	case Info:
		return c.Info
	case Skipped:
		return c.Skipped
	}
	return 0
}

// Scenario is what one scenario did in the run.
type Scenario struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Family  string   `json:"family"`
	Clauses []string `json:"clauses"`
	// Level is the strongest level among the scenario's clauses: MUST, SHOULD or INFO.
	Level string `json:"level"`
	// Labels are the Ginkgo labels: the family and the extra labels.
	Labels   []string      `json:"labels"`
	Verdict  Verdict       `json:"verdict"`
	Duration time.Duration `json:"duration_ns"`
	// Findings are the failed checks.
	Findings []Finding `json:"findings"`
	// Notes are observations (INFO) and messages.
	Notes      []string `json:"notes"`
	SkipReason string   `json:"skip_reason"`
	// Reproducer is the path of the curl script written for a failing scenario (see
	// WriteReproducers); empty otherwise.
	Reproducer string `json:"reproducer"`
	// Expectation is set when the run's expected deviations list the scenario and it ran
	// (see ApplyExpectations): KNOWN or STALE, with the entry's issue and reason; nil
	// otherwise.
	Expectation *Expectation `json:"expectation"`
	Exchanges   []Exchange   `json:"exchanges"`
}

// ExpectOutcome is how the run's expected deviations classify a scenario.
type ExpectOutcome string

// The outcomes of an expected deviation.
const (
	// Known: listed, and failed as listed (FAIL or NON-STRICT); it does not fail the run.
	Known ExpectOutcome = "KNOWN"
	// Stale: listed, but passed (PASS or INFO); the list is out of date and the run fails.
	Stale ExpectOutcome = "STALE"
)

// Class is a lower-case word for the outcome, used for CSS classes.
func (o ExpectOutcome) Class() string { return strings.ToLower(string(o)) }

// Expectation is the entry of the expected deviations that names a scenario, and what became
// of it in the run.
type Expectation struct {
	Outcome ExpectOutcome `json:"outcome"`
	// Issue is the upstream issue (`#112`, a URL), empty when the entry names none.
	Issue string `json:"issue"`
	// Reason says why the implementation fails the scenario.
	Reason string `json:"reason"`
}

// Known reports whether the scenario failed as its expected deviation says (KNOWN).
func (s *Scenario) Known() bool { return s.Expectation != nil && s.Expectation.Outcome == Known }

// Stale reports whether the scenario is listed as an expected deviation but passed (STALE).
func (s *Scenario) Stale() bool { return s.Expectation != nil && s.Expectation.Outcome == Stale }

// Gates reports whether the scenario fails the run: a FAIL that is not KNOWN, or a STALE
// entry. (In strict mode a failed SHOULD check is already a FAIL.)
func (s *Scenario) Gates() bool {
	return s.Stale() || (s.Verdict == Fail && !s.Known())
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

// Finding is one failed check.
type Finding struct {
	// Clause is the ID of the clause the check enforces.
	Clause string `json:"clause"`
	// Level is the clause's level.
	Level string `json:"level"`
	// Requirement is the clause in words.
	Requirement string `json:"requirement"`
	Expected    string `json:"expected"`
	Got         string `json:"got"`
	// Detail is what the finding says beyond the clause, expected and got (may be empty).
	Detail string `json:"detail"`
	// Message is the whole finding as text, ready to print.
	Message string `json:"message"`
	// Step and Session name the exchange that showed the failure, when one did.
	Step    string `json:"step"`
	Session string `json:"session"`
}

// Header is one header line, exact case, in order.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Outcome classes of an exchange.
const (
	OutcomeAnswered = "answered"
	OutcomeClosed   = "closed"
	OutcomeReset    = "reset"
	OutcomeTimeout  = "timeout"
	OutcomeAborted  = "aborted"
	OutcomeError    = "error"
)

// Exchange is one request and what came back.
type Exchange struct {
	// Step says what the request was for, e.g. "segment A (first half)".
	Step    string `json:"step"`
	Session string `json:"session"`
	// LocalAddr is the client's address of the connection.
	LocalAddr string    `json:"local_addr"`
	Request   Request   `json:"request"`
	Response  *Response `json:"response"`
	// Outcome is answered, closed (closed without a response), reset, timeout, aborted (the
	// client cut the request off on purpose) or error.
	Outcome  string        `json:"outcome"`
	Error    string        `json:"error"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
}

// Request is a request exactly as written on the wire.
type Request struct {
	Method string `json:"method"`
	// Target is the request target, e.g. "/upload"; URL the absolute URL.
	Target  string   `json:"target"`
	Proto   string   `json:"proto"`
	URL     string   `json:"url"`
	Headers []Header `json:"headers"`
	// BodyLen is the Content-Length announced, or -1.
	BodyLen int64 `json:"body_len"`
	// BodySent is the number of body bytes actually written; BodyPlanned the number the
	// client meant to write (more than BodySent for an interrupted segment).
	BodySent    int64 `json:"body_sent"`
	BodyPlanned int64 `json:"body_planned"`
	// BodyHead is the first bytes of the body (at most 64), as text.
	BodyHead string `json:"body_head"`
	// PatternBody is true when the body is the bytes from BodyOffset of the test pattern with
	// seed Seed; otherwise BodyRaw holds the body when it was short enough to keep.
	PatternBody bool   `json:"pattern_body"`
	Seed        int    `json:"seed"`
	BodyOffset  int64  `json:"body_offset"`
	BodyRaw     string `json:"body_raw"`
}

// Response is the answer to a request.
type Response struct {
	Status     int      `json:"status"`
	StatusLine string   `json:"status_line"`
	Headers    []Header `json:"headers"`
	// Body is the start of the body (at most 4096 bytes); BodyLen the full length read.
	Body      string `json:"body"`
	BodyLen   int64  `json:"body_len"`
	Truncated bool   `json:"truncated"`
}

// Header returns the value of the first header of that name (any case), and whether there is one.
func (r *Response) Header(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	return headerValue(r.Headers, name)
}

func headerValue(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if equalFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// equalFold is strings.EqualFold for ASCII header names.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Clause is one clause of the catalogue with the verdicts of the scenarios that check it.
type Clause struct {
	ID      string `json:"id"`
	Level   string `json:"level"`
	Section string `json:"section"`
	Title   string `json:"title"`
	Text    string `json:"text"`
	// Verdict is the worst verdict among Scenarios (FAIL before NON-STRICT before PASS before
	// INFO before SKIPPED), or NOT-RUN when none ran.
	Verdict   Verdict        `json:"verdict"`
	Scenarios []ClauseResult `json:"scenarios"`
}

// ClauseResult is the verdict of one scenario for one clause: FAIL or NON-STRICT when a
// finding names the clause (or names no clause at all); NOT-RUN when the scenario failed on
// other clauses only; otherwise the scenario's verdict (PASS, or INFO for an INFO clause).
type ClauseResult struct {
	Scenario string  `json:"scenario"`
	Verdict  Verdict `json:"verdict"`
}

// Failures returns the scenarios that fail the run (see Scenario.Gates): FAIL that are not
// KNOWN, then STALE, each in order.
func (r *Run) Failures() []*Scenario {
	out := r.filter(func(s *Scenario) bool { return s.Verdict == Fail && !s.Known() })
	return append(out, r.filter((*Scenario).Stale)...)
}

// Problems returns the scenarios whose checks failed and that no expected deviation lists as
// KNOWN: FAIL first, then NON-STRICT. These get reproducers.
func (r *Run) Problems() []*Scenario {
	out := r.filter(func(s *Scenario) bool { return s.Verdict == Fail && !s.Known() })
	return append(out, r.filter(func(s *Scenario) bool { return s.Verdict == NonStrict && !s.Known() })...)
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

// Conforming reports whether the run passed: no scenario fails the run (a FAIL that is not
// KNOWN, or a STALE expected deviation) and no suite error. KNOWN failures do not gate.
func (r *Run) Conforming() bool {
	return len(r.Failures()) == 0 && len(r.SuiteErrors) == 0
}

// FailedCount is the number the closing line calls failed: the scenarios that fail the run
// (FAIL that are not KNOWN, and STALE), or 1 when only the suite itself failed (a setup error,
// a timeout).
func (r *Run) FailedCount() int {
	n := len(r.Failures())
	if n == 0 && len(r.SuiteErrors) > 0 {
		return 1
	}
	return n
}

// PassedCount is the number the closing line calls passed: PASS, NON-STRICT and INFO
// scenarios that are neither KNOWN nor STALE.
func (r *Run) PassedCount() int {
	return len(r.filter(func(s *Scenario) bool {
		return s.Expectation == nil && (s.Verdict == Pass || s.Verdict == NonStrict || s.Verdict == Info)
	}))
}

// recount recomputes Counts from the scenarios.
func (r *Run) recount() {
	r.Counts = Counts{}
	for i := range r.Scenarios {
		r.Counts.add(&r.Scenarios[i])
	}
}

// Describe says in a few words how the exchange ended, e.g. `201 Created, Range: 0-5/24` or
// `connection closed without a response`.
func (x Exchange) Describe() string {
	switch x.Outcome {
	case OutcomeAnswered:
		if x.Response == nil {
			return "answered"
		}
		s := statusText(x.Response)
		if v, ok := x.Response.Header("Range"); ok {
			s += ", Range: " + clip(v, 200)
		} else if b := strings.TrimSpace(x.Response.Body); b != "" {
			s += ", body " + strconv.Quote(clip(b, 120))
		}
		return s
	case OutcomeClosed:
		return "connection closed without a response (0 bytes)"
	case OutcomeReset:
		return withErr("connection reset without a response", x.Error)
	case OutcomeTimeout:
		return withErr("no response within the time limit", x.Error)
	case OutcomeAborted:
		return "request interrupted by the client (no answer awaited)"
	}
	if x.Error != "" {
		return "error: " + x.Error
	}
	return x.Outcome
}

// Status is the response status, or 0 when there was no response.
func (x Exchange) Status() int {
	if x.Response == nil {
		return 0
	}
	return x.Response.Status
}

// RequestLine is e.g. "POST /upload HTTP/1.1".
func (r Request) RequestLine() string {
	return strings.TrimSpace(r.Method + " " + r.Target + " " + r.Proto)
}

// statusText is the status line without the protocol, e.g. "201 Created".
func statusText(r *Response) string {
	s := r.StatusLine
	if i := strings.IndexByte(s, ' '); i >= 0 && strings.HasPrefix(s, "HTTP/") {
		s = s[i+1:]
	}
	if s == "" {
		s = strconv.Itoa(r.Status)
	}
	return s
}

func withErr(s, err string) string {
	if err == "" {
		return s
	}
	return s + " (" + err + ")"
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
