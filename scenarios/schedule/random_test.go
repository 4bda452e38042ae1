package schedule_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/schedule"
)

// Bounds of the tests: every random run is cut off by checkTimeout, and a failure must be
// found within findWithin schedules and shrunk to at most maxShrunkSteps steps.
const (
	checkTimeout   = 4 * time.Minute
	findWithin     = 300
	maxShrunkSteps = 3
	testWorkers    = 8
)

// check runs n schedules of seed against cfg, bounded by checkTimeout.
func check(t *testing.T, cfg scenarios.Config, n int, seed int64) schedule.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	start := time.Now()
	out := schedule.Check(ctx, cfg, schedule.Options{N: n, Seed: seed, Workers: testWorkers})
	if out.Err != nil {
		t.Fatalf("the run of %d schedules stopped after %d: %v", n, out.Ran, out.Err)
	}
	t.Logf("%d schedule(s) ran in %v (%d failed once and passed when run again)", out.Ran, time.Since(start).Round(time.Millisecond), len(out.Flaky))
	return out
}

func TestReferencePassesThousandsOfSchedules(t *testing.T) {
	n := 2000
	switch {
	case testing.Short():
		n = 200
	case raceEnabled:
		n = 500
	}
	out := check(t, reference(t, fakeserver.QuirkSet{}), n, 1)
	if f := out.Failure; f != nil {
		t.Fatalf("the reference server failed %s\nshrunk to\n%s\n%s", f.Original, f.Shrunk, f.Result.Message())
	}
	if out.Ran != n {
		t.Fatalf("%d of %d schedules ran", out.Ran, n)
	}
}

// expectCaught requires a failure within findWithin schedules, shrunk to at most
// maxShrunkSteps steps and maxSegments segments, whose shrunk run still fails with its
// exchanges recorded and turns into a reproducer.
func expectCaught(t *testing.T, cfg scenarios.Config, maxSegments int) {
	t.Helper()
	out := check(t, cfg, findWithin, 1)
	f := out.Failure
	if f == nil {
		t.Fatalf("no schedule of %d failed", out.Ran)
	}
	t.Logf("%s failed; shrunk in %d attempts to\n%s\n%s", f.Original.Name(), f.Attempts, f.Shrunk, f.Result.Message())
	if f.Shrunk.Len() > maxShrunkSteps || f.Shrunk.Segments() > maxSegments {
		t.Errorf("shrunk to %d steps, %d segments; want at most %d steps, %d segments", f.Shrunk.Len(), f.Shrunk.Segments(), maxShrunkSteps, maxSegments)
	}
	if f.Shrunk.Len() > f.Original.Len() {
		t.Errorf("the shrunk schedule has more steps (%d) than the original (%d)", f.Shrunk.Len(), f.Original.Len())
	}
	if v := f.Result.Verdict; v != result.Fail && v != result.NonStrict {
		t.Errorf("the shrunk run's verdict is %s", v)
	}
	if len(f.Result.Exchanges) == 0 {
		t.Fatal("the shrunk run recorded no exchange")
	}
	// The shrunk schedule replays: it fails again (in one of three runs: whether the server
	// has seen a held or cut-off request yet is a matter of timing).
	var replays []result.Verdict
	for i := range 3 {
		again := scenarios.Run(context.Background(), cfg, f.Shrunk.Scenario(fmt.Sprintf("REPLAY-%d", i)))
		replays = append(replays, again.Verdict)
		if again.Verdict == f.Result.Verdict {
			break
		}
	}
	if replays[len(replays)-1] != f.Result.Verdict {
		t.Errorf("the shrunk schedule replayed gives %v, not %s", replays, f.Result.Verdict)
	}
	// Its reproducer replays the shrunk run's requests.
	sc := reports.ScenarioFromResult(f.Result)
	script := reports.Reproducer(reports.FromResults(reports.Meta{}, []scenarios.Result{f.Result}), &sc)
	if got, want := strings.Count(script, "\ncurl ")+strings.Count(script, "  curl "), 1; got < want {
		t.Errorf("the reproducer holds no curl command:\n%s", script)
	}
}

func TestQuirksCaughtAndShrunk(t *testing.T) {
	// The quirks a schedule can reveal, with the most segments their shrunk schedule may
	// send (the list-size quirks need a long list, sent by one series).
	tests := []struct {
		quirk       string
		maxSegments int
	}{
		{"false-success", 3},
		{"no-overlap-rejection", 3},
		{"range-list-cut", 30},
		{"state-window", 60},
		{"restart-after-complete", 3},
		{"single-byte-state-bug", 3},
		{"cleanup-on-disconnect", 3},
	}
	for _, tt := range tests {
		t.Run(tt.quirk, func(t *testing.T) {
			q, err := fakeserver.ParseQuirk(tt.quirk)
			if err != nil {
				t.Fatal(err)
			}
			expectCaught(t, reference(t, fakeserver.NewQuirkSet(q)), tt.maxSegments)
		})
	}
}

func TestQuirksNoScheduleReveals(t *testing.T) {
	// Schedules send well-formed segments of distinct sessions and do not read the backend's
	// form: these quirks are the fixed scenarios' to catch.
	for _, name := range []string{"drop-on-malformed", "no-truncate-on-reuse", "size-from-last-segment", "empty-digests"} {
		t.Run(name, func(t *testing.T) {
			q, err := fakeserver.ParseQuirk(name)
			if err != nil {
				t.Fatal(err)
			}
			if f := check(t, reference(t, fakeserver.NewQuirkSet(q)), 100, 1).Failure; f != nil {
				t.Fatalf("a schedule reveals %s (update the table of catchable quirks):\n%s\n%s", name, f.Shrunk, f.Result.Message())
			}
		})
	}
}

func TestProfilesCaughtAndShrunk(t *testing.T) {
	for _, name := range []string{fakeserver.ProfileModule, fakeserver.ProfileModule2020} {
		t.Run(name, func(t *testing.T) {
			p, err := fakeserver.ParseProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			expectCaught(t, reference(t, p.Quirks), 3)
		})
	}
}

func TestBrokenServerNoFixedScenarioCatches(t *testing.T) {
	cfg := target(t, newForgetDescending())
	// No fixed scenario catches the bug...
	for _, s := range scenarios.All() {
		r := scenarios.Run(context.Background(), cfg, s)
		if r.Verdict == result.Fail || r.Verdict == result.NonStrict {
			t.Fatalf("%s catches the broken server (choose a subtler bug):\n%s", s.ID, r.Message())
		}
	}
	// ...and a random run does, shrunk to a series of three.
	expectCaught(t, cfg, 3)
}

func TestChecksNameOnlyDeclaredClauses(t *testing.T) {
	declared := map[string]bool{}
	for _, id := range schedule.Clauses() {
		declared[id] = true
	}
	for _, qs := range []fakeserver.QuirkSet{{}, fakeserver.AllQuirks()} {
		cfg := reference(t, qs)
		for i := range 60 {
			r := scenarios.Run(context.Background(), cfg, schedule.Generate(5, i).Scenario(fmt.Sprintf("DECL-%d", i)))
			for _, id := range r.Checked {
				if !declared[id] {
					t.Errorf("quirks %s, schedule %d: the check of %s ran, undeclared", qs, i, id)
				}
			}
			for _, f := range r.Findings {
				if f.Clause != "" && !declared[f.Clause] {
					t.Errorf("quirks %s, schedule %d: a finding of %s, undeclared", qs, i, f.Clause)
				}
			}
		}
	}
}

func TestCheckStopsWithItsContext(t *testing.T) {
	cfg := reference(t, fakeserver.QuirkSet{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	out := schedule.Check(ctx, cfg, schedule.Options{N: 1_000_000, Seed: 1, Workers: 2})
	if f := out.Failure; f != nil {
		t.Fatalf("the reference server failed %s\nshrunk to\n%s\n%s", f.Original, f.Shrunk, f.Result.Message())
	}
	if out.Err == nil || out.Ran >= 1_000_000 {
		t.Fatalf("got ran %d, err %v", out.Ran, out.Err)
	}
	// Bounded by the context plus the wind-down of the schedules in progress.
	if d := time.Since(start); d > time.Minute {
		t.Fatalf("Check returned %v after its context ended", d)
	}
}

func TestScenarioReportsTheShrunkScheduleAndSeed(t *testing.T) {
	q, err := fakeserver.ParseQuirk("no-overlap-rejection")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		quirks  fakeserver.QuirkSet
		verdict result.Verdict
		want    []string // in the notes and the first finding's message
	}{
		{"reference", fakeserver.QuirkSet{}, result.Pass, []string{"20 of 20 ran, seed 9; none failed"}},
		{"no-overlap-rejection", fakeserver.NewQuirkSet(q), result.Fail,
			[]string{"replay with --random", "--seed 9", "failing schedule:\nschedule ", "shrunk in ", "Shown by schedule", "par.overlap-rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reference(t, tt.quirks)
			r := scenarios.Run(context.Background(), cfg, schedule.Scenario(schedule.Options{N: 20, Seed: 9, Workers: testWorkers}))
			if r.Verdict != tt.verdict || r.ScenarioID != schedule.ScenarioID {
				t.Fatalf("%s: %s, want %s\n%s", r.ScenarioID, r.Verdict, tt.verdict, r.Message())
			}
			text := strings.Join(r.Notes, "\n") + "\n" + r.Message()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("no %q in\n%s", w, text)
				}
			}
			if tt.verdict == result.Fail && len(r.Exchanges) == 0 {
				t.Error("no exchange of the shrunk run")
			}
		})
	}
}
