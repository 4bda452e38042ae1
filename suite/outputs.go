package suite

import (
	"fmt"
	"os"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	expectations "github.com/upspec/upspec/scenarios/expect"
)

// writesReports reports whether the suite writes upspec's reports itself: under go test and
// ginkgo run, when a report flag is given. `upspec run` writes them itself and hands the suite
// a Config without them.
func (c *Config) writesReports() bool {
	return c.JSONReport != "" || c.HTMLReport != "" || c.MarkdownReport != "" || c.ReproDir != ""
}

// writeReports is the ReportAfterSuite node of a run that writes upspec's reports (on process
// 1, with the specs of every process): the result model of the run, the scenarios that did not
// run accounted for, --expect applied, then the reproducers and the JSON, HTML and Markdown
// reports, as `upspec run` writes them.
func (r *run) writeReports(rep ginkgo.Report) {
	run, err := resultModel(rep, r.cfg, r.expect)
	if err != nil {
		ginkgo.Fail("upspec reports: " + err.Error())
	}
	var errs []error
	out := reports.Outputs{JSON: r.cfg.JSONReport, HTML: r.cfg.HTMLReport, ReproDir: r.cfg.ReproDir}
	if _, err := reports.WriteAll(run, out); err != nil {
		errs = append(errs, err)
	}
	if r.cfg.MarkdownReport != "" {
		if err := WriteMarkdownReport(r.cfg.MarkdownReport, run); err != nil {
			errs = append(errs, err)
		}
	}
	for _, err := range errs {
		ginkgo.Fail("upspec reports: " + err.Error())
	}
}

// resultModel builds the result model of the suite's run as `upspec run` does: the scenarios
// that did not run accounted for (AccountNotRun), the expectations of cfg.Expect applied
// (expect when the setup loaded them already).
func resultModel(rep ginkgo.Report, cfg *Config, list *expectations.List) (*reports.Run, error) {
	reps := []types.Report{rep}
	AccountNotRun(reps)
	run, err := cfg.Catalogue().FromGinkgo(reports.Meta{}, reps)
	if err != nil {
		return nil, err
	}
	DropAccountedErrors(run)
	if list == nil && cfg.Expect != "" {
		if list, err = cfg.LoadExpectations(cfg.Expect); err != nil {
			return nil, fmt.Errorf("--expect: %w", err)
		}
	}
	run.ApplyExpectations(list)
	switch {
	case run.Meta.Embedded:
		run.Meta.Profile = "reference"
	case list != nil:
		run.Meta.Profile = list.Name
	}
	return run, nil
}

// WriteMarkdownReport writes the Markdown summary of run to path; it appends when path is
// $GITHUB_STEP_SUMMARY, as GitHub expects of a job's summary.
func WriteMarkdownReport(path string, run *reports.Run) (err error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if gh := os.Getenv("GITHUB_STEP_SUMMARY"); gh != "" && gh == path {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("markdown report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("markdown report: %w", cerr)
		}
	}()
	return reports.WriteMarkdown(f, run)
}
