package ranges

import (
	"slices"
	"sort"
)

// Set is a set of bytes of a file of a known total size, kept as sorted, disjoint ranges in
// which overlapping and adjacent ranges are merged. Add, Contains and Overlaps find their
// place by binary search; adding ranges in ascending order costs amortised O(log n) each.
//
// The zero value is not usable; create a Set with [NewSet] or [List.Set]. The read-only
// methods accept a nil *Set and treat it as an empty set of total 0. A Set is not safe for
// concurrent use.
type Set struct {
	total   int64
	covered int64
	rs      []Range // sorted by Start; disjoint; no two adjacent
}

// NewSet returns an empty set for a file of total bytes.
func NewSet(total int64) *Set { return &Set{total: total} }

// Total returns the size of the file the set belongs to.
func (s *Set) Total() int64 {
	if s == nil {
		return 0
	}
	return s.total
}

// search returns the index of the first range whose End is at least off.
func (s *Set) search(off int64) int {
	return sort.Search(len(s.rs), func(i int) bool { return s.rs[i].End >= off })
}

// Add adds the bytes of r, merging it with every range it overlaps or touches. It reports
// whether the set changed: false when every byte of r was already in the set, and false when
// r is invalid (a negative start, Start > End, or End >= Total).
func (s *Set) Add(r Range) bool {
	if !r.valid() || r.End >= s.total {
		return false
	}
	// i: the first range that overlaps r or ends right before it.
	i := s.search(r.Start - 1)
	if i == len(s.rs) {
		s.rs = append(s.rs, r)
		s.covered += r.Len()
		return true
	}
	if s.rs[i].Start <= r.Start && r.End <= s.rs[i].End {
		return false
	}
	// j: one past the last range that overlaps r or starts right after it. r.End < total,
	// so r.End+1 cannot overflow.
	j := i
	for j < len(s.rs) && s.rs[j].Start <= r.End+1 {
		j++
		if j-i > 8 { // many ranges swallowed: finish by binary search
			j = i + sort.Search(len(s.rs)-i, func(k int) bool { return s.rs[i+k].Start > r.End+1 })
			break
		}
	}
	merged := r
	if j > i {
		merged.Start = min(merged.Start, s.rs[i].Start)
		merged.End = max(merged.End, s.rs[j-1].End)
		for _, old := range s.rs[i:j] {
			s.covered -= old.Len()
		}
	}
	s.covered += merged.Len()
	s.rs = slices.Replace(s.rs, i, j, merged)
	return true
}

// Contains reports whether every byte of r is in the set. An invalid range (a negative
// start or Start > End) is never contained.
func (s *Set) Contains(r Range) bool {
	if s == nil || !r.valid() {
		return false
	}
	i := s.search(r.Start)
	return i < len(s.rs) && s.rs[i].Start <= r.Start && r.End <= s.rs[i].End
}

// Overlaps reports whether some byte of r is in the set. An invalid range (a negative start
// or Start > End) overlaps nothing.
func (s *Set) Overlaps(r Range) bool {
	if s == nil || !r.valid() {
		return false
	}
	i := s.search(r.Start)
	return i < len(s.rs) && s.rs[i].Start <= r.End
}

// Covered returns the number of bytes in the set.
func (s *Set) Covered() int64 {
	if s == nil {
		return 0
	}
	return s.covered
}

// Complete reports whether the set holds every byte of the file, Covered() == Total(). (An
// empty set of total 0 is complete.)
func (s *Set) Complete() bool { return s.Covered() == s.Total() }

// Missing returns the ranges of the file that are not in the set, in ascending order; nil
// when the set is complete.
func (s *Set) Missing() []Range {
	if s == nil || s.covered == s.total {
		return nil
	}
	out := make([]Range, 0, len(s.rs)+1)
	next := int64(0)
	for _, r := range s.rs {
		if r.Start > next {
			out = append(out, Range{next, r.Start - 1})
		}
		next = r.End + 1
	}
	if next < s.total {
		out = append(out, Range{next, s.total - 1})
	}
	return out
}

// Ranges returns a copy of the set's ranges: sorted, disjoint, merged; nil when the set is
// empty.
func (s *Set) Ranges() []Range {
	if s == nil || len(s.rs) == 0 {
		return nil
	}
	return slices.Clone(s.rs)
}

// Len returns the number of disjoint ranges in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rs)
}

// Clone returns an independent copy of the set (nil for a nil set).
func (s *Set) Clone() *Set {
	if s == nil {
		return nil
	}
	return &Set{total: s.total, covered: s.covered, rs: slices.Clone(s.rs)}
}

// Equal reports whether s and o have the same total and hold the same bytes.
func (s *Set) Equal(o *Set) bool {
	return s.Total() == o.Total() && s.Covered() == o.Covered() && slices.Equal(s.ranges(), o.ranges())
}

// ranges returns the set's own slice (nil for a nil set), not a copy.
func (s *Set) ranges() []Range {
	if s == nil {
		return nil
	}
	return s.rs
}

// Subtract returns the bytes that are in s but not in o, as sorted, disjoint ranges; nil
// when there are none. The totals of the two sets play no part.
func (s *Set) Subtract(o *Set) []Range {
	a, b := s.ranges(), o.ranges()
	var out []Range
	j := 0
	for _, r := range a {
		// Skip the ranges of o that end before r.
		for j < len(b) && b[j].End < r.Start {
			j++
		}
		cur := r.Start
		for k := j; k < len(b) && b[k].Start <= r.End; k++ {
			if b[k].Start > cur {
				out = append(out, Range{cur, b[k].Start - 1})
			}
			cur = max(cur, b[k].End+1)
		}
		// b[k].End+1 never overflows: a valid range of a Set ends below its total.
		if cur <= r.End {
			out = append(out, Range{cur, r.End})
		}
	}
	return out
}

// Format writes the set in form f: `0-5/24,9-15/24` (FormatModule) or `0-5,9-15/24`
// (FormatCompact). Any other value of f is written as FormatModule. An empty set gives "".
func (s *Set) Format(f Format) string {
	rs := s.ranges()
	if len(rs) == 0 {
		return ""
	}
	b := make([]byte, 0, len(rs)*24)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, r, s.total, f != FormatCompact || i == len(rs)-1)
	}
	return string(b)
}

// String writes the set in the module's form, like Format(FormatModule).
func (s *Set) String() string { return s.Format(FormatModule) }
