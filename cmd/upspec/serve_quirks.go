package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/fakeserver"
)

// quirkFlags are the flags of `upspec serve` that select deviations of the real module:
// a profile, then quirks switched on or off one by one.
type quirkFlags struct {
	profile string
	on      []string
	off     []string
	list    bool
}

// registerQuirkFlags adds --profile, --quirk, --no-quirk and --list-quirks to fs.
func registerQuirkFlags(fs *pflag.FlagSet, q *quirkFlags) {
	var names []string
	for _, p := range fakeserver.Profiles() {
		names = append(names, p.Name)
	}
	fs.StringVar(&q.profile, "profile", fakeserver.ProfileReference, "behave as `NAME`: "+strings.Join(names, ", ")+" (a set of quirks of the real module)")
	fs.StringSliceVar(&q.on, "quirk", nil, "switch on quirk `Q` on top of the profile (repeatable or comma-separated; see --list-quirks)")
	fs.StringSliceVar(&q.off, "no-quirk", nil, "switch off quirk `Q` of the profile (repeatable or comma-separated)")
	fs.BoolVar(&q.list, "list-quirks", false, "print every quirk with its evidence, and the profiles, then exit")
}

// resolve returns the quirks the flags select and a name for them: the profile's name, or
// "profile+quirk-nquirk" for a changed profile.
func (q *quirkFlags) resolve() (fakeserver.QuirkSet, string, error) {
	p, err := fakeserver.ParseProfile(q.profile)
	if err != nil {
		return fakeserver.QuirkSet{}, "", serveUsagef("run 'upspec serve --list-quirks' for the profiles", "--profile: %v", err)
	}
	set := p.Quirks
	name := p.Name
	for _, s := range q.on {
		qk, err := fakeserver.ParseQuirk(s)
		if err != nil {
			return fakeserver.QuirkSet{}, "", serveUsagef("run 'upspec serve --list-quirks' for the quirks", "--quirk: %v", err)
		}
		set = set.With(qk)
	}
	for _, s := range q.off {
		qk, err := fakeserver.ParseQuirk(s)
		if err != nil {
			return fakeserver.QuirkSet{}, "", serveUsagef("run 'upspec serve --list-quirks' for the quirks", "--no-quirk: %v", err)
		}
		set = set.Without(qk)
	}
	if set != p.Quirks {
		if other := fakeserver.ProfileFor(set); other != "" {
			name = other
		} else {
			name = p.Name + " with quirks " + set.String()
		}
	}
	return set, name, nil
}

// listQuirks prints every quirk (name, outcome class, description, evidence) and the
// profiles.
func listQuirks(w io.Writer) {
	fmt.Fprintln(w, "Quirks: deviations of nginx-upload-module that the reference server can emulate.")
	fmt.Fprintln(w, "Outcome classes (docs/module-behavior.md §0): A 201, B completion, C silent failure forwarded to the")
	fmt.Fprintln(w, "backend, D error page, E connection closed without a byte.")
	for _, q := range fakeserver.Quirks() {
		fmt.Fprintf(w, "\n%s (class %s)\n    %s\n    evidence: %s\n", q, q.Class(), q.Description(), q.Evidence())
	}
	fmt.Fprintln(w, "\nProfiles:")
	for _, p := range fakeserver.Profiles() {
		fmt.Fprintf(w, "  %-25s %s\n  %-25s quirks: %s\n", p.Name, p.Description, "", p.Quirks)
	}
}
