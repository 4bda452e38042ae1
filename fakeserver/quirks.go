package fakeserver

import (
	"fmt"
	"strings"
)

// Quirk names one known deviation of the real nginx-upload-module from the protocol. Each quirk
// is a switch of the reference server: off, the server follows the protocol document; on, it
// behaves as the module does, down to the outcome class of docs/module-behavior.md §0 (A accepted,
// B completed, C silent failure forwarded to the backend, D error page, E connection closed
// without a byte).
type Quirk string

// quirkDef is the registry entry of one quirk: what it is, where the evidence is, and how it
// changes the behaviour. Each quirk's entry is in its own file, quirk_<name>.go, beside its
// hooks.
type quirkDef struct {
	quirk       Quirk
	class       string // outcome class(es) of docs/module-behavior.md §0 the quirk produces
	description string
	evidence    string
	// install wraps the decision points of b that the quirk changes (see behavior).
	install func(q Quirk, b *behavior, h *handler)
}

// quirkRegistry returns the registry. Its order is the one order of the quirks: the listing
// order (Quirks, `upspec serve --list-quirks`), the bit numbers of QuirkSet and the order in
// which the quirks of a set are installed, a later one wrapping the earlier ones (so that
// false-success sees what drop-on-malformed's grammar decided). It is built on each call so
// that no package state can be changed by a caller.
func quirkRegistry() []quirkDef {
	return []quirkDef{
		dropOnMalformedQuirk(),
		falseSuccessQuirk(),
		noOverlapRejectionQuirk(),
		rangeListCutQuirk(),
		stateWindowQuirk(),
		restartAfterCompleteQuirk(),
		noTruncateOnReuseQuirk(),
		singleByteStateBugQuirk(),
		sizeFromLastSegmentQuirk(),
		emptyDigestsQuirk(),
		cleanupOnDisconnectQuirk(),
	}
}

// quirkDeviation is a quirk as a deviation of the behaviour.
type quirkDeviation struct{ def quirkDef }

func (d quirkDeviation) name() string { return string(d.def.quirk) }

func (d quirkDeviation) install(b *behavior, h *handler) { d.def.install(d.def.quirk, b, h) }

// deviations returns the quirks of s as deviations, in registry order.
func (s QuirkSet) deviations() []deviation {
	var out []deviation
	for _, def := range quirkRegistry() {
		if s.Has(def.quirk) {
			out = append(out, quirkDeviation{def})
		}
	}
	return out
}

// index returns the quirk's bit number in a QuirkSet (its place in the registry), or -1 for
// an unknown quirk. QuirkSet operations are not on the request path: the handler reads its
// quirks once, when it is built.
func (q Quirk) index() int {
	for i, def := range quirkRegistry() {
		if def.quirk == q {
			return i
		}
	}
	return -1
}

func (q Quirk) info() (quirkDef, bool) {
	for _, in := range quirkRegistry() {
		if in.quirk == q {
			return in, true
		}
	}
	return quirkDef{}, false
}

// Valid reports whether q is a known quirk.
func (q Quirk) Valid() bool { return q.index() >= 0 }

// String returns the quirk's name.
func (q Quirk) String() string { return string(q) }

// Description returns a one-line description of what the server does with the quirk on.
func (q Quirk) Description() string {
	in, _ := q.info()
	return in.description
}

// Evidence returns where the behaviour is documented: sections of docs/module-behavior.md and
// upstream issue numbers of nginx-upload-module.
func (q Quirk) Evidence() string {
	in, _ := q.info()
	return in.evidence
}

// Class returns the outcome classes (docs/module-behavior.md §0) the quirk produces, e.g. "C" or
// "C, E".
func (q Quirk) Class() string {
	in, _ := q.info()
	return in.class
}

// Quirks returns every known quirk, in listing order.
func Quirks() []Quirk {
	reg := quirkRegistry()
	out := make([]Quirk, len(reg))
	for i, in := range reg {
		out[i] = in.quirk
	}
	return out
}

// ParseQuirk returns the quirk named s (case-insensitive, surrounding blanks ignored).
func ParseQuirk(s string) (Quirk, error) {
	q := Quirk(strings.ToLower(strings.TrimSpace(s)))
	if !q.Valid() {
		return "", fmt.Errorf("unknown quirk %q (known: %s)", s, strings.Join(quirkNames(), ", "))
	}
	return q, nil
}

func quirkNames() []string {
	qs := Quirks()
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = string(q)
	}
	return names
}

// Profile names of the built-in profiles.
const (
	// ProfileReference follows the protocol document: no quirk (the default).
	ProfileReference = "reference"
	// ProfileModule is nginx-upload-module at its current HEAD (96e6460, 2023) with a sane
	// configuration: every quirk but single-byte-state-bug (fixed in June 2020) and
	// cleanup-on-disconnect (which needs `upload_cleanup 400`).
	ProfileModule = "nginx-upload-module"
	// ProfileModule2020 is a module release from before June 2020: ProfileModule plus
	// single-byte-state-bug.
	ProfileModule2020 = "nginx-upload-module-2020"
)

// Profile is a named set of quirks.
type Profile struct {
	Name        string
	Description string
	Quirks      QuirkSet
}

// Profiles returns the built-in profiles: reference, nginx-upload-module and
// nginx-upload-module-2020.
func Profiles() []Profile {
	module := AllQuirks().Without(SingleByteStateBug, CleanupOnDisconnect)
	return []Profile{
		{ProfileReference, "the protocol document; the default", QuirkSet{}},
		{ProfileModule, "nginx-upload-module at its current HEAD (96e6460, 2023), configured without upload_cleanup 400", module},
		{ProfileModule2020, "nginx-upload-module before June 2020 (643b4c1): the current module plus single-byte-state-bug", module.With(SingleByteStateBug)},
	}
}

// ParseProfile returns the built-in profile named s (case-insensitive).
func ParseProfile(s string) (Profile, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	var names []string
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("unknown profile %q (known: %s)", s, strings.Join(names, ", "))
}

// ProfileFor returns the name of the built-in profile whose quirks are exactly qs, or "" when
// qs matches none (a custom set).
func ProfileFor(qs QuirkSet) string {
	for _, p := range Profiles() {
		if p.Quirks == qs {
			return p.Name
		}
	}
	return ""
}
