package scenarios

import (
	"fmt"

	"github.com/upspec/upspec/scenarios/clause"
)

// bodyLengthScenarios returns the body length scenarios (BL): a Content-Length shorter or
// longer than the range is not acknowledged, and no later list includes its bytes.
func bodyLengthScenarios() []Scenario {
	cl := declare(listChecks(), clause.EncBodyMatchesRange, clause.RobErrorReason, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	mismatch := func(id, title string, bodyLen int64) Scenario {
		return Scenario{
			ID: id, Title: title, Family: "body-length", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession(fmt.Sprintf("bl-%s.bin", id), 24)
				uploadPlan(t, s, seg{0, 5})
				a := s.Send(6, 11, Unchecked(), Body(s.Pattern.Bytes(6, bodyLen)),
					Step(fmt.Sprintf("segment 6-11/24 (6 bytes) with a body of %d bytes, Content-Length %d", bodyLen, bodyLen)))
				expectRefused(t, a, clause.EncBodyMatchesRange, clause.RobErrorReason, true)
				later := uploadPlan(t, s, seg{12, 17})[0]
				expectNotListed(t, later, rng(6, 11), clause.EncBodyMatchesRange, "the request whose body did not match its range")
				completeFile(t, s)
			},
		}
	}
	return []Scenario{
		mismatch("BL-01", "Content-Length shorter than the range: not acknowledged", 4),
		mismatch("BL-02", "Content-Length longer than the range: not acknowledged", 9),
		{
			ID: "BL-03", Title: "A whole-file range with a shorter body never completes the file",
			Family: "body-length", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("bl03.bin", 24)
				a := s.Send(0, 23, Unchecked(), Body(s.Pattern.Bytes(0, 20)),
					Step("segment 0-23/24 with a body of 20 bytes, Content-Length 20"))
				expectRefused(t, a, clause.EncBodyMatchesRange, clause.RobErrorReason, true)
				later := uploadPlan(t, s, seg{0, 1})[0]
				expectNotListed(t, later, rng(2, 23), clause.EncBodyMatchesRange, "the request whose body did not match its range")
				completeFile(t, s)
			},
		},
		{
			ID: "BL-04", Title: "A segment without Content-Length is not acknowledged",
			Family: "body-length", Clauses: cl,
			Run: func(t *T) {
				s := t.NewSession("bl04.bin", 24)
				uploadPlan(t, s, seg{0, 5})
				a := s.Send(6, 11, Unchecked(), NoContentLength(), Step("segment 6-11/24 without Content-Length"))
				expectRefused(t, a, clause.EncBodyMatchesRange, clause.RobErrorReason, true)
				later := uploadPlan(t, s, seg{12, 17})[0]
				expectNotListed(t, later, rng(6, 11), clause.EncBodyMatchesRange, "the request without Content-Length")
				completeFile(t, s)
			},
		},
	}
}
