package scenarios

import "fmt"

// collisionScenarios returns the colliding session ID scenarios (CO): a second file under a
// session ID already in use, with another total (never a completion for it; a 4xx expected)
// or with the same total (what the completed file holds is recorded).
func collisionScenarios() []Scenario {
	return []Scenario{
		{
			ID: "CO-01", Title: "A smaller second file under the same session ID, sent whole: no completion for it",
			Family: "collision", Clauses: []string{"ses.collision-total", "ack.final-only-when-complete", "ack.durable", "rob.stored-bytes"},
			Run: func(t *T) {
				collideTotal(t, 24, 12, seg{0, 11})
			},
		},
		{
			ID: "CO-02", Title: "A larger second file under the same session ID: its segment is refused",
			Family: "collision", Clauses: []string{"ses.collision-total", "ack.final-only-when-complete", "ack.durable", "rob.stored-bytes"},
			Run: func(t *T) {
				collideTotal(t, 24, 48, seg{24, 47})
			},
		},
		{
			ID: "CO-03", Title: "Two files of one size under one session ID: what the completed file holds",
			Family: "collision", Clauses: []string{"ses.collision-same-total"}, Labels: []string{LabelNeedsFileAccess},
			Run: func(t *T) {
				s := t.NewSession("co03.bin", 24)
				other := Pattern{Seed: (s.Pattern.Seed + 29) % len(Alphabet)}
				uploadPlan(t, s, seg{0, 11})
				sendAccepted(t, s, 6, 17, Seed(other.Seed), Step(fmt.Sprintf("second file (seed %d): segment 6-17/24", other.Seed)))
				uploadPlan(t, s, seg{18, 23})
				if !s.ExpectCompleted("") {
					return
				}
				t.Note("ses.collision-same-total: the server cannot tell two files of one size apart; unique session IDs are the client's duty (§2.3)")
				a, data, ok := s.FetchFile(0)
				switch {
				case !ok:
					t.Note("ses.collision-same-total: the completed file was not examined: no file URL configured")
				case !a.Answered() || a.Status != 200:
					t.Note("ses.collision-same-total: the completed file could not be fetched: %s", describe(a))
				default:
					t.Note("ses.collision-same-total: the first file sent 0-11 and 18-23 (seed %d), the second 6-17 (seed %d); the file holds: %s",
						s.Pattern.Seed, other.Seed, bytesWon(data, s.Pattern, other))
				}
			},
		},
	}
}

// collideTotal uploads part of a file of total bytes, then sends a segment of a second file
// of total2 bytes under the same session ID. The second file's segment must never be a
// completion (the session's file is incomplete) and should get a 4xx that says why; the first
// file must then complete with every acknowledged range intact.
func collideTotal(t *T, total, total2 int64, second seg) {
	s := t.NewSession(fmt.Sprintf("%s-first.bin", t.Scenario().ID), total)
	uploadPlan(t, s, seg{0, 11})
	s2 := t.SessionWithID(s.ID, fmt.Sprintf("%s-second.bin", t.Scenario().ID), total2,
		Pattern{Seed: (s.Pattern.Seed + 7) % len(Alphabet)})
	a := s2.Send(second.start, second.end, Unchecked(),
		Step(fmt.Sprintf("second file of %d bytes under the same session ID: segment %s/%d", total2, second, total2)))
	switch {
	case a.Success() && !a.Created():
		t.failStep("ack.final-only-when-complete",
			fmt.Sprintf("a 4xx: the session's file of %d bytes is incomplete", total), describe(a),
			"A segment with another total under a session ID in use was answered as a completion (the module's class C).", &a)
	case a.Created():
		t.failStep("ses.collision-total", "a 4xx that says the total differs from the session's", describe(a), "", &a)
	case !a.ClientError() || len(a.Body) == 0:
		t.failStep("ses.collision-total", "a 4xx that says the total differs from the session's", describe(a), "", &a)
	default:
		t.Note("the colliding segment got %s", describe(a))
	}
	// The first file goes on: the next 201 must still list 0-11 (the model checks it).
	uploadPlan(t, s, seg{12, 17})
	completeFile(t, s)
}
