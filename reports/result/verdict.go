package result

import (
	"fmt"
	"strings"
)

// Level is the strength of a clause: what a failed check of it means for the run.
type Level int

// The levels, strongest first.
const (
	// MUST: a failed check fails the run.
	MUST Level = iota
	// SHOULD: a failed check is NON-STRICT and fails the run only in strict mode.
	SHOULD
	// INFO: the check records behaviour that the protocol leaves open and never fails.
	INFO
)

// String returns "MUST", "SHOULD" or "INFO".
func (l Level) String() string {
	switch l {
	case MUST:
		return "MUST"
	case SHOULD:
		return "SHOULD"
	case INFO:
		return "INFO"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// MarshalText writes the level as its name, so that JSON reports say "MUST", not 0.
func (l Level) MarshalText() ([]byte, error) {
	switch l {
	case MUST, SHOULD, INFO:
		return []byte(l.String()), nil
	}
	return nil, fmt.Errorf("marshal level: unknown level %d", int(l))
}

// UnmarshalText reads a level name written by MarshalText (any letter case).
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParseLevel reads "MUST", "SHOULD" or "INFO" in any letter case.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "MUST":
		return MUST, nil
	case "SHOULD":
		return SHOULD, nil
	case "INFO":
		return INFO, nil
	}
	return 0, fmt.Errorf("parse level %q: want MUST, SHOULD or INFO", s)
}

// Verdict is the outcome of a scenario (or client clause), or of a clause over the
// scenarios that check it.
type Verdict string

// The verdicts: the first six are those of a scenario; a clause, and a scenario that was
// selected but never started, may also be NOT-RUN.
const (
	// Error: the harness itself failed (a panic in a scenario's steps, a broken harness
	// backend, an invalid configuration): no verdict on the target. An engine error fails
	// the run with its own exit status, apart from FAIL.
	Error Verdict = "ERROR"
	// Pass: every check held.
	Pass Verdict = "PASS"
	// Fail: a MUST check failed (or a SHOULD check in strict mode, or the scenario itself
	// broke: a panic, a time-out).
	Fail Verdict = "FAIL"
	// NonStrict: only SHOULD checks failed and the run is not strict; fails the run only in
	// strict mode.
	NonStrict Verdict = "NON-STRICT"
	// Info: the scenario records behaviour the protocol leaves open; never fails.
	Info Verdict = "INFO"
	// Skipped: a precondition was not met; the skip reason says which.
	Skipped Verdict = "SKIPPED"
	// NotRun: a clause that no check of a scenario that ran established (no scenario of it
	// ran, or the ones that ran stopped before checking it); a scenario that was selected but
	// did not start (the run stopped first).
	NotRun Verdict = "NOT-RUN"
)

// ScenarioVerdicts returns the six verdicts of a scenario that ran, worst first.
func ScenarioVerdicts() []Verdict {
	return []Verdict{Error, Fail, NonStrict, Pass, Info, Skipped}
}

// Rank orders verdicts from worst (0: ERROR) to least telling (6: NOT-RUN); an unknown
// verdict ranks last (7).
func (v Verdict) Rank() int {
	switch v {
	case Error:
		return 0
	case Fail:
		return 1
	case NonStrict:
		return 2
	case Pass:
		return 3
	case Info:
		return 4
	case Skipped:
		return 5
	case NotRun:
		return 6
	}
	return 7
}

// Failed reports whether the verdict is a failure of the target (FAIL). An ERROR fails the
// run too, but as a failure of the harness, not of the target.
func (v Verdict) Failed() bool { return v == Fail }

// Class is a lower-case word for the verdict, used for CSS classes and file names.
func (v Verdict) Class() string {
	switch v {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case NonStrict:
		return "nonstrict"
	case Info:
		return "info"
	case Skipped:
		return "skipped"
	case NotRun:
		return "notrun"
	case Error:
		return "error"
	}
	return "unknown"
}

// Decide applies the verdict rules to what a scenario recorded: a finding of the harness
// itself (Finding.Engine) → ERROR; a failed MUST check → FAIL;
// only failed SHOULD checks → NON-STRICT (FAIL when strict); then SKIPPED when skipped; INFO
// for a scenario of level INFO; else PASS.
func Decide(level Level, findings []Finding, skipped, strict bool) Verdict {
	must, should := false, false
	for _, f := range findings {
		if f.Engine {
			return Error
		}
		switch f.Level {
		case MUST:
			must = true
		case SHOULD:
			should = true
		}
	}
	switch {
	case must:
		return Fail
	case should && strict:
		return Fail
	case should:
		return NonStrict
	case skipped:
		return Skipped
	case level == INFO:
		return Info
	}
	return Pass
}
