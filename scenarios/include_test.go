package scenarios_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

func TestIncludeAddsTheEvidenceOfAnotherRun(t *testing.T) {
	sub := scenarios.Result{
		Findings:  []result.Finding{{Clause: "ack.list-exact", Level: result.MUST, Message: "ack.list-exact: missing 0-0"}},
		Checked:   []string{"ack.list-exact"},
		Notes:     []string{"a note"},
		Exchanges: []result.Exchange{{Step: "segment 0-0/1"}},
	}
	target, _ := url.Parse("http://127.0.0.1:1/upload")
	s := scenarios.Scenario{ID: "XX-01", Title: "includes", Clauses: []string{"ack.list-exact"},
		Run: func(t *scenarios.T) { t.Include(sub) }}
	r := scenarios.Run(context.Background(), scenarios.Config{Target: target}, s)
	if r.Verdict != result.Fail || len(r.Findings) != 1 || len(r.Notes) != 1 || len(r.Exchanges) != 1 ||
		r.Exchanges[0].Step != "segment 0-0/1" || len(r.Checked) != 1 || r.Checked[0] != "ack.list-exact" {
		t.Fatalf("got %+v", r)
	}
}
