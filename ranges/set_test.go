package ranges

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// setOf builds a set of total bytes from ranges (invalid ones are ignored, as Add does).
func setOf(t testing.TB, total int64, rs ...Range) *Set {
	t.Helper()
	s := NewSet(total)
	for _, r := range rs {
		s.Add(r)
	}
	return s
}

func TestSetCatalogueSequence(t *testing.T) {
	// The catalogue's example: 0-5 and 9-15, then 16-23, then 6-8 of a 24-byte file.
	steps := []struct {
		add      Range
		changed  bool
		module   string
		compact  string
		complete bool
		missing  []Range
	}{
		{Range{0, 5}, true, "0-5/24", "0-5/24", false, []Range{{6, 23}}},
		{Range{9, 15}, true, "0-5/24,9-15/24", "0-5,9-15/24", false, []Range{{6, 8}, {16, 23}}},
		{Range{9, 15}, false, "0-5/24,9-15/24", "0-5,9-15/24", false, []Range{{6, 8}, {16, 23}}},
		{Range{16, 23}, true, "0-5/24,9-23/24", "0-5,9-23/24", false, []Range{{6, 8}}},
		{Range{6, 8}, true, "0-23/24", "0-23/24", true, nil},
		{Range{0, 23}, false, "0-23/24", "0-23/24", true, nil},
	}
	s := NewSet(24)
	for i, st := range steps {
		if got := s.Add(st.add); got != st.changed {
			t.Fatalf("step %d: Add(%v) = %v, want %v", i, st.add, got, st.changed)
		}
		if got := s.Format(FormatModule); got != st.module {
			t.Errorf("step %d: Format(module) = %q, want %q", i, got, st.module)
		}
		if got := s.String(); got != st.module {
			t.Errorf("step %d: String() = %q, want %q", i, got, st.module)
		}
		if got := s.Format(FormatCompact); got != st.compact {
			t.Errorf("step %d: Format(compact) = %q, want %q", i, got, st.compact)
		}
		if got := s.Complete(); got != st.complete {
			t.Errorf("step %d: Complete() = %v, want %v", i, got, st.complete)
		}
		if got := s.Missing(); !slices.Equal(got, st.missing) {
			t.Errorf("step %d: Missing() = %v, want %v", i, got, st.missing)
		}
	}
}

func TestSetAdd(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		before  []Range
		add     Range
		changed bool
		want    []Range
	}{
		{"into empty", 24, nil, Range{3, 4}, true, []Range{{3, 4}}},
		{"one byte", 24, nil, Range{0, 0}, true, []Range{{0, 0}}},
		{"last byte", 24, nil, Range{23, 23}, true, []Range{{23, 23}}},
		{"overlap merges 9-15+14-20", 24, []Range{{9, 15}}, Range{14, 20}, true, []Range{{9, 20}}},
		{"overlap on the left", 24, []Range{{9, 15}}, Range{5, 10}, true, []Range{{5, 15}}},
		{"adjacent after", 24, []Range{{0, 5}}, Range{6, 8}, true, []Range{{0, 8}}},
		{"adjacent before", 24, []Range{{9, 15}}, Range{6, 8}, true, []Range{{6, 15}}},
		{"fills a gap", 24, []Range{{0, 5}, {9, 15}}, Range{6, 8}, true, []Range{{0, 15}}},
		{"one-byte gap", 24, []Range{{0, 5}, {7, 15}}, Range{6, 6}, true, []Range{{0, 15}}},
		{"disjoint before", 24, []Range{{9, 15}}, Range{0, 5}, true, []Range{{0, 5}, {9, 15}}},
		{"disjoint between", 24, []Range{{0, 1}, {20, 23}}, Range{9, 15}, true, []Range{{0, 1}, {9, 15}, {20, 23}}},
		{"disjoint after", 24, []Range{{0, 5}}, Range{9, 15}, true, []Range{{0, 5}, {9, 15}}},
		{"swallows many", 100, []Range{{2, 3}, {6, 7}, {10, 11}, {14, 15}, {18, 19}, {22, 23}, {26, 27}, {30, 31}, {34, 35}, {38, 39}, {42, 43}, {50, 60}}, Range{1, 44}, true, []Range{{1, 44}, {50, 60}}},
		{"swallows all", 100, []Range{{2, 3}, {6, 7}, {10, 11}, {14, 15}, {18, 19}, {22, 23}, {26, 27}, {30, 31}, {34, 35}, {38, 39}, {42, 43}, {50, 60}}, Range{0, 99}, true, []Range{{0, 99}}},
		{"swallows and touches", 100, []Range{{2, 3}, {6, 7}, {10, 11}, {14, 15}, {18, 19}, {22, 23}, {26, 27}, {30, 31}, {34, 35}, {38, 39}, {42, 43}, {50, 60}}, Range{4, 49}, true, []Range{{2, 60}}},
		{"already inside", 24, []Range{{0, 15}}, Range{3, 9}, false, []Range{{0, 15}}},
		{"identical", 24, []Range{{9, 15}}, Range{9, 15}, false, []Range{{9, 15}}},
		{"whole file again", 24, []Range{{0, 23}}, Range{0, 23}, false, []Range{{0, 23}}},
		{"superset", 24, []Range{{9, 15}}, Range{8, 16}, true, []Range{{8, 16}}},
		{"invalid: negative start", 24, []Range{{9, 15}}, Range{-1, 3}, false, []Range{{9, 15}}},
		{"invalid: start after end", 24, []Range{{9, 15}}, Range{5, 4}, false, []Range{{9, 15}}},
		{"invalid: end at total", 24, []Range{{9, 15}}, Range{20, 24}, false, []Range{{9, 15}}},
		{"invalid: total 0", 0, nil, Range{0, 0}, false, nil},
		{"large offsets", 5000000010, []Range{{0, 1}}, Range{5000000000, 5000000009}, true, []Range{{0, 1}, {5000000000, 5000000009}}},
		{"largest total", math.MaxInt64, []Range{{0, math.MaxInt64 - 2}}, Range{math.MaxInt64 - 1, math.MaxInt64 - 1}, true, []Range{{0, math.MaxInt64 - 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setOf(t, tt.total, tt.before...)
			if got := s.Add(tt.add); got != tt.changed {
				t.Fatalf("Add(%v) = %v, want %v", tt.add, got, tt.changed)
			}
			if got := s.Ranges(); !slices.Equal(got, tt.want) {
				t.Fatalf("Ranges() = %v, want %v", got, tt.want)
			}
			if s.Len() != len(tt.want) {
				t.Fatalf("Len() = %d, want %d", s.Len(), len(tt.want))
			}
			var covered int64
			for _, r := range tt.want {
				covered += r.Len()
			}
			if s.Covered() != covered {
				t.Fatalf("Covered() = %d, want %d", s.Covered(), covered)
			}
		})
	}
}

func TestSetContainsOverlaps(t *testing.T) {
	s := setOf(t, 24, Range{0, 5}, Range{9, 15})
	tests := []struct {
		r        Range
		contains bool
		overlaps bool
	}{
		{Range{0, 5}, true, true},
		{Range{0, 0}, true, true},
		{Range{5, 5}, true, true},
		{Range{2, 3}, true, true},
		{Range{9, 15}, true, true},
		{Range{5, 9}, false, true},
		{Range{0, 15}, false, true},
		{Range{6, 8}, false, false},
		{Range{6, 6}, false, false},
		{Range{8, 9}, false, true},
		{Range{15, 16}, false, true},
		{Range{16, 23}, false, false},
		{Range{16, 100}, false, false},
		{Range{4, 3}, false, false},
		{Range{-1, 2}, false, false},
	}
	for _, tt := range tests {
		if got := s.Contains(tt.r); got != tt.contains {
			t.Errorf("Contains(%v) = %v, want %v", tt.r, got, tt.contains)
		}
		if got := s.Overlaps(tt.r); got != tt.overlaps {
			t.Errorf("Overlaps(%v) = %v, want %v", tt.r, got, tt.overlaps)
		}
	}
}

func TestSetMissing(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		rs    []Range
		want  []Range
	}{
		{"empty", 24, nil, []Range{{0, 23}}},
		{"complete", 24, []Range{{0, 23}}, nil},
		{"head", 24, []Range{{5, 23}}, []Range{{0, 4}}},
		{"tail", 24, []Range{{0, 5}}, []Range{{6, 23}}},
		{"middle", 24, []Range{{0, 5}, {9, 23}}, []Range{{6, 8}}},
		{"many", 24, []Range{{1, 1}, {3, 3}, {22, 22}}, []Range{{0, 0}, {2, 2}, {4, 21}, {23, 23}}},
		{"total 0", 0, nil, nil},
		{"large", 5000000010, []Range{{5000000000, 5000000009}}, []Range{{0, 4999999999}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := setOf(t, tt.total, tt.rs...).Missing(); !slices.Equal(got, tt.want) {
				t.Fatalf("Missing() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetSubtract(t *testing.T) {
	tests := []struct {
		name string
		a, b []Range
		want []Range
	}{
		{"both empty", nil, nil, nil},
		{"nothing to take", []Range{{0, 5}, {9, 15}}, nil, []Range{{0, 5}, {9, 15}}},
		{"from empty", nil, []Range{{0, 5}}, nil},
		{"equal", []Range{{0, 5}, {9, 15}}, []Range{{0, 5}, {9, 15}}, nil},
		{"superset taken", []Range{{3, 5}}, []Range{{0, 23}}, nil},
		{"hole in the middle", []Range{{0, 23}}, []Range{{6, 8}}, []Range{{0, 5}, {9, 23}}},
		{"several holes", []Range{{0, 23}}, []Range{{0, 1}, {6, 8}, {20, 23}}, []Range{{2, 5}, {9, 19}}},
		{"disjoint", []Range{{0, 5}}, []Range{{9, 15}}, []Range{{0, 5}}},
		{"one of o spans two of s", []Range{{0, 5}, {9, 15}}, []Range{{4, 10}}, []Range{{0, 3}, {11, 15}}},
		{"edges", []Range{{5, 10}}, []Range{{0, 5}, {10, 12}}, []Range{{6, 9}}},
		{"model received minus acknowledged", []Range{{0, 5}, {9, 23}}, []Range{{0, 5}, {9, 15}}, []Range{{16, 23}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := setOf(t, 24, tt.a...), setOf(t, 24, tt.b...)
			if got := a.Subtract(b); !slices.Equal(got, tt.want) {
				t.Fatalf("Subtract() = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("nil other", func(t *testing.T) {
		a := setOf(t, 24, Range{0, 5})
		if got := a.Subtract(nil); !slices.Equal(got, []Range{{0, 5}}) {
			t.Fatalf("Subtract(nil) = %v", got)
		}
	})
}

func TestSetEqualClone(t *testing.T) {
	a := setOf(t, 24, Range{0, 5}, Range{9, 15})
	tests := []struct {
		name string
		b    *Set
		want bool
	}{
		{"same ranges added differently", setOf(t, 24, Range{9, 12}, Range{0, 5}, Range{13, 15}), true},
		{"other total", setOf(t, 25, Range{0, 5}, Range{9, 15}), false},
		{"fewer bytes", setOf(t, 24, Range{0, 5}, Range{9, 14}), false},
		{"other split", setOf(t, 24, Range{0, 4}, Range{9, 15}, Range{17, 17}), false},
		{"empty", NewSet(24), false},
		{"nil", nil, false},
		{"clone", a.Clone(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.Equal(tt.b); got != tt.want {
				t.Errorf("a.Equal(b) = %v, want %v", got, tt.want)
			}
			if got := tt.b.Equal(a); got != tt.want {
				t.Errorf("b.Equal(a) = %v, want %v", got, tt.want)
			}
		})
	}
	c := a.Clone()
	c.Add(Range{6, 8})
	if a.String() != "0-5/24,9-15/24" || c.String() != "0-15/24" {
		t.Fatalf("Clone is not independent: a = %q, clone = %q", a, c)
	}
	r := a.Ranges()
	r[0] = Range{1, 2}
	if a.String() != "0-5/24,9-15/24" {
		t.Fatalf("Ranges() is not a copy: %q", a)
	}
	if !NewSet(0).Equal(nil) || !(*Set)(nil).Equal(nil) {
		t.Fatal("an empty set of total 0 must equal a nil set")
	}
}

func TestSetFormat(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		rs      []Range
		f       Format
		want    string
		wantErr bool
	}{
		{"empty module", 24, nil, FormatModule, "", true},
		{"empty compact", 24, nil, FormatCompact, "", true},
		{"one module", 24, []Range{{0, 5}}, FormatModule, "0-5/24", false},
		{"one compact", 24, []Range{{0, 5}}, FormatCompact, "0-5/24", false},
		{"two module", 24, []Range{{9, 15}, {0, 5}}, FormatModule, "0-5/24,9-15/24", false},
		{"two compact", 24, []Range{{9, 15}, {0, 5}}, FormatCompact, "0-5,9-15/24", false},
		{"unknown format writes module", 24, []Range{{9, 15}, {0, 5}}, Format(9), "0-5/24,9-15/24", false},
		{"large", 5000000010, []Range{{5000000000, 5000000009}}, FormatCompact, "5000000000-5000000009/5000000010", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setOf(t, tt.total, tt.rs...)
			got := s.Format(tt.f)
			if got != tt.want {
				t.Fatalf("Format(%v) = %q, want %q", tt.f, got, tt.want)
			}
			l, err := ParseList(got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseList(%q): %v", got, err)
			}
			if err == nil && !l.Set().Equal(s) {
				t.Fatalf("ParseList(Format()).Set() = %v, want %v", l.Set(), s)
			}
		})
	}
}

func TestNilSet(t *testing.T) {
	var s *Set
	if s.Total() != 0 || s.Covered() != 0 || s.Len() != 0 || !s.Complete() ||
		s.Missing() != nil || s.Ranges() != nil || s.Clone() != nil ||
		s.Contains(Range{0, 0}) || s.Overlaps(Range{0, 0}) || s.Subtract(NewSet(3)) != nil ||
		s.Format(FormatCompact) != "" || s.String() != "" {
		t.Fatal("a nil set must read as an empty set of total 0")
	}
}

// model is a byte map used to check Set against the obvious implementation.
type model []bool

func (m model) add(r Range) {
	for i := r.Start; i <= r.End; i++ {
		m[i] = true
	}
}

// ranges returns the maximal runs of bytes whose presence equals want.
func (m model) ranges(want bool) []Range {
	var out []Range
	for i := 0; i < len(m); i++ {
		if m[i] != want {
			continue
		}
		j := i
		for j+1 < len(m) && m[j+1] == want {
			j++
		}
		out = append(out, Range{int64(i), int64(j)})
		i = j
	}
	return out
}

// checkAgainstModel compares every query of s with the byte map m.
func checkAgainstModel(t testing.TB, s *Set, m model) {
	t.Helper()
	if got, want := s.Ranges(), m.ranges(true); !slices.Equal(got, want) {
		t.Fatalf("Ranges() = %v, want %v", got, want)
	}
	if got, want := s.Missing(), m.ranges(false); !slices.Equal(got, want) {
		t.Fatalf("Missing() = %v, want %v", got, want)
	}
	var covered int64
	for _, b := range m {
		if b {
			covered++
		}
	}
	if s.Covered() != covered || s.Complete() != (covered == int64(len(m))) {
		t.Fatalf("Covered() = %d, Complete() = %v; want %d of %d", s.Covered(), s.Complete(), covered, len(m))
	}
}

func TestSetAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		total := int64(1 + rng.IntN(80))
		s, m := NewSet(total), make(model, total)
		for range 1 + rng.IntN(30) {
			a, b := rng.Int64N(total), rng.Int64N(total)
			r := Range{min(a, b), max(a, b)}
			before := slices.Clone(m)
			m.add(r)
			if got, want := s.Add(r), !slices.Equal(before, m); got != want {
				t.Fatalf("round %d: Add(%v) = %v, want %v", round, r, got, want)
			}
			checkAgainstModel(t, s, m)
			q := Range{rng.Int64N(total), 0}
			q.End = q.Start + rng.Int64N(total-q.Start)
			all, some := true, false
			for i := q.Start; i <= q.End; i++ {
				all, some = all && m[i], some || m[i]
			}
			if s.Contains(q) != all || s.Overlaps(q) != some {
				t.Fatalf("round %d: set %v, Contains(%v) = %v, Overlaps = %v; want %v, %v", round, s, q, s.Contains(q), s.Overlaps(q), all, some)
			}
		}
	}
}

// benchRanges returns n disjoint two-byte ranges, one every four bytes.
func benchRanges(n int) []Range {
	rs := make([]Range, n)
	for i := range rs {
		rs[i] = Range{int64(4 * i), int64(4*i + 1)}
	}
	return rs
}

func BenchmarkSetAdd(b *testing.B) {
	const n = 10000
	ascending := benchRanges(n)
	descending := slices.Clone(ascending)
	slices.Reverse(descending)
	shuffled := slices.Clone(ascending)
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, bc := range []struct {
		name string
		rs   []Range
	}{
		{"ascending", ascending},
		{"descending", descending},
		{"shuffled", shuffled},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := NewSet(4 * n)
				for _, r := range bc.rs {
					s.Add(r)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/range")
		})
	}
	b.Run("fill-gaps", func(b *testing.B) {
		// The gaps of a set of n disjoint ranges filled one by one: each Add merges.
		base := setOf(b, 4*n, ascending...)
		for b.Loop() {
			s := base.Clone()
			for i := range n {
				s.Add(Range{int64(4*i + 2), int64(4*i + 3)})
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/range")
	})
	b.Run("retransmit", func(b *testing.B) {
		// Ranges already in a set of n disjoint ranges: the common retry.
		s := setOf(b, 4*n, ascending...)
		for b.Loop() {
			for _, r := range shuffled {
				s.Add(r)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/range")
	})
}
