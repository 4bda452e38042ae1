package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/upspec/upspec/reports/result"
)

// WriteJUnit writes the JUnit XML report of a run that is not a Ginkgo run (a grade of a
// client, say), in Ginkgo's JUnit types: a test case per scenario named `<ID> <Title>`; a
// <failure> for each scenario that fails the run, its message the findings; SKIPPED
// scenarios <skipped> with the reason; a NON-STRICT scenario passes, its findings in
// system-out.
func WriteJUnit(w io.Writer, run *Run) error {
	suite := reporters.JUnitTestSuite{
		Name:      "upspec " + run.Meta.Profile,
		Package:   run.Meta.Target,
		Time:      run.Meta.Duration.Seconds(),
		Timestamp: run.Meta.Start.UTC().Format("2006-01-02T15:04:05"),
		Properties: reporters.JUnitProperties{Properties: []reporters.JUnitProperty{
			{Name: "Target", Value: run.Meta.Target},
			{Name: "Profile", Value: run.Meta.Profile},
			{Name: "ClosingLine", Value: ClosingLine(run)},
		}},
	}
	for i := range run.Scenarios {
		s := &run.Scenarios[i]
		tc := reporters.JUnitTestCase{
			Name:      strings.TrimSpace(s.ID + " " + s.Title),
			Classname: suite.Name,
			Time:      s.Duration.Seconds(),
			Status:    strings.ToLower(s.Outcome()),
		}
		switch {
		case s.Gates():
			tc.Failure = &reporters.JUnitFailure{Type: s.Outcome(), Message: junitFindings(s), Description: junitDetail(s)}
			suite.Failures++
		case s.Verdict == result.Skipped:
			tc.Skipped = &reporters.JUnitSkipped{Message: "skipped: " + oneLine(s.SkipReason)}
			suite.Skipped++
		case s.Verdict == result.NonStrict:
			tc.SystemOut = "NON-STRICT (passes unless --strict): " + junitDetail(s)
		}
		suite.TestCases = append(suite.TestCases, tc)
		suite.Tests++
	}
	for _, e := range run.SuiteErrors {
		suite.TestCases = append(suite.TestCases, reporters.JUnitTestCase{Name: "setup", Classname: suite.Name, Status: "error",
			Error: &reporters.JUnitError{Message: oneLine(e), Description: e}})
		suite.Tests++
		suite.Errors++
	}
	suites := reporters.JUnitTestSuites{Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time,
		TestSuites: []reporters.JUnitTestSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	return nil
}

// WriteJUnitFile writes the JUnit report of run (WriteJUnit) to path.
func WriteJUnitFile(path string, run *Run) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	if err := WriteJUnit(f, run); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the JUnit report: %w", err)
	}
	return nil
}

func junitFindings(s *Scenario) string {
	msgs := make([]string, 0, len(s.Findings))
	for _, f := range s.Findings {
		msgs = append(msgs, oneLine(orDetail(f)))
	}
	return strings.Join(msgs, "; ")
}

func junitDetail(s *Scenario) string {
	msgs := make([]string, 0, len(s.Findings))
	for _, f := range s.Findings {
		msgs = append(msgs, f.Message)
	}
	return strings.Join(msgs, "\n\n")
}

func orDetail(f result.Finding) string {
	if f.Detail != "" {
		return f.Clause + ": " + f.Detail
	}
	return f.Message
}
