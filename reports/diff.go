package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// Diff is what changed between two runs: scenarios whose verdict changed, scenarios whose
// findings differ (a clause failed in one run only, or with another expected or got),
// scenarios whose answers differ even where the verdict did not (status codes, Range lists,
// how a connection ended), and scenarios that ran in only one of them. Answers whose order the
// protocol leaves open (requests of a scenario that were in flight at the same time, whose
// Range lists depend on arrival order) are compared as a set of statuses, not one by one.
type Diff struct {
	A, B      *Run
	Scenarios []ScenarioDiff
}

// ScenarioDiff is one scenario that differs between the runs.
type ScenarioDiff struct {
	ID    string
	Title string
	// VerdictA and VerdictB are the verdicts; "" when the scenario did not run in that run.
	VerdictA, VerdictB result.Verdict
	// Findings are the clauses whose findings differ: failed in one run only, or with
	// another expected or got.
	Findings []FindingDiff
	// Exchanges are the exchanges whose answers differ, by position.
	Exchanges []ExchangeDiff
}

// FindingDiff is one clause whose findings differ between the runs.
type FindingDiff struct {
	Clause string
	// A and B say what each run found for the clause: `expected X; got Y`, or "(held)" when
	// the run has no finding for it.
	A, B string
}

// ExchangeDiff is one exchange whose answer differs between the runs.
type ExchangeDiff struct {
	// Index is the position of the exchange in its scenario, from 0.
	Index int
	Step  string
	// A and B describe the answers; "(no exchange)" where a run has none at that position.
	A, B string
}

// VerdictChanged reports whether the verdicts differ.
func (d ScenarioDiff) VerdictChanged() bool { return d.VerdictA != d.VerdictB }

// Compare compares two runs scenario by scenario, in ID order.
func Compare(a, b *Run) Diff {
	d := Diff{A: a, B: b}
	seen := map[string]bool{}
	var ids []string
	for _, s := range a.Scenarios {
		ids = append(ids, s.ID)
		seen[s.ID] = true
	}
	for _, s := range b.Scenarios {
		if !seen[s.ID] {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		sa, okA := a.Scenario(id)
		sb, okB := b.Scenario(id)
		sd := ScenarioDiff{ID: id}
		switch {
		case okA && okB:
			sd.Title, sd.VerdictA, sd.VerdictB = sa.Title, sa.Verdict, sb.Verdict
			sd.Findings = compareFindings(a, sa, b, sb)
			sd.Exchanges = compareExchanges(sa.Exchanges, sb.Exchanges)
		case okA:
			sd.Title, sd.VerdictA = sa.Title, sa.Verdict
		default:
			sd.Title, sd.VerdictB = sb.Title, sb.Verdict
		}
		if sd.VerdictChanged() || len(sd.Findings) > 0 || len(sd.Exchanges) > 0 {
			d.Scenarios = append(d.Scenarios, sd)
		}
	}
	return d
}

// answerKey is what Compare compares of an answer: how the exchange ended, the status, and
// the Range header.
func answerKey(x result.Exchange) string {
	if x.Response == nil {
		return string(x.Outcome)
	}
	k := string(x.Outcome) + " " + strconv.Itoa(x.Response.Status)
	if v, ok := x.Response.Header("Range"); ok {
		k += " Range: " + v
	}
	return k
}

// compareFindings compares the findings of one scenario in two runs, clause by clause, with
// each run's ID taken out of the texts (session IDs differ from run to run).
func compareFindings(ra *Run, a *Scenario, rb *Run, b *Scenario) []FindingDiff {
	fa, fb := findingTexts(ra, a), findingTexts(rb, b)
	var clauses []string
	for _, f := range a.Findings {
		clauses = appendNew(clauses, orText(f.Clause, "(no clause)"))
	}
	for _, f := range b.Findings {
		clauses = appendNew(clauses, orText(f.Clause, "(no clause)"))
	}
	var out []FindingDiff
	for _, c := range clauses {
		if fa[c] != fb[c] {
			out = append(out, FindingDiff{Clause: c, A: orText(fa[c], "(held)"), B: orText(fb[c], "(held)")})
		}
	}
	return out
}

// findingTexts maps each clause of s's findings to `expected X; got Y` (or its detail), the
// run's ID replaced by "<run>".
func findingTexts(run *Run, s *Scenario) map[string]string {
	m := map[string]string{}
	for _, f := range s.Findings {
		t := "expected " + oneLine(orDash(f.Expected)) + "; got " + oneLine(orDash(f.Got))
		if f.Expected == "" && f.Got == "" {
			t = oneLine(orText(f.Detail, f.Message))
		}
		if id := reproRunID(run, s); id != "" {
			t = strings.ReplaceAll(t, id, "<run>")
		}
		c := orText(f.Clause, "(no clause)")
		if m[c] != "" {
			t = m[c] + " | " + t
		}
		m[c] = t
	}
	return m
}

func appendNew(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// concurrent marks the exchanges of a scenario that were in flight at the same time as another
// one: their order, and the Range lists they get, depend on arrival order.
func concurrent(xs []result.Exchange) []bool {
	out := make([]bool, len(xs))
	for i := range xs {
		for j := range xs {
			if i != j && together(xs[i], xs[j]) {
				out[i], out[j] = true, true
			}
		}
	}
	return out
}

// compareExchanges compares the answers position by position, except those of requests in
// flight together (in either run): their statuses are compared as a set, their Range lists
// not at all, since the protocol leaves their order open.
func compareExchanges(a, b []result.Exchange) []ExchangeDiff {
	var out []ExchangeDiff
	ca, cb := concurrent(a), concurrent(b)
	var setA, setB []string
	firstOpen := -1
	for i := 0; i < max(len(a), len(b)); i++ {
		open := (i < len(ca) && ca[i]) || (i < len(cb) && cb[i])
		if open && i < len(a) && i < len(b) {
			if firstOpen < 0 {
				firstOpen = i
			}
			setA = append(setA, statusKey(a[i]))
			setB = append(setB, statusKey(b[i]))
			continue
		}
		switch {
		case i >= len(a):
			out = append(out, ExchangeDiff{Index: i, Step: b[i].Step, A: "(no exchange)", B: b[i].Describe()})
		case i >= len(b):
			out = append(out, ExchangeDiff{Index: i, Step: a[i].Step, A: a[i].Describe(), B: "(no exchange)"})
		case answerKey(a[i]) != answerKey(b[i]):
			out = append(out, ExchangeDiff{Index: i, Step: a[i].Step, A: a[i].Describe(), B: b[i].Describe()})
		}
	}
	slices.Sort(setA)
	slices.Sort(setB)
	if !slices.Equal(setA, setB) {
		out = append(out, ExchangeDiff{Index: firstOpen, Step: "requests in flight together (order left open)",
			A: "statuses " + strings.Join(setA, ", "), B: "statuses " + strings.Join(setB, ", ")})
		slices.SortStableFunc(out, func(x, y ExchangeDiff) int { return x.Index - y.Index })
	}
	return out
}

// together reports whether a and b were in flight at the same time (their intervals
// intersect); false when either lacks a start or a duration.
func together(a, b result.Exchange) bool {
	if a.Start.IsZero() || b.Start.IsZero() || a.Duration <= 0 || b.Duration <= 0 {
		return false
	}
	return a.Start.Before(b.Start.Add(b.Duration)) && b.Start.Before(a.Start.Add(a.Duration))
}

// statusKey is how an exchange ended, without its Range list.
func statusKey(x result.Exchange) string {
	if x.Response == nil {
		return string(x.Outcome)
	}
	return strconv.Itoa(x.Response.Status)
}

// Empty reports whether the runs show no difference.
func (d Diff) Empty() bool { return len(d.Scenarios) == 0 }

// WriteDiff writes the comparison as text: the two runs, the verdict changes, then the
// differing answers, scenario by scenario. nameA and nameB label the runs (e.g. file names).
func WriteDiff(w io.Writer, d Diff, nameA, nameB string) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	label := func(tag, name string, r *Run) {
		p("%s: %s\n   target %s", tag, name, orDash(r.Meta.Target))
		if r.Meta.Embedded {
			p(" (embedded reference server)")
		}
		if r.Meta.Profile != "" {
			p(", profile %s", r.Meta.Profile)
		}
		p("; %s\n", ClosingLine(r))
	}
	label("A", nameA, d.A)
	label("B", nameB, d.B)
	p("\n")
	if d.Empty() {
		p("No differences: every scenario has the same verdict, the same findings and the same answers.\n")
		return flush(bw)
	}
	var changed, findings, onlyAnswers int
	for _, s := range d.Scenarios {
		switch {
		case s.VerdictChanged():
			changed++
		case len(s.Findings) > 0:
			findings++
		default:
			onlyAnswers++
		}
	}
	if changed > 0 {
		p("Verdicts changed (%d):\n", changed)
		for _, s := range d.Scenarios {
			if s.VerdictChanged() {
				p("  %-6s %-10s -> %-10s %s\n", s.ID, verdictOrAbsent(s.VerdictA), verdictOrAbsent(s.VerdictB), s.Title)
			}
		}
		p("\n")
	}
	p("Findings (clause, expected, got) that differ:\n")
	shownF := false
	for _, s := range d.Scenarios {
		if len(s.Findings) == 0 {
			continue
		}
		shownF = true
		p("\n  %s %s  [%s -> %s]\n", s.ID, s.Title, verdictOrAbsent(s.VerdictA), verdictOrAbsent(s.VerdictB))
		for _, f := range s.Findings {
			p("    %s\n", f.Clause)
			p("       A: %s\n", f.A)
			p("       B: %s\n", f.B)
		}
	}
	if !shownF {
		p("  none\n")
	}
	p("\n")
	p("Answers (status, Range list, connection) that differ:\n")
	shown := false
	for _, s := range d.Scenarios {
		if len(s.Exchanges) == 0 {
			continue
		}
		shown = true
		p("\n  %s %s  [%s -> %s]\n", s.ID, s.Title, verdictOrAbsent(s.VerdictA), verdictOrAbsent(s.VerdictB))
		for _, x := range s.Exchanges {
			step := x.Step
			if step == "" {
				step = "request"
			}
			p("    %d. %s\n", x.Index+1, step)
			p("       A: %s\n", x.A)
			p("       B: %s\n", x.B)
		}
	}
	if !shown {
		p("  none\n")
	}
	p("\n%d scenario(s) differ: %d verdict(s) changed, %d with the same verdict but other findings, %d with the same verdict and findings but other answers.\n",
		len(d.Scenarios), changed, findings, onlyAnswers)
	return flush(bw)
}

func verdictOrAbsent(v result.Verdict) string {
	if v == "" {
		return "(not run)"
	}
	return string(v)
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}
