package scenarios

import (
	"fmt"
	"strings"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/match"
	"github.com/upspec/upspec/scenarios/wire"
)

// seg is one segment of a scenario's plan: bytes start..end (inclusive).
type seg struct{ start, end int64 }

// String writes the segment as "S-E".
func (g seg) String() string { return fmt.Sprintf("%d-%d", g.start, g.end) }

// sendAccepted sends one segment and requires it to be accepted (a 201, or the completion
// when it finishes the file); a refused segment stops the scenario, since every later step
// depends on it.
func sendAccepted(t *T, s *Session, start, end int64, opts ...SendOption) Answer {
	return sendAcceptedAs(t, s, "", start, end, opts...)
}

// sendAcceptedAs is sendAccepted with the acceptance judged under clause id, the clause the
// segment exercises (e.g. seg.any-order for a segment sent before the bytes below it); ""
// means ack.201-while-incomplete.
func sendAcceptedAs(t *T, s *Session, id clause.ID, start, end int64, opts ...SendOption) Answer {
	a := s.Send(start, end, opts...)
	if !s.ExpectAccepted(a, id) {
		t.FailNow()
	}
	return a
}

// uploadPlan sends the segments in order. Every segment but the last must be answered 201
// (the model checks each list); the last must complete the file with the backend's answer.
// It returns the answers.
func uploadPlan(t *T, s *Session, plan ...seg) []Answer {
	return uploadPlanAs(t, s, "", plan...)
}

// uploadPlanAs is uploadPlan with every acceptance judged under clause id (sendAcceptedAs).
func uploadPlanAs(t *T, s *Session, id clause.ID, plan ...seg) []Answer {
	answers := make([]Answer, 0, len(plan))
	for _, g := range plan {
		answers = append(answers, sendAcceptedAs(t, s, id, g.start, g.end))
	}
	return answers
}

// completeFile sends every byte the model does not hold as acknowledged, gap by gap, then
// requires the completion and checks the stored bytes (when a file URL is configured).
func completeFile(t *T, s *Session) {
	for _, r := range s.Acked().Missing() {
		sendAccepted(t, s, r.Start, r.End, Step("fill the gap "+r.String()))
	}
	finishFile(t, s)
}

// finishFile requires the session's completion and checks the stored bytes.
func finishFile(t *T, s *Session) {
	if !s.ExpectCompleted("") {
		return
	}
	s.CheckStoredBytes()
}

// describe says how an answer ended, naming the outcome classes of the real module
// (docs/module-behavior.md §0) where they help a reader.
func describe(a Answer) string {
	switch a.Outcome {
	case result.OutcomeClosed:
		return "connection closed without a response (class E)"
	case result.OutcomeReset:
		return "connection reset without a response (class E): " + a.Error
	}
	return a.Describe()
}

// expectRefused checks the answer to a request that must not be acknowledged (a malformed
// header, a body that does not match its range): a positive answer other than 201 is a false
// success (ack.final-only-when-complete, MUST, when the file is incomplete); a 201 accepts
// what should be refused (under refuseClause); anything but a 4xx with a reason is a finding
// of reasonClause (SHOULD level: rob.malformed-4xx or rob.error-reason). The request must
// have been sent Unchecked.
func expectRefused(t *T, a Answer, refuseClause, reasonClause clause.ID, fileIncomplete bool) {
	if fileIncomplete {
		t.ran(clause.AckFinalOnlyWhenComplete)
	}
	t.ran(refuseClause)
	t.ran(reasonClause)
	switch {
	case a.Success() && !a.Created() && fileIncomplete:
		t.failStep(clause.AckFinalOnlyWhenComplete, "a 4xx answer with a reason; never a success while bytes are missing",
			describe(a), "The file is incomplete, so a positive answer other than 201 is a false success (class C of the module).", &a)
	case a.Success():
		t.failStep(refuseClause, "a 4xx answer with a reason (the request must not be acknowledged)", describe(a), "", &a)
	default:
		ma := a.MatchAnswer()
		ma.Summary = describe(a)
		if t.expectStep(reasonClause, a, ma, match.BeRefusal()) {
			t.Note("%s answered %s", a.Step, describe(a))
		}
	}
}

// expectNotListed checks that a later answer's list holds none of the bytes of r (a request
// that was refused or cut off), under clause.
func expectNotListed(t *T, a Answer, r ranges.Range, id clause.ID, what string) {
	if a.List == nil {
		return
	}
	t.ran(id)
	if a.List.Set().Overlaps(r) {
		t.failStep(id, fmt.Sprintf("a list without bytes %s (%s)", r, what), a.RangeValue,
			"Bytes of a request that was not acknowledged appear in the list.", &a)
	}
}

// rng returns the range start..end.
func rng(start, end int64) ranges.Range { return ranges.Range{Start: start, End: end} }

// bytesWon compares a fetched file with two patterns and says, range by range, which one
// each byte matches ("first", "second", "both", "neither").
func bytesWon(data []byte, first, second wire.Pattern) string {
	var parts []string
	cur, from := "", 0
	flush := func(to int) {
		if cur != "" {
			parts = append(parts, fmt.Sprintf("%d-%d %s", from, to-1, cur))
		}
	}
	for i, b := range data {
		f, s := b == first.Byte(int64(i)), b == second.Byte(int64(i))
		var w string
		switch {
		case f && s:
			w = "both"
		case f:
			w = "first"
		case s:
			w = "second"
		default:
			w = "neither"
		}
		if w != cur {
			flush(i)
			cur, from = w, i
		}
	}
	flush(len(data))
	if len(parts) == 0 {
		return "an empty file"
	}
	return strings.Join(parts, ", ")
}

// listChecks are the clauses the session model checks on every answer to a segment once
// 201s come back (Session.Send): the Range header and the body of each 201, the list's bytes
// and order against the model, the bytes acknowledged before, the form of the list, and
// whether a positive answer is a false success or the completion with the backend's answer.
func listChecks() []clause.ID {
	return []clause.ID{
		clause.AckRangeHeader, clause.AckBodyEqualsHeader, clause.AckListExact, clause.AckListCanonical,
		clause.AckDurable, clause.AckListFormat, clause.AckFinalOnlyWhenComplete, clause.AckFinalIsBackendAnswer,
	}
}

// answerChecks are the clauses the session model checks on a session whose segments get no
// 201: whether a positive answer is a false success or the completion with the backend's
// answer.
func answerChecks() []clause.ID {
	return []clause.ID{clause.AckFinalOnlyWhenComplete, clause.AckFinalIsBackendAnswer}
}

// declare returns a scenario's clause list: its own clauses, then those of the session model
// that its answers go through (listChecks, answerChecks or nil), without repeats. The suite's
// tests hold every list to the clauses whose checks ran.
func declare(model []clause.ID, own ...clause.ID) []string {
	var ids []clause.ID
	for _, id := range append(own, model...) {
		ids = appendNew(ids, id)
	}
	return clause.Strings(ids...)
}
