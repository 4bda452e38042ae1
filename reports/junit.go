package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/upspec/upspec/reports/result"
)

// JUnitSuiteName is the name of the test suite in the JUnit report; it is the suite's
// description in Ginkgo (suite.Description).
const JUnitSuiteName = "upspec conformance suite"

// JUnitCaseName is the name of a scenario's test case: `[It] <ID> <Title>`, as Ginkgo names
// the spec of the scenario without its labels, whichever way the suite ran.
func JUnitCaseName(s *Scenario) string {
	return strings.TrimSpace("[It] " + s.ID + " " + s.Title)
}

// JUnit builds the JUnit report of the run in Ginkgo's JUnit types, so that `ginkgo run`
// merges it like its own. It tells the same story as the exit status: a test case per
// scenario; a <failure> for each scenario that fails the run (a FAIL that is not KNOWN, a
// STALE entry), its message naming the clause, expected and got; an <error> for each engine
// error and suite error; KNOWN deviations and SKIPPED and NOT-RUN scenarios <skipped> with the
// upstream issue or the reason in the message; PASS, NON-STRICT and INFO passed. The detail of
// each scenario (exchanges, notes) is in the JSON report, not here.
func JUnit(run *Run) reporters.JUnitTestSuites {
	suite := reporters.JUnitTestSuite{
		Name:      JUnitSuiteName,
		Package:   run.Meta.Target,
		Time:      run.Meta.Duration.Seconds(),
		Timestamp: run.Meta.Start.UTC().Format("2006-01-02T15:04:05"),
		Properties: reporters.JUnitProperties{Properties: []reporters.JUnitProperty{
			{Name: "Target", Value: run.Meta.Target},
			{Name: "RunID", Value: run.Meta.RunID},
			{Name: "Profile", Value: run.Meta.Profile},
			{Name: "Expectations", Value: run.Meta.Expectations},
			{Name: "Status", Value: run.Status()},
			{Name: "ClosingLine", Value: ClosingLine(run)},
			{Name: "Legend", Value: run.Counts.Legend()},
			{Name: "RandomSeed", Value: fmt.Sprint(run.Meta.Seed)},
			{Name: "LabelFilter", Value: run.Meta.LabelFilter},
		}},
	}
	for i := range run.Scenarios {
		s := &run.Scenarios[i]
		tc := reporters.JUnitTestCase{
			Name:      JUnitCaseName(s),
			Classname: JUnitSuiteName,
			Time:      s.Duration.Seconds(),
			Status:    strings.ToLower(s.Outcome()),
		}
		switch {
		case s.Known():
			tc.Skipped = &reporters.JUnitSkipped{Message: knownMessage(run, s)}
			suite.Skipped++
		case s.Stale():
			tc.Failure = &reporters.JUnitFailure{Type: string(result.Stale), Message: staleMessage(run, s),
				Description: staleMessage(run, s)}
			suite.Failures++
		case s.Verdict == result.Fail:
			tc.Failure = &reporters.JUnitFailure{Type: string(result.Fail), Message: findingsMessage(s), Description: findingsText(run, s)}
			suite.Failures++
		case s.Verdict == result.Error:
			tc.Error = &reporters.JUnitError{Type: string(result.Error),
				Message: "engine error (the harness failed, not the target): " + findingsMessage(s), Description: findingsText(run, s)}
			suite.Errors++
		case s.Verdict == result.Skipped:
			tc.Skipped = &reporters.JUnitSkipped{Message: "skipped: " + oneLine(orText(s.SkipReason, "no reason given"))}
			suite.Skipped++
		case s.Verdict == result.NotRun:
			tc.Skipped = &reporters.JUnitSkipped{Message: "not run: " + oneLine(orText(s.SkipReason, "the run stopped before it"))}
			suite.Skipped++
		case s.Verdict == result.NonStrict:
			tc.SystemOut = "NON-STRICT (passes unless --strict): " + findingsMessage(s)
		}
		suite.Tests++
		suite.TestCases = append(suite.TestCases, tc)
	}
	for i, e := range run.SuiteErrors {
		suite.TestCases = append(suite.TestCases, reporters.JUnitTestCase{
			Name:      fmt.Sprintf("[SuiteError] %d", i+1),
			Classname: JUnitSuiteName,
			Status:    "error",
			Error:     &reporters.JUnitError{Type: "suite error", Message: oneLine(e), Description: e},
		})
		suite.Tests++
		suite.Errors++
	}
	return reporters.JUnitTestSuites{
		Tests:      suite.Tests,
		Errors:     suite.Errors,
		Failures:   suite.Failures,
		Time:       suite.Time,
		TestSuites: []reporters.JUnitTestSuite{suite},
	}
}

// findingsMessage is one line naming the first finding's clause, expected and got, and how
// many more there are.
func findingsMessage(s *Scenario) string {
	if len(s.Findings) == 0 {
		return string(s.Verdict) + ": no finding recorded"
	}
	f := s.Findings[0]
	msg := fmt.Sprintf("%s (%s): ", orText(f.Clause, "(no clause)"), f.Level)
	switch {
	case f.Expected != "" || f.Got != "":
		msg += "expected " + oneLine(orDash(f.Expected)) + "; got " + oneLine(orDash(f.Got))
	case f.Detail != "":
		msg += oneLine(f.Detail)
	default:
		msg += oneLine(orText(f.Requirement, f.Message))
	}
	if n := len(s.Findings) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more finding", n)
		if n > 1 {
			msg += "s"
		}
		msg += ")"
	}
	return msg
}

// findingsText is every finding, a few lines each, and the reproducer's file.
func findingsText(run *Run, s *Scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", s.ID, s.Title, s.Outcome())
	for _, f := range s.Findings {
		fmt.Fprintf(&b, "\n%s (%s)", orText(f.Clause, "(no clause)"), f.Level)
		if f.Requirement != "" {
			b.WriteString(": " + oneLine(f.Requirement))
		}
		b.WriteString("\n")
		if f.Expected != "" || f.Got != "" {
			fmt.Fprintf(&b, "  expected: %s\n  got:      %s\n", oneLine(f.Expected), oneLine(f.Got))
		}
		if f.Detail != "" {
			fmt.Fprintf(&b, "  %s\n", oneLine(f.Detail))
		}
		if f.Step != "" {
			fmt.Fprintf(&b, "  at step: %s\n", f.Step)
		}
	}
	if s.Reproducer != "" {
		fmt.Fprintf(&b, "\nreproducer: %s\n", s.Reproducer)
	} else if s.Verdict == result.Fail {
		fmt.Fprintf(&b, "\nreproducer: embedded in the HTML and Markdown reports (%s)\n", ReproducerName(run, s.ID))
	}
	return b.String()
}

// issueText is an expectation's issues with their addresses, e.g. `#10
// https://github.com/o/r/issues/10`.
func issueText(issue, tracker string) string {
	var parts []string
	for _, l := range IssueLinks(issue, tracker) {
		if l.URL != "" && l.URL != l.Text {
			parts = append(parts, l.Text+" "+l.URL)
		} else {
			parts = append(parts, l.Text)
		}
	}
	return strings.Join(parts, ", ")
}

func knownMessage(run *Run, s *Scenario) string {
	x := s.Expectation
	msg := "KNOWN deviation"
	if issue := issueText(x.Issue, run.Meta.IssueTracker); issue != "" {
		msg += " (upstream issue " + issue + ")"
	}
	msg += ", listed in " + orDash(run.Meta.Expectations) + ": " + oneLine(x.Reason) + "; " + string(s.Verdict) + ": " + findingsMessage(s)
	return msg
}

func staleMessage(run *Run, s *Scenario) string {
	x := s.Expectation
	msg := "STALE: listed in " + orDash(run.Meta.Expectations) + " as an expected deviation"
	if issue := issueText(x.Issue, run.Meta.IssueTracker); issue != "" {
		msg += " (" + issue + ")"
	}
	return msg + " but " + string(s.Verdict) + ": the implementation may have been fixed; remove the entry from the list (" + oneLine(x.Reason) + ")"
}

// WriteJUnit writes the JUnit report of the run (see JUnit) as indented XML.
func WriteJUnit(w io.Writer, run *Run) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(JUnit(run)); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// WriteJUnitFile writes the JUnit report to a file.
func WriteJUnitFile(path string, run *Run) error {
	return writeFile(path, func(w io.Writer) error { return WriteJUnit(w, run) })
}
