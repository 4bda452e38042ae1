package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/suite"
)

// Defaults of the run flags that are not suite flags.
const (
	defaultSuiteTimeout = 30 * time.Minute
	// specGracePeriod is how long a scenario that overran its spec timeout may take to return.
	specGracePeriod = 5 * time.Second
)

const runUsageHead = `Usage: upspec run [--target URL] [flags]

Runs the conformance suite: one scenario per protocol case, each checked clause by clause
against the target (the URL segments are posted to). Without --target it runs against the
embedded reference server.

Examples:
  upspec run                                        # the embedded reference server
  upspec run --target http://127.0.0.1:8080/upload
  upspec run --target https://up.example.com/upload --header "Authorization: Bearer $TOKEN" \
             --ca-file ca.pem --final-status 200 --final-body completed
  upspec run --target http://127.0.0.1:8080/upload --label-filter 'range-strings && !slow'
  upspec run --target http://127.0.0.1:8080/upload --focus RS-03 --junit-report junit.xml
  upspec run --dry-run --label-filter parallel      # list what would run

Labels: each scenario carries its family (range-strings, completion, re-upload, probe,
collision, parallel, headers, ...) and needs-loopback, needs-file-access or slow where they apply
(see 'upspec list').

Exit status: 0 conforming, 1 not conforming (a scenario failed), 2 usage or setup error.

Flags:
`

// runFlags are the flags of `upspec run` that are not suite flags.
type runFlags struct {
	labelFilter string
	focus       []string
	skip        []string
	dryRun      bool
	failFast    bool
	timeout     time.Duration
	seed        int64
	jsonReport  string
	junitReport string
	verbose     bool
	noColor     bool
	expect      string // --expect FILE or built-in list (run_expect.go)
}

// runMain is `upspec run`.
func runMain(args []string, stdout, stderr io.Writer) int {
	cfg := suite.NewConfig()
	var rf runFlags
	writers := newReportWriters()

	fs := pflag.NewFlagSet("upspec run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	cfg.RegisterFlags(fs)
	fs.StringVar(&rf.labelFilter, "label-filter", "", "run only the scenarios whose labels match `EXPR`, e.g. 'parallel || probe', '!slow'")
	fs.StringArrayVar(&rf.focus, "focus", nil, "run only scenarios whose ID or title matches `REGEXP` (repeatable)")
	fs.StringArrayVar(&rf.skip, "skip", nil, "skip scenarios whose ID or title matches `REGEXP` (repeatable)")
	fs.BoolVar(&rf.dryRun, "dry-run", false, "list the scenarios that would run, without running them")
	fs.BoolVar(&rf.failFast, "fail-fast", false, "stop after the first failed scenario")
	fs.DurationVar(&rf.timeout, "timeout", defaultSuiteTimeout, "bound on the whole run")
	fs.Int64Var(&rf.seed, "seed", 0, "seed of the scenario order (default: time)")
	fs.StringVar(&rf.jsonReport, "json-report", "", "write the JSON report to `FILE`")
	fs.StringVar(&rf.junitReport, "junit-report", "", "write a JUnit XML report to `FILE`")
	registerExpectFlag(fs, &rf.expect)
	if writers.registerFlags != nil {
		writers.registerFlags(fs)
	}
	fs.BoolVarP(&rf.verbose, "verbose", "v", false, "print every scenario and its exchanges as it runs")
	fs.BoolVar(&rf.noColor, "no-color", false, "no colours in the output (also when NO_COLOR is set)")
	help := fs.BoolP("help", "h", false, "print this help")

	if err := fs.Parse(args); err != nil {
		return usageError(stderr, "%v", err)
	}
	if *help {
		fmt.Fprint(stdout, runUsageHead)
		fmt.Fprint(stdout, fs.FlagUsagesWrapped(100))
		return exitOK
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "unexpected argument %q (the target goes in --target)", fs.Arg(0))
	}
	if os.Getenv("NO_COLOR") != "" {
		rf.noColor = true
	}
	if rf.noColor {
		formatter.SingletonFormatter.ColorMode = formatter.ColorModeNone
	}

	// Usage errors: everything Ginkgo would otherwise answer with its own exit status.
	if rf.labelFilter != "" {
		if _, err := types.ParseLabelFilter(rf.labelFilter); err != nil {
			return usageErrorf(stderr, "--label-filter %q: %s; combine labels with &&, || and !, e.g. 'range-strings && !slow'",
				rf.labelFilter, ginkgoErrorLine(err))
		}
	}
	for _, flag := range []struct {
		name string
		res  []string
	}{{"--focus", rf.focus}, {"--skip", rf.skip}} {
		for _, re := range flag.res {
			if _, err := regexp.Compile(re); err != nil {
				return usageErrorf(stderr, "%s %q: %v; give a regular expression over the scenario ID and title", flag.name, re, err)
			}
		}
	}
	if rf.timeout <= 0 {
		return usageErrorf(stderr, "--timeout %s: must be positive", rf.timeout)
	}
	for _, out := range []struct{ flag, path string }{{"--json-report", rf.jsonReport}, {"--junit-report", rf.junitReport}} {
		if out.path == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(out.path)); err != nil || !fi.IsDir() {
			return usageErrorf(stderr, "%s %s: the directory %s does not exist; create it or choose another path",
				out.flag, out.path, filepath.Dir(out.path))
		}
	}
	sc, err := cfg.Resolve() // fills cfg.RunID: the suite then uses the same run ID
	if err != nil {
		return usageErrorf(stderr, "%v; run 'upspec run --help' for the flags", err)
	}
	expect, err := loadExpect(rf.expect)
	if err != nil {
		return usageErrorf(stderr, "%v; give an expectations file or the name of a built-in list", err)
	}
	if sc.Target != nil && !rf.dryRun {
		if err := suite.Precheck(context.Background(), sc); err != nil {
			return usageErrorf(stderr, "%v", err)
		}
	}

	meta := runMeta{
		Target:      cfg.Target,
		Embedded:    sc.Target == nil,
		RunID:       sc.RunID,
		Strict:      sc.Strict,
		LabelFilter: rf.labelFilter,
		Focus:       rf.focus,
		Skip:        rf.skip,
		DryRun:      rf.dryRun,
		Verbose:     rf.verbose,
		NoColor:     rf.noColor,
		Args:        append([]string(nil), args...),
		JSONReport:  rf.jsonReport,
		JUnitReport: rf.junitReport,
		Expect:      expect,
	}
	if meta.Embedded {
		fmt.Fprintf(stdout, "upspec run: no --target given: running against the embedded reference server (run ID %s)\n", meta.RunID)
	} else {
		fmt.Fprintf(stdout, "upspec run: target %s (run ID %s)\n", meta.Target, meta.RunID)
	}

	tmp, err := os.MkdirTemp("", "upspec-run-")
	if err != nil {
		return usageErrorf(stderr, "create a temporary directory: %v; check TMPDIR", err)
	}
	defer os.RemoveAll(tmp)
	meta.GinkgoJSON = filepath.Join(tmp, "ginkgo-report.json")

	suiteConf, repConf := ginkgoConfig(rf, meta.GinkgoJSON)
	meta.Seed = suiteConf.RandomSeed

	// Ginkgo writes its console output to these writers (it has no other way to be told).
	formatter.ColorableStdErr = stderr
	if writers.ginkgoConsole {
		formatter.ColorableStdOut = stdout
	} else {
		formatter.ColorableStdOut = io.Discard
	}
	if writers.specDone != nil {
		ginkgo.ReportAfterEach(func(spec types.SpecReport) {
			if selected(spec) {
				writers.specDone(stdout, &meta, spec)
			}
		})
	}

	meta.Start = time.Now()
	t := &runT{}
	passed := suite.Run(t, cfg, suiteConf, repConf) && !t.failed
	meta.Duration = time.Since(meta.Start)

	reports, err := readGinkgoReports(meta.GinkgoJSON)
	if err != nil {
		fmt.Fprintf(stderr, "upspec run: read the report of the run: %v\n", err)
		return exitUsage
	}
	counts := countResults(reports, sc.Strict, expect)
	if info, ok := runInfoOf(reports); ok {
		meta.Target, meta.Embedded = info.Target, info.Embedded
	}

	status := exitOK
	switch {
	case counts.setupFailure != "":
		status = exitUsage
	case counts.failed > 0 || (!passed && counts.known == 0):
		status = exitNotConform
	}

	if err := writeGinkgoReports(meta, reports); err != nil {
		fmt.Fprintf(stderr, "upspec run: %v\n", err)
		status = exitUsage
	}
	if writers.finish != nil {
		if err := writers.finish(stdout, meta, reports); err != nil {
			fmt.Fprintf(stderr, "upspec run: %v\n", err)
			status = exitUsage
		}
	}

	if counts.setupFailure != "" {
		fmt.Fprintf(stdout, "\nupspec run: setup failed: %s\n", counts.setupFailure)
	} else if counts.failed == 0 && !passed && counts.known == 0 {
		// Failed outside any scenario (suite timeout, interruption): say so before the count.
		fmt.Fprintln(stdout, "\nupspec run: the run did not complete (timeout or interruption)")
		counts.failed = 1
	}
	if meta.DryRun {
		fmt.Fprintf(stdout, "\ndry run: %d scenarios selected, none run\n", counts.passed)
		counts.passed = 0
	}
	printExpected(stdout, expect, classifyExpected(reports, expect))
	fmt.Fprintf(stdout, "\n%s\n", counts.line())
	return status
}

// ginkgoConfig builds Ginkgo's configuration from the run flags, starting from Ginkgo's
// defaults (a zero SuiteConfig fails Ginkgo's checks). Runs are serial.
func ginkgoConfig(rf runFlags, jsonPath string) (types.SuiteConfig, types.ReporterConfig) {
	sc := types.NewDefaultSuiteConfig()
	if rf.seed != 0 {
		sc.RandomSeed = rf.seed
	}
	sc.LabelFilter = rf.labelFilter
	sc.FocusStrings = rf.focus
	sc.SkipStrings = rf.skip
	sc.DryRun = rf.dryRun
	sc.FailFast = rf.failFast
	sc.Timeout = rf.timeout
	sc.GracePeriod = specGracePeriod
	rc := types.NewDefaultReporterConfig()
	rc.NoColor = rf.noColor
	rc.Verbose = rf.verbose || rf.dryRun // a dry run lists the scenarios
	rc.JSONReport = jsonPath             // always: the counts come from it
	return sc, rc
}

// runT is the GinkgoTestingT of the binary: it remembers whether the suite failed.
type runT struct{ failed bool }

// Fail marks the run as failed.
func (t *runT) Fail() { t.failed = true }

// usageError prints a command-line error as one line, with the pointer to --help, and returns
// the usage exit status.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "upspec run: %s; run 'upspec run --help' for the flags\n", fmt.Sprintf(format, args...))
	return exitUsage
}

// usageErrorf prints one line `upspec run: <what is wrong>; <what to do>` and returns the usage
// exit status. format says both.
func usageErrorf(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "upspec run: "+format+"\n", args...)
	return exitUsage
}

var ginkgoMarkup = regexp.MustCompile(`\{\{[^}]*\}\}`)

// ginkgoErrorLine turns one of Ginkgo's multi-line, coloured errors into one plain line.
func ginkgoErrorLine(err error) string {
	msg := err.Error()
	var ge types.GinkgoError
	if errors.As(err, &ge) {
		msg = ge.Message
		if lines := strings.Split(strings.TrimSpace(msg), "\n"); len(lines) > 1 {
			msg = lines[len(lines)-1] // the syntax error; the first line repeats the input
		}
	}
	msg = ginkgoMarkup.ReplaceAllString(msg, "")
	return strings.TrimSuffix(strings.Join(strings.Fields(msg), " "), ".")
}

// readGinkgoReports reads Ginkgo's JSON report: one types.Report per suite.
func readGinkgoReports(path string) ([]types.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read Ginkgo's JSON report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, fmt.Errorf("decode Ginkgo's JSON report %s: %w", path, err)
	}
	return reports, nil
}

// resultCounts are the closing counts of a run.
type resultCounts struct {
	passed, failed, skipped int
	known, stale            int // scenarios of --expect: failed as listed; listed but passed (counted in failed)
	verdicts                map[scenarios.Verdict]int
	setupFailure            string // one line: why the suite setup failed, "" when it did not
}

// line is the last line of the output: "N passed, N failed[, N skipped]".
func (c resultCounts) line() string {
	s := fmt.Sprintf("%d passed, %d failed", c.passed, c.failed)
	if c.stale > 0 {
		s += fmt.Sprintf(" (%d stale)", c.stale)
	}
	if c.known > 0 {
		s += fmt.Sprintf(", %d known", c.known)
	}
	if c.skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.skipped)
	}
	return s
}

// countResults counts the scenarios of Ginkgo's reports. passed: PASS, INFO and NON-STRICT
// (in strict mode a NON-STRICT scenario is a FAIL); failed: FAIL and any spec that failed
// without a verdict (timeout, panic, interruption); skipped: scenarios skipped at run time
// (SKIPPED, a precondition not met). Scenarios not selected by the filters are not counted.
//
// With expectations (--expect), a listed scenario that failed (FAIL or NON-STRICT) counts as
// known, not failed; a listed scenario that passed is stale and counts as failed.
func countResults(reports []types.Report, strict bool, expect *scenarios.Expectations) resultCounts {
	c := resultCounts{verdicts: map[scenarios.Verdict]int{}}
	for _, r := range reports {
		for _, spec := range r.SpecReports {
			if spec.LeafNodeType != types.NodeTypeIt {
				if spec.State.Is(types.SpecStateFailureStates) {
					if spec.LeafNodeType.Is(types.NodeTypeBeforeSuite | types.NodeTypeSynchronizedBeforeSuite) {
						c.setupFailure = firstLine(spec.Failure.Message)
					} else {
						c.failed++
					}
				}
				continue
			}
			res, hasResult := suite.ResultOf(spec)
			if hasResult {
				c.verdicts[res.Verdict]++
				switch out, _ := expect.Classify(res); out {
				case scenarios.ExpectKnown:
					c.known++
					continue
				case scenarios.ExpectStale:
					c.stale++
					c.failed++
					continue
				}
			}
			switch {
			case spec.State.Is(types.SpecStateFailureStates):
				c.failed++
			case spec.State == types.SpecStatePassed:
				if hasResult && res.Verdict == scenarios.VerdictNonStrict && strict {
					c.failed++
				} else {
					c.passed++
				}
			case spec.State == types.SpecStateSkipped:
				if selected(spec) {
					c.skipped++
				}
			}
		}
	}
	return c
}

// selected reports whether a spec's scenario was selected to run (not left out by a filter,
// --focus, --skip or a failed setup); a skip at run time (a precondition not met) counts as
// selected.
func selected(spec types.SpecReport) bool {
	if spec.State != types.SpecStateSkipped {
		return true
	}
	_, hasResult := suite.ResultOf(spec)
	return hasResult || spec.Failure.Message != ""
}

// runInfoOf returns the RunInfo the suite setup attached to its report.
func runInfoOf(reports []types.Report) (suite.RunInfo, bool) {
	for _, r := range reports {
		if info, ok := suite.RunInfoOf(r); ok {
			return info, true
		}
	}
	return suite.RunInfo{}, false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// writeGinkgoReports writes the report files Ginkgo provides: the JSON report (Ginkgo's
// []types.Report, copied from the run's own) and the JUnit report, whose test case names are
// "[It] <ID> <Title>" without labels, so that they stay stable.
func writeGinkgoReports(meta runMeta, reports []types.Report) error {
	if meta.JSONReport != "" {
		data, err := os.ReadFile(meta.GinkgoJSON)
		if err != nil {
			return fmt.Errorf("--json-report: %w", err)
		}
		if err := os.WriteFile(meta.JSONReport, data, 0o644); err != nil {
			return fmt.Errorf("--json-report: %w", err)
		}
	}
	if meta.JUnitReport != "" && len(reports) > 0 {
		conf := reporters.JunitReportConfig{OmitSpecLabels: true}
		if err := reporters.GenerateJUnitReportWithConfig(reports[0], meta.JUnitReport, conf); err != nil {
			return fmt.Errorf("--junit-report: %w", err)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Hook points for the writers of package reports (console lines, JSON/Markdown/HTML reports,
// reproducers). They plug in through newReportWriters; the rest of runMain does not change.

// runMeta is the run as the writers need it, besides Ginkgo's reports.
type runMeta struct {
	Target      string   // the segment endpoint (the embedded server's URL once the run started)
	Embedded    bool     // the target is the embedded reference server
	RunID       string   // prefix of every session ID
	Strict      bool     // NON-STRICT fails the run
	LabelFilter string   // --label-filter
	Focus, Skip []string // --focus, --skip
	DryRun      bool
	Verbose     bool // -v: print every exchange
	NoColor     bool
	Args        []string // the arguments of `upspec run`
	Seed        int64    // Ginkgo's random seed (the scenario order)
	Start       time.Time
	Duration    time.Duration
	JSONReport  string // --json-report, "" when not asked
	JUnitReport string // --junit-report, "" when not asked
	GinkgoJSON  string // Ginkgo's JSON report of this run (a temporary file)
	// Expect is the --expect list (nil without it): Expect.Classify(result) tells a KNOWN
	// failure or a STALE entry from a plain verdict.
	Expect *scenarios.Expectations
}

// reportWriters is the seam where the writers plug in.
type reportWriters struct {
	// registerFlags adds the writers' flags (e.g. --html-report FILE) to the run's flag set.
	registerFlags func(fs *pflag.FlagSet)
	// ginkgoConsole sends Ginkgo's own console output (progress, failures, "Ran N of M Specs")
	// to stdout; false discards it, for writers that print their own lines.
	ginkgoConsole bool
	// specDone is called as each selected scenario finishes (from a ReportAfterEach), with
	// the spec's report; suite.ResultOf(spec) gives its scenarios.Result. Specs left out by
	// the filters are not passed.
	specDone func(stdout io.Writer, meta *runMeta, spec types.SpecReport)
	// finish is called once after the run with Ginkgo's reports (one per suite; ResultOf on
	// each It spec gives the scenario's Result), before the closing line. An error is printed
	// and turns the exit status to 2.
	finish func(stdout io.Writer, meta runMeta, reports []types.Report) error
}

// newReportWriters returns the writers of this build: Ginkgo's console output, no more.
func newReportWriters() reportWriters {
	return reportWriters{ginkgoConsole: true}
}
