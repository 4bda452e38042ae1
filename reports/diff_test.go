package reports

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
)

func TestCompare(t *testing.T) {
	base := testResults()
	changed := testResults()
	// RS-01 still passes but the target writes the other list form.
	changed[0].Exchanges[1].Response = created("0-5,9-15/24")
	// CP-01 now passes.
	changed[1].Verdict = result.Pass
	changed[1].Findings = nil
	changed[1].Exchanges[0].Response = created("0-11/24")
	// SS-01 did not run at all; a new scenario did.
	changed = append(changed[:3], changed[4:]...)

	a := testCatalogue().FromResults(Meta{Target: "http://a/upload"}, base)
	b := testCatalogue().FromResults(Meta{Target: "http://b/upload"}, changed)
	d := Compare(a, b)
	got := map[string]ScenarioDiff{}
	for _, s := range d.Scenarios {
		got[s.ID] = s
	}
	tests := []struct {
		id         string
		va, vb     result.Verdict
		exchanges  int
		firstIndex int
	}{
		{"CP-01", result.Fail, result.Pass, 1, 0},
		{"RS-01", result.Pass, result.Pass, 1, 1},
		{"SS-01", result.Skipped, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s, ok := got[tt.id]
			if !ok {
				t.Fatalf("%s not in the diff", tt.id)
			}
			if s.VerdictA != tt.va || s.VerdictB != tt.vb || len(s.Exchanges) != tt.exchanges {
				t.Errorf("diff = %+v", s)
			}
			if tt.exchanges > 0 && s.Exchanges[0].Index != tt.firstIndex {
				t.Errorf("first differing exchange at %d, want %d", s.Exchanges[0].Index, tt.firstIndex)
			}
		})
	}
	if len(d.Scenarios) != len(tests) {
		t.Errorf("%d scenarios differ, want %d", len(d.Scenarios), len(tests))
	}
	var buf bytes.Buffer
	if err := WriteDiff(&buf, d, "a.json", "b.json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"A: a.json", "target http://a/upload", "CP-01  FAIL       -> PASS", "SS-01  SKIPPED    -> (not run)",
		"2. segment B", "A: 201 Created, Range: 0-5/24,9-15/24", "B: 201 Created, Range: 0-5,9-15/24",
		"3 scenario(s) differ: 2 verdict(s) changed, 0 with the same verdict but other findings, 1 with the same verdict and findings but other answers.",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("diff output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestCompareSame(t *testing.T) {
	d := Compare(testRun(), testRun())
	var buf bytes.Buffer
	if err := WriteDiff(&buf, d, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || !strings.Contains(buf.String(), "No differences") {
		t.Errorf("diff of a run with itself:\n%s", buf.String())
	}
}

// TestCompareFindingsAndOpenOrder: a finding that differs is reported even where the verdict
// did not change; answers of requests in flight together are compared as a set, so that
// another arrival order is not a difference, but another status is.
func TestCompareFindingsAndOpenOrder(t *testing.T) {
	at := func(ms int) time.Time { return testStart.Add(time.Duration(ms) * time.Millisecond) }
	parallel := func(rngs ...string) []result.Exchange {
		var xs []result.Exchange
		for i, r := range rngs {
			x := segment("segment "+strconv.Itoa(i), "s", 0, 5, 24, 0, 0, created(r))
			x.Start, x.Duration = at(0), 5*time.Millisecond // all in flight together
			xs = append(xs, x)
		}
		return xs
	}
	co := func(got string) Scenario {
		return Scenario{ID: "CO-02", Verdict: result.Fail, Findings: []result.Finding{{Clause: "co.refused", Level: result.MUST,
			Expected: "a 4xx", Got: got + " (session " + testRunID + "-CO-02-1)"}}}
	}
	a := &Run{Meta: Meta{RunID: testRunID}, Scenarios: []Scenario{co("200 OK, file of 24 bytes"),
		{ID: "PA-05", Verdict: result.Pass, Exchanges: parallel("0-5/24", "0-5/24,10-15/24")}}}
	b := &Run{Meta: Meta{RunID: "other-run"}, Scenarios: []Scenario{co("200 OK, file of 48 bytes"),
		{ID: "PA-05", Verdict: result.Pass, Exchanges: parallel("0-5/24,10-15/24", "10-15/24")}}}
	b.Scenarios[0].Findings[0].Got = strings.ReplaceAll(b.Scenarios[0].Findings[0].Got, testRunID, "other-run")
	d := Compare(a, b)
	if len(d.Scenarios) != 1 || d.Scenarios[0].ID != "CO-02" || len(d.Scenarios[0].Findings) != 1 {
		t.Fatalf("diff = %+v; want CO-02's finding alone (PA-05's order is left open)", d.Scenarios)
	}
	if f := d.Scenarios[0].Findings[0]; f.A != "expected a 4xx; got 200 OK, file of 24 bytes (session <run>-CO-02-1)" || !strings.Contains(f.B, "48 bytes") {
		t.Errorf("finding diff = %+v", f)
	}
	var buf bytes.Buffer
	if err := WriteDiff(&buf, d, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "0 verdict(s) changed, 1 with the same verdict but other findings") {
		t.Errorf("diff output:\n%s", buf.String())
	}

	// Another status among the parallel answers is a difference.
	b.Scenarios[1].Exchanges[1].Response = &result.Response{Status: 409, StatusLine: "HTTP/1.1 409 Conflict"}
	d = Compare(a, b)
	if len(d.Scenarios) != 2 || len(d.Scenarios[1].Exchanges) != 1 || !strings.Contains(d.Scenarios[1].Exchanges[0].B, "409") {
		t.Errorf("diff = %+v; want PA-05's statuses to differ", d.Scenarios)
	}
}
