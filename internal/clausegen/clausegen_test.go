package clausegen

import (
	"strings"
	"testing"
)

func TestConstName(t *testing.T) {
	tests := []struct{ id, want string }{
		{"ack.list-exact", "AckListExact"},
		{"ack.201-while-incomplete", "Ack201WhileIncomplete"},
		{"par.limit-503", "ParLimit503"},
		{"ses.long-id", "SesLongID"},
		{"enc.post", "EncPost"},
	}
	for _, tt := range tests {
		if got := ConstName(tt.id); got != tt.want {
			t.Errorf("ConstName(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings of the output
		err       string   // substring of the error; "" = no error
	}{
		{"two clauses", `package p
var _ = []Clause{{ID: "seg.numbering", Level: MUST, Title: "Numbering"}, {ID: "ses.long-id", Level: INFO, Title: "Long"}}`,
			[]string{`SegNumbering ID = "seg.numbering"`, "// SesLongID is ses.long-id (INFO): Long.", "SegNumbering,\n\t\tSesLongID,"}, ""},
		{"duplicate", `package p
var _ = []Clause{{ID: "seg.numbering"}, {ID: "seg.numbering"}}`, nil, "appears twice"},
		{"badly formed", `package p
var _ = []Clause{{ID: "Seg_Numbering"}}`, nil, "not of the form"},
		{"not a literal", `package p
var _ = []Clause{{ID: name}}`, nil, "string literal"},
		{"none", `package p`, nil, "holds no clause"},
		{"not Go", `package`, nil, "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Generate("clauses.go", []byte(tt.src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestGenerateWith(t *testing.T) {
	src := `package p
var _ = []Clause{{ID: "tus.core.offset-mismatch-409", Level: MUST, Title: "Offset mismatch"}}`
	out, err := GenerateWith("clauses.go", []byte(src), Options{Package: "tusclause", Source: "scenarios/tus/clauses.go",
		TrimPrefix: "tus.", ClauseImport: "github.com/upspec/upspec/scenarios/clause"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"from scenarios/tus/clauses.go;", "package tusclause", "type ID = clause.ID",
		`CoreOffsetMismatch409 ID = "tus.core.offset-mismatch-409"`, "// CoreOffsetMismatch409 is tus.core.offset-mismatch-409 (MUST): Offset mismatch."} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
