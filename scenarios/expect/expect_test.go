package expect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upspec/upspec/reports/result"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []result.Expectation
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# header\n\n   # indented comment\n", nil, ""},
		{"entries", "PA-02 #4  no 409 for overlapping segments  (§4)\nRS-07 #10,#112 list cut\nHD-01 - last header wins\nCO-01 https://github.com/fdintino/nginx-upload-module/issues/46 restart\n",
			[]result.Expectation{
				{ID: "PA-02", Issue: "#4", Reason: "no 409 for overlapping segments  (§4)", Line: 1},
				{ID: "RS-07", Issue: "#10,#112", Reason: "list cut", Line: 2},
				{ID: "HD-01", Issue: "", Reason: "last header wins", Line: 3},
				{ID: "CO-01", Issue: "https://github.com/fdintino/nginx-upload-module/issues/46", Reason: "restart", Line: 4},
			}, ""},
		{"bad id", "# x\npa-02 #4 reason\n", nil, `expectations f.txt:2: "pa-02" is not a scenario ID`},
		{"missing issue", "PA-02\n", nil, "expectations f.txt:1: PA-02: missing issue"},
		{"bad issue", "PA-02 4 reason\n", nil, `expectations f.txt:1: PA-02: issue "4" is not`},
		{"missing reason", "PA-02 #4\n", nil, "expectations f.txt:1: PA-02: missing reason"},
		{"duplicate", "PA-02 #4 a\n\nPA-02 - b\n", nil, "expectations f.txt:3: PA-02 is already listed on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse("f.txt", strings.NewReader(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Entries) != len(tt.want) {
				t.Fatalf("entries = %+v, want %+v", e.Entries, tt.want)
			}
			for i := range tt.want {
				if e.Entries[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, e.Entries[i], tt.want[i])
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	e, err := Parse("t", strings.NewReader("PA-02 #4 overlap\nRS-07 - cut\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		verdict result.Verdict
		strict  bool
		want    result.ExpectOutcome
		gates   bool
	}{
		{"PA-02", result.Fail, false, result.Known, false},
		{"PA-02", result.NonStrict, true, result.Known, false},
		{"PA-02", result.Pass, false, result.Stale, true},
		{"PA-02", result.Info, false, result.Stale, true},
		{"PA-02", result.Skipped, false, result.ExpectNone, false},
		{"RS-01", result.Fail, false, result.ExpectNone, true},
		{"RS-01", result.NonStrict, false, result.ExpectNone, false},
		{"RS-01", result.NonStrict, true, result.ExpectNone, true},
		{"RS-01", result.Pass, false, result.ExpectNone, false},
	}
	for _, tt := range tests {
		got, x := e.Classify(tt.id, tt.verdict)
		if got != tt.want {
			t.Errorf("Classify(%s %s) = %q, want %q", tt.id, tt.verdict, got, tt.want)
		}
		if got != result.ExpectNone && x.ID != tt.id {
			t.Errorf("Classify(%s) returned entry %+v", tt.id, x)
		}
		if g := e.Gates(tt.id, tt.verdict, tt.strict); g != tt.gates {
			t.Errorf("Gates(%s %s strict=%v) = %v, want %v", tt.id, tt.verdict, tt.strict, g, tt.gates)
		}
	}
	var none *List
	if out, _ := none.Classify("PA-02", result.Fail); out != result.ExpectNone || !none.Gates("", result.Fail, false) {
		t.Error("a nil list must list nothing")
	}
	if got := (result.Expectation{ID: "PA-02", Issue: "#4", Reason: "r"}).Describe(); got != "(#4) r" {
		t.Errorf("Describe = %q", got)
	}
	if got := strings.Join(e.IDs(), ","); got != "PA-02,RS-07" {
		t.Errorf("IDs = %q", got)
	}
}

func TestValidateExpectations(t *testing.T) {
	e, err := Parse("x.txt", strings.NewReader("# c\nZZ-99 - nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = e.Validate([]string{"RS-01"})
	if err == nil || err.Error() != "expectations x.txt:2: no scenario ZZ-99; run 'upspec list' for the IDs" {
		t.Errorf("Validate = %v", err)
	}
	if err := e.Validate([]string{"ZZ-99"}); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

func TestBuiltin(t *testing.T) {
	names := Builtin()
	if strings.Join(names, " ") != "nginx-upload-module nginx-upload-module-2020" {
		t.Fatalf("built-in lists = %v", names)
	}
	lists := map[string]*List{}
	for _, name := range names {
		b, err := builtinFiles.ReadFile("lists/" + name + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		e, err := Parse(name, strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		if got, err := Load(name, e.IDs()); err != nil || got.Name != name || len(got.Entries) != len(e.Entries) {
			t.Errorf("Load(%s) = %+v, %v; want the built-in list", name, got, err)
		}
		lists[name] = e
	}
	// the 2020 list is the current list plus entries
	cur, old := lists["nginx-upload-module"], lists["nginx-upload-module-2020"]
	for _, x := range cur.Entries {
		if _, ok := old.Lookup(x.ID); !ok {
			t.Errorf("nginx-upload-module-2020 lacks %s, which the current module fails", x.ID)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	id := "RS-01"
	ids := []string{id, "PA-01"}
	good := filepath.Join(dir, "good.txt")
	if err := os.WriteFile(good, []byte(id+" - a reason\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("ZZ-98 - a reason\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg     string
		wantErr string
	}{
		{good, ""},
		{bad, "no scenario ZZ-98"},
		{filepath.Join(dir, "missing.txt"), "no such file and no built-in list of that name"},
		{"nginx-upload", "no such file and no built-in list of that name (built in: nginx-upload-module, nginx-upload-module-2020)"},
	}
	for _, tt := range tests {
		e, err := Load(tt.arg, ids)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load(%s) error = %v, want %q", tt.arg, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(e.Entries) != 1 || e.Name != tt.arg {
			t.Errorf("Load(%s) = %+v, %v", tt.arg, e, err)
		}
	}
}
