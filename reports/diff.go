package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/upspec/upspec/reports/result"
)

// Diff is what changed between two runs: scenarios whose verdict changed, scenarios whose
// answers differ even where the verdict did not (status codes, Range lists, how a connection
// ended), and scenarios that ran in only one of them.
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
	// Exchanges are the exchanges whose answers differ, by position.
	Exchanges []ExchangeDiff
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
			sd.Exchanges = compareExchanges(sa.Exchanges, sb.Exchanges)
		case okA:
			sd.Title, sd.VerdictA = sa.Title, sa.Verdict
		default:
			sd.Title, sd.VerdictB = sb.Title, sb.Verdict
		}
		if sd.VerdictChanged() || len(sd.Exchanges) > 0 {
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

func compareExchanges(a, b []result.Exchange) []ExchangeDiff {
	var out []ExchangeDiff
	for i := 0; i < max(len(a), len(b)); i++ {
		switch {
		case i >= len(a):
			out = append(out, ExchangeDiff{Index: i, Step: b[i].Step, A: "(no exchange)", B: b[i].Describe()})
		case i >= len(b):
			out = append(out, ExchangeDiff{Index: i, Step: a[i].Step, A: a[i].Describe(), B: "(no exchange)"})
		case answerKey(a[i]) != answerKey(b[i]):
			out = append(out, ExchangeDiff{Index: i, Step: a[i].Step, A: a[i].Describe(), B: b[i].Describe()})
		}
	}
	return out
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
		p("No differences: every scenario has the same verdict and the same answers.\n")
		return flush(bw)
	}
	var changed, onlyAnswers int
	for _, s := range d.Scenarios {
		if s.VerdictChanged() {
			changed++
		} else {
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
	p("\n%d scenario(s) differ: %d verdict(s) changed, %d with the same verdict but other answers.\n", len(d.Scenarios), changed, onlyAnswers)
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
