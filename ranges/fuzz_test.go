package ranges

import (
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The seed corpus: the catalogue's examples and the module's accepted and rejected values.
func segmentSeeds() []string {
	return []string{
		"bytes 0-1/4", "bytes 0-0/1", "BYTES 0-1/4  ", "  bytes 0-1/4", "bytes 000-001/004",
		"bytes 0-5/24", "bytes 9-15/24", "bytes 16-23/24", "bytes 6-8/24", "bytes 14-20/24",
		"bytes 5000000000-5000000009/5000000010", "bytes 5000000000-5000000009/6000000000",
		"bytes 0-9223372036854775806/9223372036854775807", "bytes 0-1/9223372036854775808",
		"bytes 18446744073709551615-0/4", "bytes 0-1/18446744073709551615",
		"", "0-1/4", "bytes=0-1/4", "bytes  0-1/4", "bytes */4", "bytes 0-1/*", "bytes 0-1",
		"bytes 2-1/4", "bytes 2-4/4", "bytes 0-0/0", "bytes -1/4", "bytes 0-/10", "bytes 0-1/4\r\n",
	}
}

func listSeeds() []string {
	return []string{
		"0-5/24", "0-5/24,9-15/24", "0-5,9-15/24", "0-5/24,9-23/24", "0-5,9-23/24", "0-23/24",
		"9-15/24,14-20/24", "9-15/24,0-5/24", "000-005/024", "5000000000-5000000009/5000000010",
		"0-1,5000000000-5000000009/5000000010", "0-9223372036854775806/9223372036854775807",
		"", ",", "0-5/24,", "0-5", "0-5/24,9-15", "0-5,9-15/24,16-20/24", "0-5/24,9-15/20",
		"0-5/24 ", "bytes 0-5/24", "0-0/0", "6-5/24", "0-24/24", "0-1/9223372036854775808",
	}
}

// oracleItem reports whether the digit strings form a valid item S <= E < T, T > 0, with
// every number below 2^63.
func oracleItem(start, end, total string) bool {
	bigLimit := new(big.Int).Lsh(big.NewInt(1), 63) // 2^63, the first number that does not fit
	var s, e, t big.Int
	s.SetString(start, 10)
	e.SetString(end, 10)
	t.SetString(total, 10)
	for _, n := range []*big.Int{&s, &e, &t} {
		if n.Cmp(bigLimit) >= 0 {
			return false
		}
	}
	return t.Sign() > 0 && s.Cmp(&e) <= 0 && e.Cmp(&t) < 0
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range segmentSeeds() {
		f.Add(s)
	}
	// The grammar of ParseSegment written the obvious way; numbers are checked with
	// arbitrary precision by oracleItem.
	segmentOracle := regexp.MustCompile(`^[ \t]*(?i:bytes) ([0-9]+)-([0-9]+)/([0-9]+)[ \t]*$`)
	f.Fuzz(func(t *testing.T, v string) {
		seg, err := ParseSegment(v)
		m := segmentOracle.FindStringSubmatch(v)
		want := m != nil && oracleItem(m[1], m[2], m[3])
		if (err == nil) != want {
			t.Fatalf("ParseSegment(%q) = %+v, %v; the oracle says valid=%v", v, seg, err, want)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "range ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseSegment(%q): malformed error %q", v, err)
			}
			return
		}
		if seg.Start < 0 || seg.Start > seg.End || seg.End >= seg.Total || seg.Len() < 1 {
			t.Fatalf("ParseSegment(%q) = %+v breaks S <= E < T", v, seg)
		}
		back, err := ParseSegment(seg.String())
		if err != nil || back != seg {
			t.Fatalf("ParseSegment(%q) = %+v, %v; want %+v", seg.String(), back, err, seg)
		}
	})
}

// listOracle is a validity check of range lists written the obvious way.
type listOracle struct{ module, compact, item *regexp.Regexp }

func newListOracle() listOracle {
	return listOracle{
		module:  regexp.MustCompile(`^[0-9]+-[0-9]+/[0-9]+(,[0-9]+-[0-9]+/[0-9]+)*$`),
		compact: regexp.MustCompile(`^([0-9]+-[0-9]+,)+[0-9]+-[0-9]+/[0-9]+$`),
		item:    regexp.MustCompile(`([0-9]+)-([0-9]+)(?:/([0-9]+))?`),
	}
}

// valid reports whether v is a valid list.
func (o listOracle) valid(v string) bool {
	module := o.module.MatchString(v)
	if !module && !o.compact.MatchString(v) {
		return false
	}
	items := o.item.FindAllStringSubmatch(v, -1)
	total := items[len(items)-1][3]
	var t0 big.Int
	t0.SetString(total, 10)
	for _, it := range items {
		if module {
			var ti big.Int
			ti.SetString(it[3], 10)
			if ti.Cmp(&t0) != 0 {
				return false
			}
		}
		if !oracleItem(it[1], it[2], total) {
			return false
		}
	}
	return true
}

func FuzzParseList(f *testing.F) {
	for _, s := range listSeeds() {
		f.Add(s)
	}
	oracle := newListOracle()
	f.Fuzz(func(t *testing.T, v string) {
		l, err := ParseList(v)
		if want := oracle.valid(v); (err == nil) != want {
			t.Fatalf("ParseList(%q) = %+v, %v; the oracle says valid=%v", v, l, err, want)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "range list ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseList(%q): malformed error %q", v, err)
			}
			return
		}
		if len(l.Ranges) == 0 || l.Total <= 0 || (l.Format == FormatCompact) != !strings.Contains(strings.SplitN(v, ",", 2)[0], "/") {
			t.Fatalf("ParseList(%q) = %+v", v, l)
		}
		for _, r := range l.Ranges {
			if r.Start < 0 || r.Start > r.End || r.End >= l.Total {
				t.Fatalf("ParseList(%q): item %v breaks S <= E < T", v, r)
			}
		}
		// The list as written round-trips.
		back, err := ParseList(l.String())
		if err != nil || !slices.Equal(back.Ranges, l.Ranges) || back.Total != l.Total ||
			(len(l.Ranges) > 1 && back.Format != l.Format) {
			t.Fatalf("ParseList(%q) = %+v, %v; want %+v", l.String(), back, err, l)
		}
		// The set formats in both forms and parses back to the same set.
		set := l.Set()
		for _, f := range []Format{FormatModule, FormatCompact} {
			text := set.Format(f)
			again, err := ParseList(text)
			if err != nil || !again.Set().Equal(set) {
				t.Fatalf("ParseList(Set().Format(%v) = %q) = %+v, %v; want the set %v", f, text, again, err, set)
			}
			if set.Len() > 1 && again.Format != f {
				t.Fatalf("ParseList(%q).Format = %v, want %v", text, again.Format, f)
			}
		}
	})
}

func FuzzSetOps(f *testing.F) {
	// ops is a sequence of byte pairs, each an inclusive range [a, b] (swapped when a > b)
	// of a small file of size bytes placed at offset shift.
	f.Add(uint8(23), int64(0), []byte{0, 5, 9, 15, 16, 23, 6, 8})
	f.Add(uint8(23), int64(0), []byte{9, 15, 14, 20})
	f.Add(uint8(23), int64(0), []byte{0, 1, 0, 1, 0, 1})
	f.Add(uint8(9), int64(5000000000), []byte{0, 9})
	f.Add(uint8(200), int64(math.MaxInt64-201), []byte{200, 200, 0, 0, 100, 150})
	f.Fuzz(func(t *testing.T, size uint8, shift int64, ops []byte) {
		n := int64(size) + 1
		if shift < 0 || shift > math.MaxInt64-n {
			shift = 0
		}
		s, m := NewSet(shift+n), make(model, n)
		for i := 0; i+1 < len(ops); i += 2 {
			a, b := int64(ops[i])%n, int64(ops[i+1])%n
			r := Range{min(a, b), max(a, b)}
			before := slices.Clone(m)
			m.add(r)
			shifted := Range{r.Start + shift, r.End + shift}
			if got, want := s.Add(shifted), !slices.Equal(before, m); got != want {
				t.Fatalf("Add(%v) = %v, want %v", shifted, got, want)
			}
			if !s.Contains(shifted) || !s.Overlaps(shifted) {
				t.Fatalf("%v after Add(%v): Contains or Overlaps is false", s, shifted)
			}
		}
		var want []Range
		for _, r := range m.ranges(true) {
			want = append(want, Range{r.Start + shift, r.End + shift})
		}
		if got := s.Ranges(); !slices.Equal(got, want) {
			t.Fatalf("Ranges() = %v, want %v", got, want)
		}
		var wantMissing []Range
		if shift > 0 {
			wantMissing = append(wantMissing, Range{0, shift - 1})
		}
		for _, r := range m.ranges(false) {
			r = Range{r.Start + shift, r.End + shift}
			if k := len(wantMissing) - 1; k >= 0 && wantMissing[k].End+1 == r.Start {
				wantMissing[k].End = r.End
				continue
			}
			wantMissing = append(wantMissing, r)
		}
		if got := s.Missing(); !slices.Equal(got, wantMissing) {
			t.Fatalf("Missing() = %v, want %v", got, wantMissing)
		}
		// Missing and the set are complementary: the whole file minus the set is Missing.
		whole := NewSet(s.Total())
		whole.Add(Range{0, s.Total() - 1})
		if got := whole.Subtract(s); !slices.Equal(got, wantMissing) {
			t.Fatalf("whole.Subtract(s) = %v, want %v", got, wantMissing)
		}
		if got := s.Subtract(whole); got != nil {
			t.Fatalf("s.Subtract(whole) = %v, want nil", got)
		}
		if got := s.Subtract(NewSet(s.Total())); !slices.Equal(got, want) {
			t.Fatalf("s.Subtract(empty) = %v, want %v", got, want)
		}
		for _, f := range []Format{FormatModule, FormatCompact} {
			text := s.Format(f)
			if len(want) == 0 {
				if text != "" {
					t.Fatalf("Format(%v) of an empty set = %q", f, text)
				}
				continue
			}
			l, err := ParseList(text)
			if err != nil || !l.Set().Equal(s) {
				t.Fatalf("ParseList(Format(%v) = %q) = %+v, %v; want %v", f, text, l, err, s)
			}
		}
		if c := s.Clone(); !c.Equal(s) {
			t.Fatalf("Clone() = %v, want %v", c, s)
		}
	})
}
