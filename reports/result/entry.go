package result

import (
	"fmt"
	"strings"
)

// Names of the Ginkgo report entries that carry the records of a run, and the label that
// identifies a spec. The suite attaches them; package reports reads them.
const (
	// EntryName is the report entry of every spec that ran its scenario: its value is the
	// scenario's result (as JSON in Ginkgo's JSON report).
	EntryName = "upspec"
	// SetupEntryName is the report entry of the suite setup node: its value is the RunInfo of
	// the run.
	SetupEntryName = "upspec-run"
	// IDLabelPrefix starts the Ginkgo label that names a spec's scenario, e.g. "id:RS-01".
	IDLabelPrefix = "id:"
)

// IDLabel is the Ginkgo label of the spec of scenario id, e.g. "id:RS-01".
func IDLabel(id string) string { return IDLabelPrefix + id }

// IDFromLabels returns the scenario ID of the first "id:" label among a spec's labels, and
// whether there is one.
func IDFromLabels(labels []string) (string, bool) {
	for _, l := range labels {
		if id, ok := strings.CutPrefix(l, IDLabelPrefix); ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// RunInfo describes the target a run was pointed at, as the suite setup resolved it: the
// value of the SetupEntryName entry. With `ginkgo -p`, process 1 resolves it and shares it
// with the other processes.
type RunInfo struct {
	Target      string `json:"target"`   // the endpoint under test
	Embedded    bool   `json:"embedded"` // the target is the in-process reference server
	RunID       string `json:"run_id"`   // prefix of every session ID of the run
	FileURL     string `json:"file_url,omitempty"`
	FinalStatus int    `json:"final_status,omitempty"`
	FinalBody   string `json:"final_body,omitempty"`
	Strict      bool   `json:"strict"`
	// Backend is the base URL of the harness backend that the target hands completed files
	// to; "" when the run has none.
	Backend string `json:"backend,omitempty"`
}

// String describes the run in one line.
func (i RunInfo) String() string {
	s := "target " + i.Target
	if i.Embedded {
		s += " (the embedded reference server)"
	}
	s += ", run ID " + i.RunID
	if i.FileURL != "" {
		s += ", file URL " + i.FileURL
	}
	if i.FinalStatus != 0 || i.FinalBody != "" {
		s += fmt.Sprintf(", final answer %d %q", i.FinalStatus, i.FinalBody)
	}
	if i.Backend != "" {
		s += ", harness backend " + i.Backend
	}
	if i.Strict {
		s += ", strict"
	}
	return s
}
