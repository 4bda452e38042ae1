package fakeserver

import (
	"strings"
	"testing"
)

// TestQuirkRegistry: every quirk is listed once, with its class, description, evidence and
// hooks, and its bit is its place in the registry.
func TestQuirkRegistry(t *testing.T) {
	reg := quirkRegistry()
	if len(reg) > 64 {
		t.Fatalf("%d quirks do not fit a QuirkSet", len(reg))
	}
	seen := map[Quirk]bool{}
	for i, in := range reg {
		if got := in.quirk.index(); got != i {
			t.Errorf("%s: index() = %d, want its registry position %d", in.quirk, got, i)
		}
		if seen[in.quirk] {
			t.Errorf("%s listed twice", in.quirk)
		}
		seen[in.quirk] = true
		if in.description == "" || in.evidence == "" || in.class == "" || in.install == nil {
			t.Errorf("%s: description, evidence, class and install are required", in.quirk)
		}
		if !strings.Contains(in.evidence, "docs/module-behavior.md §") {
			t.Errorf("%s: evidence %q names no section of docs/module-behavior.md", in.quirk, in.evidence)
		}
		if strings.Contains(in.description, "\n") {
			t.Errorf("%s: description is not one line", in.quirk)
		}
	}
	if Quirk("no-such-quirk").index() != -1 {
		t.Error("an unknown quirk has an index")
	}
}

func TestQuirkAccessors(t *testing.T) {
	tests := []struct {
		q        Quirk
		valid    bool
		class    string
		evidence string // a fragment
	}{
		{DropOnMalformed, true, "E", "§1.2-1.8"},
		{FalseSuccess, true, "C", "#10"},
		{SingleByteStateBug, true, "C", "§5"},
		{StateWindow, true, "C, E", "§7.7"},
		{Quirk("bogus"), false, "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.q), func(t *testing.T) {
			if got := tt.q.Valid(); got != tt.valid {
				t.Errorf("Valid() = %v, want %v", got, tt.valid)
			}
			if got := tt.q.Class(); got != tt.class {
				t.Errorf("Class() = %q, want %q", got, tt.class)
			}
			if !strings.Contains(tt.q.Evidence(), tt.evidence) {
				t.Errorf("Evidence() = %q, want it to contain %q", tt.q.Evidence(), tt.evidence)
			}
			if tt.valid && tt.q.Description() == "" {
				t.Error("no description")
			}
		})
	}
}

func TestParseQuirk(t *testing.T) {
	tests := []struct {
		in      string
		want    Quirk
		wantErr string
	}{
		{"drop-on-malformed", DropOnMalformed, ""},
		{"  Range-List-Cut ", RangeListCut, ""},
		{"drop", "", `unknown quirk "drop"`},
		{"", "", "unknown quirk"},
	}
	for _, tt := range tests {
		got, err := ParseQuirk(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseQuirk(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseQuirk(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestQuirkSet(t *testing.T) {
	var zero QuirkSet
	if !zero.IsZero() || zero.Len() != 0 || zero.String() != "none" || zero.List() != nil {
		t.Fatalf("zero value is not the empty set: %q", zero)
	}
	s := zero.With(StateWindow, DropOnMalformed, StateWindow, Quirk("bogus"))
	tests := []struct {
		name string
		set  QuirkSet
		has  []Quirk
		not  []Quirk
		str  string
	}{
		{"with", s, []Quirk{StateWindow, DropOnMalformed}, []Quirk{FalseSuccess, "bogus"}, "drop-on-malformed,state-window"},
		{"without", s.Without(StateWindow, EmptyDigests), []Quirk{DropOnMalformed}, []Quirk{StateWindow}, "drop-on-malformed"},
		{"new", NewQuirkSet(CleanupOnDisconnect), []Quirk{CleanupOnDisconnect}, []Quirk{DropOnMalformed}, "cleanup-on-disconnect"},
		{"union", s.Union(NewQuirkSet(EmptyDigests)), []Quirk{DropOnMalformed, StateWindow, EmptyDigests}, nil, "drop-on-malformed,state-window,empty-digests"},
		{"all", AllQuirks(), Quirks(), nil, strings.Join(quirkNames(), ",")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, q := range tt.has {
				if !tt.set.Has(q) {
					t.Errorf("Has(%s) = false", q)
				}
			}
			for _, q := range tt.not {
				if tt.set.Has(q) {
					t.Errorf("Has(%s) = true", q)
				}
			}
			if got := tt.set.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.set.Len(); got != len(tt.set.List()) {
				t.Errorf("Len() = %d, List() has %d", got, len(tt.set.List()))
			}
			back, err := ParseQuirkSet(tt.set.String())
			if err != nil || back != tt.set {
				t.Errorf("ParseQuirkSet(String()) = %v, %v; want the same set", back, err)
			}
		})
	}
	if s.Has(FalseSuccess) {
		t.Error("With changed its receiver's copy")
	}
}

func TestParseQuirkSet(t *testing.T) {
	tests := []struct {
		in      string
		want    QuirkSet
		wantErr string
	}{
		{"", QuirkSet{}, ""},
		{"none", QuirkSet{}, ""},
		{"Reference", QuirkSet{}, ""},
		{"all", AllQuirks(), ""},
		{"state-window, range-list-cut", NewQuirkSet(StateWindow, RangeListCut), ""},
		{"state-window,,range-list-cut", QuirkSet{}, "empty name"},
		{"state-window,nope", QuirkSet{}, `unknown quirk "nope"`},
	}
	for _, tt := range tests {
		var got QuirkSet
		err := got.Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	var text QuirkSet
	if err := text.UnmarshalText([]byte("empty-digests")); err != nil || !text.Has(EmptyDigests) {
		t.Errorf("UnmarshalText: %v, %v", text, err)
	}
	if b, _ := text.MarshalText(); string(b) != "empty-digests" {
		t.Errorf("MarshalText = %q", b)
	}
}

func TestProfiles(t *testing.T) {
	module := AllQuirks().Without(SingleByteStateBug, CleanupOnDisconnect)
	tests := []struct {
		name   string
		quirks QuirkSet
	}{
		{ProfileReference, QuirkSet{}},
		{ProfileModule, module},
		{ProfileModule2020, module.With(SingleByteStateBug)},
	}
	if got := len(Profiles()); got != len(tests) {
		t.Fatalf("%d profiles, want %d", got, len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Profiles()[i]
			if p.Name != tt.name || p.Quirks != tt.quirks || p.Description == "" {
				t.Errorf("Profiles()[%d] = %+v, want %s with %s", i, p, tt.name, tt.quirks)
			}
			got, err := ParseProfile(strings.ToUpper(tt.name))
			if err != nil || got.Quirks != tt.quirks {
				t.Errorf("ParseProfile(%q) = %v, %v", tt.name, got, err)
			}
			if ProfileFor(tt.quirks) != tt.name {
				t.Errorf("ProfileFor(%s) = %q", tt.quirks, ProfileFor(tt.quirks))
			}
		})
	}
	if _, err := ParseProfile("nginx"); err == nil || !strings.Contains(err.Error(), "known: reference") {
		t.Errorf("ParseProfile(nginx) error = %v", err)
	}
	if module.Has(SingleByteStateBug) || module.Has(CleanupOnDisconnect) || !module.Has(DropOnMalformed) {
		t.Errorf("module profile = %s", module)
	}
	if ProfileFor(NewQuirkSet(StateWindow)) != "" {
		t.Error("a custom set matched a profile")
	}
}
