package scenarios

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/clauses.md from the catalogue")

// docPath is the rendered catalogue, relative to this package.
const docPath = "../docs/clauses.md"

func TestCatalogueValid(t *testing.T) {
	if err := Validate(Catalogue(), All()); err != nil {
		t.Fatalf("catalogue and scenarios are inconsistent:\n%v", err)
	}
}

// TestCatalogueKeepsDocumentIDs pins the clause IDs and levels of the protocol's clause list:
// checks and reports key on them, so they never change.
func TestCatalogueKeepsDocumentIDs(t *testing.T) {
	tests := []struct {
		id    string
		level Level
	}{
		{"seg.numbering", MUST}, {"seg.any-order", MUST}, {"seg.retransmit", MUST}, {"seg.large-offsets", MUST},
		{"par.disjoint-allowed", MUST}, {"par.overlap-rejected", MUST}, {"par.limit-503", INFO},
		{"enc.post", INFO}, {"enc.header-aliases", MUST}, {"enc.disposition", MUST},
		{"enc.body-matches-range", MUST}, {"enc.not-multipart", INFO},
		{"ses.multi-address", MUST}, {"ses.collision-total", SHOULD}, {"ses.collision-same-total", INFO},
		{"ack.201-while-incomplete", MUST}, {"ack.final-only-when-complete", MUST},
		{"ack.final-is-backend-answer", MUST}, {"ack.range-header", MUST}, {"ack.body-equals-header", MUST},
		{"ack.list-exact", MUST}, {"ack.list-canonical", SHOULD}, {"ack.durable", MUST}, {"ack.list-format", INFO},
		{"rob.malformed-4xx", SHOULD}, {"rob.completion-idempotent", SHOULD}, {"rob.interrupted-segment", MUST},
		{"rob.stored-bytes", MUST}, {"rob.last-write", INFO},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c, ok := ClauseByID(tt.id)
			if !ok {
				t.Fatalf("ClauseByID(%q): not in the catalogue", tt.id)
			}
			if c.Level != tt.level {
				t.Errorf("%s: level %s, want %s", tt.id, c.Level, tt.level)
			}
		})
	}
}

func TestEveryMustClauseHasAScenario(t *testing.T) {
	for _, c := range Catalogue() {
		if c.Level == MUST && len(ScenariosForClause(c.ID)) == 0 {
			t.Errorf("MUST clause %s: no scenario checks it", c.ID)
		}
	}
}

func TestAllSortedAndStable(t *testing.T) {
	all := All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	if !slices.IsSortedFunc(all, func(a, b Scenario) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("All() is not sorted by ID")
	}
	again := All()
	for i := range all {
		if all[i].ID != again[i].ID {
			t.Fatalf("All() changed between calls at %d: %s vs %s", i, all[i].ID, again[i].ID)
		}
	}
	fams := map[string]int{}
	for _, s := range all {
		fams[s.Family]++
	}
	for _, f := range Families() {
		if fams[f.Name] == 0 {
			t.Errorf("family %s has no scenario", f.Name)
		}
	}
}

func TestScenarioLookups(t *testing.T) {
	for _, s := range All() {
		got, ok := ScenarioByID(s.ID)
		if !ok || got.ID != s.ID {
			t.Errorf("ScenarioByID(%q) = %q, %v", s.ID, got.ID, ok)
		}
		if labels := s.AllLabels(); len(labels) == 0 || labels[0] != s.Family {
			t.Errorf("%s: AllLabels() = %v, want the family first", s.ID, labels)
		}
	}
	if _, ok := ScenarioByID("XX-99"); ok {
		t.Error("ScenarioByID(XX-99) found a scenario")
	}
	if _, ok := ClauseByID("no.such-clause"); ok {
		t.Error("ClauseByID(no.such-clause) found a clause")
	}
}

func TestScenarioLevel(t *testing.T) {
	tests := []struct {
		clauses []string
		want    Level
	}{
		{[]string{"ack.list-format"}, INFO},
		{[]string{"ack.list-format", "ack.list-canonical"}, SHOULD},
		{[]string{"ack.list-canonical", "ack.list-exact", "ack.list-format"}, MUST},
		{[]string{"no.such-clause"}, INFO},
	}
	for _, tt := range tests {
		if got := (Scenario{Clauses: tt.clauses}).Level(); got != tt.want {
			t.Errorf("Level(%v) = %s, want %s", tt.clauses, got, tt.want)
		}
	}
}

func TestLevelText(t *testing.T) {
	for _, l := range []Level{MUST, SHOULD, INFO} {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%d): %v", int(l), err)
		}
		var back Level
		if err := back.UnmarshalText([]byte(strings.ToLower(string(b)))); err != nil || back != l {
			t.Errorf("round trip of %s: got %s, %v", l, back, err)
		}
	}
	if _, err := Level(7).MarshalText(); err == nil {
		t.Error("MarshalText(7): no error")
	}
	if _, err := ParseLevel("MAY"); err == nil {
		t.Error(`ParseLevel("MAY"): no error`)
	}
}

// TestValidateCatches proves that Validate reports each kind of inconsistency.
func TestValidateCatches(t *testing.T) {
	run := func(*T) {}
	good := Scenario{ID: "RS-01", Title: "t", Family: "range-strings", Clauses: []string{"ack.list-exact"}, Run: run}
	clauses := []Clause{
		{ID: "ack.list-exact", Level: MUST, Section: "s", Title: "t", Text: "x"},
		{ID: "ack.list-format", Level: INFO, Section: "s", Title: "t", Text: "x"},
	}
	with := func(f func(*Scenario)) []Scenario {
		s := good
		f(&s)
		return []Scenario{s}
	}
	tests := []struct {
		name      string
		clauses   []Clause
		scenarios []Scenario
		want      string // substring of the error; "" = valid
	}{
		{"valid", clauses, []Scenario{good}, ""},
		{"duplicate scenario", clauses, []Scenario{good, good}, "appears twice"},
		{"bad scenario ID", clauses, with(func(s *Scenario) { s.ID = "RS-1" }), "form XX-NN"},
		{"unknown family", clauses, with(func(s *Scenario) { s.Family = "misc" }), "unknown family"},
		{"wrong prefix", clauses, with(func(s *Scenario) { s.ID = "CP-01" }), "wants the prefix RS"},
		{"unknown clause", clauses, with(func(s *Scenario) { s.Clauses = []string{"ack.list-exact", "ack.nope"} }), "unknown clause"},
		{"no clause", clauses, with(func(s *Scenario) { s.Clauses = nil }), "names no clause"},
		{"upper-case label", clauses, with(func(s *Scenario) { s.Labels = []string{"Slow"} }), "lower-case word"},
		{"label with blank", clauses, with(func(s *Scenario) { s.Labels = []string{"needs loopback"} }), "lower-case word"},
		{"family as label", clauses, with(func(s *Scenario) { s.Labels = []string{"probe"} }), "names a family"},
		{"no run", clauses, with(func(s *Scenario) { s.Run = nil }), "no Run"},
		{"no title", clauses, with(func(s *Scenario) { s.Title = " " }), "no title"},
		{"uncovered MUST", append(clauses, Clause{ID: "seg.x", Level: MUST, Section: "s", Title: "t", Text: "x"}), []Scenario{good}, "no scenario checks it"},
		{"duplicate clause", append(clauses, clauses[0]), []Scenario{good}, "appears twice"},
		{"bad clause ID", append(clauses, Clause{ID: "Seg X", Level: INFO, Section: "s", Title: "t", Text: "x"}), []Scenario{good}, "area.words"},
		{"bad level", append(clauses, Clause{ID: "seg.y", Level: 9, Section: "s", Title: "t", Text: "x"}), []Scenario{good}, "unknown level"},
		{"empty text", append(clauses, Clause{ID: "seg.z", Level: INFO, Section: "s", Title: "t"}), []Scenario{good}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.clauses, tt.scenarios)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestCatalogueDoc keeps docs/clauses.md equal to the catalogue; run with -update to rewrite it.
func TestCatalogueDoc(t *testing.T) {
	want := CatalogueMarkdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatalf("write %s: %v", docPath, err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./scenarios -run TestCatalogueDoc -update)", docPath, err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the catalogue; run go test ./scenarios -run TestCatalogueDoc -update", docPath)
	}
	for _, c := range Catalogue() {
		if !strings.Contains(want, "`"+c.ID+"`") {
			t.Errorf("the document does not list clause %s", c.ID)
		}
	}
}
