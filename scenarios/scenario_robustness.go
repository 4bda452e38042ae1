package scenarios

import (
	"fmt"
	"net/http"
	"time"

	"github.com/upspec/upspec/scenarios/clause"
)

// robustnessScenarios returns the robustness scenarios (RB): segments cut off mid-body, and
// retries after the completion.
func robustnessScenarios() []Scenario {
	interrupted := declare(listChecks(), clause.RobInterruptedSegment, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	retry := declare(listChecks(), clause.RobCompletionIdempotent, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	return []Scenario{
		{
			ID: "RB-01", Title: "A segment cut off mid-body is not acknowledged; earlier bytes stay intact",
			Family: "robustness", Clauses: interrupted,
			Run: func(t *T) {
				s := t.NewSession("rb01.bin", 24)
				uploadPlan(t, s, seg{0, 7})
				cut := s.Send(8, 15, InterruptAfter(4), Step("segment 8-15/24 cut off after 4 of 8 body bytes"))
				t.Note("the interrupted segment: %s", describe(cut))
				later := uploadPlan(t, s, seg{16, 23})[0]
				expectNotListed(t, later, rng(8, 15), clause.RobInterruptedSegment, "the interrupted segment")
				resend(t, s, 8, 15)
				checkIntact(t, s)
			},
		},
		{
			ID: "RB-02", Title: "A segment cut off right after its headers, then sent again",
			Family: "robustness", Clauses: interrupted,
			Run: func(t *T) {
				s := t.NewSession("rb02.bin", 24)
				uploadPlan(t, s, seg{0, 11})
				s.Send(12, 17, InterruptAfter(0), Step("segment 12-17/24 cut off after its headers"))
				later := uploadPlan(t, s, seg{18, 23})[0]
				expectNotListed(t, later, rng(12, 17), clause.RobInterruptedSegment, "the interrupted segment")
				resend(t, s, 12, 17)
				checkIntact(t, s)
			},
		},
		{
			ID: "RB-03", Title: "The completing segment cut off mid-body: no completion, the file still incomplete",
			Family: "robustness", Clauses: declare(listChecks(), clause.RobInterruptedSegment, clause.SegRetransmit, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rb03.bin", 24)
				uploadPlan(t, s, seg{0, 11})
				s.Send(12, 23, InterruptAfter(6), Step("segment 12-23/24 (the last one) cut off after 6 of 12 body bytes"))
				p := probe(t, s, 1)
				expectNotListed(t, p, rng(12, 23), clause.RobInterruptedSegment, "the interrupted segment")
				resend(t, s, 12, 23)
				checkIntact(t, s)
			},
		},
		{
			ID: "RB-04", Title: "The completing segment sent again after the completion (its answer was lost)",
			Family: "robustness", Clauses: retry,
			Run: func(t *T) {
				s := t.NewSession("rb04.bin", 24)
				uploadPlan(t, s, seg{0, 11}, seg{12, 23})
				finishFile(t, s)
				retryAfterCompletion(t, s, 12, 23)
			},
		},
		{
			ID: "RB-05", Title: "An earlier segment sent again after the completion",
			Family: "robustness", Clauses: retry,
			Run: func(t *T) {
				s := t.NewSession("rb05.bin", 24)
				uploadPlan(t, s, seg{0, 11}, seg{12, 23})
				finishFile(t, s)
				retryAfterCompletion(t, s, 0, 5)
			},
		},
		{
			ID: "RB-06", Title: "A one-request file sent again after its completion",
			Family: "robustness", Clauses: declare(answerChecks(), clause.RobCompletionIdempotent, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rb06.bin", 24)
				uploadPlan(t, s, seg{0, 23})
				finishFile(t, s)
				retryAfterCompletion(t, s, 0, 23)
			},
		},
	}
}

// How long a resend after an interrupted segment keeps trying while it gets 409.
const (
	resendPollInterval = 20 * time.Millisecond
	resendPollTimeout  = 2 * time.Second
)

// resend sends a segment again after an interrupted one and requires it to be accepted. A
// 409 is correct while the server has not yet seen the cut-off connection end and still
// counts that request as in flight: the resend is then repeated every resendPollInterval, for
// at most resendPollTimeout (or the request timeout, if shorter). A 409 that never clears is
// a finding: the interrupted segment's claim was never released.
func resend(t *T, s *Session, start, end int64) Answer {
	step := fmt.Sprintf("segment %d-%d/%d sent again", start, end, s.Total)
	a := s.Send(start, end, Step(step))
	conflict := func(a Answer) bool { return a.Answered() && a.Status == http.StatusConflict }
	if conflict(a) {
		limit := min(resendPollTimeout, t.Config().RequestTimeout)
		deadline := time.Now().Add(limit)
		tick := time.NewTicker(resendPollInterval)
		defer tick.Stop()
		n := 1
	poll:
		for conflict(a) && time.Now().Before(deadline) {
			select {
			case <-t.Context().Done():
				break poll
			case <-tick.C:
			}
			n++
			a = s.Send(start, end, Step(fmt.Sprintf("%s (attempt %d: the last one got 409)", step, n)))
		}
		t.ran(clause.RobInterruptedSegment)
		if conflict(a) {
			t.failStep(clause.RobInterruptedSegment, "the resend accepted once the server has seen the interrupted connection end",
				fmt.Sprintf("409 to all %d attempts within %s: %s", n, limit, describe(a)),
				"The interrupted segment's claim was never released.", &a)
			t.FailNow()
		}
		t.Note("the resend after the interruption got 409 %d time(s) before the server released the interrupted segment's claim", n-1)
	}
	if !s.ExpectAccepted(a, clause.RobInterruptedSegment) {
		t.FailNow()
	}
	return a
}

// checkIntact requires the completion and checks that the completed file holds every byte
// as sent: an interruption must not have destroyed acknowledged bytes.
func checkIntact(t *T, s *Session) {
	if !s.ExpectCompleted("") {
		return
	}
	if t.Config().FileURL == "" {
		t.Note("%s: whether earlier bytes stayed intact was not checked: no file URL configured", clause.RobInterruptedSegment)
		return
	}
	t.ran(clause.RobInterruptedSegment)
	if !s.CheckStoredBytes() {
		t.Fail(clause.RobInterruptedSegment, "the completed file byte for byte as sent",
			"other bytes after an interrupted segment (see rob.stored-bytes)")
	}
}

// retryAfterCompletion sends a segment of a completed session again. It should get the
// completion again or a 4xx that says why; a 201 (the session started over, module issue
// #46) is found by the model under rob.completion-idempotent.
func retryAfterCompletion(t *T, s *Session, start, end int64) {
	a := s.Send(start, end, Step(fmt.Sprintf("segment %d-%d/%d sent again after the completion", start, end, s.Total)))
	t.ran(clause.RobCompletionIdempotent)
	switch {
	case a.Created():
		// The model has recorded the finding.
	case a.Success():
		t.Note("the retry after the completion got %s", describe(a))
	case a.ClientError() && len(a.Body) > 0:
		t.Note("the retry after the completion got a clear error: %s", describe(a))
	default:
		t.failStep(clause.RobCompletionIdempotent, "the completion again, or a 4xx that says the session is complete", describe(a), "", &a)
	}
}
