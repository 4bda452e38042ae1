package reports

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/scenarios"
)

// Console prints the console output of `upspec run`: a line per finished scenario, the
// summary, the failures again, and the closing line. Write errors are ignored (the console
// is best effort; the report files are the record).
type Console struct {
	// W receives the output.
	W io.Writer
	// Color adds ANSI colours; see ColorWanted.
	Color bool
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
	ansiGrey   = "\x1b[90m"
)

func (c Console) paint(code, s string) string {
	if !c.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func verdictColor(v Verdict) string {
	switch v {
	case Pass:
		return ansiGreen
	case Fail:
		return ansiRed
	case NonStrict:
		return ansiYellow
	case Info:
		return ansiBlue
	}
	return ansiGrey
}

func (c Console) verdict(v Verdict) string {
	return c.paint(verdictColor(v), fmt.Sprintf("%-10s", v))
}

func (c Console) printf(format string, args ...any) {
	fmt.Fprintf(c.W, format, args...)
}

// ScenarioLine prints one line for a finished scenario: verdict, ID, title and duration, and
// the skip reason of a skipped one. For example:
//
//	FAIL        RS-03  The list names exactly the bytes received  (14ms)
func (c Console) ScenarioLine(s Scenario) {
	line := fmt.Sprintf("%s  %-6s %s  %s", c.verdict(s.Verdict), s.ID, s.Title, c.paint(ansiGrey, "("+FormatDuration(s.Duration)+")"))
	if s.Verdict == Skipped && s.SkipReason != "" {
		line += c.paint(ansiGrey, " skipped: "+oneLine(s.SkipReason))
	}
	c.printf("%s\n", line)
}

// ExchangeLines prints an exchange in a few indented lines (for -v): the step, the request
// line and headers, the body size, and how it ended.
func (c Console) ExchangeLines(x Exchange) {
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
	if x.Outcome != OutcomeAnswered {
		c.printf("      %s\n", c.paint(ansiYellow, x.Describe()))
	}
}

// bodySummary says how many body bytes went out and what they were.
func bodySummary(r Request) string {
	s := fmt.Sprintf("body: %d bytes sent", r.BodySent)
	if r.BodyLen >= 0 && r.BodyLen != r.BodySent {
		s += fmt.Sprintf(" of %d announced", r.BodyLen)
	}
	if r.PatternBody {
		s += fmt.Sprintf(", pattern seed %d from file offset %d", r.Seed, r.BodyOffset)
	}
	return s
}

// Summary prints the verdict counts by family and by level, then every failing and every
// NON-STRICT scenario again with its findings (clause, requirement, expected and got) and
// the path of its reproducer, then the suite errors.
func (c Console) Summary(run *Run) {
	c.printf("\n%s\n", c.paint(ansiBold, "Summary"))
	c.printf("  target %s", run.Meta.Target)
	if run.Meta.Embedded {
		c.printf(" (embedded reference server)")
	}
	if run.Meta.Profile != "" {
		c.printf(", profile %s", run.Meta.Profile)
	}
	c.printf(", %d scenarios in %s\n\n", run.Counts.Total, FormatDuration(run.Meta.Duration))
	c.table("family", run.ByFamily())
	c.printf("\n")
	c.table("level", run.ByLevel())
	problems := run.Problems()
	if len(problems) > 0 {
		head := fmt.Sprintf("Failures: %d FAIL", run.Counts.Fail)
		if run.Counts.NonStrict > 0 {
			head += fmt.Sprintf(", %d NON-STRICT", run.Counts.NonStrict)
		}
		c.printf("\n%s\n", c.paint(ansiBold, head))
	}
	for _, s := range problems {
		c.printf("\n%s %s %s\n", c.verdict(s.Verdict), c.paint(ansiBold, s.ID), s.Title)
		for _, f := range s.Findings {
			c.finding(f)
		}
		if s.Reproducer != "" {
			c.printf("  reproducer: %s\n", s.Reproducer)
		}
	}
	if len(run.SuiteErrors) > 0 {
		c.printf("\n%s\n", c.paint(ansiBold+ansiRed, "Suite errors"))
		for _, e := range run.SuiteErrors {
			c.printf("  %s\n", oneLine(e))
		}
	}
	c.printf("\n")
}

func (c Console) finding(f Finding) {
	head := f.Clause
	if head == "" {
		head = "(no clause)"
	}
	if f.Level != "" {
		head += " (" + f.Level + ")"
	}
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

func (c Console) table(title string, groups []Group) {
	width := len(title)
	for _, g := range groups {
		width = max(width, len(g.Name))
	}
	c.printf("  %-*s  %5s  %5s  %5s  %10s  %5s  %7s\n", width, "by "+title, "total", "pass", "fail", "non-strict", "info", "skipped")
	for _, g := range groups {
		fail := fmt.Sprintf("%5d", g.Counts.Fail)
		if g.Counts.Fail > 0 {
			fail = c.paint(ansiRed, fail)
		}
		c.printf("  %-*s  %5d  %5d  %s  %10d  %5d  %7d\n", width, g.Name, g.Counts.Total, g.Counts.Pass, fail, g.Counts.NonStrict, g.Counts.Info, g.Counts.Skipped)
	}
}

// ClosingLine prints the last line of a run: `N passed, N failed`, with `, N skipped` when
// scenarios were skipped. Passed counts PASS, NON-STRICT and INFO; failed counts FAIL (or 1
// when only the suite itself failed).
func (c Console) ClosingLine(run *Run) {
	line := ClosingLine(run)
	color := ansiGreen
	if !run.Conforming() {
		color = ansiRed
	}
	c.printf("%s\n", c.paint(ansiBold+color, line))
}

// ClosingLine returns `N passed, N failed` (with `, N skipped` when there are skips), without
// a newline.
func ClosingLine(run *Run) string {
	line := fmt.Sprintf("%d passed, %d failed", run.Counts.Passed(), run.FailedCount())
	if run.Counts.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", run.Counts.Skipped)
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
	return r.group(func(s Scenario) string { return s.Level }, []string{"MUST", "SHOULD", "INFO"})
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
		gs[i].Counts.add(s.Verdict)
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
// command's per-spec hook), and with verbose its exchanges. Specs that are not scenarios
// (setup nodes) and specs that did not run (filtered out) print nothing. An entry that cannot
// be decoded prints a line saying so.
func (c Console) SpecDone(spec types.SpecReport, verbose bool) {
	s, ok, err := ScenarioFromSpec(spec)
	if err != nil {
		c.printf("%s\n", c.paint(ansiRed, "upspec: "+err.Error()))
		return
	}
	if !ok {
		return
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
