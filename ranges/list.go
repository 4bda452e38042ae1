package ranges

import (
	"fmt"
	"strconv"
	"strings"
)

// Format is a textual form of a range list.
type Format int

const (
	// FormatModule repeats the total on every item, `0-5/24,9-15/24`; nginx-upload-module
	// writes this form.
	FormatModule Format = iota
	// FormatCompact writes the total once, after the last item, `0-5,9-15/24`; the seed
	// README of the protocol shows this form.
	FormatCompact
)

// String returns "module" or "compact" (and `Format(n)` for any other value).
func (f Format) String() string {
	switch f {
	case FormatModule:
		return "module"
	case FormatCompact:
		return "compact"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat parses the name of a Format, "module" or "compact", in any letter case.
func ParseFormat(s string) (Format, error) {
	switch {
	case strings.EqualFold(s, "module"):
		return FormatModule, nil
	case strings.EqualFold(s, "compact"):
		return FormatCompact, nil
	}
	return 0, fmt.Errorf("range format %s: unknown (want module or compact)", quote(s))
}

// List is a range list exactly as it was written: the items in their order, not merged,
// with the total and the textual form of the list. Use [List.Set] to compare lists as sets
// of bytes.
type List struct {
	Ranges []Range
	Total  int64
	Format Format
}

// Set returns the bytes of the list as a Set.
func (l List) Set() *Set {
	s := NewSet(l.Total)
	for _, r := range l.Ranges {
		s.Add(r)
	}
	return s
}

// String writes the items of the list, in their order, in the list's own form. For a list
// returned by [ParseList] it is the parsed text except for leading zeros.
func (l List) String() string {
	var b []byte
	for i, r := range l.Ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, r, l.Total, l.Format != FormatCompact || i == len(l.Ranges)-1)
	}
	return string(b)
}

// ParseList parses a range list as a server writes it in a 201 answer (the Range header
// and the body), in either form:
//
//   - FormatModule: every item is `S-E/T`, e.g. `0-5/24,9-15/24`; all totals must be equal;
//   - FormatCompact: only the last item carries the total, e.g. `0-5,9-15/24`.
//
// A single item `0-5/24` is reported as FormatModule. Items are separated by a comma and
// nothing else: the list is strict, with no blanks anywhere (trim a trailing blank before
// calling when that is to be tolerated). Numbers are ASCII digits below 2^63 (leading zeros
// are accepted), and every item must satisfy S <= E < T with T > 0. The items are kept as
// written, unsorted and unmerged, so that the caller can judge the canonical order. An empty
// string is an error.
func ParseList(v string) (List, error) {
	l, reason := parseList(v)
	if reason != "" {
		return List{}, fmt.Errorf("range list %s: %s", quote(v), reason)
	}
	return l, nil
}

func parseList(v string) (List, string) {
	if v == "" {
		return List{}, "empty value"
	}
	if i := strings.IndexAny(v, " \t\r\n"); i >= 0 {
		return List{}, fmt.Sprintf("blank %s at offset %d (a list has no blanks)", quote(v[i:i+1]), i)
	}
	items := strings.Split(v, ",")
	l := List{Ranges: make([]Range, len(items)), Format: FormatModule}
	for i, item := range items {
		if item == "" {
			return List{}, fmt.Sprintf("item %d is empty", i+1)
		}
		r, total, hasTotal, reason := parseItem(item)
		if reason != "" {
			return List{}, fmt.Sprintf("item %d %s: %s", i+1, quote(item), reason)
		}
		if i == 0 && !hasTotal {
			l.Format = FormatCompact
		}
		last := i == len(items)-1
		switch {
		case l.Format == FormatModule && !hasTotal:
			return List{}, fmt.Sprintf(`item %d %s: missing "/total" (the first item has one, so every item must)`, i+1, quote(item))
		case l.Format == FormatCompact && hasTotal && !last:
			return List{}, fmt.Sprintf(`item %d %s: only the last item carries "/total" in the compact form`, i+1, quote(item))
		case l.Format == FormatCompact && !hasTotal && last:
			return List{}, fmt.Sprintf(`item %d %s: missing "/total" (the last item carries it)`, i+1, quote(item))
		}
		if l.Format == FormatModule {
			if reason := checkItem(r, total); reason != "" {
				return List{}, fmt.Sprintf("item %d %s: %s", i+1, quote(item), reason)
			}
			if i > 0 && total != l.Total {
				return List{}, fmt.Sprintf("item %d %s: total %d differs from total %d of item 1", i+1, quote(item), total, l.Total)
			}
		}
		l.Ranges[i] = r
		l.Total = total
	}
	if l.Format == FormatCompact {
		if l.Total == 0 {
			return List{}, fmt.Sprintf("item %d %s: %s", len(items), quote(items[len(items)-1]), checkItem(Range{}, 0))
		}
		for i, r := range l.Ranges {
			if reason := checkItem(r, l.Total); reason != "" {
				return List{}, fmt.Sprintf("item %d %s: %s", i+1, quote(items[i]), reason)
			}
		}
	}
	return l, ""
}
