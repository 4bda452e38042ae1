package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// WriteMarkdown writes the run as a Markdown page that stands alone and fits a CI job summary
// (GitHub's $GITHUB_STEP_SUMMARY, GitLab's and others' Markdown views): the status, the
// closing line and what its words mean, the profile and the expectations in force, the
// outcome counts; then the failures (engine errors, FAIL, STALE, NON-STRICT) with the clause,
// the requirement, expected and got and each reproducer in a fenced block; then the known
// deviations with their upstream issues (linked) and reproducers; then a table of every
// scenario and one of the clauses that did not pass.
func WriteMarkdown(w io.Writer, run *Run) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	status := "✅ conforming"
	switch run.Status() {
	case "ENGINE ERROR":
		status = "⛔ engine error (the harness failed: no verdict on the target)"
	case "NOT CONFORMING":
		status = "❌ not conforming"
	}
	p("## upspec: %s\n\n", status)
	p("**%s** against `%s`", ClosingLine(run), mdCode(run.Meta.Target))
	if run.Meta.Embedded {
		p(" (embedded reference server)")
	}
	p("\n\n%s\n\n", mdInline(run.Counts.Legend()))
	var meta []string
	add := func(k, v string) {
		if v != "" {
			meta = append(meta, k+" "+v)
		}
	}
	add("profile", mdInline(orDash(run.Meta.Profile)))
	add("expected deviations", mdInline(orText(run.Meta.Expectations, "none")))
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
	p("%s\n\n", strings.Join(meta, " · "))

	p("| outcome | scenarios | counted as |\n|---|---:|---|\n")
	for _, o := range Outcomes() {
		n := run.Counts.Of(o)
		if n == 0 && !alwaysShown(o, run) {
			continue
		}
		p("| %s %s | %d | %s |\n", outcomeMark(o), o, n, countedAs(o))
	}
	p("| total | %d | |\n\n", run.Counts.Total)

	if len(run.SuiteErrors) > 0 {
		p("### Suite errors\n\nFailures outside any scenario: the run says nothing certain about the target.\n\n")
		for _, e := range run.SuiteErrors {
			p("- %s\n", mdInline(oneLine(e)))
		}
		p("\n")
	}

	engine := run.EngineErrors()
	problems := run.Problems()
	var stale []*Scenario
	for _, s := range run.Failures() {
		if s.Stale() {
			stale = append(stale, s)
		}
	}
	p("### Failures\n\n")
	if len(engine)+len(problems)+len(stale) == 0 {
		p("None: no scenario failed the run and none is NON-STRICT.\n\n")
	}
	for _, s := range engine {
		p("#### %s ERROR %s: %s\n\n", outcomeMark(string(result.Error)), mdInline(s.ID), mdInline(s.Title))
		p("- the harness failed, not the target: no verdict on the target\n")
		mdFindings(p, s)
		p("\n")
	}
	for _, s := range stale {
		p("#### %s STALE %s: %s\n\n", outcomeMark(string(result.Stale)), mdInline(s.ID), mdInline(s.Title))
		p("- %s, but listed in %s as an expected deviation%s: %s\n", s.Verdict, mdCodeSpan(run.Meta.Expectations),
			mdIssueSuffix(s.Expectation.Issue, run.Meta.IssueTracker), mdInline(oneLine(s.Expectation.Reason)))
		p("- the implementation may have been fixed: remove the entry from the list\n\n")
	}
	for _, s := range problems {
		p("#### %s %s %s: %s\n\n", outcomeMark(string(s.Verdict)), s.Verdict, mdInline(s.ID), mdInline(s.Title))
		mdFindings(p, s)
		mdReproducer(p, run, s)
		p("\n")
	}

	if known := run.Known(); len(known) > 0 || run.Meta.Expectations != "" {
		p("### Known deviations\n\n")
		if len(known) == 0 {
			p("None: no scenario listed in %s failed.\n\n", mdCodeSpan(run.Meta.Expectations))
		} else {
			p("Listed in %s and failed as listed: they do not fail the run.\n\n", mdCodeSpan(run.Meta.Expectations))
		}
		for _, s := range known {
			p("#### %s KNOWN %s: %s (%s)\n\n", outcomeMark(string(result.Known)), mdInline(s.ID), mdInline(s.Title), s.Verdict)
			issue := mdIssues(s.Expectation.Issue, run.Meta.IssueTracker)
			if issue == "" {
				issue = "none named"
			}
			p("- upstream issue: %s\n", issue)
			p("- reason: %s\n", mdInline(oneLine(s.Expectation.Reason)))
			mdFindings(p, s)
			mdReproducer(p, run, s)
			p("\n")
		}
	}

	p("### Scenarios\n\n")
	p("| | ID | title | level | clauses | outcome | time |\n|---|---|---|---|---|---|---:|\n")
	for i := range run.Scenarios {
		s := &run.Scenarios[i]
		verdict := string(s.Verdict)
		if s.Verdict == result.Skipped && s.SkipReason != "" {
			verdict += ": " + oneLine(s.SkipReason)
		}
		mark := outcomeMark(string(s.Verdict))
		cell := mdCell(verdict)
		if x := s.Expectation; x != nil {
			cell = string(x.Outcome) + " (" + mdCell(verdict)
			if x.Issue != "" {
				cell += ", " + mdIssues(x.Issue, run.Meta.IssueTracker)
			}
			cell += ")"
			mark = outcomeMark(string(x.Outcome))
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", mark, mdCell(s.ID), mdCell(s.Title), s.Level,
			mdCell(strings.Join(s.Clauses, ", ")), cell, FormatDuration(s.Duration))
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
			p("| %s | %s | %s | %s %s | %s |\n", mdCell(c.ID), c.Level, mdCell(c.Title), outcomeMark(string(c.Verdict)), c.Verdict, mdCell(strings.Join(ss, ", ")))
		}
		p("\n</details>\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

// mdFindings writes a scenario's findings as a list: clause, level, requirement, expected,
// got, detail, step.
func mdFindings(p func(string, ...any), s *Scenario) {
	if len(s.Findings) == 0 {
		p("- no finding recorded\n")
	}
	for _, f := range s.Findings {
		clause := f.Clause
		if clause == "" {
			clause = "(no clause)"
		}
		p("- **%s** (%s)", mdInline(clause), f.Level)
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
}

// mdReproducer embeds the scenario's reproducer in a collapsed, fenced block, with the name
// of its file when one was written.
func mdReproducer(p func(string, ...any), run *Run, s *Scenario) {
	script := Reproducer(run, s)
	name := ReproducerName(run, s.ID)
	if s.Reproducer != "" {
		name = s.Reproducer
	}
	fence := "```"
	for strings.Contains(script, fence) {
		fence += "`"
	}
	p("\n<details><summary>reproducer <code>%s</code> (sh; exit 1: the failure reproduces, 0: it does not)</summary>\n\n", htmlText(name))
	p("%ssh\n%s%s\n\n</details>\n", fence, script, fence)
}

// htmlText escapes s for HTML text inside Markdown.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mdIssueSuffix is ` (#10)` with the issue linked, or "".
func mdIssueSuffix(issue, tracker string) string {
	if issue == "" {
		return ""
	}
	return " (" + mdIssues(issue, tracker) + ")"
}

// alwaysShown reports whether the outcome's row is shown at zero: the verdicts of a run, and
// KNOWN and STALE when expectations were applied.
func alwaysShown(o string, run *Run) bool {
	switch o {
	case string(result.Known), string(result.Stale):
		return run.Meta.Expectations != ""
	case string(result.Error), string(result.NotRun):
		return false
	}
	return true
}

// countedAs says under which word of the closing line an outcome is counted.
func countedAs(o string) string {
	switch o {
	case string(result.Pass), string(result.NonStrict), string(result.Info):
		return "passed"
	case string(result.Fail), string(result.Stale):
		return "failed"
	case string(result.Known):
		return "known deviation (does not fail the run)"
	case string(result.Skipped):
		return "skipped"
	case string(result.Error):
		return "engine error (the harness failed; exit status 2)"
	case string(result.NotRun):
		return "not run"
	}
	return ""
}

// WriteMarkdownFile writes the Markdown report to a file.
func WriteMarkdownFile(path string, run *Run) error {
	return writeFile(path, func(w io.Writer) error { return WriteMarkdown(w, run) })
}

// outcomeMark is the emoji of an outcome (a verdict, KNOWN or STALE).
func outcomeMark(o string) string {
	switch o {
	case string(result.Pass):
		return "✅"
	case string(result.Fail):
		return "❌"
	case string(result.NonStrict):
		return "⚠️"
	case string(result.Info):
		return "ℹ️"
	case string(result.Skipped):
		return "⏭️"
	case string(result.Known):
		return "🟣"
	case string(result.Stale):
		return "🔴"
	case string(result.Error):
		return "⛔"
	}
	return "▫️"
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
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
