package clause_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/upspec/upspec/internal/clausegen"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
)

// TestGeneratedFileIsCurrent fails when ids.go differs from what the generator makes of the
// catalogue's source: run `go generate ./scenarios/clause`.
func TestGeneratedFileIsCurrent(t *testing.T) {
	src, err := os.ReadFile("../clauses.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := clausegen.Generate("../clauses.go", src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("ids.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ids.go is not current: run `go generate ./scenarios/clause`")
	}
}

// TestConstantsAreTheCatalogue: the constants are exactly the catalogue's IDs, in its order.
func TestConstantsAreTheCatalogue(t *testing.T) {
	cat := scenarios.Catalogue()
	all := clause.All()
	if len(all) != len(cat) {
		t.Fatalf("%d constants for %d clauses", len(all), len(cat))
	}
	for i, c := range cat {
		if string(all[i]) != c.ID {
			t.Errorf("constant %d is %q, the catalogue's clause %d is %q", i, all[i], i, c.ID)
		}
	}
}

func TestKnown(t *testing.T) {
	if !clause.Known(clause.AckListExact) {
		t.Error("Known(AckListExact) = false")
	}
	if clause.Known("ack.list-exakt") {
		t.Error(`Known("ack.list-exakt") = true`)
	}
	if got := clause.Strings(clause.SegNumbering, clause.SesLongID); len(got) != 2 || got[0] != "seg.numbering" || got[1] != "ses.long-id" {
		t.Errorf("Strings = %q", got)
	}
}
