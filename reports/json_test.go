package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// schemaDoc returns SCHEMA.md.
func schemaDoc(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// documentedFields returns the field paths of SCHEMA.md's tables: the first cell of each row,
// e.g. "scenarios[].exchanges[].request.method".
func documentedFields(doc string) []string {
	re := regexp.MustCompile("(?m)^\\| `([a-z_.\\[\\]]+)` \\|")
	var out []string
	for _, m := range re.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// jsonPaths lists every key path of a decoded JSON value, arrays as "[]".
func jsonPaths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			jsonPaths(p, e, out)
		}
	case []any:
		for _, e := range x {
			jsonPaths(prefix+"[]", e, out)
		}
	}
}

func TestSchemaDocumentsEveryField(t *testing.T) {
	var buf bytes.Buffer
	run := testRun()
	run.Scenarios[0].Reproducer = "out/repro-CP-01.sh"
	run.ApplyExpectations(testExpectations(t)) // writes the expectation objects too
	if err := WriteJSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	jsonPaths("", v, written)
	documented := documentedFields(schemaDoc(t))
	if len(documented) < 50 {
		t.Fatalf("found only %d documented fields in SCHEMA.md: table format changed?", len(documented))
	}
	for _, f := range documented {
		if !written[f] {
			t.Errorf("SCHEMA.md documents %s, the writer does not write it", f)
		}
	}
	var missing []string
	for f := range written {
		if !slices.Contains(documented, f) {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	for _, f := range missing {
		t.Errorf("the writer writes %s, SCHEMA.md does not document it", f)
	}
}

func TestSchemaExampleRoundTrips(t *testing.T) {
	doc := schemaDoc(t)
	start := strings.Index(doc, "```json\n")
	end := strings.LastIndex(doc, "\n```")
	if start < 0 || end < start {
		t.Fatal("SCHEMA.md has no ```json example")
	}
	example := doc[start+len("```json\n") : end+1]
	run, err := ReadJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("the example does not read back: %v", err)
	}
	// Strictly: every key of the example is a field of the model.
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	if err := dec.Decode(new(Run)); err != nil {
		t.Fatalf("the example has a field the model lacks: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	if buf.String() != example {
		t.Errorf("the example does not write out unchanged:\n--- written\n%s\n--- example\n%s", buf.String(), example)
	}
	if run.SchemaVersion != SchemaVersion || !strings.Contains(doc, "schema version 2") {
		t.Errorf("the example's schema_version %d, SchemaVersion %d", run.SchemaVersion, SchemaVersion)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	run := testRun()
	run.ApplyExpectations(testExpectations(t))
	var a, b bytes.Buffer
	if err := WriteJSON(&a, run); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&b, back); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("a report read back writes out differently")
	}
	nulls := strings.Count(a.String(), `"response": null`) + strings.Count(a.String(), `"expectation": null`)
	if strings.Count(a.String(), "null") != nulls {
		t.Error("the report has a null other than a missing response or expectation")
	}
	if back.Counts != run.Counts || back.Meta.Expectations != "test-list" {
		t.Errorf("read back: counts %+v, expectations %q; want %+v, test-list", back.Counts, back.Meta.Expectations, run.Counts)
	}
	if pa, _ := back.Scenario("PA-01"); !pa.Known() || pa.Expectation.Issue != "#10" {
		t.Errorf("PA-01 read back with expectation %+v, want KNOWN #10", pa.Expectation)
	}
}

// TestReadJSONBeforeExpectations: a version 1 report written before the expected deviations
// were added reads as a run without them.
func TestReadJSONBeforeExpectations(t *testing.T) {
	in := `{"schema_version": 2, "run": {"target": "http://x/upload"}, "counts": {"total": 1, "fail": 1},
	"scenarios": [{"id": "CP-01", "verdict": "FAIL"}]}`
	run, err := ReadJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if run.Counts.Known != 0 || run.Scenarios[0].Expectation != nil || run.Conforming() || ClosingLine(run) != "0 passed, 1 failed" {
		t.Errorf("run = %+v, closing line %q", run, ClosingLine(run))
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not json", "<html>", "not JSON"},
		{"ginkgo report", `[{"SuitePath": "/x"}]`, "Ginkgo's --json-report"},
		{"no version", `{"run": {}}`, "no schema_version"},
		{"other version", `{"schema_version": 1}`, "schema version 1"},
		{"bad field type", `{"schema_version": 2, "counts": {"total": "x"}}`, "read json report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadJSONIgnoresNewFields(t *testing.T) {
	in := `{"schema_version": 2, "run": {"target": "http://x/upload", "future_field": 1}, "counts": {"total": 0}}`
	run, err := ReadJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if run.Meta.Target != "http://x/upload" || run.Scenarios == nil {
		t.Errorf("run = %+v", run)
	}
}
