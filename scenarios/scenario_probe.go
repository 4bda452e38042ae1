package scenarios

import (
	"fmt"

	"github.com/upspec/upspec/scenarios/clause"
)

// probeScenarios returns the 2-byte probe scenarios (PR): the seed client's `bytes 0-1/T`
// status probe, repeated and interleaved with other segments, and repeated single-byte
// segments (the module's pre-2020 bug made every request after a stored 1-byte range a false
// success).
func probeScenarios() []Scenario {
	cl := declare(listChecks(), clause.SegRetransmit, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	return []Scenario{
		{
			ID: "PR-01", Title: "The 2-byte probe bytes 0-1/T repeated, before and after another segment",
			Family: "probe", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("pr01.bin", 24)
				first := probe(t, s, 1)
				for i := 2; i <= 3; i++ {
					sameList(t, first, probe(t, s, i))
				}
				mid := uploadPlan(t, s, seg{12, 23})[0]
				sameList(t, mid, probe(t, s, 4))
				uploadPlan(t, s, seg{2, 11})
				finishFile(t, s)
			},
		},
		{
			ID: "PR-02", Title: "The seed client's flow: a probe before the upload and after every ordinary segment",
			Family: "probe", Clauses: cl,
			Run: func(t *T) {
				size := t.Config().SegmentSize
				s := t.NewSession("pr02.bin", 3*size+50)
				probe(t, s, 1)
				n := 2
				for start := int64(0); start < s.Total; start += size {
					end := min(start+size, s.Total) - 1
					a := sendAccepted(t, s, start, end)
					if a.Completion {
						break
					}
					probe(t, s, n)
					n++
				}
				finishFile(t, s)
			},
		},
		{
			ID: "PR-03", Title: "Single-byte segments: 0-0/4 twice, then 2-2, 1-1 and 3-3 completes",
			Family: "probe", Clauses: declare(listChecks(), clause.SegNumbering, clause.SegRetransmit, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pr03.bin", 4)
				a := uploadPlanAs(t, s, clause.SegNumbering, seg{0, 0})
				a = append(a, uploadPlanAs(t, s, clause.SegRetransmit, seg{0, 0})...)
				sameList(t, a[0], a[1])
				uploadPlanAs(t, s, clause.SegNumbering, seg{2, 2}, seg{1, 1}, seg{3, 3})
				finishFile(t, s)
			},
		},
		{
			ID: "PR-04", Title: "A single byte in the middle stored first, then probes and the rest",
			Family: "probe", Clauses: declare(listChecks(), clause.SegNumbering, clause.SegRetransmit, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pr04.bin", 24)
				uploadPlanAs(t, s, clause.SegNumbering, seg{5, 5})
				uploadPlanAs(t, s, clause.SegRetransmit, seg{5, 5})
				probe(t, s, 1)
				probe(t, s, 2)
				uploadPlan(t, s, seg{6, 23}, seg{2, 4})
				finishFile(t, s)
			},
		},
		{
			ID: "PR-05", Title: "A one-byte file: bytes 0-0/1 completes",
			Family: "probe", Clauses: declare(answerChecks(), clause.SegNumbering, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pr05.bin", 1)
				uploadPlanAs(t, s, clause.SegNumbering, seg{0, 0})
				finishFile(t, s)
			},
		},
	}
}

// probe sends the seed client's 2-byte status probe, bytes 0-1 of the file, and requires a
// 201 (the model checks its list). Once bytes 0-1 are acknowledged, the probe is a
// retransmission, and its acceptance is judged under seg.retransmit.
func probe(t *T, s *Session, n int) Answer {
	var id clause.ID
	if s.Acked().Contains(rng(0, 1)) {
		id = clause.SegRetransmit
	}
	return sendAcceptedAs(t, s, id, 0, 1, Step(fmt.Sprintf("2-byte probe %d: bytes 0-1/%d", n, s.Total)))
}
