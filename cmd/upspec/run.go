package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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
	// specGracePeriod is how long a scenario that overran its spec timeout may take to return.
	specGracePeriod = 5 * time.Second
	// defaultReproDir is where reproducers go unless --repro-dir says otherwise.
	defaultReproDir = "upspec-repro"
	// ginkgoTimeoutMargin is how much longer than the run's own bound (--timeout, or the bound
	// fitted to the selection) Ginkgo's suite time-out is: the run's control ends the run
	// first and accounts for every scenario; Ginkgo's time-out is a backstop.
	ginkgoTimeoutMargin = 2 * time.Minute
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

Before any scenario, a preflight sends one segment of a fresh session and wants a 201: a
target that refuses, never answers, fails the TLS handshake, redirects, is no upload endpoint
(404, 405, 501), takes no segment that large (413) or answers 200 to a partial segment is a
setup error, named in one line, within seconds (--no-preflight skips it). The run is bounded
(--timeout; by default --spec-timeout per selected scenario, at most 10 minutes), and stops
early when the target stops answering (2 scenarios in a row without an answer, and a fresh
segment without one either). A scenario that did not run is counted as not run, with the
reason. On a terminal each line starts with its place in the run, [n/N].

Every flag has an environment variable, used when the flag is not given: UPSPEC_ and the
name in capitals with _ for -, e.g. UPSPEC_TARGET, UPSPEC_EXPECT, UPSPEC_LABEL_FILTER
(repeatable flags: one value per line). go test ./suite -args and ginkgo run ./suite -- take
the same flags and variables.

Exit status: 0 conforming, 1 not conforming (a scenario failed, or a STALE entry), 2 usage or
setup error (the preflight failed, the selection matches no scenario, the target stopped
answering or the time limit ran out before every scenario ran), or an engine error (the
harness itself failed: a panic in a scenario, a broken harness backend; no verdict on the
target), 130 interrupted (Ctrl-C, SIGINT or SIGTERM: the reports hold what ran).

Flags:
`

// runFlags are the flags of `upspec run` that are neither suite flags nor Ginkgo's.
type runFlags struct {
	seed    int64
	verbose bool
	noColor bool
}

// runMain is `upspec run`.
func runMain(args []string, stdout, stderr io.Writer) int {
	cfg := suite.NewConfig()
	cfg.ReproDir = defaultReproDir
	var rf runFlags
	suiteConf, repConf := types.NewDefaultSuiteConfig(), types.NewDefaultReporterConfig()

	fs := pflag.NewFlagSet("upspec run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	cfg.RegisterFlags(fs)
	suite.RegisterGinkgoFlags(fs, &suiteConf, &repConf)
	fs.BoolVarP(&rf.verbose, "verbose", "v", false, "print every scenario and its exchanges as it runs")
	fs.BoolVar(&rf.noColor, "no-color", false, "no colours in the output (also when NO_COLOR is set)")
	suite.BindEnv(fs, "verbose", "no-color")
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
	if err := suite.ApplyEnv(fs, os.LookupEnv); err != nil {
		return usageError(stderr, "%v", err)
	}
	rf.seed = cfg.Seed // --seed is a suite flag: the scenario order and the random schedules
	if os.Getenv("NO_COLOR") != "" {
		rf.noColor = true
	}
	if rf.noColor {
		formatter.SingletonFormatter.ColorMode = formatter.ColorModeNone
	}

	// Usage errors: everything Ginkgo would otherwise answer with its own exit status.
	if suiteConf.LabelFilter != "" {
		if _, err := types.ParseLabelFilter(suiteConf.LabelFilter); err != nil {
			return usageErrorf(stderr, "--label-filter %q: %s; combine labels with &&, || and !, e.g. 'range-strings && !slow'",
				suiteConf.LabelFilter, ginkgoErrorLine(err))
		}
	}
	for _, flag := range []struct {
		name string
		res  []string
	}{{"--focus", suiteConf.FocusStrings}, {"--skip", suiteConf.SkipStrings}} {
		for _, re := range flag.res {
			if _, err := regexp.Compile(re); err != nil {
				return usageErrorf(stderr, "%s %q: %v; give a regular expression over the scenario ID and title", flag.name, re, err)
			}
		}
	}
	if err := suite.CheckOutputPath("--junit-report", repConf.JUnitReport); err != nil {
		return usageErrorf(stderr, "%v", err)
	}
	sc, err := cfg.Resolve() // fills cfg.RunID: the suite then uses the same run ID
	if err != nil {
		return usageErrorf(stderr, "%v; run 'upspec run --help' for the flags", err)
	}
	expect, err := loadExpect(cfg.Expect, cfg)
	if err != nil {
		return usageErrorf(stderr, "%v; give an expectations file or the name of a built-in list", err)
	}
	// The preflight: one segment of a fresh session, or for tus an OPTIONS request.
	if sc.Target != nil && !suiteConf.DryRun && !cfg.NoPreflight {
		preflight := func() error { return suite.Preflight(context.Background(), sc, 0) }
		if cfg.Protocol == suite.ProtocolTus {
			preflight = func() error { return suite.PreflightTus(context.Background(), sc) }
		}
		if err := preflight(); err != nil {
			return usageErrorf(stderr, "%v (--no-preflight skips this check)", err)
		}
	}

	meta := runMeta{
		Target:      cfg.Target,
		Embedded:    sc.Target == nil,
		RunID:       sc.RunID,
		Strict:      sc.Strict,
		LabelFilter: suiteConf.LabelFilter,
		DryRun:      suiteConf.DryRun,
		Outputs: reports.Outputs{
			JSON:     cfg.JSONReport,
			HTML:     cfg.HTMLReport,
			ReproDir: cfg.ReproDir,
		},
		Markdown:  cfg.MarkdownReport,
		JUnit:     repConf.JUnitReport,
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

	ginkgoConfig(&suiteConf, &repConf, cfg, rf, ginkgoJSON)
	meta.Seed = suiteConf.RandomSeed
	cfg.Seed = suiteConf.RandomSeed // the random schedules use the seed the report names

	// Ginkgo's own console output is not shown: the run prints its lines from the result
	// model. Ginkgo writes to these writers (it has no other way to be told).
	formatter.ColorableStdErr = stderr
	formatter.ColorableStdOut = io.Discard
	console := reports.NewConsole(stdout, rf.noColor)
	console.Expect = expect
	progress := newProgress(stdout, isTerminal(stdout))
	ginkgo.ReportBeforeSuite(func(rep types.Report) { progress.total = rep.PreRunStats.SpecsThatWillRun })
	ginkgo.ReportAfterEach(func(spec types.SpecReport) {
		if suiteConf.DryRun && spec.LeafNodeType == types.NodeTypeIt && spec.State == types.SpecStatePassed {
			meta.Planned++
		}
		progress.spec(spec)
		console.SpecDone(spec, rf.verbose)
	})

	// The suite gets the run's configuration without what the command does itself: the
	// preflight (done above), the expectations and the reports (finishRun).
	suiteCfg := *cfg
	suiteCfg.NoPreflight = true
	suiteCfg.Expect, suiteCfg.JSONReport, suiteCfg.HTMLReport, suiteCfg.MarkdownReport, suiteCfg.ReproDir = "", "", "", "", ""

	meta.Start = time.Now()
	suite.Run(&runT{}, &suiteCfg, suiteConf, repConf) // the verdict comes from the result model
	meta.Duration = time.Since(meta.Start)

	ginkgoReports, err := reports.ReadGinkgoJSON(ginkgoJSON)
	if err != nil {
		fmt.Fprintf(stderr, "upspec run: read the report of the run: %v\n", err)
		return exitUsage
	}
	return finishRun(stdout, stderr, console, meta, ginkgoReports)
}

// ginkgoConfig completes Ginkgo's configuration (from Ginkgo's defaults and the flags bound
// to it: a zero SuiteConfig fails Ginkgo's checks). Runs are serial. Ginkgo's suite time-out
// is a backstop behind the run's own bound (cfg.Timeout, else the bound fitted to the
// selection, at most suite.MaxFittedTimeout).
func ginkgoConfig(sc *types.SuiteConfig, rc *types.ReporterConfig, cfg *suite.Config, rf runFlags, jsonPath string) {
	if rf.seed != 0 {
		sc.RandomSeed = rf.seed
	}
	limit := cfg.Timeout
	if limit <= 0 {
		limit = cfg.RunBound(1 << 20) // the largest bound the run can fit to its selection
	}
	sc.Timeout = limit + ginkgoTimeoutMargin
	sc.GracePeriod = specGracePeriod
	rc.NoColor = rf.noColor
	rc.Verbose = rf.verbose
	rc.JUnitReport = ""      // written by finishRun from the result model
	rc.JSONReport = jsonPath // always: the result model is built from it
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
