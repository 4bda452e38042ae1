package scenarios

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/ranges"
)

// Verdict is the outcome of one scenario.
type Verdict string

// The verdicts.
const (
	// VerdictPass: every check held.
	VerdictPass Verdict = "PASS"
	// VerdictFail: a MUST check failed (or a SHOULD check in strict mode, or the scenario
	// itself broke: a panic, a time-out).
	VerdictFail Verdict = "FAIL"
	// VerdictNonStrict: only SHOULD checks failed and the run is not strict.
	VerdictNonStrict Verdict = "NON-STRICT"
	// VerdictInfo: an INFO scenario ran; it records behaviour and never fails.
	VerdictInfo Verdict = "INFO"
	// VerdictSkipped: the scenario did not run (Result.SkipReason says why).
	VerdictSkipped Verdict = "SKIPPED"
)

// Finding is one failed check: which clause, how strong, what the clause requires, what was
// expected and what came back.
type Finding struct {
	Clause      string `json:"clause"`      // clause ID; "" for a failure of the scenario itself
	Level       Level  `json:"level"`       // the clause's level
	Requirement string `json:"requirement"` // the clause's text
	Expected    string `json:"expected"`
	Got         string `json:"got"`
	Message     string `json:"message"`           // the whole finding as text, ready to print
	Step        string `json:"step,omitempty"`    // the step of the exchange that showed it
	Session     string `json:"session,omitempty"` // the session ID it concerns
}

// String returns the message.
func (f Finding) String() string { return f.Message }

// Result is what running one scenario found, with the evidence.
type Result struct {
	ScenarioID string        `json:"scenario_id"`
	Title      string        `json:"title"`
	Level      Level         `json:"level"`
	Clauses    []string      `json:"clauses"`
	Verdict    Verdict       `json:"verdict"`
	Duration   time.Duration `json:"duration"` // nanoseconds in JSON
	Findings   []Finding     `json:"findings"` // failed checks
	Notes      []string      `json:"notes"`    // observations (INFO)
	SkipReason string        `json:"skip_reason,omitempty"`
	Exchanges  []Exchange    `json:"exchanges"`
}

// Message returns the findings' messages joined by blank lines ("" when there are none),
// or the skip reason for a skipped scenario.
func (r Result) Message() string {
	if r.Verdict == VerdictSkipped && len(r.Findings) == 0 {
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
	findings   []Finding
	notes      []string
	exchanges  []Exchange
	skipped    bool
	skipReason string
	closed     bool // Run has returned: later records are dropped
	sessions   int
	formats    map[ranges.Format]bool // range list forms already noted
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

// Check records a finding for clause when ok is false, saying what was expected and what
// came back. A failed check of an INFO clause is recorded as a note. It returns ok.
func (t *T) Check(clause string, ok bool, expected, got string) bool {
	if !ok {
		t.fail(clause, expected, got, "")
	}
	return ok
}

// Fail records a finding for clause (Check with ok = false).
func (t *T) Fail(clause, expected, got string) { t.fail(clause, expected, got, "") }

// Require is Check followed by FailNow when the check failed.
func (t *T) Require(clause string, ok bool, expected, got string) {
	if !t.Check(clause, ok, expected, got) {
		t.FailNow()
	}
}

// Fatal records a failure of the scenario itself (no clause; at the scenario's level) and
// stops the scenario.
func (t *T) Fatal(format string, args ...any) {
	t.fail("", "", "", fmt.Sprintf(format, args...))
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
func (t *T) Findings() []Finding {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Finding(nil), t.findings...)
}

// Do sends a raw request (Config.Target unless req.URL is set), records the exchange and
// returns it as an Answer. Model checks are not applied; use a Session for segments.
func (t *T) Do(req Request) Answer {
	ex := Do(t.ctx, t.cfg, req)
	t.record(ex)
	return newAnswer(ex)
}

// record keeps an exchange for the result.
func (t *T) record(ex Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.exchanges = append(t.exchanges, ex)
	}
}

// fail records a finding; clause "" is a failure of the scenario itself at its level.
func (t *T) fail(clause, expected, got, message string) {
	t.add(t.finding(clause, expected, got, message))
}

// add keeps a finding, or its message as a note when its level is INFO; nothing once the
// scenario has returned.
func (t *T) add(f Finding) {
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
func (t *T) finding(clause, expected, got, message string) Finding {
	f := Finding{Clause: clause, Expected: expected, Got: got}
	var b strings.Builder
	if clause == "" {
		f.Level = t.scenario.Level()
		b.WriteString(message)
	} else {
		c, ok := ClauseByID(clause)
		if ok {
			f.Level, f.Requirement = c.Level, c.Text
			fmt.Fprintf(&b, "%s (%s): %s\n  %s", clause, c.Level, c.Title, c.Text)
		} else {
			f.Level = MUST
			fmt.Fprintf(&b, "%s (MUST; not in the catalogue)", clause)
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

// failStep records a finding that concerns one exchange of a session.
func (t *T) failStep(clause, expected, got, message string, a *Answer) {
	f := t.finding(clause, expected, got, message)
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
		Level:      s.Level(),
		Clauses:    append([]string(nil), s.Clauses...),
		Duration:   d,
		Findings:   append([]Finding(nil), t.findings...),
		Notes:      append([]string(nil), t.notes...),
		Exchanges:  append([]Exchange(nil), t.exchanges...),
	}
	if t.skipped {
		r.SkipReason = t.skipReason
	}
	r.Verdict = decide(r.Level, r.Findings, t.skipped, t.cfg.Strict)
	return r
}

// decide applies the verdict rules: a failed MUST check → FAIL; only failed SHOULD checks →
// NON-STRICT (FAIL when strict); then SKIPPED when skipped; INFO for an INFO scenario; PASS.
func decide(level Level, findings []Finding, skipped, strict bool) Verdict {
	must, should := false, false
	for _, f := range findings {
		switch f.Level {
		case MUST:
			must = true
		case SHOULD:
			should = true
		}
	}
	switch {
	case must:
		return VerdictFail
	case should && strict:
		return VerdictFail
	case should:
		return VerdictNonStrict
	case skipped:
		return VerdictSkipped
	case level == INFO:
		return VerdictInfo
	}
	return VerdictPass
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
		t.add(Finding{Level: MUST, Message: fmt.Sprintf("configuration: %v", err)})
		return t.result(time.Since(start))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.add(Finding{Level: MUST, Message: fmt.Sprintf("scenario panicked: %v\n%s", r, panicStack())})
			}
		}()
		if s.Run == nil {
			t.Fatal("scenario %s has no steps", s.ID)
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
