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

// The quirks, in the order `upspec serve --list-quirks` prints them.
const (
	// DropOnMalformed: a malformed range, session ID or Content-Disposition closes the
	// connection without a response (class E), with the module's own header grammar.
	DropOnMalformed Quirk = "drop-on-malformed"
	// FalseSuccess: the failures of docs/module-behavior.md §2.6 answer with the backend's response
	// (class C) and the backend gets an empty form.
	FalseSuccess Quirk = "false-success"
	// NoOverlapRejection: overlapping segments of one session are never rejected, and the
	// bytes written last win, even over acknowledged bytes.
	NoOverlapRejection Quirk = "no-overlap-rejection"
	// RangeListCut: the 201 range list stops after the item that crosses 256 bytes.
	RangeListCut Quirk = "range-list-cut"
	// StateWindow: the state file is read through a 961-byte window, which misreads and drops
	// ranges once it grows past the window.
	StateWindow Quirk = "state-window"
	// RestartAfterComplete: completion deletes the session's state, so a later segment with
	// the same session ID starts a new session.
	RestartAfterComplete Quirk = "restart-after-complete"
	// NoTruncateOnReuse: the data file of a session ID is never truncated, so a reused ID
	// keeps the tail of the earlier, longer file.
	NoTruncateOnReuse Quirk = "no-truncate-on-reuse"
	// SingleByteStateBug: a stored one-byte range makes every later segment of the session a
	// silent failure (module releases before June 2020).
	SingleByteStateBug Quirk = "single-byte-state-bug"
	// SizeFromLastSegment: the size field of the backend form is the final segment's end + 1,
	// not the file's size.
	SizeFromLastSegment Quirk = "size-from-last-segment"
	// EmptyDigests: the md5 and sha1 fields of the backend form are empty.
	EmptyDigests Quirk = "empty-digests"
	// CleanupOnDisconnect: a segment cut off mid-body deletes the session's data file but
	// keeps its state (`upload_cleanup 400`).
	CleanupOnDisconnect Quirk = "cleanup-on-disconnect"
)

// quirkInfo is the registry entry of one quirk.
type quirkInfo struct {
	quirk       Quirk
	class       string // outcome class(es) of docs/module-behavior.md §0 the quirk produces
	description string
	evidence    string
}

// quirkRegistry returns the registry, in listing order. It is built on each call so that no
// package state can be changed by a caller.
func quirkRegistry() []quirkInfo {
	return []quirkInfo{
		{DropOnMalformed, "E",
			"a malformed range, session ID or Content-Disposition closes the connection without a byte; " +
				"module grammar: case-insensitive `bytes` + one space, empty numbers read as 0, leading zeros, " +
				"numbers wrap at 2^63, header names matched by prefix, the last header wins",
			"docs/module-behavior.md §1.3-1.6, §2.7; issues #14, #139"},
		{FalseSuccess, "C",
			"a total that differs from the session's, a range without a session ID, a state that cannot be " +
				"stored (session ID of 250-255 characters) or a write at a wrapped negative offset answers with " +
				"the backend's response and sends the backend an empty form",
			"docs/module-behavior.md §2.6, §3.6, §1.5, §1.7; issues #10, #112"},
		{NoOverlapRejection, "A",
			"overlapping segments of one session, in flight or acknowledged, are all accepted; the bytes written last win",
			"docs/module-behavior.md §3.2, §3.3, §4"},
		{RangeListCut, "A",
			"the range list of a 201 gets items while it is shorter than 256 bytes; the item that crosses the " +
				"limit is written whole and every later item is left out",
			"docs/module-behavior.md §2.2, §7.8; issue #112"},
		{StateWindow, "C, E",
			"the state file is read through a 961-byte window: a number split by the window is misread, and past " +
				"1922 bytes lines are skipped; a failed merge is a silent failure, or a dropped connection once " +
				"more than 256 bytes of ranges were listed (the worker crash)",
			"docs/module-behavior.md §7.7, §7.8; issue #112"},
		{RestartAfterComplete, "A, B",
			"completion deletes the session's state before the backend answers: a later segment with the same " +
				"session ID starts a new session (201 with its range alone, or a second completion)",
			"docs/module-behavior.md §3.5, §2.4, §7.5; issue #46"},
		{NoTruncateOnReuse, "B",
			"a session's data file is opened without truncation: a new, shorter file under a reused session ID " +
				"keeps the old file's tail",
			"docs/module-behavior.md §3.7, §3.5"},
		{SingleByteStateBug, "C",
			"a stored one-byte range (N-N/T) fails the state-file check: every later segment of the session is a " +
				"silent failure and the session is stuck (releases before June 2020)",
			"docs/module-behavior.md §5; PR #115, issue #14, fixed in 643b4c1"},
		{SizeFromLastSegment, "B",
			"the size field of the backend form is the final segment's end + 1, wrong when the file completes out of order",
			"docs/module-behavior.md §2.3; issue #106, aggregate_fields.t TEST 5"},
		{EmptyDigests, "B",
			"the md5 and sha1 fields of the backend form are empty whenever a range header was present",
			"docs/module-behavior.md §2.3; issue #22, aggregate_fields.t TEST 4"},
		{CleanupOnDisconnect, "A",
			"a segment cut off mid-body deletes the session's data file but keeps its state, so the completed " +
				"file has zero-filled holes (a configuration choice: `upload_cleanup 400`)",
			"docs/module-behavior.md §7.5, §3.8, §6; issues #111, #123"},
	}
}

// index returns the quirk's bit number in a QuirkSet, or -1 for an unknown quirk. It is a
// switch so that QuirkSet.Has allocates nothing; TestQuirkIndexMatchesRegistry keeps it in
// step with quirkRegistry.
func (q Quirk) index() int {
	switch q {
	case DropOnMalformed:
		return 0
	case FalseSuccess:
		return 1
	case NoOverlapRejection:
		return 2
	case RangeListCut:
		return 3
	case StateWindow:
		return 4
	case RestartAfterComplete:
		return 5
	case NoTruncateOnReuse:
		return 6
	case SingleByteStateBug:
		return 7
	case SizeFromLastSegment:
		return 8
	case EmptyDigests:
		return 9
	case CleanupOnDisconnect:
		return 10
	}
	return -1
}

func (q Quirk) info() (quirkInfo, bool) {
	for _, in := range quirkRegistry() {
		if in.quirk == q {
			return in, true
		}
	}
	return quirkInfo{}, false
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
