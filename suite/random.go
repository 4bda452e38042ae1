package suite

import (
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
	timeout := schedule.Timeout(r.cfg.Random, max(r.cfg.SpecTimeout, DefaultSpecTimeout))
	labels := append([]string{result.IDLabel(s.ID)}, s.AllLabels()...)
	ginkgo.It(SpecText(s), ginkgo.Label(labels...), ginkgo.SpecTimeout(timeout),
		func(ctx ginkgo.SpecContext) { r.runScenario(ctx, s) })
}
