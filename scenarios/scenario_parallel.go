package scenarios

import (
	"fmt"
	"sync"

	"github.com/upspec/upspec/scenarios/clause"
)

// parallelScenarios returns the parallel segment scenarios (PA). "Simultaneous" is made
// deterministic: request A's headers and part of its body are on the wire while B is sent and
// answered; then A finishes.
func parallelScenarios() []Scenario {
	return []Scenario{
		{
			ID: "PA-01", Title: "Overlapping segments in flight at once: at least one is refused",
			Family: "parallel", Clauses: declare(listChecks(), clause.ParOverlapRejected, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pa01.bin", 24)
				overlapInFlight(t, s, seg{0, 15}, seg{8, 23})
			},
		},
		{
			ID: "PA-02", Title: "A segment in flight while a segment inside it is sent: at least one is refused",
			Family: "parallel", Clauses: declare(listChecks(), clause.ParOverlapRejected, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pa02.bin", 24)
				uploadPlan(t, s, seg{20, 23})
				overlapInFlight(t, s, seg{0, 19}, seg{4, 9})
			},
		},
		{
			ID: "PA-03", Title: "Disjoint segments in flight at once: both accepted, exactly one completion",
			Family: "parallel", Clauses: declare(listChecks(), clause.ParDisjointAllowed, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pa03.bin", 24)
				a := s.Start(0, 11, PauseAfter(6), Step("segment A 0-11/24 (paused after 6 body bytes)"))
				if !a.WaitPaused() {
					t.Fatal("segment A did not reach its pause point: %s", describe(a.Wait()))
				}
				b := s.Send(12, 23, Step("segment B 12-23/24, sent while A is in flight"))
				t.Check(clause.ParDisjointAllowed, b.Created(), "201 Created for B (A's bytes are still missing)", describe(b))
				ra := a.Wait()
				t.Check(clause.ParDisjointAllowed, ra.Completion, "the completion for A, which finishes the file", describe(ra))
				expectOneCompletion(t, s)
				finishFile(t, s)
			},
		},
		{
			ID: "PA-04", Title: "Four disjoint segments, three paused mid-body while the fourth is answered; then each finishes",
			Family: "parallel", Clauses: declare(listChecks(), clause.ParDisjointAllowed, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("pa04.bin", 24)
				var held []*InFlight
				for i, g := range []seg{{0, 5}, {6, 11}, {12, 17}} {
					f := s.Start(g.start, g.end, PauseAfter(3), Step(fmt.Sprintf("segment %c %s/24 (paused after 3 body bytes)", 'A'+i, g)))
					if !f.WaitPaused() {
						t.Fatal("segment %c did not reach its pause point: %s", 'A'+i, describe(f.Wait()))
					}
					held = append(held, f)
				}
				d := s.Send(18, 23, Step("segment D 18-23/24, sent while A, B and C are in flight"))
				t.Check(clause.ParDisjointAllowed, d.Created(), "201 Created for D", describe(d))
				for i, f := range held {
					a := f.Wait()
					if i < len(held)-1 {
						t.Check(clause.ParDisjointAllowed, a.Created(), fmt.Sprintf("201 Created for %c", 'A'+i), describe(a))
					} else {
						t.Check(clause.ParDisjointAllowed, a.Completion, "the completion for C, the last to finish", describe(a))
					}
				}
				expectOneCompletion(t, s)
				finishFile(t, s)
			},
		},
		{
			ID: "PA-05", Title: "Eight ordinary disjoint segments, 10 bytes apart, sent concurrently: all accepted (or 503); the gaps then complete the file",
			Family: "parallel", Clauses: declare(listChecks(), clause.ParDisjointAllowed, clause.ParLimit503, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				size := t.Config().SegmentSize
				const n, gap = 8, 10
				// A 10-byte gap follows every concurrent segment, so that none of them completes
				// the file (every concurrent answer must be a 201, or a 503) and every list after
				// the first holds several ranges, whatever order the segments finish in.
				stride := size + gap
				s := t.NewSession("pa05.bin", n*stride)
				answers := make([]Answer, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := int64(i) * stride
						answers[i] = s.Send(start, start+size-1, Step(fmt.Sprintf("concurrent segment %d of %d", i+1, n)))
					}()
				}
				wg.Wait()
				t.ran(clause.ParDisjointAllowed)
				t.ran(clause.ParLimit503) // the answers are looked at for 503s
				busy := 0
				for _, a := range answers {
					switch {
					case a.Answered() && a.Status == 503:
						busy++
					case !a.Created():
						t.failStep(clause.ParDisjointAllowed, "201 Created (or 503, a connection limit)", describe(a), "", &a)
					}
				}
				if busy > 0 {
					t.Observe(clause.ParLimit503, "%d of %d concurrent segments were answered 503; they are sent again one by one", busy, n)
				}
				completeFile(t, s)
				expectOneCompletion(t, s)
			},
		},
	}
}

// overlapInFlight starts segment a, pauses it mid-body, sends the overlapping segment b to
// its answer, then lets a finish. At least one of the two must be refused. The file is then
// completed from what the model holds as acknowledged, and its bytes checked.
func overlapInFlight(t *T, s *Session, a, b seg) {
	fa := s.Start(a.start, a.end, PauseAfter((a.end-a.start+1)/2),
		Step(fmt.Sprintf("segment A %s/%d (paused after half its body)", a, s.Total)))
	if !fa.WaitPaused() {
		t.Fatal("segment A did not reach its pause point: %s", describe(fa.Wait()))
	}
	rb := s.Send(b.start, b.end, Step(fmt.Sprintf("segment B %s/%d, overlapping A, sent while A is in flight", b, s.Total)))
	ra := fa.Wait()
	refused := func(x Answer) bool { return x.Answered() && x.Status >= 400 }
	if t.Check(clause.ParOverlapRejected, refused(ra) || refused(rb), "an error answer (e.g. 409 Conflict) to A or to B",
		fmt.Sprintf("A: %s; B: %s", describe(ra), describe(rb))) {
		t.Note("A: %s; B: %s", describe(ra), describe(rb))
	}
	completeFile(t, s)
}

// expectOneCompletion checks that exactly one answer of the session was its completion.
func expectOneCompletion(t *T, s *Session) {
	n := s.Completions()
	t.Check(clause.ParDisjointAllowed, n == 1, "exactly one completion", fmt.Sprintf("%d completions", n))
}
