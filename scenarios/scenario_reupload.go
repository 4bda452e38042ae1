package scenarios

import (
	"fmt"

	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// reuploadScenarios returns the identical re-upload scenarios (RU): the same segment again,
// before and after other segments; the list is unchanged and every acknowledged range stays.
func reuploadScenarios() []Scenario {
	cl := declare(listChecks(), clause.SegRetransmit, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	return []Scenario{
		{
			ID: "RU-01", Title: "The first segment sent twice before any other: the same list twice",
			Family: "re-upload", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("ru01.bin", 24)
				a := uploadPlan(t, s, seg{0, 7}, seg{0, 7})
				sameList(t, a[0], a[1])
				uploadPlan(t, s, seg{8, 15}, seg{16, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "RU-02", Title: "Segments sent again after other segments: lists unchanged",
			Family: "re-upload", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("ru02.bin", 24)
				a := uploadPlan(t, s, seg{0, 7}, seg{16, 23}, seg{0, 7}, seg{16, 23})
				sameList(t, a[1], a[2])
				sameList(t, a[1], a[3])
				uploadPlan(t, s, seg{8, 15})
				finishFile(t, s)
			},
		},
		{
			ID: "RU-03", Title: "Part of a merged range sent again: the list stays one range",
			Family: "re-upload", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("ru03.bin", 24)
				a := uploadPlan(t, s, seg{0, 7}, seg{8, 15}, seg{4, 11}, seg{8, 15})
				sameList(t, a[1], a[2])
				sameList(t, a[1], a[3])
				uploadPlan(t, s, seg{16, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "RU-04", Title: "Ordinary segments (Config.SegmentSize) each sent twice",
			Family: "re-upload", Clauses: cl,
			Run: func(t *T) {
				size := t.Config().SegmentSize
				s := t.NewSession("ru04.bin", 2*size+10)
				uploadPlan(t, s, seg{0, size - 1})
				uploadPlanAs(t, s, clause.SegRetransmit, seg{0, size - 1})
				uploadPlan(t, s, seg{2 * size, 2*size + 9})
				uploadPlanAs(t, s, clause.SegRetransmit, seg{2 * size, 2*size + 9})
				uploadPlan(t, s, seg{size, 2*size - 1})
				finishFile(t, s)
			},
		},
		{
			ID: "RU-05", Title: "Different bytes sent again for an acknowledged range: which bytes the file holds",
			Family: "re-upload", Clauses: declare(listChecks(), clause.RobLastWrite, clause.Ack201WhileIncomplete), Observes: true,
			Labels: []string{LabelNeedsFileAccess},
			Run: func(t *T) {
				s := t.NewSession("ru05.bin", 24)
				other := wire.Pattern{Seed: (s.Pattern.Seed + 31) % len(wire.Alphabet)}
				uploadPlan(t, s, seg{0, 11})
				sendAccepted(t, s, 0, 11, Seed(other.Seed), Step(fmt.Sprintf("segment 0-11/24 again with other bytes (seed %d)", other.Seed)))
				uploadPlan(t, s, seg{12, 23})
				if !s.ExpectCompleted("") {
					return
				}
				a, data, ok := s.FetchFile(0)
				if !ok {
					t.Observe(clause.RobLastWrite, "not observed: no file URL configured")
					return
				}
				if !a.Answered() || a.Status != 200 {
					t.Observe(clause.RobLastWrite, "the completed file could not be fetched: %s", describe(a))
					return
				}
				t.Observe(clause.RobLastWrite, "bytes 0-11 were sent first with seed %d, then with seed %d; the file holds: %s",
					s.Pattern.Seed, other.Seed, bytesWon(data, s.Pattern, other))
			},
		},
	}
}

// sameList checks that a retransmission got the same list as the answer before it.
func sameList(t *T, before, again Answer) {
	if before.List == nil || again.List == nil {
		return
	}
	t.ran(clause.SegRetransmit)
	if !before.List.Set().Equal(again.List.Set()) {
		t.failStep(clause.SegRetransmit, "the same list as before: "+before.RangeValue, again.RangeValue,
			"An identical resend must be answered with the same list.", &again)
	}
}
