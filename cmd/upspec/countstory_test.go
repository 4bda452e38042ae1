package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/upspec/upspec/reports"
)

// reportFiles are the reports one run wrote.
type reportFiles struct {
	JSON, JUnit, Markdown, HTML string
}

// checkCountStory checks that every surface of one run tells the same numbers with the same
// words: the console's last line and the line before it, the JSON counts, the JUnit totals
// (failures = the scenarios that gate the exit status), the Markdown and the HTML banner, each
// against the others and against the exit status.
func checkCountStory(t *testing.T, res runResult, f reportFiles) {
	t.Helper()
	run, err := reports.ReadJSONFile(f.JSON)
	if err != nil {
		t.Fatalf("read the JSON report: %v\n%s", err, res.stderr)
	}
	c := run.Counts
	closing := reports.ClosingLine(run)
	legend := c.Legend()

	// The console: the last line, and the legend before it.
	lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	if len(lines) < 2 || lines[len(lines)-1] != closing || lines[len(lines)-2] != legend {
		t.Errorf("console ends %q; the JSON report says %q / %q", lines[max(0, len(lines)-2):], legend, closing)
	}
	if got := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed); !strings.HasPrefix(closing, got) {
		t.Errorf("closing line %q does not start with the counts %q", closing, got)
	}
	if c.Total != c.Passed+c.Failed+c.Known+c.Skipped+c.Error+c.NotRun || c.Passed != c.Pass+c.NonStrict+c.Info || c.Failed != c.Fail+c.Stale {
		t.Errorf("the counts do not add up: %+v", c)
	}
	// The console's tables: the level table's rows add up to the counts, column by column.
	levelRows := regexp.MustCompile(`(?m)^  (MUST|SHOULD|INFO) +(\d+)((?: +\d+)+)$`).FindAllStringSubmatch(res.stdout, -1)
	sum := map[int]int{}
	for _, row := range levelRows {
		for i, n := range strings.Fields(row[3]) {
			v, _ := strconv.Atoi(n)
			sum[i] += v
		}
	}
	head := regexp.MustCompile(`(?m)^  by level +total((?: +[a-z-]+)+)$`).FindStringSubmatch(res.stdout)
	if head == nil {
		t.Fatalf("no level table in the console output:\n%s", res.stdout)
	}
	for i, col := range strings.Fields(head[1]) {
		if want := c.Of(strings.ToUpper(col)); sum[i] != want {
			t.Errorf("console level table: column %s adds up to %d, the JSON report says %d", col, sum[i], want)
		}
	}

	// The exit status.
	wantCode := exitOK
	switch {
	case run.EngineErrorCount() > 0:
		wantCode = exitUsage
	case c.Failed > 0:
		wantCode = exitNotConform
	}
	if res.code != wantCode {
		t.Errorf("exit status %d; the counts (%s) mean %d", res.code, closing, wantCode)
	}

	// JUnit: failures are exactly the scenarios that gate the exit status.
	data, err := os.ReadFile(f.JUnit)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 64*1024 {
		t.Errorf("the JUnit report is %d bytes: the detail belongs in the JSON report", len(data))
	}
	var ju reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &ju); err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	if len(ju.TestSuites) != 1 {
		t.Fatalf("JUnit: %d test suites", len(ju.TestSuites))
	}
	ts := ju.TestSuites[0]
	gating := len(run.Failures())
	if ju.Failures != gating || ts.Failures != gating || ts.Failures != c.Failed || ts.Errors != run.EngineErrorCount() ||
		ts.Skipped != c.Known+c.Skipped+c.NotRun || ts.Tests != c.Total+len(run.SuiteErrors) {
		t.Errorf("JUnit: tests %d failures %d errors %d skipped %d; the run: %+v, %d gating", ts.Tests, ts.Failures, ts.Errors, ts.Skipped, c, gating)
	}
	if (res.code == exitOK) != (ts.Failures == 0 && ts.Errors == 0) {
		t.Errorf("JUnit has %d failures and %d errors, the exit status is %d", ts.Failures, ts.Errors, res.code)
	}
	nameRE := regexp.MustCompile(`^\[It\] [A-Z]{2}-\d{2} [^\[\]]+$`)
	for _, tc := range ts.TestCases {
		if !nameRE.MatchString(tc.Name) {
			t.Errorf("JUnit test case %q is not `[It] <ID> <Title>`", tc.Name)
		}
		if tc.Failure != nil && !strings.Contains(tc.Failure.Message, "expected") && !strings.HasPrefix(tc.Failure.Message, "STALE") {
			t.Errorf("JUnit failure of %s does not say what was expected: %q", tc.Name, tc.Failure.Message)
		}
		if tc.Skipped != nil && strings.HasPrefix(tc.Skipped.Message, "KNOWN") && run.Meta.IssueTracker != "" &&
			strings.Contains(tc.Skipped.Message, "(upstream issue #") && !strings.Contains(tc.Skipped.Message, run.Meta.IssueTracker) {
			t.Errorf("JUnit KNOWN %s names its issue without its address: %q", tc.Name, tc.Skipped.Message)
		}
	}

	// Markdown and HTML: the same closing line, legend and outcome counts.
	md, err := os.ReadFile(f.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(f.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**"+closing+"**") || !strings.Contains(string(md), legend) {
		t.Errorf("the Markdown report does not say %q and %q", closing, legend)
	}
	if !strings.Contains(string(page), `<h1 class="closing">`+closing+`</h1>`) ||
		!strings.Contains(string(page), strings.ReplaceAll(legend, "+", "&#43;")) {
		t.Errorf("the HTML banner does not say %q and %q", closing, legend)
	}
	for _, o := range reports.Outcomes() {
		n := c.Of(o)
		if row := fmt.Sprintf(" %s | %d |", o, n); n > 0 && !strings.Contains(string(md), row) {
			t.Errorf("the Markdown report lacks the row %q", row)
		}
		if chip := fmt.Sprintf("><b>%d</b><span>%s</span></div>", n, o); n > 0 && !strings.Contains(string(page), chip) {
			t.Errorf("the HTML banner lacks the badge %d %s", n, o)
		}
	}
	status := `<div class="status">` + run.Status() + `</div>`
	if !strings.Contains(string(page), status) || (run.Status() == "CONFORMING") != (res.code == exitOK) {
		t.Errorf("the HTML banner's status is not %q for exit status %d", run.Status(), res.code)
	}
}
