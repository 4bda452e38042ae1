package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/onsi/ginkgo/v2/types"
)

// WriteJSON writes the run as a JSON report (schema: SCHEMA.md), indented, ending with a
// newline. Empty lists are written as [], never null.
func WriteJSON(w io.Writer, run *Run) error {
	out := *run
	out.SchemaVersion = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalized(&out)); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON. It rejects reports of another schema version
// and anything that is not an upspec report.
func ReadJSON(r io.Reader) (*Run, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' && json.Valid(t) {
		return nil, fmt.Errorf("read json report: a JSON array, as Ginkgo's --json-report writes: not an upspec report (upspec run --json-report writes one)")
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("read json report: not JSON: %w", err)
	}
	if probe.SchemaVersion == nil {
		return nil, fmt.Errorf("read json report: no schema_version: not an upspec report (a Ginkgo --json-report is not one)")
	}
	if *probe.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read json report: schema version %d, this upspec reads version %d", *probe.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var run Run
	if err := dec.Decode(&run); err != nil {
		// A newer writer of the same version may add fields: read leniently.
		run = Run{}
		if err := json.Unmarshal(data, &run); err != nil {
			return nil, fmt.Errorf("read json report: %w", err)
		}
	}
	// The counts are derived: recount them from the scenarios.
	run.recount()
	return normalized(&run), nil
}

// ReadJSONFile reads a JSON report from a file.
func ReadJSONFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	defer f.Close()
	run, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// WriteJSONFile writes the run as a JSON report to a file.
func WriteJSONFile(path string, run *Run) error {
	return writeFile(path, func(w io.Writer) error { return WriteJSON(w, run) })
}

// writeFile creates path, writes it with fn and closes it, reporting the first error.
func writeFile(path string, fn func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close report %s: %w", path, cerr)
		}
	}()
	return fn(f)
}

// normalized replaces nil lists with empty ones so that JSON has [] and templates need no
// nil checks. It modifies and returns run.
func normalized(run *Run) *Run {
	if run.Scenarios == nil {
		run.Scenarios = []Scenario{}
	}
	if run.Clauses == nil {
		run.Clauses = []Clause{}
	}
	if run.SuiteErrors == nil {
		run.SuiteErrors = []string{}
	}
	for i := range run.Scenarios {
		s := &run.Scenarios[i]
		s.Clauses = nonNil(s.Clauses)
		s.Labels = nonNil(s.Labels)
		s.Findings = nonNil(s.Findings)
		s.Checked = nonNil(s.Checked)
		s.Notes = nonNil(s.Notes)
		s.Exchanges = nonNil(s.Exchanges)
		for j := range s.Exchanges {
			x := &s.Exchanges[j]
			x.Request.Headers = nonNil(x.Request.Headers)
			if x.Response != nil {
				x.Response.Headers = nonNil(x.Response.Headers)
			}
		}
	}
	for i := range run.Clauses {
		run.Clauses[i].Scenarios = nonNil(run.Clauses[i].Scenarios)
	}
	return run
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// LoadFile reads a run from a file: an upspec JSON report (WriteJSON), or a Ginkgo JSON
// report (--json-report of `ginkgo run` or `go test -args -ginkgo.json-report`), which is
// built into a run with the default catalogue.
func LoadFile(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var reps []types.Report
		if err := json.Unmarshal(t, &reps); err != nil {
			return nil, fmt.Errorf("read report %s: not a Ginkgo JSON report: %w", path, err)
		}
		run, err := FromGinkgo(Meta{}, reps)
		if err != nil {
			return nil, fmt.Errorf("read report %s: %w", path, err)
		}
		return run, nil
	}
	run, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}
