// Package doctor diagnoses a deployment of nginx-upload-module in resumable mode: from its
// configuration (CheckConfig, on the output of `nginx -T` or a configuration file) and from the
// wire (Probe, a few bounded segments against any URL). Each problem becomes one Finding that
// names the directive to change and the value to use, with the evidence
// (docs/module-behavior.md §7, §8 and §10 describe what each misconfiguration does).
package doctor

import (
	"fmt"
	"strings"
)

// Severity says how much a finding matters.
type Severity string

// Severities, from the worst.
const (
	// Error: uploads fail, or acknowledged bytes are lost.
	Error Severity = "error"
	// Warning: uploads fail in some set-ups (another user, another origin, other session IDs).
	Warning Severity = "warning"
)

// Source says where a finding comes from.
type Source string

// Sources of findings.
const (
	FromConfig Source = "config"
	FromWire   Source = "wire"
)

// Finding is one problem of a deployment.
type Finding struct {
	Rule      string   `json:"rule"`      // stable identifier, e.g. "resumable-off"
	Severity  Severity `json:"severity"`  // error or warning
	Source    Source   `json:"source"`    // config or wire
	Directive string   `json:"directive"` // the directive to change, e.g. "upload_resumable"
	Problem   string   `json:"problem"`   // what is wrong, one sentence
	Fix       string   `json:"fix"`       // what to write, e.g. "upload_resumable on;"
	Evidence  string   `json:"evidence"`  // what was seen: a configuration position or an exchange
}

// Report is the outcome of a diagnosis.
type Report struct {
	Findings []Finding `json:"findings"`
	// Notes say what was not checked and why (e.g. no file URL to read a completed file).
	Notes []string `json:"notes"`
}

// Add appends the findings and notes of other.
func (r *Report) Add(other Report) {
	r.Findings = append(r.Findings, other.Findings...)
	r.Notes = append(r.Notes, other.Notes...)
}

func (r *Report) notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Text writes the report for a terminal: one block per finding, then the notes, then a
// summary line.
func (r Report) Text() string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-7s %s [%s, %s]\n", strings.ToUpper(string(f.Severity)), f.Problem, f.Rule, f.Source)
		fmt.Fprintf(&b, "        directive: %s\n", f.Directive)
		fmt.Fprintf(&b, "        fix:       %s\n", f.Fix)
		for i, line := range strings.Split(f.Evidence, "\n") {
			label := "evidence:"
			if i > 0 {
				label = "         "
			}
			fmt.Fprintf(&b, "        %s  %s\n", label, line)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	switch n := len(r.Findings); n {
	case 0:
		b.WriteString("no problem found\n")
	case 1:
		b.WriteString("1 problem found\n")
	default:
		fmt.Fprintf(&b, "%d problems found\n", n)
	}
	return b.String()
}
