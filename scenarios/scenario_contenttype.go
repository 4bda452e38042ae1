package scenarios

import "github.com/upspec/upspec/scenarios/clause"

// contentTypeScenarios returns the header scenarios about the Content-Type value: what an
// empty one gets (HD-14).
func contentTypeScenarios() []Scenario {
	return []Scenario{{
		ID: "HD-14", Title: "Segments with an empty Content-Type (a browser's file of unknown type)",
		Family: "headers", Clauses: declare(listChecks(), clause.EncEmptyContentType, clause.RobStoredBytes),
		Run: func(t *T) {
			s := t.NewSession("hd14.bin", 24)
			empty := ContentType("")
			a := s.Send(0, 11, empty, Step("segment 0-11/24 with an empty Content-Type"))
			t.Observe(clause.EncEmptyContentType, "a segment with an empty Content-Type got %s", describe(a))
			if !a.Created() {
				return
			}
			b := s.Send(12, 23, empty, Step("segment 12-23/24 with an empty Content-Type, the last one"))
			t.Observe(clause.EncEmptyContentType, "the completing segment with an empty Content-Type got %s", describe(b))
			finishFile(t, s)
		},
	}}
}
