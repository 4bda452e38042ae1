package tus_test

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/upspec/upspec/internal/clausegen"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/tus"
	"github.com/upspec/upspec/scenarios/tus/tusclause"
)

var update = flag.Bool("update", false, "rewrite docs/tus-clauses.md from the catalogue")

// docPath is the rendered tus catalogue, relative to this package.
const docPath = "../../docs/tus-clauses.md"

func TestCatalogueValid(t *testing.T) {
	if err := tus.Validate(); err != nil {
		t.Fatalf("the tus catalogue and scenarios are inconsistent:\n%v", err)
	}
}

// TestFamiliesAndIDsApart: the tus families, scenario IDs and clause IDs share nothing with
// the nginx protocol's, so that labels, --focus and reports never mix them.
func TestFamiliesAndIDsApart(t *testing.T) {
	for _, f := range tus.Families() {
		for _, g := range scenarios.Families() {
			if f.Name == g.Name || f.Prefix == g.Prefix {
				t.Errorf("tus family %s (%s) collides with %s (%s)", f.Name, f.Prefix, g.Name, g.Prefix)
			}
		}
	}
	for _, s := range tus.All() {
		if _, ok := scenarios.ScenarioByID(s.ID); ok {
			t.Errorf("%s is also an nginx scenario", s.ID)
		}
		if !slices.Contains(s.Labels, tus.LabelTus) {
			t.Errorf("%s lacks the label %s", s.ID, tus.LabelTus)
		}
		if s.Lookup == nil {
			t.Errorf("%s has no Lookup: its findings would name the nginx catalogue", s.ID)
		}
	}
	for _, c := range tus.Catalogue() {
		if _, ok := scenarios.ClauseByID(c.ID); ok {
			t.Errorf("clause %s is also an nginx clause", c.ID)
		}
	}
}

// TestScenarioLevel: a tus scenario's level comes from the tus catalogue (the nginx one knows
// none of its clauses, and would give INFO).
func TestScenarioLevel(t *testing.T) {
	tests := map[string]scenarios.Level{"TO-01": scenarios.MUST, "TP-02": scenarios.MUST}
	for id, want := range tests {
		s, ok := tus.ScenarioByID(id)
		if !ok {
			t.Fatalf("no scenario %s", id)
		}
		if got := s.Level(); got != want {
			t.Errorf("%s: level %s, want %s", id, got, want)
		}
	}
}

// TestGeneratedFileIsCurrent fails when tusclause/ids.go differs from what the generator
// makes of the catalogue's source: run `go generate ./scenarios/tus/tusclause`.
func TestGeneratedFileIsCurrent(t *testing.T) {
	src, err := os.ReadFile("clauses.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := clausegen.GenerateWith("../clauses.go", src, clausegen.Options{Package: "tusclause",
		Source: "scenarios/tus/clauses.go", TrimPrefix: "tus.", ClauseImport: "github.com/upspec/upspec/scenarios/clause"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("tusclause/ids.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tusclause/ids.go is not current: run `go generate ./scenarios/tus/tusclause`")
	}
	all := tusclause.All()
	cat := tus.Catalogue()
	if len(all) != len(cat) {
		t.Fatalf("%d constants for %d clauses", len(all), len(cat))
	}
	for i := range cat {
		if string(all[i]) != cat[i].ID {
			t.Errorf("constant %d is %s, the catalogue's clause %s", i, all[i], cat[i].ID)
		}
	}
}

// TestCatalogueDoc keeps docs/tus-clauses.md equal to the catalogue; run with -update to
// rewrite it.
func TestCatalogueDoc(t *testing.T) {
	want := tus.CatalogueMarkdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./scenarios/tus -run TestCatalogueDoc -update)", docPath, err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the catalogue; run go test ./scenarios/tus -run TestCatalogueDoc -update", docPath)
	}
}

func TestBuiltinExpectations(t *testing.T) {
	if got := tus.BuiltinExpectations(); !slices.Equal(got, []string{"tus-node-server-2", "tusd-v2"}) {
		t.Errorf("BuiltinExpectations() = %v", got)
	}
	if _, err := tus.LoadExpectations("nginx-upload-module"); err == nil {
		t.Error("the nginx list loads as a tus list")
	}
}
