package scenarios

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onsi/gomega"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// Result is what running one scenario found, with the evidence.
type Result struct {
	ScenarioID string           `json:"scenario_id"`
	Title      string           `json:"title"`
	Family     string           `json:"family,omitempty"`
	Level      Level            `json:"level"`
	Clauses    []string         `json:"clauses"`
	Verdict    result.Verdict   `json:"verdict"`
	Duration   time.Duration    `json:"duration"` // nanoseconds in JSON
	Findings   []result.Finding `json:"findings"` // failed checks
	// Checked lists the clauses whose checks ran, passing or failing, in the order of their
	// first check; a scenario declares every one of them (Scenario.Clauses).
	Checked    []string          `json:"checked,omitempty"`
	Notes      []string          `json:"notes"` // observations (INFO)
	SkipReason string            `json:"skip_reason,omitempty"`
	Exchanges  []result.Exchange `json:"exchanges"`
}

// Message returns the findings' messages joined by blank lines ("" when there are none),
// or the skip reason for a skipped scenario.
func (r Result) Message() string {
	if r.Verdict == result.Skipped && len(r.Findings) == 0 {
		return "skipped: " + r.SkipReason
	}
	msgs := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		msgs[i] = f.Message
	}
	return strings.Join(msgs, "\n\n")
}

// T is the handle a scenario's steps run with: configuration, sessions, checks. Its methods
// may be called from several goroutines, except Fatal, FailNow and Skip, which stop the
// scenario and must be called from the goroutine that runs Scenario.Run.
type T struct {
	ctx      context.Context
	cfg      Config
	scenario Scenario

	mu         sync.Mutex
	findings   []result.Finding
	notes      []string
	exchanges  []result.Exchange
	skipped    bool
	skipReason string
	closed     bool // Run has returned: later records are dropped
	sessions   int
	formats    map[ranges.Format]bool // range list forms already noted
	checked    []clause.ID            // clauses whose checks ran, in order of the first
}

// NewT returns a T for running s's steps directly (Run uses it; tests may too). cfg should
// already have its defaults (Config.WithDefaults).
func NewT(ctx context.Context, cfg Config, s Scenario) *T {
	return &T{ctx: ctx, cfg: cfg, scenario: s}
}

// Context returns the scenario's context: it ends when the scenario's time is up.
func (t *T) Context() context.Context { return t.ctx }

// Config returns the run's configuration.
func (t *T) Config() Config { return t.cfg }

// Scenario returns the scenario being run.
func (t *T) Scenario() Scenario { return t.scenario }

// Note records an observation (shown with INFO results, and with every result in reports).
func (t *T) Note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.notes = append(t.notes, fmt.Sprintf(format, args...))
	}
}

// Check records that a check of clause id ran and, when ok is false, a finding saying what
// was expected and what came back. A failed check of an INFO clause is recorded as a note. It
// returns ok.
func (t *T) Check(id clause.ID, ok bool, expected, got string) bool {
	t.ran(id)
	if !ok {
		t.fail(id, expected, got, "")
	}
	return ok
}

// Fail records a finding for clause id (Check with ok = false).
func (t *T) Fail(id clause.ID, expected, got string) { t.fail(id, expected, got, "") }

// Require is Check followed by FailNow when the check failed.
func (t *T) Require(id clause.ID, ok bool, expected, got string) {
	if !t.Check(id, ok, expected, got) {
		t.FailNow()
	}
}

// Observe records that the scenario looked at what the server does for clause id (an INFO
// clause, or the observed half of a check) and notes it as "id: text".
func (t *T) Observe(id clause.ID, format string, args ...any) {
	t.ran(id)
	t.Note("%s: %s", id, fmt.Sprintf(format, args...))
}

// Expect starts a Gomega assertion that checks clause id: the check is recorded as run, and
// a failed assertion is a finding of the clause, whose message is the matcher's. A matcher of
// package match writes "Expected: ..." and "Got: ..." lines, which become the finding's
// Expected and Got. The assertion returns whether it held.
//
//	t.Expect(clause.RobMalformed4xx, a).To(match.BeRefusal())
func (t *T) Expect(id clause.ID, actual any, extra ...any) gomega.Assertion {
	t.ran(id)
	g := gomega.NewGomega(func(message string, _ ...int) {
		expected, got, rest := splitMatcherMessage(message)
		t.add(t.finding(id, expected, got, rest))
	})
	return g.Expect(actual, extra...)
}

// splitMatcherMessage takes the "Expected: " and "Got: " lines out of a matcher's message.
func splitMatcherMessage(msg string) (expected, got, rest string) {
	var keep []string
	for _, line := range strings.Split(msg, "\n") {
		switch {
		case expected == "" && strings.HasPrefix(line, "Expected: "):
			expected = strings.TrimPrefix(line, "Expected: ")
		case got == "" && strings.HasPrefix(line, "Got: "):
			got = strings.TrimPrefix(line, "Got: ")
		case strings.HasPrefix(line, "Clause: "):
			// the clause of the check is the caller's (T.Expect)
		default:
			keep = append(keep, line)
		}
	}
	return expected, got, strings.TrimSpace(strings.Join(keep, "\n"))
}

// Checked returns the clauses whose checks have run so far, in the order of their first check.
func (t *T) Checked() []clause.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.checked)
}

// ran records that a check of clause id ran; nothing once the scenario has returned.
func (t *T) ran(id clause.ID) {
	if id == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.checked = appendNew(t.checked, id)
	}
}

// Fatal records a failure of the scenario itself (no clause; at the scenario's level) and
// stops the scenario.
func (t *T) Fatal(format string, args ...any) {
	t.fail("", "", "", fmt.Sprintf(format, args...))
	t.FailNow()
}

// EngineError records a failure of the harness itself (not of the target: a broken harness
// backend, a step that cannot be carried out) and stops the scenario; its verdict is ERROR.
// It must be called from the scenario's goroutine.
func (t *T) EngineError(format string, args ...any) {
	t.add(result.Finding{Level: MUST, Engine: true, Message: "harness error: " + fmt.Sprintf(format, args...)})
	t.FailNow()
}

// FailNow stops the scenario; the verdict follows from what was recorded so far. It must be
// called from the scenario's goroutine.
func (t *T) FailNow() { runtime.Goexit() }

// Skip marks the scenario SKIPPED with the reason and stops it. It must be called from the
// scenario's goroutine.
func (t *T) Skip(reason string) {
	t.mu.Lock()
	if !t.closed && !t.skipped {
		t.skipped, t.skipReason = true, reason
	}
	t.mu.Unlock()
	runtime.Goexit()
}

// RequireLoopback skips the scenario when the target is not on a loopback address (a second
// source address such as 127.0.0.2 can then not reach it).
func (t *T) RequireLoopback() {
	if !t.cfg.Loopback {
		t.Skip("the target is not on a loopback address, so no second client address can be used")
	}
}

// Failed reports whether a finding has been recorded.
func (t *T) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.findings) > 0
}

// Findings returns a copy of the findings recorded so far.
func (t *T) Findings() []result.Finding {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]result.Finding(nil), t.findings...)
}

// Do sends a raw request (Config.Target unless req.URL is set), records the exchange and
// returns it as an Answer. Model checks are not applied; use a Session for segments.
func (t *T) Do(req wire.Request) Answer {
	ex := t.cfg.Client().Do(t.ctx, req)
	t.record(ex)
	return newAnswer(ex)
}

// record keeps an exchange for the result.
func (t *T) record(ex result.Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.exchanges = append(t.exchanges, ex)
	}
}

// fail records a check of clause id and its finding; id "" is a failure of the scenario
// itself at its level.
func (t *T) fail(id clause.ID, expected, got, message string) {
	t.ran(id)
	t.add(t.finding(id, expected, got, message))
}

// add keeps a finding, or its message as a note when its level is INFO; nothing once the
// scenario has returned.
func (t *T) add(f result.Finding) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if f.Level == INFO {
		t.notes = append(t.notes, f.Message)
		return
	}
	t.findings = append(t.findings, f)
}

// finding builds a finding with an h2spec-like message: the clause and its requirement,
// then Expected and Got.
func (t *T) finding(id clause.ID, expected, got, message string) result.Finding {
	f := result.Finding{Clause: string(id), Expected: expected, Got: got}
	var b strings.Builder
	if id == "" {
		f.Level = t.scenario.Level()
		b.WriteString(message)
	} else {
		c, ok := t.scenario.Clause(string(id))
		if ok {
			f.Level, f.Requirement = c.Level, c.Text
			fmt.Fprintf(&b, "%s (%s): %s\n  %s", id, c.Level, c.Title, c.Text)
		} else {
			f.Level = MUST
			fmt.Fprintf(&b, "%s (MUST; not in the catalogue)", id)
		}
		if message != "" {
			fmt.Fprintf(&b, "\n  %s", message)
		}
	}
	if expected != "" {
		fmt.Fprintf(&b, "\n  Expected: %s", expected)
	}
	if got != "" {
		fmt.Fprintf(&b, "\n  Got: %s", got)
	}
	f.Message = b.String()
	return f
}

// failStep records a check of clause id and its finding, which concerns one exchange of a
// session.
func (t *T) failStep(id clause.ID, expected, got, message string, a *Answer) {
	t.ran(id)
	f := t.finding(id, expected, got, message)
	if a != nil {
		f.Step, f.Session = a.Step, a.Session
		if a.Step != "" {
			f.Message += "\n  Step: " + a.Step
		}
	}
	t.add(f)
}

// nextSession returns the next session number of the scenario, from 1.
func (t *T) nextSession() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions++
	return t.sessions
}

// result closes the T and returns what it recorded.
func (t *T) result(d time.Duration) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	s := t.scenario
	r := Result{
		ScenarioID: s.ID,
		Title:      s.Title,
		Family:     s.Family,
		Level:      s.Level(),
		Clauses:    append([]string(nil), s.Clauses...),
		Duration:   d,
		Findings:   append([]result.Finding(nil), t.findings...),
		Checked:    clause.Strings(t.checked...),
		Notes:      append([]string(nil), t.notes...),
		Exchanges:  append([]result.Exchange(nil), t.exchanges...),
	}
	if t.skipped {
		r.SkipReason = t.skipReason
	}
	if caveat := inFlightCaveat(r.Exchanges); caveat != "" {
		for i := range r.Findings {
			r.Findings[i].Message += "\n  " + caveat
		}
	}
	verdictLevel := r.Level
	if s.Observes {
		verdictLevel = INFO
	}
	r.Verdict = result.Decide(verdictLevel, r.Findings, t.skipped, t.cfg.Strict)
	return r
}

// runGrace is how long Run waits for a scenario to wind down after its context ended.
const runGrace = time.Second

// Run runs one scenario and returns its result. It never panics: a panic in the steps is
// recovered and recorded as a failure ("scenario panicked: ..."). It is bounded by ctx:
// when ctx ends first, the scenario is recorded as timed out and Run returns within a short
// grace period, even if the steps are still blocked.
func Run(ctx context.Context, cfg Config, s Scenario) Result {
	start := time.Now()
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := NewT(ctx, cfg, s)
	if err := ctx.Err(); err != nil {
		t.fail("", "", "", fmt.Sprintf("scenario not run: %v", err))
		return t.result(time.Since(start))
	}
	if err := cfg.Validate(); err != nil {
		t.add(result.Finding{Level: MUST, Engine: true, Message: fmt.Sprintf("configuration: %v", err)})
		return t.result(time.Since(start))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.add(result.Finding{Level: MUST, Engine: true, Message: fmt.Sprintf("scenario panicked: %v\n%s", r, panicStack())})
			}
		}()
		if s.Run == nil {
			t.EngineError("scenario %s has no steps", s.ID)
		}
		s.Run(t)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.fail("", "", "", fmt.Sprintf("scenario did not finish in time: %v", context.Cause(ctx)))
		cancel()
		timer := time.NewTimer(runGrace)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
		}
	}
	return t.result(time.Since(start))
}

// goroutineHeader matches the first line of a stack trace.
var goroutineHeader = regexp.MustCompile(`^goroutine \d+ \[[^\]]*\]:\n`)

// panicStack returns the stack of the panicking goroutine, without the runtime's frames of
// the panic itself, at most 20 lines.
func panicStack() string {
	s := goroutineHeader.ReplaceAllString(string(debug.Stack()), "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			lines = lines[i+2:]
			break
		}
	}
	if len(lines) > 20 {
		lines = lines[:20]
	}
	return strings.Join(lines, "\n")
}
