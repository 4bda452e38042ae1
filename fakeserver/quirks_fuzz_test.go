package fakeserver

import (
	"strings"
	"testing"

	"github.com/upspec/upspec/fakeserver/internal/modulestate"
	"github.com/upspec/upspec/ranges"
)

// FuzzModuleRange checks the module's range grammar: no panic; an accepted range is ordered
// (Start <= End < Total); and every value the reference accepts (ranges.ParseSegment, blanks
// already trimmed) the module accepts with the same numbers, since the module's grammar is
// the reference's plus its oddities.
func FuzzModuleRange(f *testing.F) {
	for _, s := range []string{
		"bytes 0-1/4", "BYTES 000-001/004", "bytes -1/4", "bytes 0-/10", "bytes 0-1/", "bytes 2-1/4",
		"bytes 0-1/9223372036854775808", "bytes 18446744073709551615-1/4", "bytes  0-1/4", "bytes=0-1/4", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, ok := parseModuleRange(v, modulestate.Range{Total: 7})
		if ok && !(r.Start <= r.End && r.End < r.Total) {
			t.Fatalf("parseModuleRange(%q) accepted %+v", v, r)
		}
		if strings.TrimSpace(v) != v {
			return
		}
		seg, err := ranges.ParseSegment(v)
		if err != nil {
			return
		}
		r, ok = parseModuleRange(v, modulestate.Range{})
		if !ok || r.Start != seg.Start || r.End != seg.End || r.Total != seg.Total {
			t.Fatalf("%q: the reference reads %+v, the module %+v (ok %v)", v, seg, r, ok)
		}
	})
}
