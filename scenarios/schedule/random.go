package schedule

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// Label is the Ginkgo label of the random run.
const Label = "random"

// ScenarioID is the ID under which the random run is reported.
const ScenarioID = "RANDOM"

// Defaults of Options.
const (
	// DefaultShrinkAttempts bounds the runs of candidate schedules while shrinking.
	DefaultShrinkAttempts = 400
	// DefaultShrinkTime bounds the time spent shrinking.
	DefaultShrinkTime = 2 * time.Minute
	// DefaultWorkers is how many schedules run at once.
	DefaultWorkers = 1
)

// Options say how many schedules to run, from which seed, and how hard to shrink a failure.
type Options struct {
	N              int           // schedules to run: Generate(Seed, 0..N-1)
	Seed           int64         // the seed of the schedules
	Workers        int           // schedules run at once (each has its own sessions); default 1
	ShrinkAttempts int           // bound on candidate runs while shrinking; default DefaultShrinkAttempts
	ShrinkTime     time.Duration // bound on the time spent shrinking; default DefaultShrinkTime
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.ShrinkAttempts <= 0 {
		o.ShrinkAttempts = DefaultShrinkAttempts
	}
	if o.ShrinkTime <= 0 {
		o.ShrinkTime = DefaultShrinkTime
	}
	return o
}

// Failure is a failing schedule and its shrunk form.
type Failure struct {
	// Original is the generated schedule that failed; Shrunk the smallest found that still
	// fails on the same clause.
	Original, Shrunk Schedule
	// Result is the run of Shrunk: its findings and recorded exchanges (the reproducer's).
	Result scenarios.Result
	// Attempts is the number of candidate runs the shrinker made.
	Attempts int
}

// Outcome is what a random run found.
type Outcome struct {
	Seed int64
	// Ran is how many schedules ran (N unless the run was cut short or stopped at a failure).
	Ran int
	// Flaky are the schedules that failed once but passed when run again (not counted as
	// failures: see confirm).
	Flaky []int
	// Failure is the first failing schedule (the lowest index), shrunk; nil when none failed.
	Failure *Failure
	// Err says why the run stopped before N schedules, when it did for another reason than a
	// failure (its context ended).
	Err error
}

// failed reports whether a result counts as a failing schedule: any MUST finding, or a
// SHOULD finding (NON-STRICT).
func failed(r scenarios.Result) bool {
	return r.Verdict == result.Fail || r.Verdict == result.NonStrict
}

// Check runs schedules 0..N-1 of the seed against cfg's target, stops at the first that
// fails and shrinks it. It is bounded by ctx and by the shrink bounds of o.
func Check(ctx context.Context, cfg scenarios.Config, o Options) Outcome {
	o = o.withDefaults()
	out := Outcome{Seed: o.Seed}
	var (
		mu      sync.Mutex
		next    int
		failing = -1
		first   scenarios.Result
		ran     int
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= o.N || (failing >= 0 && next > failing) || ended(ctx) {
			return 0, false
		}
		next++
		return next - 1, true
	}
	var wg sync.WaitGroup
	for range min(o.Workers, max(o.N, 1)) {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				sc := Generate(o.Seed, i)
				res := scenarios.Run(ctx, cfg, sc.Scenario(fmt.Sprintf("%s-%d", ScenarioID, i)))
				confirmed := failed(res) && confirm(ctx, cfg, sc, res, fmt.Sprintf("%s-%d-r", ScenarioID, i), confirmRuns)
				if ended(ctx) {
					return // cut short: neither a pass nor a failure
				}
				mu.Lock()
				ran++
				if failed(res) && !confirmed {
					out.Flaky = append(out.Flaky, i)
				}
				if confirmed && (failing < 0 || i < failing) {
					failing, first = i, res
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(out.Flaky)
	out.Ran = ran
	if failing < 0 || ended(ctx) {
		if ended(ctx) {
			out.Err = context.DeadlineExceeded
			if err := ctx.Err(); err != nil {
				out.Err = err
			}
		}
		return out
	}
	orig := Generate(o.Seed, failing)
	out.Failure = shrink(ctx, cfg, o, orig, first)
	return out
}

// shrink reduces a failing schedule: it tries the candidates of the current one in order and
// moves to the first that still fails on a clause of the original failure, until none does
// or a bound is reached.
func shrink(ctx context.Context, cfg scenarios.Config, o Options, orig Schedule, res scenarios.Result) *Failure {
	want := clausesOf(res)
	f := &Failure{Original: orig, Shrunk: orig, Result: res}
	deadline := time.Now().Add(o.ShrinkTime)
	for progress := true; progress; {
		progress = false
		for _, c := range candidates(f.Shrunk) {
			if f.Attempts >= o.ShrinkAttempts || time.Now().After(deadline) || ended(ctx) {
				return f
			}
			f.Attempts++
			r := scenarios.Run(ctx, cfg, c.Scenario(fmt.Sprintf("%s-%d-s%d", ScenarioID, orig.Index, f.Attempts)))
			ok := failed(r) && sharesClause(r, want) && confirm(ctx, cfg, c, r, fmt.Sprintf("%s-%d-s%d-r", ScenarioID, orig.Index, f.Attempts), 1)
			if ended(ctx) {
				return f // the candidate's verdict may be the deadline's
			}
			if ok {
				f.Shrunk, f.Result, progress = c, r, true
				break
			}
		}
	}
	return f
}

// ended reports whether ctx has ended or its deadline has passed: a request cut off by the
// deadline may fail a schedule a moment before ctx.Err says so.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// confirmRuns is how many times a failing schedule is run again before it counts as failing.
const confirmRuns = 2

// confirm runs a schedule that failed with res n more times and reports whether every run
// failed on a clause of res. Whether the server has seen a request held mid-body or cut off
// is a matter of timing; a bug of the server fails every run.
func confirm(ctx context.Context, cfg scenarios.Config, sc Schedule, res scenarios.Result, id string, n int) bool {
	want := clausesOf(res)
	for i := range n {
		r := scenarios.Run(ctx, cfg, sc.Scenario(fmt.Sprintf("%s%d", id, i+1)))
		if !failed(r) || !sharesClause(r, want) {
			return false
		}
	}
	return true
}

// clausesOf returns the clauses of a result's findings ("" for a failure of the scenario
// itself).
func clausesOf(r scenarios.Result) []string {
	var ids []string
	for _, f := range r.Findings {
		if !slices.Contains(ids, f.Clause) {
			ids = append(ids, f.Clause)
		}
	}
	return ids
}

// sharesClause reports whether r has a finding of one of the clauses.
func sharesClause(r scenarios.Result, clauses []string) bool {
	for _, f := range r.Findings {
		if slices.Contains(clauses, f.Clause) {
			return true
		}
	}
	return false
}

// Scenario returns the random run as one scenario of the suite (ID ScenarioID, label
// Label): it runs o.N schedules of o.Seed and, when one fails, reports the findings and the
// exchanges of its shrunk form, with the original schedule, the shrunk one and the seed in
// its notes.
func Scenario(o Options) scenarios.Scenario {
	return scenarios.Scenario{
		ID:      ScenarioID,
		Title:   fmt.Sprintf("%d random upload schedules of seed %d, a failure shrunk to a minimal one", o.N, o.Seed),
		Family:  Label,
		Clauses: Clauses(),
		Run: func(t *scenarios.T) {
			out := Check(t.Context(), t.Config(), o)
			Report(t, o, out)
		},
	}
}

// Report records an outcome in t: notes that say what ran, with the seed; for a failure the
// original and shrunk schedules, how to replay them, and the shrunk run's findings and
// exchanges.
func Report(t *scenarios.T, o Options, out Outcome) {
	f := out.Failure
	if len(out.Flaky) > 0 {
		t.Note("random schedules: %d failed once and passed when run again (not counted): %v", len(out.Flaky), out.Flaky)
	}
	if f == nil {
		t.Note("random schedules: %d of %d ran, seed %d; none failed", out.Ran, o.N, out.Seed)
		if out.Err != nil {
			t.Fatal("random schedules: the run stopped after %d of %d schedules: %v", out.Ran, o.N, out.Err)
		}
		return
	}
	t.Note("random schedules: %s failed (%s) after %d schedules ran; replay with --random %d --seed %d",
		f.Original.Name(), describeFindings(f.Result), out.Ran, f.Original.Index+1, out.Seed)
	t.Note("failing schedule:\n%s", f.Original)
	t.Note("shrunk in %d attempts to %d step(s), %d segment(s) (its exchanges follow):\n%s",
		f.Attempts, f.Shrunk.Len(), f.Shrunk.Segments(), f.Shrunk)
	// The first finding says which schedule showed it, so that every report (the console
	// and Markdown print findings, not notes) names the seed and the shrunk schedule.
	res := f.Result
	res.Findings = slices.Clone(res.Findings)
	if len(res.Findings) > 0 {
		shown := fmt.Sprintf("Shown by %s (replay: --random %d --seed %d), shrunk to: %s",
			f.Original.Name(), f.Original.Index+1, out.Seed, strings.ReplaceAll(f.Shrunk.String(), "\n  ", "; "))
		res.Findings[0].Message += "\n  " + shown
		if res.Findings[0].Detail != "" { // else the reports take it from Message
			res.Findings[0].Detail += "\n" + shown
		}
	}
	t.Include(res)
}

// PerSchedule is the time a random run allows each schedule (Timeout).
const PerSchedule = time.Second

// Timeout is the bound of a random run of n schedules: base (for the run's own overhead),
// plus PerSchedule per schedule, plus DefaultShrinkTime.
func Timeout(n int, base time.Duration) time.Duration {
	return base + time.Duration(n)*PerSchedule + DefaultShrinkTime
}
