package reports

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
)

func TestScenarioLine(t *testing.T) {
	tests := []struct {
		name  string
		s     Scenario
		color bool
		want  string
	}{
		{"pass", Scenario{ID: "RS-01", Title: "Two segments", Verdict: result.Pass, Duration: 3 * time.Millisecond}, false,
			"PASS        RS-01  Two segments  (3ms)\n"},
		{"skip with reason", Scenario{ID: "SS-01", Title: "Two addresses", Verdict: result.Skipped, SkipReason: "not on\nloopback"}, false,
			"SKIPPED     SS-01  Two addresses  (0s) skipped: not on; loopback\n"},
		{"fail in colour", Scenario{ID: "CP-01", Title: "t", Verdict: result.Fail, Duration: 1500 * time.Millisecond}, true,
			"\x1b[31mFAIL      \x1b[0m  CP-01  t  \x1b[90m(1.5s)\x1b[0m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			Console{W: &buf, Color: tt.color}.ScenarioLine(tt.s)
			if buf.String() != tt.want {
				t.Errorf("line = %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestSummaryAndClosingLine(t *testing.T) {
	run := testRun()
	cp, _ := run.Scenario("CP-01")
	cp.Reproducer = "out/repro-CP-01.sh"
	var buf bytes.Buffer
	c := Console{W: &buf}
	c.Summary(run)
	c.ClosingLine(run)
	out := buf.String()
	for _, want := range []string{
		"by family      total   pass  non-strict   info   fail  skipped",
		"completion         1      0           0      0      1        0",
		"MUST          4      1           0      0      2        1",
		"Failures: 2 FAIL, 1 NON-STRICT",
		"ack.201-while-incomplete (MUST): Every accepted segment",
		"expected: 201 Created", `got:      200 OK, body "completed"`,
		"the server claimed completion with 12 of 24 bytes",
		"reproducer: out/repro-CP-01.sh",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "CP-01") > strings.Index(out, "MF-01") {
		t.Error("FAIL scenarios should come before NON-STRICT ones")
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "3 passed, 2 failed, 1 skipped" {
		t.Errorf("last line = %q", last)
	}
	if legend := lines[len(lines)-2]; legend != "passed = PASS + NON-STRICT + INFO; failed = FAIL + STALE; known deviations: 0; stale: 0; not run: 0" {
		t.Errorf("line before the last = %q", legend)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes with Color off")
	}
}

func TestClosingLine(t *testing.T) {
	// scenarios builds a run of scenarios with these verdicts and expectation outcomes.
	scenarios := func(vs ...string) Run {
		var r Run
		for i, v := range vs {
			s := Scenario{ID: "S-" + strconv.Itoa(i)}
			verdict, outcome, _ := strings.Cut(v, "/")
			s.Verdict = result.Verdict(verdict)
			if outcome != "" {
				s.Expectation = &result.Expectation{Outcome: result.ExpectOutcome(outcome)}
			}
			r.Scenarios = append(r.Scenarios, s)
		}
		r.recount()
		return r
	}
	withErr := scenarios("PASS", "PASS")
	withErr.SuiteErrors = []string{"BeforeSuite failed"}
	engine := scenarios("PASS", "ERROR", "FAIL")
	engine.SuiteErrors = []string{"AfterSuite failed"}
	tests := []struct {
		name string
		run  Run
		want string
	}{
		{"no skips", scenarios("PASS", "PASS", "PASS", "NON-STRICT", "INFO"), "5 passed, 0 failed"},
		{"skips", scenarios("PASS", "FAIL", "FAIL", "SKIPPED", "SKIPPED", "SKIPPED", "SKIPPED"), "1 passed, 2 failed, 4 skipped"},
		{"suite error only", withErr, "2 passed, 0 failed, 1 engine error"},
		{"engine errors apart from failures", engine, "1 passed, 1 failed, 2 engine errors"},
		{"known", scenarios("PASS", "FAIL/KNOWN", "NON-STRICT/KNOWN", "SKIPPED"), "1 passed, 0 failed, 1 skipped"},
		{"stale", scenarios("PASS/STALE", "INFO/STALE", "PASS", "FAIL"), "1 passed, 3 failed"},
		{"all stale", scenarios("PASS/STALE", "PASS/STALE"), "0 passed, 2 failed"},
		{"a focused INFO scenario", scenarios("INFO"), "1 passed, 0 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClosingLine(&tt.run); got != tt.want {
				t.Errorf("ClosingLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestColorWanted(t *testing.T) {
	var buf bytes.Buffer
	if ColorWanted(&buf, false) {
		t.Error("colour for a buffer")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorWanted(os.Stdout, false) {
		t.Error("colour with NO_COLOR set")
	}
}

func TestExchangeLines(t *testing.T) {
	run := testRun()
	mf, _ := run.Scenario("MF-01")
	var buf bytes.Buffer
	Console{W: &buf}.ExchangeLines(mf.Exchanges[0])
	for _, want := range []string{"▸ malformed range", "> POST /upload HTTP/1.1", "> X-Content-Range: bytes 0-5/24x", "(body: 8 bytes sent)", "connection closed without a response"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {850 * time.Microsecond, "850µs"}, {14 * time.Millisecond, "14ms"},
		{2345 * time.Millisecond, "2.35s"}, {65 * time.Second, "1m05s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestSpecDone(t *testing.T) {
	res := scenarios.Result{ScenarioID: "RS-01", Verdict: result.Pass, Duration: 2 * time.Millisecond,
		Exchanges: []result.Exchange{{Step: "segment A", Outcome: result.OutcomeClosed,
			Request: result.Request{Method: "POST", Target: "/upload", Proto: "HTTP/1.1"}}}}
	tests := []struct {
		name    string
		spec    types.SpecReport
		verbose bool
		want    []string
		empty   bool
	}{
		{name: "scenario", spec: types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-01 x", LeafNodeLabels: []string{result.IDLabel("RS-01")}, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(res)}}}, want: []string{"PASS        RS-01"}},
		{name: "verbose", verbose: true, spec: types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-01 x", LeafNodeLabels: []string{result.IDLabel("RS-01")}, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(res)}}}, want: []string{"PASS        RS-01", "▸ segment A", "> POST /upload HTTP/1.1"}},
		{name: "setup node", spec: types.SpecReport{LeafNodeType: types.NodeTypeSynchronizedBeforeSuite}, empty: true},
		{name: "dry run", spec: types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-01 x", LeafNodeLabels: []string{result.IDLabel("RS-01")}, State: types.SpecStatePassed},
			want: []string{"would run   RS-01  ", "[range-strings]"}},
		{name: "filtered out", spec: types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-01 x", LeafNodeLabels: []string{result.IDLabel("RS-01")}, State: types.SpecStateSkipped}, empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			Console{W: &buf}.SpecDone(tt.spec, tt.verbose)
			if tt.empty != (buf.Len() == 0) {
				t.Errorf("output %q", buf.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

// TestSpecDoneExpect: with the run's expectations, a listed scenario shows as KNOWN or STALE
// as soon as it finishes.
func TestSpecDoneExpect(t *testing.T) {
	e, err := expect.Parse("list", strings.NewReader("RS-01 #46 listed\nPA-01 - listed\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec := func(id string, v result.Verdict) types.SpecReport {
		res := scenarios.Result{ScenarioID: id, Verdict: v}
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id, LeafNodeLabels: []string{result.IDLabel(id)}, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(res)}}}
	}
	tests := []struct {
		spec types.SpecReport
		want string
	}{
		{spec("RS-01", result.Pass), "STALE       RS-01 "},
		{spec("PA-01", result.Fail), "KNOWN       PA-01 "},
		{spec("CP-01", result.Fail), "FAIL        CP-01 "},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		Console{W: &buf, Expect: e}.SpecDone(tt.spec, false)
		if !strings.HasPrefix(buf.String(), tt.want) {
			t.Errorf("line %q, want it to start %q", buf.String(), tt.want)
		}
	}
}
