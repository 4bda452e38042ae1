package scenarios

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// collisionScenarios returns the colliding session ID scenarios (CO): a second file under a
// session ID already in use, with another total (never a completion for it; a 4xx expected)
// or with the same total (what the completed file holds is recorded), and a completed session
// ID reused for a shorter file (a 4xx, or a stored file of exactly the new bytes).
func collisionScenarios() []Scenario {
	return []Scenario{
		{
			ID: "CO-01", Title: "A smaller second file under the same session ID, sent whole: no completion for it",
			Family: "collision", Clauses: declare(listChecks(), clause.SesCollisionTotal, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				collideTotal(t, 24, 12, seg{0, 11})
			},
		},
		{
			ID: "CO-02", Title: "A larger second file under the same session ID: its segment is refused",
			Family: "collision", Clauses: declare(listChecks(), clause.SesCollisionTotal, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				collideTotal(t, 24, 48, seg{24, 47})
			},
		},
		{
			ID: "CO-03", Title: "Two files of one size under one session ID: what the completed file holds",
			Family: "collision", Clauses: declare(listChecks(), clause.SesCollisionSameTotal, clause.Ack201WhileIncomplete), Observes: true,
			Labels: []string{LabelNeedsFileAccess},
			Run: func(t *T) {
				s := t.NewSession("co03.bin", 24)
				other := wire.Pattern{Seed: (s.Pattern.Seed + 29) % len(wire.Alphabet)}
				uploadPlan(t, s, seg{0, 11})
				sendAccepted(t, s, 6, 17, Seed(other.Seed), Step(fmt.Sprintf("second file (seed %d): segment 6-17/24", other.Seed)))
				uploadPlan(t, s, seg{18, 23})
				if !s.ExpectCompleted("") {
					return
				}
				t.Observe(clause.SesCollisionSameTotal, "the server cannot tell two files of one size apart; unique session IDs are the client's duty (§2.3)")
				a, data, ok := s.FetchFile(0)
				switch {
				case !ok:
					t.Note("%s: the completed file was not examined: no file URL configured", clause.SesCollisionSameTotal)
				case !a.Answered() || a.Status != 200:
					t.Note("%s: the completed file could not be fetched: %s", clause.SesCollisionSameTotal, describe(a))
				default:
					t.Observe(clause.SesCollisionSameTotal, "the first file sent 0-11 and 18-23 (seed %d), the second 6-17 (seed %d); the file holds: %s",
						s.Pattern.Seed, other.Seed, bytesWon(data, s.Pattern, other))
				}
			},
		},
		{
			ID: "CO-04", Title: "A completed session ID reused for a shorter file sent whole: a 4xx, or a stored file of exactly the new bytes",
			Family: "collision", Clauses: declare(listChecks(), clause.SesCollisionTotal, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Labels: []string{LabelNeedsFileAccess},
			Run:    reuseCompleted,
		},
	}
}

// reuseCompleted completes a file of 24 bytes, then sends a file of 12 bytes whole under the
// same session ID. A 4xx (the ID is taken) passes; so does a completion whose stored file is
// exactly the 12 new bytes. A stored file that keeps the tail of the earlier, longer file
// (the module never truncates a session's data file, docs/module-behavior.md §3.7) is a finding.
func reuseCompleted(t *T) {
	s := t.NewSession("co04-first.bin", 24)
	uploadPlan(t, s, seg{0, 11}, seg{12, 23})
	finishFile(t, s)
	if t.Failed() {
		return
	}
	s2 := t.SessionWithID(s.ID, "co04-second.bin", 12, wire.Pattern{Seed: (s.Pattern.Seed + 13) % len(wire.Alphabet)})
	a := s2.Send(0, 11, Step("second file of 12 bytes under the completed session ID: segment 0-11/12, the whole file"))
	t.ran(clause.SesCollisionTotal)
	switch {
	case a.ClientError():
		t.Observe(clause.SesCollisionTotal, "the completed session ID reused for another file got %s", describe(a))
		return
	case a.Created():
		t.failStep(clause.SesCollisionTotal, "a 4xx that says the session ID is taken, or the completion of the 12-byte file",
			describe(a), "The segment carries the whole 12-byte file.", &a)
		return
	case !a.Success():
		t.failStep(clause.SesCollisionTotal, "a 4xx that says the session ID is taken, or the completion of the 12-byte file", describe(a), "", &a)
		return
	}
	if t.Config().FileURL == "" {
		t.Skip("the reused session ID got a completion; whether the stored file holds exactly the 12 new bytes needs a file URL (--file-url)")
	}
	t.ran(clause.RobStoredBytes)
	fa, data, _ := s2.FetchFile(4 * s.Total)
	exp := fmt.Sprintf("200 with the 12 bytes of the second file (Pattern seed %d)", s2.Pattern.Seed)
	switch {
	case !fa.Answered() || fa.Status != 200:
		t.failStep(clause.RobStoredBytes, exp, describe(fa), "The reused session ID was answered with a completion, but its file cannot be fetched.", &fa)
	case bytes.Equal(data, s2.Pattern.Bytes(0, s2.Total)):
		t.Note("the completed session ID was reused for a 12-byte file: it completed and the stored file holds exactly its bytes")
	default:
		t.failStep(clause.RobStoredBytes, exp, reuseDiff(data, s, s2), "", &fa)
	}
}

// reuseDiff says how a stored file differs from the second file's bytes, naming a tail that
// holds the first file's bytes.
func reuseDiff(data []byte, first, second *Session) string {
	var probs []string
	if int64(len(data)) != second.Total {
		probs = append(probs, fmt.Sprintf("%d bytes instead of %d", len(data), second.Total))
	}
	head := data[:min(int64(len(data)), second.Total)]
	if !bytes.Equal(head, second.Pattern.Bytes(0, int64(len(head)))) {
		probs = append(probs, "the first bytes are not the second file's: "+bytesWon(head, first.Pattern, second.Pattern))
	}
	if tail := data[len(head):]; len(tail) > 0 {
		end := second.Total + int64(len(tail)) - 1
		if end < first.Total && bytes.Equal(tail, first.Pattern.Bytes(second.Total, int64(len(tail)))) {
			probs = append(probs, fmt.Sprintf("bytes %d-%d are the tail of the earlier %d-byte file: its data file was not truncated (docs/module-behavior.md §3.7)",
				second.Total, end, first.Total))
		} else {
			probs = append(probs, fmt.Sprintf("bytes %d-%d were never sent with this file", second.Total, end))
		}
	}
	if len(probs) == 0 {
		return "other bytes"
	}
	return strings.Join(probs, "; ")
}

// collideTotal uploads part of a file of total bytes, then sends a segment of a second file
// of total2 bytes under the same session ID. The second file's segment must never be a
// completion (the session's file is incomplete) and should get a 4xx that says why; the first
// file must then complete with every acknowledged range intact.
func collideTotal(t *T, total, total2 int64, second seg) {
	s := t.NewSession(fmt.Sprintf("%s-first.bin", t.Scenario().ID), total)
	uploadPlan(t, s, seg{0, 11})
	s2 := t.SessionWithID(s.ID, fmt.Sprintf("%s-second.bin", t.Scenario().ID), total2,
		wire.Pattern{Seed: (s.Pattern.Seed + 7) % len(wire.Alphabet)})
	a := s2.Send(second.start, second.end, Unchecked(),
		Step(fmt.Sprintf("second file of %d bytes under the same session ID: segment %s/%d", total2, second, total2)))
	t.ran(clause.AckFinalOnlyWhenComplete)
	t.ran(clause.SesCollisionTotal)
	switch {
	case a.Success() && !a.Created():
		t.failStep(clause.AckFinalOnlyWhenComplete,
			fmt.Sprintf("a 4xx: the session's file of %d bytes is incomplete", total), describe(a),
			"A segment with another total under a session ID in use was answered as a completion (the module's class C).", &a)
	case a.Created():
		t.failStep(clause.SesCollisionTotal, "a 4xx that says the total differs from the session's", describe(a), "", &a)
	case !a.ClientError() || len(a.Body) == 0:
		t.failStep(clause.SesCollisionTotal, "a 4xx that says the total differs from the session's", describe(a), "", &a)
	default:
		t.Note("the colliding segment got %s", describe(a))
	}
	// The first file goes on: the next 201 must still list 0-11 (the model checks it).
	uploadPlan(t, s, seg{12, 17})
	completeFile(t, s)
}
