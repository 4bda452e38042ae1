package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/suite"
)

const listUsage = `Usage: upspec list [--protocol nginx|tus] [--scenarios] [--label-filter EXPR] [--json]

Prints the catalogue: every clause of the protocol (ID, level, title) with the scenarios that
check it, or with --scenarios every scenario with its clauses, level and labels.

Labels: each scenario carries its family (range-strings, completion, re-upload, probe,
collision, parallel, headers, ...) and needs-loopback, needs-file-access, needs-backend-access
or slow where they apply. --label-filter takes the same expressions as 'upspec run
--label-filter' (Ginkgo's label filter syntax: &&, ||, !, parentheses, /regexp/).

Examples:
  upspec list                                   # clause by clause
  upspec list --scenarios                       # scenario by scenario
  upspec list --scenarios --label-filter '!slow && !needs-loopback'
  upspec list --label-filter parallel --json
  upspec list --protocol tus --scenarios        # the tus 1.0 scenarios

Flags:
`

// listClause is a clause in `upspec list --json`.
type listClause struct {
	ID        string   `json:"id"`
	Level     string   `json:"level"`
	Section   string   `json:"section"`
	Title     string   `json:"title"`
	Text      string   `json:"text"`
	Scenarios []string `json:"scenarios"`
}

// listScenario is a scenario in `upspec list --scenarios --json`.
type listScenario struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Family  string   `json:"family"`
	Level   string   `json:"level"`
	Clauses []string `json:"clauses"`
	Labels  []string `json:"labels"`
}

// listMain is `upspec list`.
func listMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("upspec list")
	byScenario := fs.Bool("scenarios", false, "list scenario by scenario (default: clause by clause)")
	filter := fs.String("label-filter", "", "only the scenarios whose labels match `EXPR`, e.g. 'parallel || probe', '!slow'")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	protocol := fs.String("protocol", suite.ProtocolNginx, "the `protocol` whose catalogue is listed: nginx or tus")
	if code, done := parseFlags(fs, args, listUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "upspec list: unexpected argument %q; select scenarios with --label-filter\n", fs.Arg(0))
		return exitUsage
	}
	match, err := types.ParseLabelFilter(*filter)
	if err != nil {
		fmt.Fprintf(stderr, "upspec list: --label-filter %q: %s; combine labels with &&, || and !, e.g. 'range-strings && !slow'\n",
			*filter, ginkgoErrorLine(err))
		return exitUsage
	}
	cfg := suite.Config{Protocol: *protocol}
	if !slices.Contains(suite.Protocols(), *protocol) {
		fmt.Fprintf(stderr, "upspec list: --protocol %q: want one of %s\n", *protocol, strings.Join(suite.Protocols(), ", "))
		return exitUsage
	}
	cat := cfg.Catalogue()
	var selected []scenarios.Scenario
	for _, s := range cat.Scenarios {
		// The spec of a scenario also carries its ID label (id:RS-01), as in `upspec run`.
		if match(append([]string{result.IDLabel(s.ID)}, s.AllLabels()...)) {
			selected = append(selected, s)
		}
	}
	if *byScenario {
		err = listScenarios(stdout, selected, *asJSON)
	} else {
		err = listClauses(stdout, cat.Clauses, selected, *filter != "", *asJSON)
	}
	if err != nil {
		fmt.Fprintf(stderr, "upspec list: %v; check that the output can be written\n", err)
		return exitUsage
	}
	return exitOK
}

// listClauses prints the catalogue clause by clause, with the selected scenarios under each.
// When filtered, clauses without a selected scenario are left out.
func listClauses(w io.Writer, clauses []scenarios.Clause, selected []scenarios.Scenario, filtered, asJSON bool) error {
	var out []listClause
	for _, c := range clauses {
		lc := listClause{ID: c.ID, Level: c.Level.String(), Section: c.Section, Title: c.Title, Text: c.Text, Scenarios: []string{}}
		for _, s := range selected {
			for _, id := range s.Clauses {
				if id == c.ID {
					lc.Scenarios = append(lc.Scenarios, s.ID)
					break
				}
			}
		}
		if filtered && len(lc.Scenarios) == 0 {
			continue
		}
		out = append(out, lc)
	}
	if asJSON {
		return writeJSON(w, nonNilSlice(out))
	}
	titles := map[string]string{}
	for _, s := range selected {
		titles[s.ID] = s.Title
	}
	idw, sw := 0, 0
	for _, c := range out {
		idw = max(idw, len(c.ID))
		for _, id := range c.Scenarios {
			sw = max(sw, len(id))
		}
	}
	var b strings.Builder
	section := ""
	for _, c := range out {
		if c.Section != section {
			if section != "" {
				b.WriteString("\n")
			}
			section = c.Section
			fmt.Fprintf(&b, "%s\n", section)
		}
		fmt.Fprintf(&b, "  %-*s  %-6s  %s\n", idw, c.ID, c.Level, c.Title)
		if len(c.Scenarios) == 0 {
			fmt.Fprintf(&b, "      (no scenario)\n")
		}
		for _, id := range c.Scenarios {
			fmt.Fprintf(&b, "      %-*s  %s\n", sw, id, titles[id])
		}
	}
	fmt.Fprintf(&b, "\n%d clauses, %d scenarios\n", len(out), len(selected))
	return writeString(w, b.String())
}

// listScenarios prints the selected scenarios with their level, clauses and labels.
func listScenarios(w io.Writer, selected []scenarios.Scenario, asJSON bool) error {
	out := []listScenario{}
	for _, s := range selected {
		out = append(out, listScenario{ID: s.ID, Title: s.Title, Family: s.Family, Level: s.Level().String(),
			Clauses: nonNilSlice(s.Clauses), Labels: nonNilSlice(s.AllLabels())})
	}
	if asJSON {
		return writeJSON(w, out)
	}
	idw := 0
	for _, s := range out {
		idw = max(idw, len(s.ID))
	}
	pad := strings.Repeat(" ", idw+2)
	var b strings.Builder
	for _, s := range out {
		fmt.Fprintf(&b, "%-*s  %-6s  %s\n", idw, s.ID, s.Level, s.Title)
		fmt.Fprintf(&b, "%s%-7s  %s\n", pad, "clauses", strings.Join(s.Clauses, ", "))
		fmt.Fprintf(&b, "%s%-7s  %s\n", pad, "labels", strings.Join(s.Labels, ", "))
	}
	fmt.Fprintf(&b, "\n%d scenarios\n", len(out))
	return writeString(w, b.String())
}

func writeString(w io.Writer, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("write the list: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
