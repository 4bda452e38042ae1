package reports

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
)

// Console prints the console output of `upspec run`: a line per finished scenario, the
// summary, the failures again, and the closing line. Write errors are ignored (the console
// is best effort; the report files are the record).
type Console struct {
	// W receives the output.
	W io.Writer
	// Color adds ANSI colours; see ColorWanted.
	Color bool
	// Expect, when set, classifies each scenario of SpecDone as KNOWN or STALE as it
	// finishes (the run's --expect list; see Run.ApplyExpectations).
	Expect *expect.List
}

// NewConsole returns a console on w with colours when ColorWanted(w, noColor).
func NewConsole(w io.Writer, noColor bool) Console {
	return Console{W: w, Color: ColorWanted(w, noColor)}
}

// ColorWanted reports whether output to w should be coloured: not when noColor is set (the
// --no-color flag), not when the NO_COLOR environment variable is set to anything non-empty,
// and only when w is a terminal.
func ColorWanted(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ANSI colour codes.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiPurple = "\x1b[35m"
	ansiGrey   = "\x1b[90m"
)

func (c Console) paint(code, s string) string {
	if !c.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func verdictColor(v result.Verdict) string {
	switch v {
	case result.Pass:
		return ansiGreen
	case result.Fail:
		return ansiRed
	case result.NonStrict:
		return ansiYellow
	case result.Info:
		return ansiBlue
	}
	return ansiGrey
}

func (c Console) verdict(v result.Verdict) string {
	return c.paint(verdictColor(v), fmt.Sprintf("%-10s", v))
}

// outcome is the scenario's outcome column: KNOWN, STALE or the verdict, padded and coloured.
func (c Console) outcome(s *Scenario) string {
	switch {
	case s.Known():
		return c.paint(ansiPurple, fmt.Sprintf("%-10s", result.Known))
	case s.Stale():
		return c.paint(ansiBold+ansiRed, fmt.Sprintf("%-10s", result.Stale))
	}
	return c.verdict(s.Verdict)
}

func (c Console) printf(format string, args ...any) {
	fmt.Fprintf(c.W, format, args...)
}

// ScenarioLine prints one line for a finished scenario: verdict, ID, title and duration, the
// skip reason of a skipped one, and for an expected deviation its outcome (KNOWN or STALE) in
// place of the verdict, followed by the verdict. For example:
//
//	FAIL        RS-03  The list names exactly the bytes received  (14ms)
//	KNOWN       PA-01  Overlapping parallel segments  (30ms) FAIL, an expected deviation (#10)
//	STALE       RB-04  A retry after completion  (5ms) PASS, but listed as an expected deviation (#46)
func (c Console) ScenarioLine(s Scenario) {
	line := fmt.Sprintf("%s  %-6s %s  %s", c.outcome(&s), s.ID, s.Title, c.paint(ansiGrey, "("+FormatDuration(s.Duration)+")"))
	if s.Verdict == result.Skipped && s.SkipReason != "" {
		line += c.paint(ansiGrey, " skipped: "+oneLine(s.SkipReason))
	}
	switch {
	case s.Known():
		line += c.paint(ansiGrey, " "+string(s.Verdict)+", an expected deviation"+issueSuffix(s.Expectation.Issue))
	case s.Stale():
		line += c.paint(ansiRed, " "+string(s.Verdict)+", but listed as an expected deviation"+issueSuffix(s.Expectation.Issue))
	}
	c.printf("%s\n", line)
}

func issueSuffix(issue string) string {
	if issue == "" {
		return ""
	}
	return " (" + issue + ")"
}

// PlannedLine prints the line of a scenario a dry run selected: `would run`, ID, title and
// labels.
func (c Console) PlannedLine(s Scenario) {
	c.printf("%s  %-6s %s  %s\n", c.paint(ansiGrey, fmt.Sprintf("%-10s", "would run")), s.ID, s.Title,
		c.paint(ansiGrey, "["+strings.Join(s.Labels, ", ")+"]"))
}

// ExchangeLines prints an exchange in a few indented lines (for -v): the step, the request
// line and headers, the body size, and how it ended.
func (c Console) ExchangeLines(x result.Exchange) {
	step := x.Step
	if step == "" {
		step = "request"
	}
	c.printf("    %s %s\n", c.paint(ansiBold, "▸ "+step), c.paint(ansiGrey, x.Session))
	c.printf("      > %s\n", x.Request.RequestLine())
	for _, h := range x.Request.Headers {
		c.printf("      > %s: %s\n", h.Name, h.Value)
	}
	if x.Request.BodySent > 0 || x.Request.BodyLen > 0 {
		c.printf("      > (%s)\n", bodySummary(x.Request))
	}
	if x.Response != nil {
		c.printf("      < %s\n", x.Response.StatusLine)
		for _, h := range x.Response.Headers {
			c.printf("      < %s: %s\n", h.Name, h.Value)
		}
		if x.Response.BodyLen > 0 {
			c.printf("      < %s\n", strings.ReplaceAll(clip(x.Response.Body, 200), "\n", "\\n"))
		}
	}
	if x.Outcome != result.OutcomeAnswered {
		c.printf("      %s\n", c.paint(ansiYellow, x.Describe()))
	}
}

// bodySummary says how many body bytes went out and what they were.
func bodySummary(r result.Request) string {
	s := fmt.Sprintf("body: %d bytes sent", r.BodySent)
	if r.BodyLen >= 0 && r.BodyLen != r.BodySent {
		s += fmt.Sprintf(" of %d announced", r.BodyLen)
	}
	if r.PatternBody {
		s += fmt.Sprintf(", pattern seed %d from file offset %d", r.Seed, r.BodyOffset)
	}
	return s
}

// Summary prints the outcome counts by family and by level (each scenario counted once, as
// in Counts); the expected deviations (KNOWN and STALE) when the run applied a list; then
// every scenario that fails the run or is NON-STRICT again, with its findings (clause,
// requirement, expected and got) and the path of its reproducer; then the engine errors and
// the suite errors.
func (c Console) Summary(run *Run) {
	c.printf("\n%s\n", c.paint(ansiBold, "Summary"))
	c.printf("  target %s", run.Meta.Target)
	if run.Meta.Embedded {
		c.printf(" (embedded reference server)")
	}
	if run.Meta.Profile != "" && run.Meta.Profile != run.Meta.Expectations {
		c.printf(", profile %s", run.Meta.Profile)
	}
	if run.Meta.Expectations != "" {
		c.printf(", expected deviations %s", run.Meta.Expectations)
	}
	if run.Meta.Strict {
		c.printf(", strict")
	}
	c.printf(", %d scenarios in %s\n", run.Counts.Total, FormatDuration(run.Meta.Duration))
	if run.Counts.Total > 0 {
		cols := tableOutcomes(run)
		c.printf("\n")
		c.table("family", run.ByFamily(), cols)
		c.printf("\n")
		c.table("level", run.ByLevel(), cols)
		c.printf("  %s\n", c.paint(ansiGrey, "each scenario is counted once: KNOWN and STALE ones under KNOWN and STALE, not under their verdicts"))
	}
	c.expected(run)
	c.failures(run)
	if errs := run.EngineErrors(); len(errs) > 0 {
		c.printf("\n%s\n", c.paint(ansiBold+ansiRed, fmt.Sprintf("Engine errors (the harness failed, not the target): %d", len(errs))))
		for _, s := range errs {
			c.printf("\n%s %s %s\n", c.verdict(s.Verdict), c.paint(ansiBold, s.ID), s.Title)
			for _, f := range s.Findings {
				c.finding(f)
			}
		}
	}
	if len(run.SuiteErrors) > 0 {
		c.printf("\n%s\n", c.paint(ansiBold+ansiRed, "Suite errors (outside any scenario)"))
		for _, e := range run.SuiteErrors {
			c.printf("  %s\n", oneLine(e))
		}
	}
	c.printf("\n")
}

// tableOutcomes are the columns of the summary tables: PASS, NON-STRICT, INFO, FAIL and
// SKIPPED always; STALE and KNOWN when the run applied expected deviations or has any; ERROR
// and NOT-RUN when there are any.
func tableOutcomes(run *Run) []string {
	withExpect := run.Meta.Expectations != "" || run.Counts.Known+run.Counts.Stale > 0
	var cols []string
	for _, o := range Outcomes() {
		switch o {
		case string(result.Known), string(result.Stale):
			if !withExpect {
				continue
			}
		case string(result.Error), string(result.NotRun):
			if run.Counts.Of(o) == 0 {
				continue
			}
		}
		cols = append(cols, o)
	}
	return cols
}

// expected prints the KNOWN and STALE scenarios, one line each, under the list's name.
func (c Console) expected(run *Run) {
	if run.Meta.Expectations == "" && run.Counts.Known+run.Counts.Stale == 0 {
		return
	}
	name := run.Meta.Expectations
	if name == "" {
		name = "expectations"
	}
	c.printf("\n%s\n", c.paint(ansiBold, fmt.Sprintf("Expected deviations (%s): %d known, %d stale", name, run.Counts.Known, run.Counts.Stale)))
	for _, s := range run.Expected() {
		x := s.Expectation
		entry := s.ID + issueSuffix(x.Issue) + ": " + x.Reason
		switch x.Outcome {
		case result.Known:
			c.printf("  %s  %-10s %s\n", c.paint(ansiPurple, string(result.Known)), s.Verdict, entry)
		case result.Stale:
			c.printf("  %s  %-10s %s; it passed: remove it from %s\n", c.paint(ansiBold+ansiRed, string(result.Stale)), s.Verdict, entry, name)
		}
	}
}

// failures prints every scenario that fails the run or is NON-STRICT (KNOWN ones excepted),
// with its findings and reproducer; STALE ones say what to do.
func (c Console) failures(run *Run) {
	problems := run.Problems()
	var stale []*Scenario
	for _, s := range run.Failures() {
		if s.Stale() {
			stale = append(stale, s)
		}
	}
	if len(problems)+len(stale) == 0 {
		return
	}
	var parts []string
	nFail := len(problems)
	nNonStrict := 0
	for _, s := range problems {
		if s.Verdict == result.NonStrict {
			nNonStrict++
		}
	}
	nFail -= nNonStrict
	if nFail > 0 {
		parts = append(parts, fmt.Sprintf("%d FAIL", nFail))
	}
	if nNonStrict > 0 {
		parts = append(parts, fmt.Sprintf("%d NON-STRICT", nNonStrict))
	}
	if len(stale) > 0 {
		parts = append(parts, fmt.Sprintf("%d STALE", len(stale)))
	}
	c.printf("\n%s\n", c.paint(ansiBold, "Failures: "+strings.Join(parts, ", ")))
	for _, s := range problems {
		c.printf("\n%s %s %s\n", c.verdict(s.Verdict), c.paint(ansiBold, s.ID), s.Title)
		for _, f := range s.Findings {
			c.finding(f)
		}
		if s.Reproducer != "" {
			c.printf("  reproducer: %s\n", s.Reproducer)
		}
	}
	for _, s := range stale {
		c.printf("\n%s %s %s\n", c.outcome(s), c.paint(ansiBold, s.ID), s.Title)
		c.printf("  %s, but %s lists it as an expected deviation%s: %s\n", s.Verdict, run.Meta.Expectations, issueSuffix(s.Expectation.Issue), s.Expectation.Reason)
		c.printf("  the implementation may have been fixed: remove the entry from the list\n")
	}
}

func (c Console) finding(f result.Finding) {
	head := f.Clause
	if head == "" {
		head = "(no clause)"
	}
	head += " (" + f.Level.String() + ")"
	c.printf("  %s", c.paint(ansiBold, head))
	if f.Requirement != "" {
		c.printf(": %s", f.Requirement)
	}
	c.printf("\n")
	if f.Expected != "" || f.Got != "" {
		c.printf("    expected: %s\n", c.paint(ansiGreen, oneLine(f.Expected)))
		c.printf("    got:      %s\n", c.paint(ansiRed, oneLine(f.Got)))
	}
	if f.Detail != "" {
		c.printf("    %s\n", oneLine(f.Detail))
	}
	if f.Step != "" {
		c.printf("    at step: %s\n", f.Step)
	}
}

func (c Console) table(title string, groups []Group, cols []string) {
	width := len(title) + 3
	for _, g := range groups {
		width = max(width, len(g.Name))
	}
	head := fmt.Sprintf("  %-*s  %5s", width, "by "+title, "total")
	for _, o := range cols {
		head += fmt.Sprintf("  %*s", max(5, len(o)), strings.ToLower(o))
	}
	c.printf("%s\n", head)
	for _, g := range groups {
		line := fmt.Sprintf("  %-*s  %5d", width, g.Name, g.Counts.Total)
		for _, o := range cols {
			n := fmt.Sprintf("%*d", max(5, len(o)), g.Counts.Of(o))
			if g.Counts.Of(o) > 0 && (o == string(result.Fail) || o == string(result.Stale) || o == string(result.Error)) {
				n = c.paint(ansiRed, n)
			}
			line += "  " + n
		}
		c.printf("%s\n", line)
	}
}

// ClosingLine prints the legend (Counts.Legend) and, last, the closing line of a run (see
// the function ClosingLine), green when the run conforms, red when not.
func (c Console) ClosingLine(run *Run) {
	line := ClosingLine(run)
	color := ansiGreen
	if !run.Conforming() {
		color = ansiRed
	}
	c.printf("%s\n", c.paint(ansiGrey, run.Counts.Legend()))
	c.printf("%s\n", c.paint(ansiBold+color, line))
}

// ClosingLine returns the last line of a run, without a newline: `N passed, N failed`, then
// `, N skipped` when scenarios were skipped and `, N engine errors` when the harness failed
// (ERROR scenarios and suite errors). Passed is Counts.Passed (PASS + NON-STRICT + INFO),
// failed is Counts.Failed (FAIL + STALE); KNOWN deviations are neither (Counts.Legend says
// how many). For example `51 passed, 0 failed, 2 skipped`.
func ClosingLine(run *Run) string {
	line := fmt.Sprintf("%d passed, %d failed", run.PassedCount(), run.FailedCount())
	if run.Counts.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", run.Counts.Skipped)
	}
	if n := run.EngineErrorCount(); n > 0 {
		line += fmt.Sprintf(", %d engine error", n)
		if n != 1 {
			line += "s"
		}
	}
	return line
}

// Group is a set of scenarios (a family, a level) and their counts.
type Group struct {
	Name   string
	Counts Counts
}

// ByFamily counts the scenarios by family, in the order families first appear.
func (r *Run) ByFamily() []Group {
	return r.group(func(s Scenario) string {
		if s.Family == "" {
			return "(none)"
		}
		return s.Family
	}, nil)
}

// ByLevel counts the scenarios by level: MUST, SHOULD, INFO.
func (r *Run) ByLevel() []Group {
	return r.group(func(s Scenario) string { return s.Level.String() }, []string{"MUST", "SHOULD", "INFO"})
}

func (r *Run) group(key func(Scenario) string, order []string) []Group {
	idx := map[string]int{}
	var gs []Group
	for _, name := range order {
		idx[name] = len(gs)
		gs = append(gs, Group{Name: name})
	}
	for _, s := range r.Scenarios {
		k := key(s)
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, Group{Name: k})
		}
		gs[i].Counts.add(&s)
	}
	out := gs[:0]
	for _, g := range gs {
		if g.Counts.Total > 0 {
			out = append(out, g)
		}
	}
	return out
}

// FormatDuration writes a duration for people: "850µs", "14ms", "2.35s", "1m05s".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// SpecDone prints the line of a finished Ginkgo spec (for a ReportAfterEach node or the run
// command's per-spec hook), and with verbose its exchanges; with Expect set, an expected
// deviation shows as KNOWN or STALE. A scenario a dry run selected prints its PlannedLine.
// Specs that are not scenarios (setup nodes) and specs that did not run (filtered out) print
// nothing. An entry that cannot be decoded prints a line saying so.
func (c Console) SpecDone(spec types.SpecReport, verbose bool) {
	s, ok, err := ScenarioFromSpec(spec)
	if err != nil {
		c.printf("%s\n", c.paint(ansiRed, "upspec: "+err.Error()))
		return
	}
	if !ok {
		if p, planned := DefaultCatalogue().PlannedScenario(spec); planned {
			c.PlannedLine(p)
		}
		return
	}
	if c.Expect != nil {
		s.applyExpectations(c.Expect)
	}
	c.ScenarioLine(s)
	if verbose {
		for _, x := range s.Exchanges {
			c.ExchangeLines(x)
		}
	}
}

// ResultLine prints the line of a result of scenarios.Run (with the default catalogue).
func (c Console) ResultLine(r scenarios.Result) {
	c.ScenarioLine(ScenarioFromResult(r))
}
