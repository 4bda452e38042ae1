package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/scenarios/expect"
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
	cat := meta.Catalogue
	if cat.Scenarios == nil {
		cat = reports.DefaultCatalogue()
	}
	run, err := cat.FromGinkgo(m, ginkgoReports)
	if err != nil {
		fmt.Fprintf(stderr, "upspec run: build the report of the run: %v\n", err)
		return exitUsage
	}
	run.ApplyExpectations(meta.Expect)

	status := exitOK
	switch {
	case setupFailed(ginkgoReports), run.EngineErrorCount() > 0:
		// The harness failed (a setup error, an engine error in a scenario, a failure outside
		// any scenario): no verdict on the target.
		status = exitUsage
	case !run.Conforming():
		status = exitNotConform
	}

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
