package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// WriteMarkdown writes a summary of the run that fits a CI job summary (GitHub's
// $GITHUB_STEP_SUMMARY, GitLab's and others' Markdown views): the verdict counts, the failing
// and NON-STRICT scenarios first with the clause, the requirement, expected and got, then a
// table of every scenario and one of the clauses that did not pass.
func WriteMarkdown(w io.Writer, run *Run) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	status := "✅ conforming"
	if !run.Conforming() {
		status = "❌ not conforming"
	}
	p("## upspec: %s\n\n", status)
	p("**%s** against `%s`", ClosingLine(run), mdCode(run.Meta.Target))
	if run.Meta.Embedded {
		p(" (embedded reference server)")
	}
	p("\n\n")
	var meta []string
	add := func(k, v string) {
		if v != "" {
			meta = append(meta, k+" "+v)
		}
	}
	add("profile", mdInline(run.Meta.Profile))
	add("expected deviations", mdInline(run.Meta.Expectations))
	if run.Meta.Strict {
		add("mode", "strict")
	}
	add("label filter", mdCodeSpan(run.Meta.LabelFilter))
	add("upspec", mdInline(run.Meta.UpspecVersion))
	add("go", mdInline(run.Meta.GoVersion))
	if run.Meta.Seed != 0 {
		add("seed", fmt.Sprint(run.Meta.Seed))
	}
	add("run id", mdCodeSpan(run.Meta.RunID))
	if !run.Meta.Start.IsZero() {
		add("started", run.Meta.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	add("took", FormatDuration(run.Meta.Duration))
	if len(meta) > 0 {
		p("%s\n\n", strings.Join(meta, " · "))
	}

	p("| verdict | scenarios |\n|---|---:|\n")
	for _, v := range result.ScenarioVerdicts() {
		p("| %s %s | %d |\n", verdictEmoji(v), v, run.Counts.Of(v))
	}
	if run.Meta.Expectations != "" || run.Counts.Known+run.Counts.Stale > 0 {
		p("| %s KNOWN (listed deviation, failed as listed; does not fail the run) | %d |\n", outcomeEmoji(result.Known), run.Counts.Known)
		p("| %s STALE (listed deviation that passed; fails the run) | %d |\n", outcomeEmoji(result.Stale), run.Counts.Stale)
	}
	p("\n")

	if len(run.SuiteErrors) > 0 {
		p("### Suite errors\n\n")
		for _, e := range run.SuiteErrors {
			p("- %s\n", mdInline(oneLine(e)))
		}
		p("\n")
	}

	problems := run.Problems()
	var stale []*Scenario
	for _, s := range run.Failures() {
		if s.Stale() {
			stale = append(stale, s)
		}
	}
	if len(problems)+len(stale) > 0 {
		p("### Failures\n\n")
		for _, s := range stale {
			p("#### %s STALE %s: %s\n\n", outcomeEmoji(result.Stale), mdInline(s.ID), mdInline(s.Title))
			p("- %s, but listed in %s as an expected deviation%s: %s\n", s.Verdict, mdCodeSpan(run.Meta.Expectations),
				mdInline(issueSuffix(s.Expectation.Issue)), mdInline(oneLine(s.Expectation.Reason)))
			p("- the implementation may have been fixed: remove the entry from the list\n\n")
		}
		for _, s := range problems {
			p("#### %s %s %s: %s\n\n", verdictEmoji(s.Verdict), s.Verdict, mdInline(s.ID), mdInline(s.Title))
			if len(s.Findings) == 0 {
				p("- no finding recorded\n")
			}
			for _, f := range s.Findings {
				clause := f.Clause
				if clause == "" {
					clause = "(no clause)"
				}
				p("- **%s**", mdInline(clause))
				p(" (%s)", f.Level)
				if f.Requirement != "" {
					p(": %s", mdInline(oneLine(f.Requirement)))
				}
				p("\n")
				if f.Expected != "" || f.Got != "" {
					p("  - expected: %s\n", mdCodeSpan(oneLine(f.Expected)))
					p("  - got: %s\n", mdCodeSpan(oneLine(f.Got)))
				}
				if f.Detail != "" {
					p("  - %s\n", mdInline(oneLine(f.Detail)))
				}
				if f.Step != "" {
					p("  - at step: %s\n", mdInline(f.Step))
				}
			}
			if s.Reproducer != "" {
				p("- reproducer: `%s`\n", mdCode(s.Reproducer))
			}
			p("\n")
		}
	}

	if known := run.filter((*Scenario).Known); len(known) > 0 {
		p("<details><summary>Expected deviations: %d known</summary>\n\n", len(known))
		p("| ID | title | verdict | issue | reason |\n|---|---|---|---|---|\n")
		for _, s := range known {
			p("| %s %s | %s | %s | %s | %s |\n", outcomeEmoji(result.Known), mdCell(s.ID), mdCell(s.Title), s.Verdict,
				mdCell(s.Expectation.Issue), mdCell(s.Expectation.Reason))
		}
		p("\n</details>\n\n")
	}

	p("### Scenarios\n\n")
	p("| | ID | title | level | clauses | verdict | time |\n|---|---|---|---|---|---|---:|\n")
	for i := range run.Scenarios {
		s := &run.Scenarios[i]
		verdict := string(s.Verdict)
		if s.Verdict == result.Skipped && s.SkipReason != "" {
			verdict += ": " + oneLine(s.SkipReason)
		}
		emoji := verdictEmoji(s.Verdict)
		if x := s.Expectation; x != nil {
			verdict = string(x.Outcome) + " (" + verdict + issueSuffix(x.Issue) + ")"
			emoji = outcomeEmoji(x.Outcome)
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", emoji, mdCell(s.ID), mdCell(s.Title), s.Level,
			mdCell(strings.Join(s.Clauses, ", ")), mdCell(verdict), FormatDuration(s.Duration))
	}
	p("\n")

	var open []Clause
	for _, c := range run.Clauses {
		if c.Verdict != result.Pass && c.Verdict != result.Info {
			open = append(open, c)
		}
	}
	if len(open) > 0 {
		p("<details><summary>Clauses not passed (%d of %d)</summary>\n\n", len(open), len(run.Clauses))
		p("| clause | level | title | verdict | scenarios |\n|---|---|---|---|---|\n")
		for _, c := range open {
			var ss []string
			for _, r := range c.Scenarios {
				ss = append(ss, r.Scenario+" "+string(r.Verdict))
			}
			p("| %s | %s | %s | %s %s | %s |\n", mdCell(c.ID), c.Level, mdCell(c.Title), verdictEmoji(c.Verdict), c.Verdict, mdCell(strings.Join(ss, ", ")))
		}
		p("\n</details>\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

// WriteMarkdownFile writes the Markdown report to a file.
func WriteMarkdownFile(path string, run *Run) error {
	return writeFile(path, func(w io.Writer) error { return WriteMarkdown(w, run) })
}

func outcomeEmoji(o result.ExpectOutcome) string {
	if o == result.Stale {
		return "🔴"
	}
	return "🟣"
}

func verdictEmoji(v result.Verdict) string {
	switch v {
	case result.Pass:
		return "✅"
	case result.Fail:
		return "❌"
	case result.NonStrict:
		return "⚠️"
	case result.Info:
		return "ℹ️"
	case result.Skipped:
		return "⏭️"
	}
	return "▫️"
}

// mdInline escapes the characters that would start Markdown or HTML markup in running text.
func mdInline(s string) string {
	r := strings.NewReplacer(
		`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
		"<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`, "\n", " ")
	return r.Replace(s)
}

// mdCell is mdInline for a table cell.
func mdCell(s string) string { return mdInline(oneLine(s)) }

// mdCodeSpan wraps s in a code span long enough for the backticks it holds; pipes are escaped
// so that it may stand in a table. Empty s gives "".
func mdCodeSpan(s string) string {
	if s == "" {
		return ""
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}

// mdCode makes s safe inside a single-backtick code span.
func mdCode(s string) string {
	return strings.ReplaceAll(s, "`", "'")
}
