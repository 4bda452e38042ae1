package modulestate

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// stateLines builds a state file of n lines `start-(start+9)/total`, start = first + k*step.
func stateLines(n int, first, step, total int64) []byte {
	var b strings.Builder
	for k := 0; k < n; k++ {
		s := first + int64(k)*step
		fmt.Fprintf(&b, "%d-%d/%d\n", s, s+9, total)
	}
	return []byte(b.String())
}

func TestModuleMergeSequences(t *testing.T) {
	type step struct {
		seg      Range
		list     string // "" when the merge fails
		complete bool
	}
	fixed := Merger{}
	bug := Merger{SingleByteBug: true}
	tests := []struct {
		name  string
		m     Merger
		steps []step
	}{
		{"seed flow, adjacent ranges merge", fixed, []step{
			{Range{0, 5, 24}, "0-5/24", false},
			{Range{9, 15, 24}, "0-5/24,9-15/24", false},
			{Range{16, 23, 24}, "0-5/24,9-23/24", false},
			{Range{6, 8, 24}, "0-23/24", true},
		}},
		{"overlap merges", fixed, []step{
			{Range{9, 15, 24}, "9-15/24", false},
			{Range{14, 20, 24}, "9-20/24", false},
			{Range{0, 1, 24}, "0-1/24,9-20/24", false},
		}},
		{"out of order", fixed, []step{
			{Range{131072, 262143, 262144}, "131072-262143/262144", false},
			{Range{0, 131071, 262144}, "0-262143/262144", true},
		}},
		{"total mismatch fails", fixed, []step{
			{Range{0, 1, 4}, "0-1/4", false},
			{Range{2, 3, 8}, "", false},
			{Range{2, 3, 4}, "0-3/4", true},
		}},
		{"single bytes after the fix (§5 LIVE)", fixed, []step{
			{Range{0, 0, 4}, "0-0/4", false},
			{Range{0, 0, 4}, "0-0/4", false},
			{Range{2, 2, 4}, "0-0/4,2-2/4", false},
			{Range{1, 1, 4}, "0-2/4", false},
			{Range{3, 3, 4}, "0-3/4", true},
		}},
		{"single byte before the fix sticks the session (§5)", bug, []step{
			{Range{0, 0, 4}, "0-0/4", false},
			{Range{0, 0, 4}, "", false},
			{Range{1, 3, 4}, "", false},
			{Range{2, 2, 4}, "", false},
		}},
		{"single byte joined at once is harmless before the fix", bug, []step{
			{Range{0, 1, 4}, "0-1/4", false},
			{Range{2, 2, 4}, "0-2/4", false},
			{Range{3, 3, 4}, "0-3/4", true},
		}},
		{"one-byte file before the fix", bug, []step{
			{Range{0, 0, 1}, "0-0/1", true},
		}},
		{"issue_115.t TEST 3 before the fix", bug, []step{
			{Range{0, 0, 2}, "0-0/2", false},
			{Range{1, 1, 2}, "", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var state []byte
			for i, s := range tt.steps {
				before := string(state)
				res := tt.m.Merge(state, s.seg)
				if s.list == "" {
					if !errors.Is(res.Err, ErrCorrupt) {
						t.Fatalf("step %d (%+v): err = %v, want a corrupt state", i, s.seg, res.Err)
					}
					if string(res.State) != before {
						t.Errorf("step %d: a failed merge changed the state %q to %q", i, before, res.State)
					}
					continue
				}
				if res.Err != nil {
					t.Fatalf("step %d (%+v): %v", i, s.seg, res.Err)
				}
				if res.List != s.list || res.Complete != s.complete {
					t.Fatalf("step %d (%+v): list %q complete %v, want %q %v", i, s.seg, res.List, res.Complete, s.list, s.complete)
				}
				want := strings.ReplaceAll(s.list, ",", "\n") + "\n"
				if string(res.State) != want {
					t.Errorf("step %d: state %q, want %q", i, res.State, want)
				}
				state = res.State
			}
		})
	}
}

func TestModuleMergeListCut(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		cut     bool
		items   int // items in the response list
		overrun bool
	}{
		// 20-byte items "1000000-1000009/9000000" are 23 bytes, 24 with the comma
		{"short list", 5, true, 6, false},
		{"cut after the crossing item", 30, true, 11, true},
		{"no cut without the quirk", 30, false, 31, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := stateLines(tt.n, 1000000, 1000, 9000000)
			res := Merger{Cut: tt.cut}.Merge(state, Range{8000000, 8000009, 9000000})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			items := strings.Split(res.List, ",")
			if len(items) != tt.items || res.Overrun != tt.overrun {
				t.Errorf("%d items (%d bytes), overrun %v; want %d items, overrun %v", len(items), len(res.List), res.Overrun, tt.items, tt.overrun)
			}
			if tt.cut {
				before := len(res.List) - len(items[len(items)-1]) - 1
				if len(items) < tt.n+1 && (before >= RangeHeaderBufferSize || len(res.List) < RangeHeaderBufferSize) {
					t.Errorf("the list is not cut right after the item that crosses %d bytes: %d bytes", RangeHeaderBufferSize, len(res.List))
				}
			}
			if got := strings.Count(string(res.State), "\n"); got != tt.n+1 {
				t.Errorf("state holds %d lines, want %d: the cut must not reach the state", got, tt.n+1)
			}
		})
	}
	// The LIVE example of docs/module-behavior.md §2.2 used a 40-byte buffer; with the default the
	// rule is the same: items are added while the list is shorter than the buffer.
	res := Merger{Cut: true}.Merge(stateLines(12, 0, 20, 500), Range{400, 409, 500})
	if n := strings.Count(res.List, ",") + 1; n != 13 || res.Overrun {
		t.Errorf("a %d-byte list was Cut: %q", len(res.List), res.List)
	}
}

func TestModuleMergeWindow(t *testing.T) {
	if WindowSize != 961 {
		t.Fatalf("window = %d, want 961 (docs/module-behavior.md §7.7)", WindowSize)
	}
	type want struct {
		err     bool
		items   int    // items in the list when there is no error
		lines   int    // lines in the state afterwards
		contain string // a fragment of the list
	}
	tests := []struct {
		name   string
		window bool
		state  []byte
		seg    Range
		want   want
	}{
		{"19-byte lines: 51st range fits (969 bytes written)", true, stateLines(50, 10000, 100, 900000), Range{90000, 90009, 900000},
			want{items: 51, lines: 51}},
		{"19-byte lines: 969-byte file is split inside a number", true, stateLines(51, 10000, 100, 900000), Range{90000, 90009, 900000},
			want{err: true}},
		{"the same without the window", false, stateLines(51, 10000, 100, 900000), Range{90000, 90009, 900000},
			want{items: 52, lines: 52}},
		{"31-byte lines end exactly on the window (31 x 31 = 961)", true, stateLines(40, 100000000, 1000, 5000000000), Range{200000000, 200000009, 5000000000},
			want{items: 41, lines: 41}},
		{"62 lines of 31 bytes: the new range goes in", true, stateLines(62, 100000000, 1000, 5000000000), Range{200000000, 200000009, 5000000000},
			want{items: 63, lines: 63}},
		{"63 lines of 31 bytes: the new range and the last line are lost, still a 201", true, stateLines(63, 100000000, 1000, 5000000000), Range{200000000, 200000009, 5000000000},
			want{items: 62, lines: 62}},
		{"63 lines without the window", false, stateLines(63, 100000000, 1000, 5000000000), Range{200000000, 200000009, 5000000000},
			want{items: 64, lines: 64}},
		{"24-byte lines: a start split after one digit is misread and recorded", true, stateLines(41, 1000000, 1000, 9000000), Range{8000000, 8000009, 9000000},
			want{items: 42, lines: 42, contain: ",40000-1040009/9000000,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Merger{Window: tt.window}.Merge(tt.state, tt.seg)
			if tt.want.err {
				if !errors.Is(res.Err, ErrCorrupt) {
					t.Fatalf("err = %v, want a corrupt state", res.Err)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if got := strings.Count(res.List, ",") + 1; got != tt.want.items {
				t.Errorf("list has %d items, want %d", got, tt.want.items)
			}
			if got := strings.Count(string(res.State), "\n"); got != tt.want.lines {
				t.Errorf("state has %d lines (%d bytes), want %d", got, len(res.State), tt.want.lines)
			}
			if !strings.Contains(res.List, tt.want.contain) {
				t.Errorf("list lacks %q", tt.want.contain)
			}
			if res.Complete {
				t.Error("complete")
			}
		})
	}
}

// TestModuleMergeWindowFlipFlop follows docs/module-behavior.md §7.7 LIVE: from 62 lines on, the
// file goes back and forth between 62 and 63 lines, and each new range is lost every other time.
func TestModuleMergeWindowFlipFlop(t *testing.T) {
	m := Merger{Window: true}
	state := stateLines(62, 100000000, 1000, 5000000000)
	var lines []int
	for k := 0; k < 4; k++ {
		s := int64(300000000 + k*1000)
		res := m.Merge(state, Range{s, s + 9, 5000000000})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		state = res.State
		lines = append(lines, strings.Count(string(state), "\n"))
	}
	if fmt.Sprint(lines) != "[63 62 63 62]" {
		t.Errorf("lines after each merge = %v, want [63 62 63 62]", lines)
	}
}

// FuzzMerge feeds arbitrary state files to the emulated merge: no panic, and a merge
// that succeeds leaves a state file of whole lines and, with the cut, a list no longer than
// the buffer plus one item.
func FuzzMerge(f *testing.F) {
	f.Add([]byte("0-5/24\n9-15/24\n"), int64(6), int64(8), int64(24), true)
	f.Add([]byte("0-0/4\n"), int64(0), int64(0), int64(4), false)
	f.Add(stateLines(51, 10000, 100, 900000), int64(90000), int64(90009), int64(900000), true)
	f.Add([]byte("1-2/4\n3-x/4\n"), int64(0), int64(0), int64(4), true)
	f.Fuzz(func(t *testing.T, state []byte, s, e, total int64, window bool) {
		if len(state) > 1<<16 || s < 0 || s > e || e >= total {
			return
		}
		for _, m := range []Merger{{Window: window}, {Window: window, Cut: true, SingleByteBug: true}} {
			res := m.Merge(state, Range{Start: s, End: e, Total: total})
			if res.Err != nil {
				continue
			}
			if len(res.State) > 0 && res.State[len(res.State)-1] != '\n' {
				t.Fatalf("state %q does not end with a line", res.State)
			}
			if m.Cut && len(res.List) > RangeHeaderBufferSize+3*OffTLen+3 {
				t.Fatalf("a cut list of %d bytes", len(res.List))
			}
		}
	})
}

// TestFormatParse: Format writes one line per range; Parse reads them back and skips lines it
// cannot read or of another total.
func TestFormatParse(t *testing.T) {
	set := ranges.NewSet(24)
	set.Add(ranges.Range{Start: 0, End: 5})
	set.Add(ranges.Range{Start: 9, End: 15})
	if got, want := string(Format(set)), "0-5/24\n9-15/24\n"; got != want {
		t.Fatalf("Format = %q, want %q", got, want)
	}
	if Format(nil) != nil {
		t.Fatal("Format(nil) is not empty")
	}
	tests := []struct {
		state string
		want  string
	}{
		{"0-5/24\n9-15/24\n", "0-5/24,9-15/24"},
		{"0-5/24\nx-y/24\n9-15/25\n", "0-5/24"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Parse([]byte(tt.state), 24).String(); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.state, got, tt.want)
		}
	}
}
