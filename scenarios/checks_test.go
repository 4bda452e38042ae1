package scenarios

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/gomega"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/match"
)

// newTestT returns a T for a scenario that declares the given clauses.
func newTestT(ids ...clause.ID) *T {
	return NewT(context.Background(), Config{}.WithDefaults(), Scenario{ID: "XX-01", Clauses: clause.Strings(ids...)})
}

// TestChecksRecordTheirClause: every kind of check records its clause when it runs, passing
// or failing, once, in the order of the first check; a note does not.
func TestChecksRecordTheirClause(t *testing.T) {
	tr := newTestT()
	tr.Check(clause.SegNumbering, true, "", "")
	tr.Check(clause.AckListExact, false, "x", "y")
	tr.Observe(clause.EncPost, "GET got %d", 405)
	tr.Expect(clause.AckDurable, 1).To(gomega.Equal(1))
	tr.ExpectStatus(answered(200, "ok"), clause.RobErrorReason, 200)
	tr.Fail(clause.SesLongID, "a", "b")
	tr.Check(clause.SegNumbering, false, "again", "again")
	tr.Note("ack.durable: a note is not a check")
	want := []clause.ID{clause.SegNumbering, clause.AckListExact, clause.EncPost, clause.AckDurable, clause.RobErrorReason, clause.SesLongID}
	if got := tr.Checked(); !slices.Equal(got, want) {
		t.Errorf("Checked = %v, want %v", got, want)
	}
	res := tr.result(0)
	if !slices.Equal(res.Checked, clause.Strings(want...)) {
		t.Errorf("Result.Checked = %v, want %v", res.Checked, want)
	}
	if got := tr.Findings(); len(got) != 2 {
		t.Errorf("%d findings, want 2 (ack.list-exact, seg.numbering; ses.long-id is INFO, a note): %v", len(got), got)
	}
}

// TestExpect: a Gomega assertion under a clause; its failure is a finding of the clause,
// with the matcher's message, and a protocol matcher's Expected and Got lines split out.
func TestExpect(t *testing.T) {
	tr := newTestT()
	if tr.Expect(clause.AckListExact, 2).To(gomega.Equal(2)) != true {
		t.Error("a passing assertion returned false")
	}
	if tr.Expect(clause.AckListExact, 3).To(gomega.Equal(2)) {
		t.Error("a failing assertion returned true")
	}
	a := answered(400, "")
	a.Response.StatusLine = "HTTP/1.1 400 Bad Request"
	if tr.Expect(clause.RobMalformed4xx, a).To(match.BeRefusal()) {
		t.Error("BeRefusal passed for a 400 without a body")
	}
	fs := tr.Findings()
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2: %v", len(fs), fs)
	}
	g := fs[0]
	if g.Clause != "ack.list-exact" || !strings.HasPrefix(g.Message, "ack.list-exact (MUST): The list is exact") ||
		!strings.Contains(g.Message, "to equal") {
		t.Errorf("Gomega finding: %+v", g)
	}
	m := fs[1]
	if m.Clause != "rob.malformed-4xx" || m.Expected != "a 4xx answer with a reason" || m.Got != "400 with an empty body" ||
		strings.Contains(m.Message, "Clause:") {
		t.Errorf("matcher finding: %+v", m)
	}
	wantMsg := "rob.malformed-4xx (SHOULD): Malformed headers get a 4xx\n  " + m.Requirement +
		"\n  Expected: a 4xx answer with a reason\n  Got: 400 with an empty body"
	if m.Message != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", m.Message, wantMsg)
	}
}

// TestExpectClientErrorKeepsItsMessages: the check goes through match.BeRefusal and reads as
// it always did, with the step.
func TestExpectClientErrorKeepsItsMessages(t *testing.T) {
	tests := []struct {
		a        Answer
		expected string
		got      string
	}{
		{Answer{Exchange: result.Exchange{Step: "segment 6-11/24", Outcome: result.OutcomeClosed}}, "a 4xx answer with a reason", "connection closed without a response (0 bytes)"},
		{answered(400, " "), "a 4xx answer with a reason", "400 with an empty body"},
	}
	for _, tt := range tests {
		tr := newTestT(clause.RobMalformed4xx)
		if tr.ExpectClientError(tt.a, "") {
			t.Errorf("%s: ExpectClientError passed", tt.got)
		}
		fs := tr.Findings()
		if len(fs) != 1 || fs[0].Expected != tt.expected || fs[0].Got != tt.got || fs[0].Step != tt.a.Step {
			t.Errorf("findings %+v, want one with %q / %q", fs, tt.expected, tt.got)
		}
	}
	if tr := newTestT(); !tr.ExpectClientError(answered(409, "conflict"), "") || tr.Failed() {
		t.Error("a 409 with a reason did not pass")
	}
}

// TestObservesKeepsTheInfoVerdict: a scenario whose point is an INFO observation is INFO
// when its MUST checks hold, and FAIL when one does not.
func TestObservesKeepsTheInfoVerdict(t *testing.T) {
	s := Scenario{ID: "XX-01", Clauses: declare(listChecks(), clause.RobLastWrite), Observes: true}
	if s.Level() != MUST {
		t.Fatalf("level %s, want MUST (the model's checks)", s.Level())
	}
	tr := NewT(context.Background(), Config{}.WithDefaults(), s)
	tr.Observe(clause.RobLastWrite, "the file holds the second bytes")
	if v := tr.result(0).Verdict; v != result.Info {
		t.Errorf("verdict %s, want INFO", v)
	}
	tr = NewT(context.Background(), Config{}.WithDefaults(), s)
	tr.Fail(clause.AckListExact, "0-5/24", "0-4/24")
	if v := tr.result(0).Verdict; v != result.Fail {
		t.Errorf("verdict %s, want FAIL", v)
	}
}

func TestDeclare(t *testing.T) {
	got := declare(answerChecks(), clause.SegNumbering, clause.AckFinalIsBackendAnswer)
	want := []string{"seg.numbering", "ack.final-is-backend-answer", "ack.final-only-when-complete"}
	if !slices.Equal(got, want) {
		t.Errorf("declare = %q, want %q", got, want)
	}
}
