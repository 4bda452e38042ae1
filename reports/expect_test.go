package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestApplyExpectations(t *testing.T) {
	tests := []struct {
		name       string
		ids        []string // the fixture's scenarios to keep; nil: all
		counts     Counts
		closing    string
		conforming bool
		failures   string // IDs of Failures()
		problems   string // IDs of Problems()
	}{
		{name: "all", counts: Counts{Total: 6, Passed: 1, Failed: 2, Fail: 1, Info: 1, Skipped: 1, Known: 2, Stale: 1},
			closing: "1 passed, 2 failed, 1 skipped", failures: "CP-01 RS-01", problems: "CP-01"},
		{name: "known only", ids: []string{"PA-01", "MF-01", "HD-09"}, counts: Counts{Total: 3, Passed: 1, Info: 1, Known: 2},
			closing: "1 passed, 0 failed", conforming: true},
		{name: "stale only", ids: []string{"RS-01", "HD-09"}, counts: Counts{Total: 2, Passed: 1, Failed: 1, Info: 1, Stale: 1},
			closing: "1 passed, 1 failed", failures: "RS-01"},
		{name: "skipped listed scenario", ids: []string{"SS-01"}, counts: Counts{Total: 1, Skipped: 1},
			closing: "0 passed, 0 failed, 1 skipped", conforming: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := testRun()
			if tt.ids != nil {
				var keep []Scenario
				for _, s := range run.Scenarios {
					for _, id := range tt.ids {
						if s.ID == id {
							keep = append(keep, s)
						}
					}
				}
				run.Scenarios = keep
			}
			run.ApplyExpectations(testExpectations(t))
			if run.Counts != tt.counts {
				t.Errorf("counts = %+v, want %+v", run.Counts, tt.counts)
			}
			if got := ClosingLine(run); got != tt.closing {
				t.Errorf("closing line = %q, want %q", got, tt.closing)
			}
			if run.Conforming() != tt.conforming {
				t.Errorf("Conforming() = %v, want %v", run.Conforming(), tt.conforming)
			}
			if got := ids(run.Failures()); got != tt.failures {
				t.Errorf("Failures() = %q, want %q", got, tt.failures)
			}
			if got := ids(run.Problems()); got != tt.problems {
				t.Errorf("Problems() = %q, want %q", got, tt.problems)
			}
			if run.Meta.Expectations != "test-list" {
				t.Errorf("Meta.Expectations = %q", run.Meta.Expectations)
			}
		})
	}
}

func ids(ss []*Scenario) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return strings.Join(out, " ")
}

func TestApplyExpectationsNilAndAgain(t *testing.T) {
	run := testRun()
	before := run.Counts
	run.ApplyExpectations(nil)
	if run.Counts != before || run.Meta.Expectations != "" {
		t.Errorf("a nil list changed the run: %+v", run.Counts)
	}
	run.ApplyExpectations(testExpectations(t))
	run.ApplyExpectations(testExpectations(t))
	if run.Counts.Known != 2 || run.Counts.Stale != 1 || run.Counts.Total != 6 {
		t.Errorf("applied twice: counts %+v", run.Counts)
	}
	pa, _ := run.Scenario("PA-01")
	if pa.Outcome() != "KNOWN" || pa.OutcomeClass() != "known" || pa.Gates() || pa.Expectation.Describe() != "(#10) overlapping segments are never rejected" {
		t.Errorf("PA-01: outcome %s, gates %v, %+v", pa.Outcome(), pa.Gates(), pa.Expectation)
	}
	rs, _ := run.Scenario("RS-01")
	if rs.Outcome() != "STALE" || !rs.Gates() {
		t.Errorf("RS-01: outcome %s, gates %v", rs.Outcome(), rs.Gates())
	}
}

func TestConsoleExpectations(t *testing.T) {
	run := testRun()
	run.ApplyExpectations(testExpectations(t))
	var buf bytes.Buffer
	c := Console{W: &buf}
	for _, s := range run.Scenarios {
		c.ScenarioLine(s)
	}
	c.Summary(run)
	c.ClosingLine(run)
	out := buf.String()
	for _, want := range []string{
		"KNOWN       PA-01  Overlapping parallel segments  (30ms) FAIL, an expected deviation (#10)",
		"STALE       RS-01  Two disjoint segments are listed exactly  (3ms) PASS, but listed as an expected deviation (#46)",
		"expected deviations test-list",
		"  fail  stale  known  skipped",
		"known deviations: 2; stale: 1; not run: 0",
		"Expected deviations (test-list): 2 known, 1 stale",
		"  KNOWN  FAIL       PA-01 (#10): overlapping segments are never rejected",
		"  KNOWN  NON-STRICT MF-01: a malformed range closes the connection",
		"  STALE  PASS       RS-01 (#46): the list is cut short; it passed: remove it from test-list",
		"Failures: 1 FAIL, 1 STALE",
		"PASS, but test-list lists it as an expected deviation (#46): the list is cut short",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "par.overlap-rejected (MUST)") {
		t.Error("the findings of a KNOWN scenario are printed again among the failures")
	}
	if last := lastLineOf(out); last != "1 passed, 2 failed, 1 skipped" {
		t.Errorf("last line = %q", last)
	}
}

func lastLineOf(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestMarkdownExpectations(t *testing.T) {
	run := testRun()
	run.ApplyExpectations(testExpectations(t))
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"**1 passed, 2 failed, 1 skipped**",
		"known deviations: 2; stale: 1; not run: 0",
		"expected deviations test-list",
		"| 🟣 KNOWN | 2 | known deviation (does not fail the run) |",
		"| 🔴 STALE | 1 | failed |",
		"| ❌ FAIL | 1 | failed |",
		"#### 🔴 STALE RS-01: Two disjoint segments are listed exactly",
		"as an expected deviation ([\\#46](https://github.com/example/server/issues/46))",
		"### Known deviations",
		"#### 🟣 KNOWN PA-01: Overlapping parallel segments (FAIL)",
		"- upstream issue: [\\#10](https://github.com/example/server/issues/10)",
		"reproducer <code>repro-u1700000000-4f2a-PA-01.sh</code>",
		"| 🟣 | PA-01 | Overlapping parallel segments | MUST | par.overlap-rejected | KNOWN (FAIL, [\\#10](https://github.com/example/server/issues/10)) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "#### ❌ FAIL PA-01") {
		t.Error("a KNOWN scenario is listed among the failures")
	}
}

func TestHTMLExpectations(t *testing.T) {
	run := testRun()
	run.ApplyExpectations(testExpectations(t))
	page := renderHTML(t, run)
	for _, want := range []string{
		`<details class="scenario v-known" id="s-PA-01">`,
		`<details class="scenario v-stale" id="s-RS-01" open>`,
		`<details class="scenario v-fail" id="s-CP-01" open>`,
		`<span class="badge">KNOWN</span><span class="was">FAIL</span>`,
		`<span class="badge">STALE</span><span class="was">PASS</span>`,
		`.v-known { --c: var(--known)`,
		`<span>KNOWN</span>`, `<span>STALE</span>`,
		"test-list lists this scenario as an expected deviation (#10): overlapping segments are never rejected. It failed as listed",
		"It passed: the implementation may have been fixed",
		`data-filter="known"`,
		"failing (2)",
		`<h2 id="known">Known deviations</h2>`,
		`<a href="https://github.com/example/server/issues/10">#10</a>`,
		`<pre class="script">#!/bin/sh`,
		`<button type="button" class="copy" hidden>copy</button>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
