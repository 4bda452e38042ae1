package fakeserver

import (
	"slices"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// FuzzParseState feeds arbitrary state files to the loader of the data directory: no panic;
// the valid part ends at a line boundary within the file; and what it reads, written again
// as a compacted state, reads back the same.
func FuzzParseState(f *testing.F) {
	line := stateLine(nil, ranges.Range{Start: 0, End: 5}, 24)
	two := stateLine(slices.Clone(line), ranges.Range{Start: 9, End: 15}, 24)
	for _, s := range [][]byte{
		nil, line, two, two[:len(two)-3], line[:len(line)-1], []byte("0-5/24 00000000\n"),
		stateLine(slices.Clone(line), ranges.Range{Start: 0, End: 5}, 25), []byte("\n\n"), []byte(" \n"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		acked, total, valid, lines, err := parseState(b)
		if err != nil {
			return
		}
		if valid < 0 || valid > len(b) || (valid > 0 && b[valid-1] != '\n') {
			t.Fatalf("valid part %d of %q does not end a line", valid, b)
		}
		if lines < len(acked) {
			t.Fatalf("%d lines gave %d merged ranges", lines, len(acked))
		}
		again, total2, valid2, _, err := parseState(formatState(acked, total))
		if err != nil || total2 != total || !slices.Equal(again, acked) || valid2 != len(formatState(acked, total)) {
			t.Fatalf("%q read %v/%d; written again it reads %v/%d (%v)", b, acked, total, again, total2, err)
		}
	})
}
