package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/suite"
)

// runMeta is what `upspec run` knows of the run besides Ginkgo's reports: the metadata of the
// result model and the outputs asked for.
type runMeta struct {
	Target      string // --target; "" for the embedded server (the suite setup reports its URL)
	Embedded    bool   // the target is the embedded reference server
	RunID       string // prefix of every session ID
	Strict      bool   // NON-STRICT fails the run
	LabelFilter string // --label-filter
	DryRun      bool
	Seed        int64 // Ginkgo's random seed (the scenario order)
	Start       time.Time
	Duration    time.Duration
	Planned     int // scenarios a dry run selected

	Outputs  reports.Outputs // --json-report, --html-report, --repro-dir
	Markdown string          // --markdown-report, "" when not asked
	JUnit    string          // --junit-report, "" when not asked
	// Expect is the --expect list (nil without it).
	Expect *expect.List
	// Catalogue is the --protocol's scenarios and clauses (the zero value: the default's).
	Catalogue reports.Catalogue
}

// finishRun builds the result model of the run from Ginkgo's reports, applies the expected
// deviations, writes the outputs asked for, prints the summary and, last, the closing line,
// and returns the exit status: 0 conforming, 1 not conforming, 2 when the harness failed (the
// suite setup, an engine error in a scenario, a failure outside any scenario) or an output
// could not be written.
func finishRun(stdout, stderr io.Writer, console reports.Console, meta runMeta, ginkgoReports []types.Report) int {
	v := currentVersion()
	m := reports.Meta{
		Target:        meta.Target,
		Embedded:      meta.Embedded,
		Strict:        meta.Strict,
		LabelFilter:   meta.LabelFilter,
		UpspecVersion: v.Short(),
		GoVersion:     v.Go,
		Seed:          meta.Seed,
		RunID:         meta.RunID,
		Start:         meta.Start,
		Duration:      meta.Duration,
	}
	switch {
	case meta.Embedded:
		m.Profile = "reference"
	case meta.Expect != nil:
		m.Profile = meta.Expect.Name
	}
	if selectedCount(ginkgoReports) == 0 && !anyRan(ginkgoReports) {
		fmt.Fprintf(stderr, "upspec run: the selection matches no scenario (%s); 'upspec list' shows the scenarios and their labels\n",
			selectionText(ginkgoReports))
		return exitUsage
	}
	// Scenarios Ginkgo did not start (an interrupt, --fail-fast, its suite time-out) get a
	// NOT-RUN result, so that every selected scenario is accounted for.
	suite.AccountNotRun(ginkgoReports)
	cat := meta.Catalogue
	if cat.Scenarios == nil {
		cat = reports.DefaultCatalogue()
	}
	run, err := cat.FromGinkgo(m, ginkgoReports)
	if err != nil {
		fmt.Fprintf(stderr, "upspec run: build the report of the run: %v\n", err)
		return exitUsage
	}
	suite.DropAccountedErrors(run)
	run.ApplyExpectations(meta.Expect)

	status := exitOK
	notRun, reason := notRunOf(run)
	switch {
	case interrupted(ginkgoReports):
		status = exitInterrupted
	case setupFailed(ginkgoReports), run.EngineErrorCount() > 0:
		// The harness failed (a setup error, an engine error in a scenario, a failure outside
		// any scenario): no verdict on the target.
		status = exitUsage
	case notRun > 0 && !(failFast(ginkgoReports) && !run.Conforming()):
		// Not every scenario ran (the target stopped answering, the time limit): no verdict.
		// --fail-fast stops after a failure on purpose: that run has its verdict.
		status = exitUsage
	case !run.Conforming():
		status = exitNotConform
	}
	defer func() {
		switch {
		case status == exitInterrupted:
			fmt.Fprintf(stderr, "upspec run: interrupted: %d of %d scenarios not run; the reports hold what ran\n", notRun, len(run.Scenarios))
		case notRun > 0 && !setupFailed(ginkgoReports):
			fmt.Fprintf(stderr, "upspec run: %s; %d of %d scenarios not run\n", reason, notRun, len(run.Scenarios))
		}
	}()

	written, reproducers, errs := writeOutputs(run, meta)
	for _, err := range errs {
		fmt.Fprintf(stderr, "upspec run: %v\n", err)
		status = exitUsage
	}

	if meta.DryRun {
		fmt.Fprintf(stdout, "\ndry run: %d scenarios selected, none run\n", meta.Planned)
	} else {
		console.Summary(run)
	}
	if len(written) > 0 {
		fmt.Fprintf(stdout, "reports: %s\n", strings.Join(written, ", "))
	}
	if len(reproducers) > 0 {
		fmt.Fprintf(stdout, "reproducers: %d in %s%c (run one with sh, e.g. sh %s)\n",
			len(reproducers), filepath.Clean(meta.Outputs.ReproDir), filepath.Separator, reproducers[0])
	}
	if meta.DryRun || len(written)+len(reproducers) > 0 {
		fmt.Fprintln(stdout)
	}
	console.ClosingLine(run)
	return status
}

// writeOutputs writes the reproducers, the JSON, HTML, JUnit and Markdown reports (all from
// the result model, so that they tell the same numbers), and returns what it wrote, e.g. "JSON run.json",
// the reproducers' paths, and every error.
func writeOutputs(run *reports.Run, meta runMeta) (written, reproducers []string, errs []error) {
	// The reproducers first, so that the reports name them.
	reproducers, err := reports.WriteAll(run, reports.Outputs{ReproDir: meta.Outputs.ReproDir})
	if err != nil {
		errs = append(errs, fmt.Errorf("--repro-dir: %w", err))
	}
	for _, out := range []struct {
		name string
		o    reports.Outputs
		path string
	}{
		{"JSON", reports.Outputs{JSON: meta.Outputs.JSON}, meta.Outputs.JSON},
		{"HTML", reports.Outputs{HTML: meta.Outputs.HTML}, meta.Outputs.HTML},
		{"JUnit", reports.Outputs{JUnit: meta.JUnit}, meta.JUnit},
	} {
		if out.path == "" {
			continue
		}
		if _, err := reports.WriteAll(run, out.o); err != nil {
			errs = append(errs, err)
			continue
		}
		written = append(written, out.name+" "+out.path)
	}
	if meta.Markdown != "" {
		// writeMarkdown (report.go) appends to $GITHUB_STEP_SUMMARY, as GitHub expects.
		if err := writeMarkdown(meta.Markdown, run); err != nil {
			errs = append(errs, fmt.Errorf("--markdown-report: %w", err))
		} else {
			written = append(written, "Markdown "+meta.Markdown)
		}
	}
	return written, reproducers, errs
}

// setupFailed reports whether the suite setup (BeforeSuite) failed: the target could not be
// used, or the embedded server did not start. That is a setup error (exit status 2), not a
// verdict on the target.
func setupFailed(ginkgoReports []types.Report) bool {
	for _, r := range ginkgoReports {
		for _, spec := range r.SpecReports {
			if spec.LeafNodeType.Is(types.NodeTypeBeforeSuite|types.NodeTypeSynchronizedBeforeSuite) &&
				spec.State.Is(types.SpecStateFailureStates) {
				return true
			}
		}
	}
	return false
}

// exitInterrupted is the exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as
// a shell reports a command that Ctrl-C ended).
const exitInterrupted = 130

// interrupted reports whether the run was interrupted (SIGINT, SIGTERM).
func interrupted(ginkgoReports []types.Report) bool {
	for _, r := range ginkgoReports {
		for _, reason := range r.SpecialSuiteFailureReasons {
			if strings.Contains(reason, "Interrupted") {
				return true
			}
		}
	}
	return false
}

// failFast reports whether the run was asked to stop after its first failure.
func failFast(ginkgoReports []types.Report) bool {
	return len(ginkgoReports) > 0 && ginkgoReports[0].SuiteConfig.FailFast
}

// selectedCount is how many scenarios the selection runs (Ginkgo's count).
func selectedCount(ginkgoReports []types.Report) int {
	n := 0
	for _, r := range ginkgoReports {
		n += r.PreRunStats.SpecsThatWillRun
	}
	return n
}

// anyRan reports whether a spec of the reports ran (or was planned by a dry run): a report
// without Ginkgo's count of the selection still has a selection then.
func anyRan(ginkgoReports []types.Report) bool {
	for _, r := range ginkgoReports {
		for _, spec := range r.SpecReports {
			if spec.LeafNodeType == types.NodeTypeIt && !spec.State.Is(types.SpecStateSkipped|types.SpecStatePending) {
				return true
			}
		}
	}
	return false
}

// selectionText describes the selection of a run, e.g. "--label-filter 'probe && slow'".
func selectionText(ginkgoReports []types.Report) string {
	if len(ginkgoReports) == 0 {
		return "no report"
	}
	c := ginkgoReports[0].SuiteConfig
	var parts []string
	if c.LabelFilter != "" {
		parts = append(parts, fmt.Sprintf("--label-filter %q", c.LabelFilter))
	}
	for _, f := range c.FocusStrings {
		parts = append(parts, fmt.Sprintf("--focus %q", f))
	}
	for _, f := range c.SkipStrings {
		parts = append(parts, fmt.Sprintf("--skip %q", f))
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, " ")
}

// notRunOf counts the scenarios of run that did not run and returns the first reason given.
func notRunOf(run *reports.Run) (n int, reason string) {
	for _, s := range run.Scenarios {
		if s.Verdict != result.NotRun {
			continue
		}
		n++
		if reason == "" {
			reason = suite.RunStopReason(s.SkipReason)
		}
	}
	return n, reason
}
