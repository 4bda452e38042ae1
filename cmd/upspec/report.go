package main

import (
	"fmt"
	"io"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/suite"
)

const reportUsage = `Usage: upspec report [--html FILE] [--markdown FILE] [--junit FILE] [--reproducers DIR] RUN.json
       upspec report --merge OUT.json SHARD.json SHARD.json...
       upspec report --diff A.json B.json

Re-renders the JSON report of a run (upspec run --json-report; a Ginkgo JSON report of the
suite is read too) as a self-contained HTML page, as Markdown for a CI job summary or as JUnit,
and writes curl reproducers for its scenarios whose checks failed (KNOWN deviations included).
With no output flag it prints the run's summary.

--merge merges the JSON reports of the shards of one run (the selection split across CI jobs,
each run with the same --target and --run-id) into one JSON report; the other output flags then
render the merged run. Shards of different targets or run IDs are refused.

--diff compares two runs scenario by scenario: the verdicts that changed, the findings that
differ (a clause failed in one run only, or with another expected or got), and the exchanges
whose answers differ (status codes, Range lists, closed connections) even where both runs
passed, e.g. the embedded reference server against a deployment. Requests that were in flight
together are compared as a set: the protocol leaves their order open.

Examples:
  upspec report --html report.html run.json
  upspec report --markdown "$GITHUB_STEP_SUMMARY" run.json
  upspec report --markdown - run.json           # Markdown on standard output
  upspec report --reproducers repro/ run.json
  upspec report --merge run.json shard-1.json shard-2.json --html run.html
  upspec report --diff reference.json nginx.json

Exit status: 0 done (--diff: no differences), 1 --diff found differences, 2 usage error or a
report that cannot be read, merged or written.

Flags:
`

// reportMain is `upspec report`.
func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("upspec report")
	htmlOut := fs.String("html", "", "write the HTML report to `FILE`")
	mdOut := fs.String("markdown", "", "write the Markdown summary to `FILE` ('-': standard output)")
	junitOut := fs.String("junit", "", "write the JUnit report to `FILE`")
	reproDir := fs.String("reproducers", "", "write a curl reproducer per scenario whose checks failed (KNOWN ones included) into `DIR`")
	merge := fs.String("merge", "", "merge the reports of the shards of one run (the arguments) into the JSON report `OUT`")
	diff := fs.Bool("diff", false, "compare two reports: upspec report --diff A.json B.json")
	noColor := fs.Bool("no-color", false, "no colours in the summary (also when NO_COLOR is set)")
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "upspec report: "+format+"\n", args...)
		return exitUsage
	}
	if code, done := parseFlags(fs, args, reportUsage, stdout, stderr); done {
		return code
	}

	if *diff {
		if *htmlOut != "" || *mdOut != "" || *reproDir != "" || *junitOut != "" || *merge != "" {
			return fail("--diff prints a comparison and writes no report; run --html, --markdown, --junit, --reproducers or --merge separately")
		}
		if fs.NArg() != 2 {
			return fail("--diff needs two reports, got %d; e.g. upspec report --diff reference.json nginx.json", fs.NArg())
		}
		a, err := reports.LoadFile(fs.Arg(0))
		if err != nil {
			return fail("%v; give a report written by 'upspec run --json-report'", err)
		}
		b, err := reports.LoadFile(fs.Arg(1))
		if err != nil {
			return fail("%v; give a report written by 'upspec run --json-report'", err)
		}
		d := reports.Compare(a, b)
		if err := reports.WriteDiff(stdout, d, fs.Arg(0), fs.Arg(1)); err != nil {
			return fail("%v; check that the output can be written", err)
		}
		if d.Empty() {
			return exitOK
		}
		return exitNotConform
	}

	var run *reports.Run
	if *merge != "" {
		if fs.NArg() < 2 {
			return fail("--merge needs the reports of at least two shards, got %d; e.g. upspec report --merge run.json shard-1.json shard-2.json", fs.NArg())
		}
		var shards []*reports.Run
		for _, path := range fs.Args() {
			r, err := reports.LoadFile(path)
			if err != nil {
				return fail("%v; give reports written by 'upspec run --json-report'", err)
			}
			shards = append(shards, r)
		}
		merged, err := reports.Merge(shards...)
		if err != nil {
			return fail("%v", err)
		}
		if err := reports.WriteJSONFile(*merge, merged); err != nil {
			return fail("%v; check that %s can be written", err, *merge)
		}
		fmt.Fprintf(stdout, "merged %d reports (%d scenarios) into %s: %s\n", len(shards), merged.Counts.Total, *merge, reports.ClosingLine(merged))
		run = merged
	} else {
		switch fs.NArg() {
		case 0:
			return fail("no report given; e.g. upspec report --html report.html run.json")
		case 1:
		default:
			return fail("one report at a time, got %d; to compare two runs use --diff A.json B.json, to merge shards --merge OUT.json A.json B.json", fs.NArg())
		}
		r, err := reports.LoadFile(fs.Arg(0))
		if err != nil {
			return fail("%v; give a report written by 'upspec run --json-report'", err)
		}
		run = r
	}
	if *reproDir != "" {
		paths, err := reports.WriteReproducers(*reproDir, run)
		if err != nil {
			return fail("%v; check that %s can be written", err, *reproDir)
		}
		if len(paths) == 0 {
			fmt.Fprintf(stdout, "reproducers: none written to %s: %s\n", *reproDir, reports.NoReproducersReason(run))
		} else {
			fmt.Fprintf(stdout, "reproducers: %d written to %s\n", len(paths), *reproDir)
		}
		for _, p := range paths {
			fmt.Fprintf(stdout, "reproducer: %s\n", p)
		}
	}
	if *junitOut != "" {
		if err := reports.WriteJUnitFile(*junitOut, run); err != nil {
			return fail("%v; check that %s can be written", err, *junitOut)
		}
	}
	if *htmlOut != "" {
		if err := reports.WriteHTMLFile(*htmlOut, run); err != nil {
			return fail("%v; check that %s can be written", err, *htmlOut)
		}
	}
	switch *mdOut {
	case "":
	case "-":
		if err := reports.WriteMarkdown(stdout, run); err != nil {
			return fail("%v", err)
		}
	default:
		if err := writeMarkdown(*mdOut, run); err != nil {
			return fail("%v; check that %s can be written", err, *mdOut)
		}
	}
	if *htmlOut == "" && *mdOut == "" && *reproDir == "" && *junitOut == "" && *merge == "" {
		c := reports.NewConsole(stdout, *noColor)
		c.Summary(run)
		c.ClosingLine(run)
	}
	return exitOK
}

// writeMarkdown writes the Markdown summary to path, replacing the file, except for GitHub's
// job summary file ($GITHUB_STEP_SUMMARY), which is appended to as GitHub expects (the suite's
// writer, so that go test and upspec run write it alike).
func writeMarkdown(path string, run *reports.Run) error { return suite.WriteMarkdownReport(path, run) }
