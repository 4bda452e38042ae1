package suite

import (
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/schedule"
)

// randomWorkers is how many schedules of a random run are in progress at once (each has its
// own sessions).
const randomWorkers = 4

// registerRandom adds the spec of the random run (--random N): one scenario that runs N
// schedules of the seed (--seed, else Ginkgo's, which every parallel process shares) and
// reports the first failing one shrunk. Its spec timeout grows with N.
func (r *run) registerRandom() {
	if r.cfg.Seed == 0 {
		sc, _ := ginkgo.GinkgoConfiguration()
		r.cfg.Seed = sc.RandomSeed
	}
	s := schedule.Scenario(schedule.Options{N: r.cfg.Random, Seed: r.cfg.Seed, Workers: randomWorkers})
	timeout := r.cfg.randomTimeout()
	labels := append([]string{result.IDLabel(s.ID)}, s.AllLabels()...)
	ginkgo.It(SpecText(s), ginkgo.Label(labels...), ginkgo.SpecTimeout(timeout),
		func(ctx ginkgo.SpecContext) { r.runScenario(ctx, s) })
}

// randomTimeout is the spec timeout of the random run (--random N): it grows with N. The
// run's own bound (FitTimeout, or --timeout's default in upspec run) grows by as much.
func (c *Config) randomTimeout() time.Duration {
	if c.Random <= 0 {
		return 0
	}
	return schedule.Timeout(c.Random, max(c.SpecTimeout, DefaultSpecTimeout))
}

// RunBound is the bound on a run of n selected scenarios without --timeout: FitTimeout, plus
// the random run's own time when there is one.
func (c *Config) RunBound(n int) time.Duration {
	return FitTimeout(n, c.SpecTimeout) + c.randomTimeout()
}
