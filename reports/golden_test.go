package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the fixed run")

// goldenPath is the JSON report of the fixed run (goldenRun).
const goldenPath = "testdata/run.golden.json"

// goldenCatalogue is the fixture's scenarios with clauses of their own, so that the golden
// report changes only when the report does, not when the suite's catalogue grows. RS-02 is
// a scenario whose spec timed out before it could report.
func goldenCatalogue() Catalogue {
	c := testCatalogue()
	c.Scenarios = append(c.Scenarios, scenarios.Scenario{ID: "RS-02", Title: "Segments out of order", Family: "range-strings",
		Clauses: []string{"ack.list-exact"}})
	c.Clauses = []scenarios.Clause{
		{ID: "ack.201-while-incomplete", Level: scenarios.MUST, Section: "§2.4 Acknowledgement", Title: "201 while incomplete",
			Text: "Every accepted segment that leaves the file incomplete is answered 201 Created."},
		{ID: "ack.final-only-when-complete", Level: scenarios.MUST, Section: "§2.4 Acknowledgement", Title: "Final answer only when complete",
			Text: "The backend's answer comes only once every byte of the file has been received."},
		{ID: "ack.final-is-backend-answer", Level: scenarios.MUST, Section: "§2.4 Acknowledgement", Title: "The final answer is the backend's",
			Text: "The segment that completes the file gets the backend's answer."},
		{ID: "ack.range-header", Level: scenarios.MUST, Section: "§2.4 Acknowledgement", Title: "Range header",
			Text: "A 201 carries a Range header that lists the ranges received."},
		{ID: "ack.list-exact", Level: scenarios.MUST, Section: "§2.4 Acknowledgement", Title: "Exact range list",
			Text: "The listed ranges are exactly the bytes received so far."},
		{ID: "ack.list-format", Level: scenarios.INFO, Section: "§2.4 Acknowledgement", Title: "Range list form",
			Text: "Which textual form the range list takes."},
		{ID: "rob.malformed-4xx", Level: scenarios.SHOULD, Section: "Robustness", Title: "A malformed header gets a 4xx",
			Text: "A malformed range gets a 4xx answer with a reason."},
		{ID: "ses.multi-address", Level: scenarios.MUST, Section: "§3 Sessions", Title: "Several client addresses",
			Text: "One session may be uploaded from several client addresses."},
		{ID: "enc.post", Level: scenarios.INFO, Section: "§2.1 Encapsulation", Title: "Other methods",
			Text: "What the server answers to methods other than POST."},
		{ID: "par.overlap-rejected", Level: scenarios.MUST, Section: "§4 Parallel", Title: "Overlap rejected",
			Text: "Simultaneous requests of one session with overlapping ranges are forbidden."},
		{ID: "par.never-run", Level: scenarios.SHOULD, Section: "§4 Parallel", Title: "A clause no scenario checks",
			Text: "Stays NOT-RUN."},
	}
	return c
}

// goldenGinkgoReport is what the suite leaves in Ginkgo's JSON report for the fixed run: a
// setup node with the run info, one spec per fixture result (labelled with its ID, the result
// in its entry), and one spec that timed out before reporting.
func goldenGinkgoReport() []types.Report {
	at := testStart
	specs := types.SpecReports{{
		LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{{Name: result.SetupEntryName, Value: types.WrapEntryValue(result.RunInfo{
			Target: "http://127.0.0.1:8080/upload", RunID: testRunID, Backend: "http://127.0.0.1:8081",
		})}},
	}}
	for _, r := range testResults() {
		c, _ := testCatalogue().scenarioDef(r.ScenarioID)
		state := types.SpecStatePassed
		switch r.Verdict {
		case result.Fail:
			state = types.SpecStateFailed
		case result.Skipped:
			state = types.SpecStateSkipped
		}
		specs = append(specs, types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: r.ScenarioID + " " + c.Title, State: state,
			LeafNodeLabels: append([]string{result.IDLabel(r.ScenarioID)}, c.AllLabels()...),
			StartTime:      at, EndTime: at.Add(r.Duration), RunTime: r.Duration,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(r)}},
		})
	}
	specs = append(specs, types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: "RS-02 Segments out of order", State: types.SpecStateTimedout,
		LeafNodeLabels: []string{result.IDLabel("RS-02"), "range-strings"}, RunTime: 5 * time.Second,
		Failure: types.Failure{Message: "A spec timeout occurred"},
	})
	return []types.Report{{
		SuiteDescription: "upspec conformance suite", SuiteSucceeded: false,
		SuiteConfig: types.SuiteConfig{RandomSeed: 1700000000, LabelFilter: "!slow"},
		StartTime:   testStart, EndTime: testStart.Add(6 * time.Second),
		SpecReports: specs,
	}}
}

// goldenRun is the fixed run as `upspec run` builds it: Ginkgo's JSON report read back, the
// expected deviations applied, the reproducers written.
func goldenRun(t *testing.T) *Run {
	t.Helper()
	data, err := json.Marshal(goldenGinkgoReport())
	if err != nil {
		t.Fatal(err)
	}
	var reps []types.Report
	if err := json.Unmarshal(data, &reps); err != nil {
		t.Fatal(err)
	}
	run, err := goldenCatalogue().FromGinkgo(Meta{
		Profile: "nginx-upload-module", UpspecVersion: "v0.1.0", GoVersion: "go1.26.8",
	}, reps)
	if err != nil {
		t.Fatal(err)
	}
	run.ApplyExpectations(testExpectations(t))
	t.Chdir(t.TempDir()) // reproducer paths relative to the run's directory
	if _, err := WriteReproducers("upspec-repro", run); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestGoldenJSON locks the JSON report: the fixed run must write exactly testdata's golden
// file. After a deliberate change of the report, regenerate it with
// `go test ./reports -run TestGoldenJSON -update`, and bump SchemaVersion (and SCHEMA.md) when
// a field is removed or changes its meaning.
func TestGoldenJSON(t *testing.T) {
	golden, err := filepath.Abs(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, goldenRun(t)); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenPath)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if got := buf.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("the JSON report of the fixed run differs from %s (line %d); if the change is meant, run with -update:\n%s",
			goldenPath, firstDiffLine(got, want), lineAround(got, firstDiffLine(got, want)))
	}
	back, err := ReadJSON(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("the golden report does not read back: %v", err)
	}
	var again bytes.Buffer
	if err := WriteJSON(&again, back); err != nil || !bytes.Equal(again.Bytes(), want) {
		t.Errorf("the golden report read back writes out differently (%v)", err)
	}
}

// firstDiffLine is the 1-based number of the first line where a and b differ.
func firstDiffLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// lineAround returns lines n-2..n+2 of b.
func lineAround(b []byte, n int) string {
	lines := bytes.Split(b, []byte("\n"))
	lo, hi := max(n-3, 0), min(n+2, len(lines))
	return string(bytes.Join(lines[lo:hi], []byte("\n")))
}
