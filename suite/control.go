package suite

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// Bounds of a run.
const (
	// MaxFittedTimeout caps the bound on a whole run that is fitted to the selection
	// (FitTimeout); --timeout sets another bound.
	MaxFittedTimeout = 10 * time.Minute
	// StopAfter is how many scenarios in a row may fail without a single answer of the target
	// (time-outs, closed or refused connections) before the run checks with a fresh segment
	// whether the target still answers, and stops when it does not.
	StopAfter = 2
)

// The failures of the suite's teardown that the scenarios' results say too: scenarios that
// did not run, and expected deviations that did not occur (STALE).
const (
	runEndedEarly   = "upspec: the run did not complete: "
	staleDeviations = "upspec: the expected deviations are out of date: "
)

// DropAccountedErrors removes from run's suite errors the ones its scenarios already account
// for: the failure of the teardown (the NOT-RUN and STALE scenarios say it) and Ginkgo's
// interrupt (the NOT-RUN scenarios say it). They are no engine errors: the harness did what it was told.
func DropAccountedErrors(run *reports.Run) {
	kept := run.SuiteErrors[:0]
	for _, e := range run.SuiteErrors {
		if strings.Contains(e, runEndedEarly) || strings.Contains(e, staleDeviations) || strings.HasPrefix(e, "Interrupted by User") {
			continue
		}
		kept = append(kept, e)
	}
	run.SuiteErrors = kept
}

// FitTimeout is the bound on a run of n scenarios of at most specTimeout each: n ×
// specTimeout, at most MaxFittedTimeout, at least one specTimeout.
func FitTimeout(n int, specTimeout time.Duration) time.Duration {
	d := time.Duration(max(n, 1)) * specTimeout
	if d > MaxFittedTimeout || d <= 0 {
		d = MaxFittedTimeout
	}
	return max(d, specTimeout)
}

// control is the run control of one process: the run's deadline, the early stop when the
// target stops answering, and the count of the scenarios that did not run.
type control struct {
	mu       sync.Mutex
	deadline time.Time     // zero: none
	limit    time.Duration // the bound the deadline came from, for the messages
	silent   int           // scenarios in a row that failed without an answer
	stopped  string        // why the run stopped; "" while it goes on
	notRun   int
	probes   int
	// alive checks, after StopAfter silent scenarios, whether the target still answers.
	alive func(ctx context.Context, seq int) error
}

// start arms the deadline of the run.
func (c *control) start(deadline time.Time, limit time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline, c.limit = deadline, limit
}

// admit returns "" when a scenario may start, else why it is not run (and counts it).
func (c *control) admit() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	reason := c.stopped
	if reason == "" && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		reason = c.timeUp()
	}
	if reason != "" {
		c.notRun++
	}
	return reason
}

func (c *control) timeUp() string {
	return fmt.Sprintf("the run's time limit of %s ran out (--timeout)", c.limit)
}

// bound returns ctx bounded by the run's deadline too.
func (c *control) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	c.mu.Lock()
	deadline := c.deadline
	c.mu.Unlock()
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline)
}

// cutShort records a scenario that the run's deadline (or an interrupt) ended, and returns
// why.
func (c *control) cutShort() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notRun++
	return c.timeUp() + duringScenario
}

// duringScenario ends the reason of a scenario that the run's deadline cut short.
const duringScenario = " during the scenario"

// RunStopReason returns the run-level reason behind the skip reason of one NOT-RUN scenario:
// without the "not run: " of the skip and without the " during the scenario" of the scenario
// that the run's deadline cut short, so that a cut-short scenario and the scenarios never
// started give one reason for the run.
func RunStopReason(skipReason string) string {
	return strings.TrimSuffix(strings.TrimPrefix(skipReason, "not run: "), duringScenario)
}

// finish records the result of a scenario that ran: StopAfter failures in a row without any
// answer of the target make it check with a fresh segment whether the target still answers,
// and stop the run when it does not.
func (c *control) finish(ctx context.Context, res scenarios.Result) {
	c.mu.Lock()
	if !noAnswer(res) {
		c.silent = 0
		c.mu.Unlock()
		return
	}
	c.silent++
	if c.silent < StopAfter || c.alive == nil || c.stopped != "" {
		c.mu.Unlock()
		return
	}
	c.probes++
	seq, n := c.probes, c.silent
	c.mu.Unlock()

	err := c.alive(context.WithoutCancel(ctx), seq)
	c.mu.Lock()
	defer c.mu.Unlock()
	var pe *PreflightError
	if err == nil || (errors.As(err, &pe) && answered(pe.Class)) {
		c.silent = 0 // it answers: the failures are findings, not silence
		return
	}
	c.stopped = fmt.Sprintf("the target stopped answering: %d scenarios in a row got no answer, and a fresh preflight request got none either (%s)",
		n, strings.TrimPrefix(err.Error(), "preflight: "))
}

// stop returns why the run stopped early (the target stopped answering, or the time limit ran
// out) and how many scenarios were not run; "" when every scenario ran.
func (c *control) stop() (reason string, notRun int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.notRun == 0 {
		return "", 0
	}
	if c.stopped != "" {
		return c.stopped, c.notRun
	}
	return c.timeUp(), c.notRun
}

// answered reports whether a failed preflight of that class got an HTTP answer.
func answered(class PreflightClass) bool {
	switch class {
	case PreflightRefused, PreflightUnreachable, PreflightNoAnswer, PreflightClosed, PreflightTLS, PreflightMalformed:
		return false
	}
	return true
}

// noAnswer reports whether a scenario that did not pass got no single answer of the target:
// every one of its exchanges timed out, was closed or reset, or could not connect. (An INFO
// or NON-STRICT scenario counts too: a target that closes on what it dislikes still answers
// the check that follows.)
func noAnswer(res scenarios.Result) bool {
	if res.Verdict == result.Pass || res.Verdict == result.Skipped || len(res.Exchanges) == 0 {
		return false
	}
	for _, x := range res.Exchanges {
		switch x.Outcome {
		case result.OutcomeTimeout, result.OutcomeClosed, result.OutcomeReset, result.OutcomeError:
		default:
			return false
		}
	}
	return true
}

// NotRunResult is the result of a scenario that did not run, and why.
func NotRunResult(id, reason string) scenarios.Result {
	return scenarios.Result{ScenarioID: id, Verdict: result.NotRun, SkipReason: reason}
}

// AccountNotRun gives every selected scenario of reps that did not run a result: NOT-RUN,
// with the reason the run ended early (an interrupt, the suite time-out of Ginkgo, --fail-fast,
// a failed setup). Ginkgo reports such specs as skipped without a message, as it does the
// specs the selection leaves out; the selection (label filter, focus, skip of the report's
// suite configuration) tells them apart. It returns how many it marked, and the reason.
func AccountNotRun(reps []types.Report) (n int, reason string) {
	for ri := range reps {
		rep := &reps[ri]
		reason = whyNotRun(*rep)
		sel, err := newSelection(rep.SuiteDescription, rep.SuiteConfig)
		if err != nil {
			continue
		}
		for i := range rep.SpecReports {
			spec := &rep.SpecReports[i]
			if spec.LeafNodeType != types.NodeTypeIt || !spec.State.Is(types.SpecStateSkipped) ||
				strings.TrimSpace(spec.Failure.Message) != "" || hasEntry(*spec, result.EntryName) || !sel.selects(*spec) {
				continue
			}
			id, ok := result.IDFromLabels(spec.Labels())
			if !ok {
				continue
			}
			spec.ReportEntries = append(spec.ReportEntries, types.ReportEntry{
				Name:  result.EntryName,
				Value: types.WrapEntryValue(NotRunResult(id, reason)),
			})
			n++
		}
	}
	return n, reason
}

// whyNotRun says why selected specs of rep did not run.
func whyNotRun(rep types.Report) string {
	for _, r := range rep.SpecialSuiteFailureReasons {
		switch {
		case strings.Contains(r, "Interrupted"):
			return "the run was interrupted (" + strings.SplitN(r, "\n", 2)[0] + ")"
		case strings.Contains(r, "Timeout"):
			return fmt.Sprintf("the suite time-out of %s ran out", rep.SuiteConfig.Timeout)
		}
	}
	for _, spec := range rep.SpecReports {
		if spec.LeafNodeType.Is(types.NodeTypeBeforeSuite|types.NodeTypeSynchronizedBeforeSuite) && spec.State.Is(types.SpecStateFailureStates) {
			return "the suite setup failed"
		}
	}
	if rep.SuiteConfig.FailFast {
		return "--fail-fast: the run stopped after the first failure"
	}
	return "the run stopped early"
}

func hasEntry(spec types.SpecReport, name string) bool {
	for _, e := range spec.ReportEntries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// selection is Ginkgo's selection of specs by label filter, focus and skip expressions.
type selection struct {
	description string
	labels      types.LabelFilter
	focus, skip *regexp.Regexp
}

func newSelection(description string, sc types.SuiteConfig) (selection, error) {
	s := selection{description: description}
	if sc.LabelFilter != "" {
		f, err := types.ParseLabelFilter(sc.LabelFilter)
		if err != nil {
			return s, err
		}
		s.labels = f
	}
	var err error
	if len(sc.FocusStrings) > 0 {
		if s.focus, err = regexp.Compile(strings.Join(sc.FocusStrings, "|")); err != nil {
			return s, err
		}
	}
	if len(sc.SkipStrings) > 0 {
		if s.skip, err = regexp.Compile(strings.Join(sc.SkipStrings, "|")); err != nil {
			return s, err
		}
	}
	if len(sc.FocusFiles)+len(sc.SkipFiles) > 0 || sc.SemVerFilter != "" {
		return s, errors.New("file and version filters are not replayed")
	}
	return s, nil
}

// selects reports whether the selection runs spec, as Ginkgo decides it (internal/focus.go).
func (s selection) selects(spec types.SpecReport) bool {
	if s.labels != nil && !s.labels(spec.Labels()) {
		return false
	}
	text := s.description + " " + spec.FullText()
	if s.focus != nil && !s.focus.MatchString(text) {
		return false
	}
	return s.skip == nil || !s.skip.MatchString(text)
}
