package schedule

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
)

// clauses are the clauses a schedule checks: its own and those of the session model.
var clauses = []clause.ID{
	clause.SegAnyOrder, clause.SegRetransmit, clause.ParDisjointAllowed, clause.ParOverlapRejected,
	clause.SesCollisionTotal, clause.AckFinalOnlyWhenComplete, clause.AckFinalIsBackendAnswer,
	clause.AckRangeHeader, clause.AckBodyEqualsHeader, clause.AckListExact, clause.AckListCanonical, clause.AckDurable,
	clause.AckListFormat, clause.RobCompletionIdempotent, clause.RobInterruptedSegment, clause.RobStoredBytes,
}

// Clauses returns the IDs of the clauses a schedule checks.
func Clauses() []string { return clause.Strings(clauses...) }

// Scenario returns the scenario that runs the schedule once, with the given ID (session IDs
// are `<run-id>-<id>-<n>`, so every run of a schedule needs an ID of its own).
func (sc Schedule) Scenario(id string) scenarios.Scenario {
	sc = sc.clone()
	return scenarios.Scenario{
		ID: id, Title: sc.Name(), Family: Label, Clauses: Clauses(),
		Run: func(t *scenarios.T) { newExec(t, sc).run() },
	}
}

// exec runs one schedule in a scenario.
type exec struct {
	t        *scenarios.T
	sc       Schedule
	sessions []*scenarios.Session
	accepted []*ranges.Set // per file: bytes of segments sent in full and accepted
	cuts     [][]Seg       // per file: interrupted segments the server may still count as in flight
}

// How long a segment that overlaps an interrupted one is sent again while it gets 409: the
// server may not have seen the cut-off connection end yet.
const (
	resendPollInterval = 20 * time.Millisecond
	resendPollTimeout  = 2 * time.Second
)

func newExec(t *scenarios.T, sc Schedule) *exec {
	e := &exec{t: t, sc: sc}
	for _, size := range sc.Sizes {
		s := t.NewSession("f.bin", size)
		s.Name = s.ID + ".bin" // unique across runs: the file URL names it
		e.sessions = append(e.sessions, s)
		e.accepted = append(e.accepted, ranges.NewSet(size))
	}
	e.cuts = make([][]Seg, len(sc.Sizes))
	return e
}

func (e *exec) run() {
	for i, s := range e.sc.Steps {
		if e.t.Context().Err() != nil {
			e.t.Fatal("the run ended at step %d: %v", i+1, e.t.Context().Err())
		}
		label := fmt.Sprintf("step %d: %s", i+1, s)
		switch s.Op {
		case OpSend, OpProbe, OpSeries:
			for _, g := range s.segments() {
				e.send(s.File, g, label)
			}
		case OpInterrupt:
			e.sessions[s.File].Send(s.Seg.Start, s.Seg.End, scenarios.InterruptAfter(s.Cut),
				scenarios.Step(fmt.Sprintf("%s (segment %s cut after %d bytes)", label, s.Seg, s.Cut)))
			e.cuts[s.File] = append(e.cuts[s.File], s.Seg)
		case OpParallel:
			e.parallel(s, label)
		case OpOtherTotal:
			e.otherTotal(s, label)
		}
		e.checkCompletion(label)
	}
	e.finish()
}

// send sends one segment and requires it to be accepted (a 201 or the completion; after the
// completion, the completion again or a 4xx).
func (e *exec) send(f int, g Seg, label string) scenarios.Answer {
	s := e.sessions[f]
	done := s.Completed()
	step := fmt.Sprintf("%s (segment %s/%d)", label, g, s.Total)
	a := s.Send(g.Start, g.End, scenarios.Step(step))
	if e.cutConflict(f, g, a) {
		deadline := time.Now().Add(min(resendPollTimeout, e.t.Config().RequestTimeout))
		tick := time.NewTicker(resendPollInterval)
		defer tick.Stop()
		for n := 2; e.cutConflict(f, g, a) && time.Now().Before(deadline); n++ {
			select {
			case <-e.t.Context().Done():
				e.t.Fatal("the run ended at %s: %v", step, e.t.Context().Err())
			case <-tick.C:
			}
			a = s.Send(g.Start, g.End, scenarios.Step(fmt.Sprintf("%s (attempt %d: the last one got 409)", step, n)))
		}
		if !e.t.Check(clause.RobInterruptedSegment, !e.cutConflict(f, g, a), "the segment accepted once the server has seen the interrupted connection end",
			fmt.Sprintf("409 to every attempt within %s: %s", resendPollTimeout, a.Describe())) {
			return a
		}
	}
	id := clause.SegAnyOrder
	if e.accepted[f].Contains(ranges.Range{Start: g.Start, End: g.End}) {
		id = clause.SegRetransmit
	}
	e.expectAccepted(f, g, a, done, id)
	return a
}

// cutConflict reports whether a is a 409 to a segment that overlaps an interrupted segment of
// the file the server may still count as in flight.
func (e *exec) cutConflict(f int, g Seg, a scenarios.Answer) bool {
	if !a.Answered() || a.Status != http.StatusConflict {
		return false
	}
	for _, c := range e.cuts[f] {
		if c.overlaps(g) {
			return true
		}
	}
	return false
}

// expectAccepted checks the answer to a segment that nothing in flight overlapped: a 201 or
// the completion; after the completion, the completion again or a 4xx that says so.
func (e *exec) expectAccepted(f int, g Seg, a scenarios.Answer, wasDone bool, id clause.ID) {
	accepted := a.Created() || a.Completion
	switch {
	case accepted:
		e.accepted[f].Add(ranges.Range{Start: g.Start, End: g.End})
		e.cuts[f] = slices.DeleteFunc(e.cuts[f], g.overlaps) // seen released
	case e.cutConflict(f, g, a):
		e.t.Note("%s: 409 while the server may still count an interrupted segment as in flight", a.Step)
		return
	}
	e.t.Check(id, accepted || (wasDone && a.ClientError()),
		"201 Created with the range list (or the completion when the segment completes the file)",
		fmt.Sprintf("%s: %s", a.Step, a.Describe()))
}

// parallel holds the step's Held segments mid-body, sends Seg, then releases them. Of two
// overlapping segments in flight at least one must be refused; a segment that overlaps none
// must be accepted.
func (e *exec) parallel(st Step, label string) {
	s := e.sessions[st.File]
	done := s.Completed()
	var held []*scenarios.InFlight
	for i, h := range st.Held {
		fl := s.Start(h.Start, h.End, scenarios.PauseAfter(h.Len()/2),
			scenarios.Step(fmt.Sprintf("%s (held segment %c %s/%d, paused after %d bytes)", label, 'A'+i, h, s.Total, h.Len()/2)))
		fl.WaitPaused() // false when the server answered before the pause point (a refusal)
		held = append(held, fl)
	}
	segs := st.segments()
	answers := make([]scenarios.Answer, len(segs))
	answers[len(segs)-1] = s.Send(st.Seg.Start, st.Seg.End,
		scenarios.Step(fmt.Sprintf("%s (segment %s/%d, sent while the held ones are in flight)", label, st.Seg, s.Total)))
	for i, fl := range held {
		answers[i] = fl.Wait()
	}
	refused := func(a scenarios.Answer) bool { return a.Answered() && a.Status >= 400 }
	for i, g := range segs {
		alone := true
		for j, o := range segs {
			if i == j || !g.overlaps(o) {
				continue
			}
			alone = false
			if !done && j > i {
				e.t.Check(clause.ParOverlapRejected, refused(answers[i]) || refused(answers[j]),
					fmt.Sprintf("an error answer (e.g. 409 Conflict) to %s or to %s, overlapping in flight", g, o),
					fmt.Sprintf("%s: %s; %s: %s", answers[i].Step, answers[i].Describe(), answers[j].Step, answers[j].Describe()))
			}
		}
		if alone {
			e.expectAccepted(st.File, g, answers[i], done, clause.ParDisjointAllowed)
		}
	}
}

// otherTotal sends a segment of the file announcing another total: never a completion while
// the file is incomplete, and not a 201 either (the total is not the session's).
func (e *exec) otherTotal(st Step, label string) {
	s := e.sessions[st.File]
	if s.Acked().Len() == 0 {
		// No session yet: the segment would start one with its own total.
		e.t.Note("%s: skipped, the session holds no byte yet", label)
		return
	}
	other := e.t.SessionWithID(s.ID, s.Name, st.OtherTotal, s.Pattern)
	a := other.Send(st.Seg.Start, st.Seg.End, scenarios.Unchecked(),
		scenarios.Step(fmt.Sprintf("%s (segment %s/%d, the session's total is %d)", label, st.Seg, st.OtherTotal, s.Total)))
	if s.Completed() {
		return // the file is complete: a completion or a 4xx are both fine
	}
	got := fmt.Sprintf("%s: %s", a.Step, a.Describe())
	if e.t.Check(clause.AckFinalOnlyWhenComplete, !a.Success() || a.Created(), fmt.Sprintf("a 4xx: the file of %d bytes is incomplete", s.Total), got) {
		e.t.Check(clause.SesCollisionTotal, !a.Created(), "a 4xx that says the total differs from the session's", got)
	}
}

// checkCompletion requires the completion of every file whose bytes were all accepted.
func (e *exec) checkCompletion(label string) {
	for f, s := range e.sessions {
		if e.accepted[f].Complete() && !s.Completed() {
			e.t.Fail(clause.AckFinalIsBackendAnswer,
				fmt.Sprintf("the completion of f%d (%d bytes): every byte was sent and accepted", f, s.Total),
				fmt.Sprintf("no completion after %s; acknowledged: %s", label, s.Acked()))
			e.accepted[f] = ranges.NewSet(s.Total) // once per file
		}
	}
}

// finish completes every file whose missing bytes are few enough, expects its completion and
// compares its stored bytes.
func (e *exec) finish() {
	for f, s := range e.sessions {
		if !s.Completed() {
			var n int64
			missing := s.Acked().Missing()
			for _, r := range missing {
				n += r.End - r.Start + 1
			}
			if n > FinishLimit {
				e.t.Note("f%d left incomplete: %d bytes missing", f, n)
				continue
			}
			for _, r := range missing {
				e.send(f, Seg{r.Start, r.End}, fmt.Sprintf("finish f%d: fill the gap %s", f, r))
			}
			if !s.ExpectCompleted("") {
				continue
			}
		}
		s.CheckStoredBytes()
	}
}

// describeFindings writes the clauses of a result's findings, e.g. "ack.list-exact, par.overlap-rejected".
func describeFindings(r scenarios.Result) string {
	var ids []string
	seen := map[string]bool{}
	for _, f := range r.Findings {
		id := f.Clause
		if id == "" {
			id = "(scenario)"
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return strings.Join(ids, ", ")
}
