package scenarios

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// robustnessScenarios returns the robustness scenarios (RB): segments cut off mid-body (early,
// and after 16 KiB and 256 KiB of their body, past the module's cleanup threshold), and retries
// after the completion.
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
			ID: "RB-07", Title: "A segment cut off after 16 KiB of its body: the acknowledged bytes stay, byte for byte",
			Family: "robustness", Clauses: interrupted,
			Run: func(t *T) { cutLate(t, 16<<10) },
		},
		{
			ID: "RB-08", Title: "A segment cut off after 256 KiB of its body: the acknowledged bytes stay, byte for byte",
			Family: "robustness", Clauses: interrupted,
			Run: func(t *T) { cutLate(t, 256<<10) },
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

// cutLate acknowledges the first half of a file of 4*cut bytes, cuts the second half off after
// cut bytes of its body, sends it again (the completion) and compares the completed file byte
// for byte with what was sent. The module configured with `upload_cleanup 400` deletes the
// data file once more than about 8.5 KiB of a cut segment arrived, while it keeps listing the
// ranges: the acknowledged first half reads back as zeros (docs/module-behavior.md §9), a
// finding of ack.durable. The cuts of RB-01..RB-03 (a few bytes) never show this loss.
func cutLate(t *T, cut int64) {
	half := 2 * cut
	s := t.NewSession(fmt.Sprintf("%s.bin", strings.ToLower(t.Scenario().ID)), 2*half)
	uploadPlan(t, s, seg{0, half - 1})
	before := s.Acked()
	a := s.Send(half, 2*half-1, InterruptAfter(cut),
		Step(fmt.Sprintf("segment %d-%d/%d cut off after %d of its %d body bytes", half, 2*half-1, s.Total, cut, half)))
	t.Note("the interrupted segment: %s", describe(a))
	resend(t, s, half, 2*half-1)
	if !s.ExpectCompleted("") {
		return
	}
	checkAckedBytes(t, s, before)
}

// checkAckedBytes checks, under ack.durable, that the bytes acknowledged before an
// interruption (acked) are in the completed file as sent: through the file URL, byte for byte
// (and the whole file under rob.stored-bytes); else through the size and digests of the harness
// backend's form, where it carries them. Without either it notes that the bytes were not
// compared: the lists alone cannot show the loss.
func checkAckedBytes(t *T, s *Session, acked *ranges.Set) {
	if t.Config().FileURL != "" {
		if s.CheckStoredBytes() {
			t.ran(clause.AckDurable)
			return
		}
		a, data, _ := s.FetchFile(s.Total)
		if !a.Answered() || a.Status != 200 {
			return // rob.stored-bytes has the finding
		}
		t.ran(clause.AckDurable)
		var lost, zeros []ranges.Range
		for _, r := range acked.Ranges() {
			for _, d := range differing(data, s.Pattern, r) {
				lost = append(lost, d)
				if allZero(data, d) {
					zeros = append(zeros, d)
				}
			}
		}
		if len(lost) > 0 {
			why := "Acknowledged bytes changed after the interrupted segment."
			if len(zeros) == len(lost) {
				why = "Acknowledged bytes read back as zeros: the data file was deleted while the state kept the ranges (the module with `upload_cleanup 400`)."
			}
			t.failStep(clause.AckDurable, "bytes "+acked.String()+" (acknowledged before the interruption) as sent",
				"bytes "+fmtRanges(lost)+" differ", why, &a)
		}
		return
	}
	b := t.Config().Backend
	if b == nil {
		t.Note("%s: the bytes acknowledged before the interruption were not compared: no file URL (--file-url) and no harness backend (--backend-listen); "+
			"the lists alone cannot show a loss (the module keeps listing ranges whose bytes it deleted)", clause.AckDurable)
		return
	}
	form := lastForm(t, b, s)
	want := fileDigests(s)
	compared := 0
	for _, fl := range form.Fields {
		kind := formFieldKind(fl.Name)
		got := strings.TrimSpace(fl.Value)
		if kind == "" || kind == "size" || got == "" {
			continue
		}
		compared++
		t.ran(clause.AckDurable)
		if !strings.EqualFold(got, want[kind]) {
			t.Fail(clause.AckDurable, fmt.Sprintf("the %s of the file sent, %s", kind, want[kind]),
				fmt.Sprintf("%s=%s in the backend's form: bytes of the file changed after the interruption", fl.Name, got))
		}
	}
	if compared == 0 {
		t.Note("%s: the bytes acknowledged before the interruption were not compared: the backend's form carries no digest and no file URL (--file-url) is configured", clause.AckDurable)
	}
}

// differing returns the parts of r where data differs from p (bytes past data's end count as
// differing).
func differing(data []byte, p wire.Pattern, r ranges.Range) []ranges.Range {
	var out []ranges.Range
	for off := r.Start; off <= r.End; off++ {
		if off < int64(len(data)) && data[off] == p.Byte(off) {
			continue
		}
		if k := len(out); k > 0 && out[k-1].End == off-1 {
			out[k-1].End = off
		} else {
			out = append(out, ranges.Range{Start: off, End: off})
		}
	}
	return out
}

// allZero reports whether data holds zeros across r (and reaches r's end).
func allZero(data []byte, r ranges.Range) bool {
	if r.End >= int64(len(data)) {
		return false
	}
	for _, c := range data[r.Start : r.End+1] {
		if c != 0 {
			return false
		}
	}
	return true
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
