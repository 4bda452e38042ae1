package scenarios

import (
	"fmt"

	"github.com/upspec/upspec/scenarios/clause"
)

// malformedScenarios returns the malformed header scenarios (MF): a malformed range, session
// ID, Content-Disposition or Content-Type should get a 4xx with a reason (the module closes the connection
// without a byte: class E, a NON-STRICT finding), is never a success, and leaves the
// session's acknowledged ranges as they were.
func malformedScenarios() []Scenario {
	cl := declare(listChecks(), clause.RobMalformed4xx, clause.Ack201WhileIncomplete, clause.RobStoredBytes)
	rangeCase := func(id, title, value string) Scenario {
		return malformedCase(id, title, cl, RangeValue(value), "range header "+quoteText(value))
	}
	return []Scenario{
		rangeCase("MF-01", "Range without the bytes prefix: 6-11/24", "6-11/24"),
		rangeCase("MF-02", "Range with '=' instead of a space: bytes=6-11/24", "bytes=6-11/24"),
		rangeCase("MF-03", "Range ending at the total: bytes 6-24/24", "bytes 6-24/24"),
		rangeCase("MF-04", "Range with start after end: bytes 11-6/24", "bytes 11-6/24"),
		rangeCase("MF-05", "Range with a non-digit total: bytes 6-11/*", "bytes 6-11/*"),
		rangeCase("MF-06", "Range with a total of 2^63: bytes 6-11/9223372036854775808", "bytes 6-11/9223372036854775808"),
		rangeCase("MF-07", "Range without a total: bytes 6-11", "bytes 6-11"),
		{
			ID: "MF-08", Title: "Session ID with a dot", Family: "malformed", Clauses: cl,
			Run: func(t *T) { runMalformedSession(t, func(id string) string { return id + ".x" }) },
		},
		{
			ID: "MF-09", Title: "Session ID with a path: ../ID", Family: "malformed", Clauses: cl,
			Run: func(t *T) { runMalformedSession(t, func(id string) string { return "../" + id }) },
		},
		{
			ID: "MF-10", Title: "Empty session ID", Family: "malformed", Clauses: cl,
			Run: func(t *T) { runMalformedSession(t, func(string) string { return "" }) },
		},
		malformedCase("MF-11", `Content-Disposition: inline; filename="name"`, cl, nil, "Content-Disposition inline"),
		// The module answers nothing (docs/module-behavior.md §9); with a boundary it would be
		// an ordinary form upload (HD-11).
		malformedCase("MF-12", "Content-Type multipart/form-data without a boundary", cl,
			ContentType("multipart/form-data"), "Content-Type multipart/form-data without a boundary"),
	}
}

// malformedCase is a scenario that sends bytes 6-11 of a 24-byte file with one malformed
// header (opt; nil: an inline Content-Disposition) after 0-5 was acknowledged.
func malformedCase(id, title string, clauses []string, opt SendOption, what string) Scenario {
	return Scenario{
		ID: id, Title: title, Family: "malformed", Clauses: clauses,
		Run: func(t *T) {
			o := opt
			if o == nil {
				o = Disposition("inline; filename=\"mf.bin\"")
			}
			runMalformed(t, o, what)
		},
	}
}

// runMalformedSession sends a segment with a session ID made from a fresh valid one.
func runMalformedSession(t *T, mangle func(string) string) {
	id := mangle(t.NewSession("unused", 1).ID)
	runMalformed(t, SessionValue(id), "session ID "+quoteText(id))
}

// runMalformed acknowledges 0-5 of a 24-byte file, sends 6-11 with the malformed header
// (unchecked by the model), judges the answer, then requires the session to go on as if the
// malformed request had never been sent.
func runMalformed(t *T, opt SendOption, what string) {
	s := t.NewSession(fmt.Sprintf("%s.bin", t.Scenario().ID), 24)
	uploadPlan(t, s, seg{0, 5})
	a := s.Send(6, 11, opt, Unchecked(), Step("segment 6-11/24 with the malformed "+what))
	expectRefused(t, a, clause.RobMalformed4xx, clause.RobMalformed4xx, true)
	later := uploadPlan(t, s, seg{12, 17})[0]
	expectNotListed(t, later, rng(6, 11), clause.AckListExact, "the request with the malformed "+what)
	completeFile(t, s)
}
