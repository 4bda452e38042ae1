package fakeserver

import (
	"strings"
	"testing"

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
		r, ok := parseModuleRange(v, moduleRange{Total: 7})
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
		r, ok = parseModuleRange(v, moduleRange{})
		if !ok || r.Start != seg.Start || r.End != seg.End || r.Total != seg.Total {
			t.Fatalf("%q: the reference reads %+v, the module %+v (ok %v)", v, seg, r, ok)
		}
	})
}

// FuzzModuleMerge feeds arbitrary state files to the emulated merge: no panic, and a merge
// that succeeds leaves a state file of whole lines and, with the cut, a list no longer than
// the buffer plus one item.
func FuzzModuleMerge(f *testing.F) {
	f.Add([]byte("0-5/24\n9-15/24\n"), int64(6), int64(8), int64(24), true)
	f.Add([]byte("0-0/4\n"), int64(0), int64(0), int64(4), false)
	f.Add(stateLines(51, 10000, 100, 900000), int64(90000), int64(90009), int64(900000), true)
	f.Add([]byte("1-2/4\n3-x/4\n"), int64(0), int64(0), int64(4), true)
	f.Fuzz(func(t *testing.T, state []byte, s, e, total int64, window bool) {
		if len(state) > 1<<16 || s < 0 || s > e || e >= total {
			return
		}
		for _, m := range []moduleMerger{{window: window}, {window: window, cut: true, singleByteBug: true}} {
			res := m.merge(state, moduleRange{Start: s, End: e, Total: total})
			if res.Err != nil {
				continue
			}
			if len(res.State) > 0 && res.State[len(res.State)-1] != '\n' {
				t.Fatalf("state %q does not end with a line", res.State)
			}
			if m.cut && len(res.List) > moduleRangeHeaderBufferSize+3*moduleOffTLen+3 {
				t.Fatalf("a cut list of %d bytes", len(res.List))
			}
		}
	})
}
