package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/upspec/upspec/scenarios"
)

// callCmd runs a subcommand in the process and returns its exit status and output.
func callCmd(t *testing.T, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	for _, c := range subcommands() {
		if c.name == name {
			code = c.main(args, &out, &errb)
			return code, out.String(), errb.String()
		}
	}
	t.Fatalf("no subcommand %s", name)
	return 0, "", ""
}

func TestListClauses(t *testing.T) {
	code, out, errOut := callCmd(t, "list")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, c := range scenarios.Catalogue() {
		if !strings.Contains(out, c.ID) {
			t.Errorf("clause %s missing", c.ID)
		}
	}
	for _, s := range scenarios.All() {
		if len(s.Clauses) > 0 && !strings.Contains(out, "      "+s.ID) {
			t.Errorf("scenario %s not listed under a clause", s.ID)
		}
	}
	if !strings.Contains(out, "§2.4 Acknowledgement") {
		t.Error("no section headings")
	}
}

func TestListScenariosFiltered(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		keep   func(scenarios.Scenario) bool
	}{
		{"all", "", func(scenarios.Scenario) bool { return true }},
		{"one family", "parallel", func(s scenarios.Scenario) bool { return s.Family == "parallel" }},
		{"negation", "!slow && !needs-loopback", func(s scenarios.Scenario) bool {
			for _, l := range s.AllLabels() {
				if l == "slow" || l == "needs-loopback" {
					return false
				}
			}
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := callCmd(t, "list", "--scenarios", "--json", "--label-filter", tt.filter)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got []listScenario
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			var want []string
			for _, s := range scenarios.All() {
				if tt.keep(s) {
					want = append(want, s.ID)
				}
			}
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
				if s.Level == "" || s.Labels == nil || s.Clauses == nil {
					t.Errorf("%s: level %q, labels %v, clauses %v", s.ID, s.Level, s.Labels, s.Clauses)
				}
			}
			if strings.Join(ids, " ") != strings.Join(want, " ") {
				t.Errorf("listed %v, want %v", ids, want)
			}
		})
	}
}

func TestListClausesJSONFiltered(t *testing.T) {
	code, out, _ := callCmd(t, "list", "--json", "--label-filter", "parallel")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var got []listClause
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no clause")
	}
	for _, c := range got {
		if len(c.Scenarios) == 0 {
			t.Errorf("clause %s listed without a selected scenario", c.ID)
		}
		for _, id := range c.Scenarios {
			if !strings.HasPrefix(id, "PA-") {
				t.Errorf("clause %s lists %s, not a parallel scenario", c.ID, id)
			}
		}
	}
}

func TestListText(t *testing.T) {
	code, out, _ := callCmd(t, "list", "--scenarios", "--label-filter", "probe")
	if code != exitOK || !strings.Contains(out, "clauses  ") || !strings.Contains(out, "labels   probe") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// TestUsageErrors checks every subcommand of this file set: one line on stderr saying what is
// wrong and what to do, exit status 2, nothing on stdout.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"list", []string{"--bogus"}, "unknown flag: --bogus"},
		{"list", []string{"--label-filter", "&&x"}, "--label-filter"},
		{"list", []string{"--label-filter", "(a"}, "--label-filter"},
		{"list", []string{"extra"}, "unexpected argument"},
		{"version", []string{"--bogus"}, "unknown flag"},
		{"version", []string{"extra"}, "unexpected argument"},
		{"report", []string{}, "no report given"},
		{"report", []string{"a.json", "b.json"}, "use --diff"},
		{"report", []string{"--diff", "a.json"}, "needs two reports"},
		{"report", []string{"--diff", "--html", "x.html", "a.json", "b.json"}, "--diff prints"},
		{"report", []string{"/nonexistent/run.json"}, "no such file"},
		{"report", []string{"--html"}, "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := callCmd(t, tt.cmd, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "upspec "+tt.cmd+": ") || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "; ") {
				t.Errorf("stderr %q: want one line 'upspec %s: ...%s...; what to do'", errOut, tt.cmd, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, name := range []string{"list", "report", "version"} {
		for _, flag := range []string{"--help", "-h"} {
			t.Run(name+" "+flag, func(t *testing.T) {
				code, out, errOut := callCmd(t, name, flag)
				if code != exitOK || errOut != "" {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				if !strings.Contains(out, "Usage: upspec "+name) || !strings.Contains(out, "Examples:") || !strings.Contains(out, "Flags:") {
					t.Errorf("help lacks usage, examples or flags:\n%s", out)
				}
			})
		}
	}
}
