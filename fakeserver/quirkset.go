package fakeserver

import (
	"fmt"
	"strings"
)

// QuirkSet is a set of quirks (see Quirk). It is a small value: copy it, compare it with ==.
// The zero value is the empty set, the reference behaviour. Quirks not known to this package
// are never members.
type QuirkSet struct {
	bits uint64
}

// NewQuirkSet returns the set of the given quirks; unknown quirks are ignored.
func NewQuirkSet(qs ...Quirk) QuirkSet { return QuirkSet{}.With(qs...) }

// AllQuirks returns the set of every known quirk.
func AllQuirks() QuirkSet { return NewQuirkSet(Quirks()...) }

// Has reports whether q is in the set.
func (s QuirkSet) Has(q Quirk) bool {
	i := q.index()
	return i >= 0 && s.bits&(1<<uint(i)) != 0
}

// With returns the set plus the given quirks; unknown quirks are ignored.
func (s QuirkSet) With(qs ...Quirk) QuirkSet {
	for _, q := range qs {
		if i := q.index(); i >= 0 {
			s.bits |= 1 << uint(i)
		}
	}
	return s
}

// Without returns the set minus the given quirks.
func (s QuirkSet) Without(qs ...Quirk) QuirkSet {
	for _, q := range qs {
		if i := q.index(); i >= 0 {
			s.bits &^= 1 << uint(i)
		}
	}
	return s
}

// Union returns the quirks in s or in o.
func (s QuirkSet) Union(o QuirkSet) QuirkSet { return QuirkSet{bits: s.bits | o.bits} }

// IsZero reports whether the set is empty (the reference behaviour).
func (s QuirkSet) IsZero() bool { return s.bits == 0 }

// Len returns the number of quirks in the set.
func (s QuirkSet) Len() int {
	n := 0
	for b := s.bits; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// List returns the quirks of the set in listing order (the order of Quirks()).
func (s QuirkSet) List() []Quirk {
	var out []Quirk
	for _, q := range Quirks() {
		if s.Has(q) {
			out = append(out, q)
		}
	}
	return out
}

// String returns the quirks as a comma-separated list in listing order, or "none" for the
// empty set. Parse reads it back.
func (s QuirkSet) String() string {
	if s.IsZero() {
		return "none"
	}
	list := s.List()
	names := make([]string, len(list))
	for i, q := range list {
		names[i] = string(q)
	}
	return strings.Join(names, ",")
}

// ParseQuirkSet reads a comma-separated list of quirk names (blanks around names are
// ignored). "", "none" and "reference" give the empty set; "all" gives every quirk. A name
// that is not a quirk is an error naming it.
func ParseQuirkSet(s string) (QuirkSet, error) {
	var set QuirkSet
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", ProfileReference:
		return set, nil
	case "all":
		return AllQuirks(), nil
	}
	for _, name := range strings.Split(s, ",") {
		if strings.TrimSpace(name) == "" {
			return QuirkSet{}, fmt.Errorf("quirk list %q: empty name", s)
		}
		q, err := ParseQuirk(name)
		if err != nil {
			return QuirkSet{}, fmt.Errorf("quirk list: %w", err)
		}
		set = set.With(q)
	}
	return set, nil
}

// Parse replaces s with the set read by ParseQuirkSet. It makes *QuirkSet usable as a flag
// value together with String.
func (s *QuirkSet) Parse(text string) error {
	set, err := ParseQuirkSet(text)
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (s QuirkSet) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (see ParseQuirkSet).
func (s *QuirkSet) UnmarshalText(b []byte) error { return s.Parse(string(b)) }
