package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/suite"
)

// Defaults of the run flags that are not suite flags.
const (
	defaultSuiteTimeout = 30 * time.Minute
	// specGracePeriod is how long a scenario that overran its spec timeout may take to return.
	specGracePeriod = 5 * time.Second
	// defaultReproDir is where reproducers go unless --repro-dir says otherwise.
	defaultReproDir = "upspec-repro"
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
  upspec run --target http://127.0.0.1:8080/upload --json-report run.json \
             --html-report run.html --markdown-report "$GITHUB_STEP_SUMMARY"
  upspec run --target http://nginx:8080/upload --expect nginx-upload-module
  upspec run --dry-run --label-filter parallel      # list what would run
  upspec run --random 200 --seed 7                  # also 200 random schedules, seed 7

Output: one line per scenario as it finishes (-v adds every exchange), then a summary by
family and by level (each scenario counted once, by its outcome), every failure again
(clause, requirement, expected, got, reproducer), a line saying what the words of the last
line mean ("passed = PASS + NON-STRICT + INFO; failed = FAIL + STALE; known deviations: N;
stale: N; not run: N"), and last "N passed, N failed" (", N skipped", ", N engine errors"
when there are any). Every scenario whose checks failed, KNOWN ones included, gets a
reproducer, a shell script of curl commands that exits 1 when the failure reproduces and 0
when it does not, in --repro-dir (default ./upspec-repro; written only when something
failed). The JSON, JUnit, Markdown and HTML reports tell the same numbers.

Labels: each scenario carries its family (range-strings, completion, re-upload, probe,
collision, parallel, headers, ...) and needs-loopback, needs-file-access, needs-backend-access or
slow where they apply (see 'upspec list').

Expected deviations (--expect): a listed scenario that fails is KNOWN and does not fail the
run; a listed scenario that passes is STALE and fails it (the list needs updating).

Exit status: 0 conforming, 1 not conforming (a scenario failed, or a STALE entry), 2 usage or
setup error, or an engine error (the harness itself failed: a panic in a scenario, a broken
harness backend; no verdict on the target).

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
	mdReport    string
	htmlReport  string
	reproDir    string
	verbose     bool
	noColor     bool
	expect      string // --expect FILE or built-in list (run_expect.go)
}

// runMain is `upspec run`.
func runMain(args []string, stdout, stderr io.Writer) int {
	cfg := suite.NewConfig()
	var rf runFlags

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
	fs.StringVar(&rf.jsonReport, "json-report", "", "write the JSON report to `FILE` (upspec's schema, version "+
		strconv.Itoa(reports.SchemaVersion)+"; 'upspec report' renders it again)")
	fs.StringVar(&rf.mdReport, "markdown-report", "", "write a Markdown summary to `FILE` (appended when FILE is $GITHUB_STEP_SUMMARY)")
	fs.StringVar(&rf.htmlReport, "html-report", "", "write a self-contained HTML report to `FILE`")
	fs.StringVar(&rf.junitReport, "junit-report", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&rf.reproDir, "repro-dir", defaultReproDir, "write a reproducer (curl script) of every failed scenario into `DIR`, only when something failed; '' for none")
	registerExpectFlag(fs, &rf.expect)
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
	rf.seed = cfg.Seed // --seed is a suite flag: the scenario order and the random schedules
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
	for _, out := range []struct{ flag, path string }{{"--json-report", rf.jsonReport}, {"--markdown-report", rf.mdReport},
		{"--html-report", rf.htmlReport}, {"--junit-report", rf.junitReport}} {
		if out.path == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(out.path)); err != nil || !fi.IsDir() {
			return usageErrorf(stderr, "%s %s: the directory %s does not exist; create it or choose another path",
				out.flag, out.path, filepath.Dir(out.path))
		}
		if fi, err := os.Stat(out.path); err == nil && fi.IsDir() {
			return usageErrorf(stderr, "%s %s: is a directory; give a file name", out.flag, out.path)
		}
	}
	if rf.reproDir != "" {
		if fi, err := os.Stat(rf.reproDir); err == nil && !fi.IsDir() {
			return usageErrorf(stderr, "--repro-dir %s: not a directory; choose another path, or --repro-dir '' for no reproducers", rf.reproDir)
		}
	}
	sc, err := cfg.Resolve() // fills cfg.RunID: the suite then uses the same run ID
	if err != nil {
		return usageErrorf(stderr, "%v; run 'upspec run --help' for the flags", err)
	}
	expect, err := loadExpect(rf.expect, cfg)
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
		DryRun:      rf.dryRun,
		Outputs: reports.Outputs{
			JSON:     rf.jsonReport,
			HTML:     rf.htmlReport,
			ReproDir: rf.reproDir,
		},
		Markdown:  rf.mdReport,
		JUnit:     rf.junitReport,
		Expect:    expect,
		Catalogue: cfg.Catalogue(),
	}
	if meta.Embedded {
		server := "reference server"
		if cfg.Protocol == suite.ProtocolTus {
			server = "reference tus server"
		}
		fmt.Fprintf(stdout, "upspec run: no --target given: running against the embedded %s (run ID %s)\n", server, meta.RunID)
	} else {
		fmt.Fprintf(stdout, "upspec run: target %s (run ID %s)\n", meta.Target, meta.RunID)
	}

	tmp, err := os.MkdirTemp("", "upspec-run-")
	if err != nil {
		return usageErrorf(stderr, "create a temporary directory: %v; check TMPDIR", err)
	}
	defer os.RemoveAll(tmp)
	ginkgoJSON := filepath.Join(tmp, "ginkgo-report.json")

	suiteConf, repConf := ginkgoConfig(rf, ginkgoJSON)
	meta.Seed = suiteConf.RandomSeed
	cfg.Seed = suiteConf.RandomSeed // the random schedules use the seed the report names

	// Ginkgo's own console output is not shown: the run prints its lines from the result
	// model. Ginkgo writes to these writers (it has no other way to be told).
	formatter.ColorableStdErr = stderr
	formatter.ColorableStdOut = io.Discard
	console := reports.NewConsole(stdout, rf.noColor)
	console.Expect = expect
	ginkgo.ReportAfterEach(func(spec types.SpecReport) {
		if rf.dryRun && spec.LeafNodeType == types.NodeTypeIt && spec.State == types.SpecStatePassed {
			meta.Planned++
		}
		console.SpecDone(spec, rf.verbose)
	})

	meta.Start = time.Now()
	suite.Run(&runT{}, cfg, suiteConf, repConf) // the verdict comes from the result model
	meta.Duration = time.Since(meta.Start)

	ginkgoReports, err := reports.ReadGinkgoJSON(ginkgoJSON)
	if err != nil {
		fmt.Fprintf(stderr, "upspec run: read the report of the run: %v\n", err)
		return exitUsage
	}
	return finishRun(stdout, stderr, console, meta, ginkgoReports)
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
	rc.Verbose = rf.verbose
	rc.JSONReport = jsonPath // always: the result model is built from it
	return sc, rc
}

// runT is the GinkgoTestingT of the binary. Whether the run conforms is the result model's
// to say (KNOWN failures fail Ginkgo's suite but not the run), so Fail records nothing.
type runT struct{}

// Fail is called by Ginkgo when the suite failed.
func (*runT) Fail() {}

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
