// Package suite binds the scenarios of package scenarios to Ginkgo v2: one spec per scenario,
// labelled with its family and labels, bounded by a spec timeout, its Result attached to the
// spec's report. The same specs run three ways:
//
//	go test ./suite -count=1 -args --target=URL
//	go tool ginkgo run [-p] [--label-filter=EXPR] ./suite -- --target=URL
//	upspec run --target URL
//
// Without a target the suite starts the in-process reference server (package fakeserver) and
// runs against it, so a plain `go test ./...` checks the reference server against every
// scenario.
//
// # Process-wide state
//
// Ginkgo keeps one global tree of specs per process and runs it once (a second RunSpecs exits
// the process). This package adds no state of its own at package level: Run registers the
// specs into Ginkgo's global tree, with closures over one run value that holds the Config,
// the configuration resolved by the suite setup, and (on parallel process 1 only) the embedded
// reference server and the harness backend. Hence Run may be called once per process, and the
// specs exist only in a process that calls it.
//
// # The harness backend
//
// With --backend-listen ADDR the suite starts the harness backend (scenarios.Backend) on ADDR;
// the deployment's upload_pass points at http://ADDR/. It answers every completed file with
// 200 `completed` and keeps the form, which the backend scenarios (BK) check. The embedded
// reference server always hands its completed files to a harness backend (on ADDR, or on a free
// loopback port) and still serves them under /file/ for the byte checks. With `ginkgo -p` the
// other processes read the forms from process 1's backend over HTTP.
package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	gtypes "github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/upspec/upspec/fakeserver"
	fstus "github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	expectations "github.com/upspec/upspec/scenarios/expect"
)

// Description is the name of the suite in Ginkgo's output and reports.
const Description = "upspec conformance suite"

// setupTimeout bounds the suite setup: resolving the flags, starting the embedded server or
// the preflight of the target (PreflightTimeout).
const setupTimeout = 15 * time.Second

// Run registers the specs of every scenario (scenarios.All()) and the suite setup in Ginkgo's
// global tree, registers Gomega's fail handler and runs the specs with RunSpecs. args are passed
// to RunSpecs: a types.SuiteConfig, a types.ReporterConfig, suite Labels, AroundNode... It
// returns whether the suite passed. Call it once per process, after the flags bound to cfg have
// been parsed: cfg.SpecTimeout is read here, the other fields in the suite setup.
//
// A JUnit report asked of Ginkgo (--junit-report, -ginkgo.junit-report, or a ReporterConfig in
// args) is written by the suite from the result model (reports.WriteJUnit) in place of
// Ginkgo's own, so that `go test`, `ginkgo run` and `upspec run` write the same test cases
// (`[It] <ID> <Title>`, no labels, no report entries) with the same failures.
func Run(t ginkgo.GinkgoTestingT, cfg *Config, args ...any) bool {
	gomega.RegisterFailHandler(ginkgo.Fail)
	args, junit := takeJUnit(args)
	register(cfg)
	if junit != "" {
		ginkgo.ReportAfterSuite("upspec JUnit report", func(rep ginkgo.Report) { writeJUnit(junit, rep, cfg) })
	}
	return ginkgo.RunSpecs(t, Description, args...)
}

// takeJUnit removes the JUnit report from the reporter configuration (the one in args, else
// Ginkgo's from its flags, then added to args) and returns its path, "" when none was asked.
func takeJUnit(args []any) ([]any, string) {
	for i, a := range args {
		if rc, ok := a.(gtypes.ReporterConfig); ok {
			path := rc.JUnitReport
			rc.JUnitReport = ""
			out := slices.Clone(args)
			out[i] = rc
			return out, path
		}
	}
	_, rc := ginkgo.GinkgoConfiguration()
	if rc.JUnitReport == "" {
		return args, ""
	}
	path := rc.JUnitReport
	rc.JUnitReport = ""
	return append(slices.Clone(args), rc), path
}

// writeJUnit writes the JUnit report of the suite's run (on process 1, with every process's
// specs) from the result model. Like Ginkgo, it creates the report's directory: the ginkgo
// CLI hands the suite a path of its own under the suite's directory and merges it into the
// path asked for.
func writeJUnit(path string, rep ginkgo.Report, cfg *Config) {
	run, err := resultModel(rep, cfg, nil)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = reports.WriteJUnitFile(path, run)
	}
	if err != nil {
		ginkgo.Fail(fmt.Sprintf("upspec: JUnit report %s: %v", path, err))
	}
}

// run is the state of one run of the suite in one process.
type run struct {
	cfg     *Config
	sc      scenarios.Config         // resolved by the setup node of this process
	ready   bool                     // sc holds a resolved configuration
	server  *fakeserver.Server       // the embedded reference server (process 1 only)
	tus     *fstus.Server            // the embedded reference tus server (process 1 only)
	backend *scenarios.BackendServer // the harness backend (process 1 only)
	planned int                      // scenarios the selection runs (process 1 only)
	control control                  // the run's deadline and early stop
	expect  *expectations.List       // --expect, applied to the specs' outcomes
	stale   []string                 // scenarios of this process that --expect lists and that passed
}

// ginkgoMargin is how long before Ginkgo's own suite time-out the run's deadline falls: the
// grace of a scenario that overruns, and the teardown.
const ginkgoMargin = 30 * time.Second

// plan is the ReportBeforeSuite node (process 1): it keeps how many scenarios the selection
// runs, and fails the suite when that is none (a selection that matches nothing is a mistake,
// not a pass).
func (r *run) plan(rep ginkgo.Report) {
	r.planned = rep.PreRunStats.SpecsThatWillRun
	if r.planned == 0 && rep.PreRunStats.TotalSpecs > 0 {
		c := rep.SuiteConfig
		ginkgo.Fail(fmt.Sprintf("upspec: the selection matches no scenario (label filter %q, focus %q, skip %q)",
			c.LabelFilter, c.FocusStrings, c.SkipStrings))
	}
}

// setupData is what the setup on process 1 hands to every process: the run's description and
// the deadline of the run.
type setupData struct {
	Info     result.RunInfo `json:"info"`
	Deadline time.Time      `json:"deadline"`
	Limit    time.Duration  `json:"limit"`
}

// register adds the suite setup, teardown and one It per scenario to Ginkgo's tree.
func register(cfg *Config) {
	r := &run{cfg: cfg}
	ginkgo.ReportBeforeSuite(r.plan)
	ginkgo.SynchronizedBeforeSuite(r.setupFirst, r.setupAll, ginkgo.NodeTimeout(setupTimeout))
	ginkgo.SynchronizedAfterSuite(r.finishAll, r.teardown)
	if cfg.writesReports() {
		ginkgo.ReportAfterSuite("upspec reports", r.writeReports)
	}
	timeout := cfg.SpecTimeout
	if timeout <= 0 { // rejected by Resolve in the setup; keep the tree buildable
		timeout = DefaultSpecTimeout
	}
	for _, s := range cfg.Scenarios() {
		labels := append([]string{result.IDLabel(s.ID)}, s.AllLabels()...)
		ginkgo.It(SpecText(s), ginkgo.Label(labels...), ginkgo.SpecTimeout(timeout),
			func(ctx ginkgo.SpecContext) { r.runScenario(ctx, s) })
	}
	if cfg.Random > 0 {
		r.registerRandom()
	}
}

// SpecText is the text of the spec of a scenario: "<ID> <Title>". Readers of the reports
// identify the spec by its label result.IDLabel(ID), never by this text.
func SpecText(s scenarios.Scenario) string {
	return s.ID + " " + s.Title
}

// setupFirst runs on process 1 only: it resolves the flags, starts the harness backend (on
// --backend-listen, or on a free port for the embedded server), then starts the embedded
// reference server when there is no target, or checks that the target can be reached. Its
// answer (a result.RunInfo as JSON) goes to setupAll on every process.
func (r *run) setupFirst(ctx ginkgo.SpecContext) []byte {
	sc, err := r.cfg.Resolve()
	if err != nil {
		ginkgo.Fail("upspec setup: " + err.Error())
	}
	info := result.RunInfo{RunID: sc.RunID, Strict: sc.Strict, FileURL: sc.FileURL, FinalStatus: sc.FinalStatus, FinalBody: sc.FinalBody}
	if r.cfg.protocolName() == ProtocolTus {
		return r.encodeSetup(r.setupTus(ctx, sc, info)) // protocol.go
	}
	if r.cfg.BackendURL != "" && sc.Target != nil {
		// A running `upspec backend`: every process reads its forms over HTTP.
		info.Backend = strings.TrimSuffix(r.cfg.BackendURL, "/")
		if info.FinalStatus == 0 && info.FinalBody == "" {
			info.FinalStatus, info.FinalBody = scenarios.BackendStatus, scenarios.BackendBody
		}
	} else if r.cfg.BackendListen != "" || sc.Target == nil {
		b, err := scenarios.StartBackend(r.cfg.BackendListen)
		if err != nil {
			hint := ""
			if r.cfg.BackendListen != "" {
				hint = "; check --backend-listen (a free host:port of this machine)"
			}
			ginkgo.Fail(fmt.Sprintf("upspec setup: start the harness backend: %v%s", err, hint))
		}
		r.backend = b
		info.Backend = b.URL
		// The deployment's backend is the harness backend: its answer to a completion, unless
		// the flags say otherwise.
		if info.FinalStatus == 0 && info.FinalBody == "" {
			info.FinalStatus, info.FinalBody = scenarios.BackendStatus, scenarios.BackendBody
		}
	}
	if sc.Target == nil {
		// The embedded reference server hands completed files to the harness backend (so the
		// backend scenarios run) and keeps serving them under /file/ for the byte checks.
		srv, err := fakeserver.NewServer(fakeserver.Options{UploadPass: r.backend.URL + "/"})
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("upspec setup: start the embedded reference server: %v", err))
		}
		r.server = srv
		info.Target = srv.UploadURL()
		info.Embedded = true
		if info.FileURL == "" {
			info.FileURL = strings.TrimSuffix(srv.URL, "/") + fakeserver.DefaultFilePrefix + "{name}"
		}
	} else {
		if !r.cfg.NoPreflight {
			if err := Preflight(ctx, sc, 0); err != nil {
				ginkgo.Fail("upspec setup: " + err.Error() + " (--no-preflight skips this check)")
			}
		}
		info.Target = sc.Target.String()
	}
	return r.encodeSetup(info)
}

// encodeSetup gives what setupFirst hands to every process: the run info and the run's deadline.
func (r *run) encodeSetup(info result.RunInfo) []byte {
	limit := r.cfg.Timeout
	if limit <= 0 {
		limit = r.cfg.RunBound(r.planned)
	}
	if gsc, _ := ginkgo.GinkgoConfiguration(); gsc.Timeout > 0 && gsc.Timeout-ginkgoMargin < limit {
		// End before Ginkgo's own suite time-out (go test's -timeout, ginkgo's --timeout), so
		// that the run accounts for the scenarios it could not start.
		limit = max(gsc.Timeout-ginkgoMargin, time.Second)
	}
	data, err := json.Marshal(setupData{Info: info, Deadline: time.Now().Add(limit), Limit: limit})
	if err != nil {
		ginkgo.Fail(fmt.Sprintf("upspec setup: encode run info: %v", err))
	}
	return data
}

// setupAll runs on every process with the result.RunInfo of process 1 and resolves this process's
// configuration from it.
func (r *run) setupAll(_ ginkgo.SpecContext, data []byte) {
	var setup setupData
	if err := json.Unmarshal(data, &setup); err != nil {
		ginkgo.Fail(fmt.Sprintf("upspec setup: decode run info: %v", err))
	}
	info := setup.Info
	c := *r.cfg
	c.Target, c.RunID = info.Target, info.RunID
	c.FileURL, c.FinalStatus, c.FinalBody = info.FileURL, info.FinalStatus, info.FinalBody
	sc, err := c.Resolve()
	if err != nil {
		ginkgo.Fail("upspec setup: " + err.Error())
	}
	switch {
	case r.backend != nil: // process 1 reads its own backend
		sc.Backend = r.backend
	case info.Backend != "": // the other processes read it over HTTP
		sc.Backend = scenarios.NewRemoteBackend(info.Backend, sc.RequestTimeout)
	}
	if r.cfg.Expect != "" {
		e, err := r.cfg.LoadExpectations(r.cfg.Expect)
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("upspec setup: --expect: %v", err))
		}
		r.expect = e
	}
	r.control.start(setup.Deadline, setup.Limit)
	if sc.Target != nil {
		probe := sc
		proc := ginkgo.GinkgoParallelProcess() // session IDs unique across the processes of a run
		r.control.alive = func(ctx context.Context, seq int) error { return Preflight(ctx, probe, proc*1000+seq) }
		if r.cfg.protocolName() == ProtocolTus {
			r.control.alive = func(ctx context.Context, _ int) error { return PreflightTus(ctx, probe) }
		}
	}
	r.sc, r.ready = sc, true
	ginkgo.AddReportEntry(result.SetupEntryName, info, ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// finishAll runs on every process after its last scenario: a run that stopped early, or
// scenarios that --expect lists and that passed (STALE), fail the suite.
func (r *run) finishAll() {
	var errs []string
	if reason, n := r.control.stop(); n > 0 {
		errs = append(errs, fmt.Sprintf("%s%s; %d scenarios not run", runEndedEarly, reason, n))
	}
	if len(r.stale) > 0 {
		errs = append(errs, fmt.Sprintf("%s%d expected deviations of %s did not occur (STALE: %s); update the list",
			staleDeviations, len(r.stale), r.expect.Name, strings.Join(r.stale, ", ")))
	}
	if len(errs) > 0 {
		ginkgo.Fail(strings.Join(errs, "; "))
	}
}

// teardown runs on process 1 after every process has finished: it stops the embedded server,
// then the harness backend it hands files to.
func (r *run) teardown() {
	var errs []string
	if r.tus != nil {
		if err := r.tus.Close(); err != nil {
			errs = append(errs, fmt.Sprintf("stop the embedded reference tus server: %v", err))
		}
		r.tus = nil
	}
	if r.server != nil {
		if err := r.server.Close(); err != nil {
			errs = append(errs, fmt.Sprintf("stop the embedded reference server: %v", err))
		}
		r.server = nil
	}
	if r.backend != nil {
		if err := r.backend.Close(); err != nil {
			errs = append(errs, fmt.Sprintf("stop the harness backend: %v", err))
		}
		r.backend = nil
	}
	if len(errs) > 0 {
		ginkgo.Fail("upspec teardown: " + strings.Join(errs, "; "))
	}
}

// runScenario is the body of the spec of s: run it, attach the Result, map the verdict.
func (r *run) runScenario(ctx context.Context, s scenarios.Scenario) {
	if !r.ready {
		ginkgo.Fail("upspec: the suite setup did not resolve a configuration")
	}
	if reason := r.control.admit(); reason != "" {
		ginkgo.AddReportEntry(result.EntryName, resultEntry{Result: NotRunResult(s.ID, reason)}, ginkgo.ReportEntryVisibilityNever)
		ginkgo.Skip("not run: " + reason)
	}
	bounded, cancel := r.control.bound(ctx)
	res := scenarios.Run(bounded, r.sc, s)
	cutShort := bounded.Err() != nil && ctx.Err() == nil
	cancel()
	interrupted := ctx.Err() != nil && !strings.Contains(context.Cause(ctx).Error(), "timeout")
	if cutShort || interrupted {
		// The run's deadline or an interrupt, not the target, ended the scenario.
		reason := r.control.cutShort()
		if interrupted {
			reason = "the run was interrupted during the scenario"
		}
		ginkgo.AddReportEntry(result.EntryName, resultEntry{Result: NotRunResult(s.ID, reason)}, ginkgo.ReportEntryVisibilityNever)
		ginkgo.Skip("not run: " + reason)
	}
	r.control.finish(ctx, res)
	_, rc := ginkgo.GinkgoConfiguration()
	verbose := rc.Verbose || rc.VeryVerbose
	// The console shows the entry: always for NON-STRICT and INFO (their findings and notes
	// are the point, and the spec passes); for FAIL only in verbose runs (the failure message
	// already lists the findings); else in verbose runs.
	visibility := ginkgo.ReportEntryVisibilityFailureOrVerbose
	switch {
	case res.Verdict == result.NonStrict || res.Verdict == result.Info:
		visibility = ginkgo.ReportEntryVisibilityAlways
	case res.Verdict == result.Fail && !verbose:
		visibility = ginkgo.ReportEntryVisibilityNever
	}
	ginkgo.AddReportEntry(result.EntryName, resultEntry{Result: res, exchanges: verbose}, visibility)
	if res.Verdict == result.Skipped {
		ginkgo.Skip(res.SkipReason)
	}
	switch out, _ := r.expect.Classify(res.ScenarioID, res.Verdict); out {
	case result.Known:
		return // an expected deviation: the spec passes, its result says KNOWN
	case result.Stale:
		r.stale = append(r.stale, s.ID) // fails the suite (finishAll), not the spec: its result says what it did
		return
	}
	gomega.Expect(res).To(conform(s))
}

// conform is the spec's assertion on its scenario's result: the verdict is not FAIL (nor
// ERROR, an engine error). Its
// failure message is FailureMessage, one block per finding, each naming its clause.
func conform(s scenarios.Scenario) types.GomegaMatcher { return conformMatcher{s} }

type conformMatcher struct{ s scenarios.Scenario }

// Match implements types.GomegaMatcher for a scenarios.Result.
func (m conformMatcher) Match(actual any) (bool, error) {
	res, ok := actual.(scenarios.Result)
	if !ok {
		return false, fmt.Errorf("conform: want a scenarios.Result, got %T", actual)
	}
	return res.Verdict != result.Fail && res.Verdict != result.Error, nil
}

// FailureMessage implements types.GomegaMatcher.
func (m conformMatcher) FailureMessage(actual any) string {
	res, _ := actual.(scenarios.Result)
	return FailureMessage(m.s, res)
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m conformMatcher) NegatedFailureMessage(actual any) string {
	res, _ := actual.(scenarios.Result)
	return fmt.Sprintf("%s %s: %s, expected FAIL", m.s.ID, m.s.Title, res.Verdict)
}

// resultEntry is the value of a result.EntryName report entry: a scenarios.Result (its JSON is the
// Result's own) whose String is a summary for the console.
type resultEntry struct {
	scenarios.Result
	exchanges bool // String lists the exchanges too (verbose runs)
}

// String summarises the result: verdict, findings, notes, skip reason and, in verbose runs,
// one line per exchange.
func (e resultEntry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s)", e.Verdict, e.ScenarioID, e.Duration.Round(time.Millisecond))
	for _, f := range e.Findings {
		b.WriteString("\n")
		writeFinding(&b, f)
	}
	for _, n := range e.Notes {
		b.WriteString("\nnote: " + n)
	}
	if e.SkipReason != "" {
		b.WriteString("\nskipped: " + e.SkipReason)
	}
	if e.exchanges {
		for _, x := range e.Exchanges {
			b.WriteString("\n" + exchangeLine(x))
		}
	}
	return b.String()
}

// exchangeLine describes one exchange in a line: step, request line, range and session
// headers, and how it ended.
func exchangeLine(x result.Exchange) string {
	var b strings.Builder
	b.WriteString("> ")
	if x.Step != "" {
		b.WriteString(x.Step + ": ")
	}
	b.WriteString(x.Request.Method + " " + x.Request.Target)
	for _, h := range x.Request.Headers {
		switch strings.ToLower(h.Name) {
		case "content-range", "x-content-range", "session-id", "x-session-id":
			fmt.Fprintf(&b, " [%s: %s]", h.Name, h.Value)
		}
	}
	if x.Request.BodyLen >= 0 && x.Request.BodySent != x.Request.BodyLen {
		fmt.Fprintf(&b, " (body %d of %d bytes)", x.Request.BodySent, x.Request.BodyLen)
	}
	fmt.Fprintf(&b, " → %s (%s)", x.Describe(), x.Duration.Round(10*time.Microsecond))
	return b.String()
}

// FailureMessage is the message of a failed scenario: one block per finding with the clause,
// its level, the requirement, expected and got.
func FailureMessage(s scenarios.Scenario, res scenarios.Result) string {
	var b strings.Builder
	n := len(res.Findings)
	fmt.Fprintf(&b, "%s %s: %s, %d finding", s.ID, s.Title, res.Verdict, n)
	if n != 1 {
		b.WriteString("s")
	}
	for _, f := range res.Findings {
		b.WriteString("\n\n")
		writeFinding(&b, f)
	}
	return b.String()
}

// writeFinding writes one finding: its message when it has one (scenarios writes the clause,
// level, title, requirement, expected, got and step), else the same from its fields.
func writeFinding(b *strings.Builder, f result.Finding) {
	if f.Message != "" {
		b.WriteString(f.Message)
		return
	}
	fmt.Fprintf(b, "%s (%s)", f.Clause, f.Level)
	if f.Requirement != "" {
		b.WriteString("\n  " + f.Requirement)
	}
	if f.Expected != "" {
		b.WriteString("\n  Expected: " + f.Expected)
	}
	if f.Got != "" {
		b.WriteString("\n  Got: " + f.Got)
	}
}
