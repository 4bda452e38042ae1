package scenarios

import "github.com/upspec/upspec/scenarios/clause"

// completionScenarios returns the 201-versus-final-answer scenarios (CP): 201 while the file
// is incomplete, the backend's answer for the segment that completes it, and never a positive
// answer other than 201 before that.
func completionScenarios() []Scenario {
	cl := declare(listChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	return []Scenario{
		{
			ID: "CP-01", Title: "Two halves in order: 201, then the backend's answer",
			Family: "completion", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("cp01.bin", 24)
				uploadPlan(t, s, seg{0, 11}, seg{12, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "CP-02", Title: "Two halves, last first: 201, then the backend's answer",
			Family: "completion", Clauses: declare(listChecks(), clause.SegAnyOrder, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("cp02.bin", 24)
				uploadPlanAs(t, s, clause.SegAnyOrder, seg{12, 23}, seg{0, 11})
				finishFile(t, s)
			},
		},
		{
			ID: "CP-03", Title: "Completion by filling a middle gap",
			Family: "completion", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.SegAnyOrder, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("cp03.bin", 24)
				uploadPlan(t, s, seg{0, 7})
				uploadPlanAs(t, s, clause.SegAnyOrder, seg{16, 23}, seg{8, 15})
				finishFile(t, s)
			},
		},
		{
			ID: "CP-04", Title: "One request carrying the whole file gets the backend's answer",
			Family: "completion", Clauses: declare(answerChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("cp04.bin", 24)
				uploadPlan(t, s, seg{0, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "CP-05", Title: "A file of ordinary segments (Config.SegmentSize) in order, the last one short",
			Family: "completion", Clauses: cl,
			Run: func(t *T) {
				size := t.Config().SegmentSize
				s := t.NewSession("cp05.bin", 2*size+100)
				// SendAll stops at the first answer that is neither a 201 nor the completion.
				s.ExpectAccepted(s.SendAll(), "")
				finishFile(t, s)
			},
		},
		{
			ID: "CP-06", Title: "Only the last byte missing, then only the first byte missing: 201 both times",
			Family: "completion", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.SegNumbering, clause.SegAnyOrder, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("cp06a.bin", 24)
				uploadPlan(t, s, seg{0, 22})
				uploadPlanAs(t, s, clause.SegNumbering, seg{23, 23})
				finishFile(t, s)
				s2 := t.NewSession("cp06b.bin", 24)
				uploadPlanAs(t, s2, clause.SegAnyOrder, seg{1, 23})
				uploadPlanAs(t, s2, clause.SegNumbering, seg{0, 0})
				finishFile(t, s2)
			},
		},
		{
			ID: "CP-07", Title: "Every byte sent except one in the middle, in four segments: no success before the gap is filled",
			Family: "completion", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("cp07.bin", 40)
				uploadPlan(t, s, seg{30, 39}, seg{0, 9}, seg{21, 29}, seg{10, 19}, seg{20, 20})
				finishFile(t, s)
			},
		},
	}
}
