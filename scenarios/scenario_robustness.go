package scenarios

import "fmt"

// robustnessScenarios returns the robustness scenarios (RB): segments cut off mid-body, and
// retries after the completion.
func robustnessScenarios() []Scenario {
	interrupted := []string{"rob.interrupted-segment", "ack.durable", "ack.list-exact", "ack.final-only-when-complete", "rob.stored-bytes"}
	retry := []string{"rob.completion-idempotent", "ack.final-only-when-complete"}
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
				expectNotListed(t, later, rng(8, 15), "rob.interrupted-segment", "the interrupted segment")
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
				expectNotListed(t, later, rng(12, 17), "rob.interrupted-segment", "the interrupted segment")
				resend(t, s, 12, 17)
				checkIntact(t, s)
			},
		},
		{
			ID: "RB-03", Title: "The completing segment cut off mid-body: no completion, the file still incomplete",
			Family: "robustness", Clauses: interrupted,
			Run: func(t *T) {
				s := t.NewSession("rb03.bin", 24)
				uploadPlan(t, s, seg{0, 11})
				s.Send(12, 23, InterruptAfter(6), Step("segment 12-23/24 (the last one) cut off after 6 of 12 body bytes"))
				p := probe(t, s, 1)
				expectNotListed(t, p, rng(12, 23), "rob.interrupted-segment", "the interrupted segment")
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
			Family: "robustness", Clauses: retry,
			Run: func(t *T) {
				s := t.NewSession("rb06.bin", 24)
				uploadPlan(t, s, seg{0, 23})
				finishFile(t, s)
				retryAfterCompletion(t, s, 0, 23)
			},
		},
	}
}

// resend sends a segment again after an interrupted one and requires it to be accepted. A
// 409 (the server may not yet have noticed the interruption and still count the cut-off
// request as in flight) is retried once, with a note.
func resend(t *T, s *Session, start, end int64) Answer {
	step := Step(fmt.Sprintf("segment %d-%d/%d sent again", start, end, s.Total))
	a := s.Send(start, end, step)
	if a.Answered() && a.Status == 409 {
		t.Note("the resend after the interruption got %s; sent once more", describe(a))
		a = s.Send(start, end, step)
	}
	if !s.ExpectAccepted(a, "rob.interrupted-segment") {
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
		t.Note("rob.interrupted-segment: whether earlier bytes stayed intact was not checked: no file URL configured")
		return
	}
	if !s.CheckStoredBytes() {
		t.Fail("rob.interrupted-segment", "the completed file byte for byte as sent",
			"other bytes after an interrupted segment (see rob.stored-bytes)")
	}
}

// retryAfterCompletion sends a segment of a completed session again. It should get the
// completion again or a 4xx that says why; a 201 (the session started over, module issue
// #46) is found by the model under rob.completion-idempotent.
func retryAfterCompletion(t *T, s *Session, start, end int64) {
	a := s.Send(start, end, Step(fmt.Sprintf("segment %d-%d/%d sent again after the completion", start, end, s.Total)))
	switch {
	case a.Created():
		// The model has recorded the finding.
	case a.Success():
		t.Note("the retry after the completion got %s", describe(a))
	case a.ClientError() && len(a.Body) > 0:
		t.Note("the retry after the completion got a clear error: %s", describe(a))
	default:
		t.failStep("rob.completion-idempotent", "the completion again, or a 4xx that says the session is complete", describe(a), "", &a)
	}
}
