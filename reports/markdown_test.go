package reports

import (
	"bytes"
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	run := testRun()
	cp, _ := run.Scenario("CP-01")
	cp.Reproducer = "out/repro-CP-01.sh"
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## upspec: ❌ not conforming",
		"**3 passed, 2 failed, 1 skipped** against `http://127.0.0.1:8080/upload`",
		"passed = PASS + NON-STRICT + INFO; failed = FAIL + STALE; known deviations: 0; stale: 0; not run: 0",
		"| ❌ FAIL | 2 | failed |",
		"| ✅ PASS | 1 | passed |",
		"#### ❌ FAIL CP-01: Two halves: 201 for the first, the backend's answer for the second",
		"- **ack.201-while-incomplete** (MUST): Every accepted segment",
		"  - expected: `201 Created`",
		"  - got: `200 OK, body \"completed\"`",
		"<details><summary>reproducer <code>out/repro-CP-01.sh</code>",
		"```sh\n#!/bin/sh\n# upspec reproducer of CP-01",
		"| ⏭️ | SS-01 | One session from two client addresses | MUST | ses.multi-address | SKIPPED: the target is not on loopback: no second client address |",
		"A malformed range gets a 4xx &lt;b&gt;with a reason&lt;/b&gt;",
		"<details><summary>Clauses not passed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	failures := strings.Index(md, "### Failures")
	table := strings.Index(md, "### Scenarios")
	if failures < 0 || table < failures {
		t.Error("the failures should come before the table of all scenarios")
	}
	if strings.Contains(outsideFences(md), "<b>with") {
		t.Error("markup from a title went through unescaped")
	}
}

func TestMarkdownConforming(t *testing.T) {
	run := testCatalogue().FromResults(Meta{Target: "http://x/upload", Embedded: true}, testResults()[:1])
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, run); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if !strings.Contains(md, "✅ conforming") || !strings.Contains(md, "None: no scenario failed the run") || !strings.Contains(md, "(embedded reference server)") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, code, inline string }{
		{"a|b", "`a\\|b`", `a\|b`},
		{"x`y", "``x`y``", "x\\`y"},
		{"`start", "`` `start ``", "\\`start"},
		{"<i>*b*</i>", "`<i>*b*</i>`", `&lt;i&gt;\*b\*&lt;/i&gt;`},
	}
	for _, tt := range tests {
		if got := mdCodeSpan(tt.in); got != tt.code {
			t.Errorf("mdCodeSpan(%q) = %q, want %q", tt.in, got, tt.code)
		}
		if got := mdInline(tt.in); got != tt.inline {
			t.Errorf("mdInline(%q) = %q, want %q", tt.in, got, tt.inline)
		}
	}
}

// outsideFences is md without its fenced code blocks.
func outsideFences(md string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
