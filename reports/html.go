package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/upspec/upspec/reports/result"
)

//go:embed report.html.tmpl
var htmlSource string

// BodyLimit is how much of a response body the HTML report shows; longer bodies are
// shortened and their full length is shown.
const BodyLimit = 1024

// htmlFuncs are the helpers of the HTML template.
func htmlFuncs() template.FuncMap {
	return template.FuncMap{
		"dur":      FormatDuration,
		"verdicts": result.ScenarioVerdicts,
		"closing":  ClosingLine,
		"clip":     func(s string) string { return clip(s, BodyLimit) },
		"clipped":  func(s string) bool { return len(s) > BodyLimit },
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"join": strings.Join,
		"count": func(c Clause, v result.Verdict) int {
			n := 0
			for _, r := range c.Scenarios {
				if r.Verdict == v {
					n++
				}
			}
			return n
		},
		"sections": clauseSections,
		"xclass":   exchangeClass,
		"anchor":   anchor,
		"add":      func(a, b int) int { return a + b },
		"body":     bodySummary,
		"hasBody":  func(r result.Request) bool { return r.BodySent > 0 || r.BodyLen > 0 },
		"problems": func(r *Run) int { return len(r.Problems()) + r.Counts.Stale + r.Counts.Error },
		"failing":  failing,
		"outcomes": outcomeChips,
		"issues":   IssueLinks,
		"repro":    Reproducer,
		"reproName": func(r *Run, s *Scenario) string {
			if s.Reproducer != "" {
				return s.Reproducer
			}
			return ReproducerName(r, s.ID)
		},
		"has":      func(v result.Verdict) bool { return v == result.Fail || v == result.NonStrict },
		"pair":     func(r *Run, s *Scenario) reproArgs { return reproArgs{Run: r, S: s} },
		"failedAt": func(s Scenario, x result.Exchange) bool { return len(findingsOf(&s, x)) > 0 },
	}
}

// htmlTemplate parses the report template; it is parsed per call so that nothing mutable
// lives at package level.
func htmlTemplate() (*template.Template, error) {
	t, err := template.New("report").Funcs(htmlFuncs()).Parse(htmlSource)
	if err != nil {
		return nil, fmt.Errorf("parse html template: %w", err)
	}
	return t, nil
}

// WriteHTML writes the run as one self-contained HTML page: no external fonts, scripts or
// styles. It shows the status, the closing line and what its words mean, the outcome counts
// (each scenario once), the profile and expectations in force; then the Failures and the
// Known deviations, each with its findings and its reproducer embedded (collapsible, with a
// copy button) and upstream issues linked; then a matrix of clauses by verdict, then every scenario
// (colour-coded by verdict, collapsible, failures open) with its findings and its exchanges;
// response bodies longer than BodyLimit are shortened with their length shown. Every value is
// escaped by html/template. A small inline script adds filters and expand/collapse buttons;
// the page is complete without it.
func WriteHTML(w io.Writer, run *Run) error {
	t, err := htmlTemplate()
	if err != nil {
		return err
	}
	if err := t.Execute(w, normalized(run)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// WriteHTMLFile writes the HTML report to a file.
func WriteHTMLFile(path string, run *Run) error {
	return writeFile(path, func(w io.Writer) error { return WriteHTML(w, run) })
}

// reproArgs are the arguments of the template "repro".
type reproArgs struct {
	Run *Run
	S   *Scenario
}

// failing returns the scenarios of the Failures section: engine errors, then the scenarios
// that fail the run (FAIL, STALE), then the NON-STRICT ones that are not KNOWN.
func failing(r *Run) []*Scenario {
	out := r.EngineErrors()
	out = append(out, r.Failures()...)
	return append(out, r.filter(func(s *Scenario) bool { return s.Verdict == result.NonStrict && !s.Known() })...)
}

// chip is one count of the banner.
type chip struct {
	Name, Class, Title string
	N                  int
}

// outcomeChips are the banner's counts: the outcomes of the summary tables (each scenario
// once), with what each is counted as in the closing line.
func outcomeChips(r *Run) []chip {
	var out []chip
	for _, o := range tableOutcomes(r) {
		out = append(out, chip{Name: o, Class: OutcomeClass(o), Title: countedAs(o), N: r.Counts.Of(o)})
	}
	return out
}

// section is the clauses of one catalogue section, for the matrix.
type section struct {
	Name    string
	Clauses []Clause
}

func clauseSections(cs []Clause) []section {
	var out []section
	for _, c := range cs {
		name := c.Section
		if name == "" {
			name = "Other clauses"
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, section{Name: name})
		}
		out[len(out)-1].Clauses = append(out[len(out)-1].Clauses, c)
	}
	return out
}

// exchangeClass colours an exchange: ok (2xx), redirect (3xx), client (4xx), server (5xx),
// or none (no answer).
func exchangeClass(x result.Exchange) string {
	if x.Response == nil {
		if x.Outcome == result.OutcomeAborted {
			return "aborted"
		}
		return "none"
	}
	switch x.Response.Status / 100 {
	case 2:
		return "ok"
	case 3:
		return "redirect"
	case 4:
		return "client"
	}
	return "server"
}

// anchor makes an HTML id from a scenario or clause ID.
func anchor(prefix, id string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range id {
		if r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
