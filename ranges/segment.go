// Package ranges parses and formats the byte ranges of the resumable-upload protocol.
//
// Three things live here:
//
//   - [Segment]: the value of a request's Content-Range (or X-Content-Range) header,
//     `bytes S-E/T`, parsed by [ParseSegment] with the grammar of nginx-upload-module but
//     without its integer overflow;
//   - [List]: a range list exactly as a server wrote it in a 201 answer, in either textual
//     form ([FormatModule] `0-5/24,9-15/24` or [FormatCompact] `0-5,9-15/24`), parsed by
//     [ParseList];
//   - [Set]: the bytes received for one file, kept sorted with overlapping and adjacent
//     ranges merged, which formats itself in either form.
//
// Bytes are numbered 0..T-1 and every range is inclusive at both ends. Numbers are signed
// 64-bit; a number of 2^63 or more is an error, never a wrap-around.
package ranges

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is an inclusive byte range: Start and End are both part of it.
type Range struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Len returns the number of bytes in r, End-Start+1.
func (r Range) Len() int64 { return r.End - r.Start + 1 }

// String returns r as `S-E`.
func (r Range) String() string {
	return strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10)
}

// valid reports whether r is a non-empty range of non-negative offsets.
func (r Range) valid() bool { return r.Start >= 0 && r.Start <= r.End }

// Segment is the value of a Content-Range header, `bytes S-E/T`: the bytes Start..End
// (inclusive) of a file of Total bytes.
type Segment struct {
	Start, End, Total int64
}

// Len returns the number of bytes in the segment, End-Start+1.
func (s Segment) Len() int64 { return s.End - s.Start + 1 }

// Range returns the segment's byte range.
func (s Segment) Range() Range { return Range{Start: s.Start, End: s.End} }

// String returns the segment as a header value, `bytes S-E/T`.
func (s Segment) String() string {
	b := make([]byte, 0, 6+3*20)
	b = append(b, "bytes "...)
	b = appendItem(b, Range{s.Start, s.End}, s.Total, true)
	return string(b)
}

// bytesUnit is the unit word of a Content-Range value; it is matched in any letter case.
const bytesUnit = "bytes"

// ParseSegment parses a Content-Range header value, `bytes S-E/T`.
//
// The grammar is the one of nginx-upload-module: leading and trailing blanks (spaces and
// tabs) are trimmed; the unit `bytes` is matched in any letter case and followed by exactly
// one space; S, E and T are each one or more ASCII digits (leading zeros are accepted, so
// `000-001/004` is 0-1/4). The values must satisfy S <= E < T and T > 0. Unlike the module,
// an empty number is an error (the module reads it as 0) and so is a number of 2^63 or more
// (the module wraps it around).
//
// The error names the value and says what is wrong with it, for example
// `range "bytes 2-1/4": start 2 is after end 1`.
func ParseSegment(v string) (Segment, error) {
	seg, reason := parseSegment(v)
	if reason != "" {
		return Segment{}, fmt.Errorf("range %s: %s", quote(v), reason)
	}
	return seg, nil
}

func parseSegment(v string) (Segment, string) {
	s := strings.Trim(v, " \t")
	if s == "" {
		if v == "" {
			return Segment{}, "empty value"
		}
		return Segment{}, "value is only blanks"
	}
	if len(s) < len(bytesUnit) || !strings.EqualFold(s[:len(bytesUnit)], bytesUnit) {
		return Segment{}, `does not start with the unit "bytes"`
	}
	s = s[len(bytesUnit):]
	switch {
	case s == "":
		return Segment{}, `nothing after "bytes"`
	case s[0] != ' ':
		return Segment{}, fmt.Sprintf(`"bytes" must be followed by one space, not %s`, quote(s[:1]))
	case len(s) > 1 && (s[1] == ' ' || s[1] == '\t'):
		return Segment{}, `more than one blank after "bytes" (exactly one space is allowed)`
	}
	r, total, hasTotal, reason := parseItem(s[1:])
	if reason != "" {
		return Segment{}, reason
	}
	if !hasTotal {
		return Segment{}, `missing "/total"`
	}
	if reason := checkItem(r, total); reason != "" {
		return Segment{}, reason
	}
	return Segment{Start: r.Start, End: r.End, Total: total}, ""
}

// parseItem parses `S-E` or `S-E/T` (no blanks, digits only) and reports whether a total
// was present. It checks the syntax and the size of the numbers, not their order.
func parseItem(s string) (r Range, total int64, hasTotal bool, reason string) {
	dash := strings.IndexByte(s, '-')
	if dash < 0 {
		if strings.IndexByte(s, '/') >= 0 {
			return Range{}, 0, false, `missing "-" between start and end`
		}
		return Range{}, 0, false, `missing "-" between start and end and "/total"`
	}
	startText, rest := s[:dash], s[dash+1:]
	endText, totalText := rest, ""
	if slash := strings.IndexByte(rest, '/'); slash >= 0 {
		endText, totalText, hasTotal = rest[:slash], rest[slash+1:], true
	}
	var reason2 string
	if r.Start, reason2 = parseNumber("start", startText); reason2 != "" {
		return Range{}, 0, false, reason2
	}
	if r.End, reason2 = parseNumber("end", endText); reason2 != "" {
		return Range{}, 0, false, reason2
	}
	if hasTotal {
		if total, reason2 = parseNumber("total", totalText); reason2 != "" {
			return Range{}, 0, false, reason2
		}
	}
	return r, total, hasTotal, ""
}

// checkItem checks S <= E < T and T > 0.
func checkItem(r Range, total int64) string {
	switch {
	case total == 0:
		return "total is 0 (a file has at least one byte)"
	case r.Start > r.End:
		return fmt.Sprintf("start %d is after end %d", r.Start, r.End)
	case r.End >= total:
		return fmt.Sprintf("end %d is not below total %d (bytes are numbered 0..total-1)", r.End, total)
	}
	return ""
}

// parseNumber parses one or more ASCII digits as a non-negative int64. A value of 2^63 or
// more is an error. The reason names the field (start, end or total).
func parseNumber(field, s string) (int64, string) {
	if s == "" {
		return 0, field + " is empty"
	}
	var n int64
	tooLarge := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Sprintf("%s %s is not a number (digits only)", field, quote(s))
		}
		d := int64(c - '0')
		if tooLarge || n > (math.MaxInt64-d)/10 {
			tooLarge = true // keep scanning: a stray character is the more useful message
			continue
		}
		n = n*10 + d
	}
	if tooLarge {
		return 0, fmt.Sprintf("%s %s is too large (the largest is %d)", field, clip(s), int64(math.MaxInt64))
	}
	return n, ""
}

// maxQuoted is the length beyond which values in error messages are cut.
const maxQuoted = 96

// quote quotes s for an error message, cutting it when it is long.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}

// clip cuts a long unquoted token (a string of digits) for an error message.
func clip(s string) string {
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "..."
	}
	return s
}

// appendItem appends `S-E`, or `S-E/T` when withTotal is set.
func appendItem(b []byte, r Range, total int64, withTotal bool) []byte {
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.End, 10)
	if withTotal {
		b = append(b, '/')
		b = strconv.AppendInt(b, total, 10)
	}
	return b
}
