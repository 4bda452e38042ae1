package fakeserver

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/upspec/upspec/fakeserver/internal/modulestate"
)

// This file holds the module's own request-header grammar (docs/module-behavior.md §1.3-1.6),
// used by the drop-on-malformed quirk. The functions are pure: they read header names and
// values exactly as the module's upload_parse_request_headers and ngx_http_upload_parse_range
// do, including what the module wrongly accepts.

// moduleLogRange prints a range as the module's log does.
func moduleLogRange(r modulestate.Range) string {
	return "bytes " + strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10) + "/" + strconv.FormatInt(r.Total, 10)
}

// moduleHeaderKind is what the module takes a request header for.
type moduleHeaderKind int

const (
	moduleHeaderOther moduleHeaderKind = iota
	moduleHeaderDisposition
	moduleHeaderSession
	moduleHeaderRange
)

// hasPrefixFold reports whether s begins with prefix, ASCII case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// classifyModuleHeader returns what the module takes a header named name for: a name matches
// when it BEGINS with one of the protocol's header names, in any letter case, so
// `Session-ID-whatever` is a session ID and `Content-Disposition-Extra` a disposition
// (docs/module-behavior.md §1.3).
func classifyModuleHeader(name string) moduleHeaderKind {
	switch {
	case hasPrefixFold(name, "Content-Disposition"):
		return moduleHeaderDisposition
	case hasPrefixFold(name, "Session-ID"), hasPrefixFold(name, "X-Session-ID"):
		return moduleHeaderSession
	case hasPrefixFold(name, "Content-Range"), hasPrefixFold(name, "X-Content-Range"):
		return moduleHeaderRange
	}
	return moduleHeaderOther
}

// parseModuleRange reads a range header value (blanks around it already trimmed, as nginx
// does) with the module's grammar: a case-insensitive `bytes` and exactly one space, then
// start-end/total made of digits only. Empty numbers count as 0 (`-1/4` is 0-1/4, `0-/10` is
// 0-0/10), leading zeros are accepted, and numbers wrap at 2^63 instead of failing. prev is the
// range read from an earlier range header of the same request: like the module, a number the
// value leaves unwritten (the total of `bytes 0-1/`) keeps prev's value. ok is false where the
// module drops the connection.
func parseModuleRange(value string, prev modulestate.Range) (r modulestate.Range, ok bool) {
	const unit = "bytes "
	if value == "" || !hasPrefixFold(value, unit) {
		return prev, false
	}
	s := value[len(unit):]
	r = prev
	fields := [3]*int64{&r.Start, &r.End, &r.Total}
	f := 0 // index of the field being read
	i := 0
	for {
		*fields[f] = 0
		for i < len(s) {
			c := s[i]
			if c >= '0' && c <= '9' {
				*fields[f] = *fields[f]*10 + int64(c-'0') // wraps like the module's off_t
				i++
				continue
			}
			if c == '-' && f == 0 {
				f = 1
				i++
				break
			}
			if c == '/' && f == 1 {
				f = 2
				i++
				break
			}
			return r, false
		}
		if i >= len(s) {
			break
		}
	}
	if f != 2 {
		return r, false
	}
	if r.Start > r.End || r.Start >= r.Total || r.End >= r.Total {
		return r, false
	}
	return r, true
}

// validModuleSessionID reports whether the module accepts id: one or more of
// [A-Za-z0-9_-], with no length limit (docs/module-behavior.md §1.5).
func validModuleSessionID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validModuleDisposition reports whether the module accepts a Content-Disposition value: it
// must begin, in any letter case, with `form-data` or `attachment` (docs/module-behavior.md §1.4).
func validModuleDisposition(value string) bool {
	return hasPrefixFold(value, "form-data") || hasPrefixFold(value, "attachment")
}

// moduleFileName returns the file name the module takes from a Content-Disposition value:
// the first `filename=` (case-sensitive), one optional opening quote skipped, up to the first
// quote or semicolon, then everything up to the last '/' or '\' dropped, a separator in the
// first position excepted. ok is false when the value has no `filename=`.
func moduleFileName(value string) (name string, ok bool) {
	i := strings.Index(value, "filename=")
	if i < 0 {
		return "", false
	}
	s := value[i+len("filename="):]
	s = strings.TrimPrefix(s, `"`)
	if j := strings.IndexAny(s, `";`); j >= 0 {
		s = s[:j]
	}
	for q := len(s) - 1; q > 0; q-- {
		if s[q] == '/' || s[q] == '\\' {
			return s[q+1:], true
		}
	}
	return s, true
}

// moduleHeader is one request header as it arrived: name and value, blanks around the value
// trimmed.
type moduleHeader struct {
	Name, Value string
}

// moduleVerdict is the outcome of the module's header scan.
type moduleVerdict int

const (
	// moduleHeadersOK: the scan passed; the request goes on to the body.
	moduleHeadersOK moduleVerdict = iota
	// moduleHeadersDrop: class E, the connection is closed without a byte.
	moduleHeadersDrop
	// moduleHeadersTooLarge: 413, the total is above the maximum file size.
	moduleHeadersTooLarge
	// moduleHeadersBadLength: 416, the range length differs from Content-Length.
	moduleHeadersBadLength
	// moduleHeadersNoDisposition: 415, no Content-Disposition header.
	moduleHeadersNoDisposition
)

// moduleScan is what the module's header scan found.
type moduleScan struct {
	Verdict     moduleVerdict
	Reason      string // why the scan stopped, for the request log
	Disposition string // the last Content-Disposition value
	FileName    string // the file name taken from the last value that had one
	SessionID   string // the last session ID
	HasSession  bool
	Range       modulestate.Range // the last range
	HasRange    bool
}

// scanModuleHeaders walks the headers in arrival order as the module does (docs/module-behavior.md
// §1.3, §1.8 steps 4-5): each matching header is checked as it is met and overwrites what an
// earlier one gave, so the last one wins; the first failing header decides the outcome.
// contentLength is the request's Content-Length (-1 when absent or chunked); maxFileSize is
// the largest total allowed (0 = no limit).
func scanModuleHeaders(headers []moduleHeader, contentLength, maxFileSize int64) moduleScan {
	var sc moduleScan
	hasDisposition := false
	for _, h := range headers {
		switch classifyModuleHeader(h.Name) {
		case moduleHeaderDisposition:
			if !validModuleDisposition(h.Value) {
				sc.Verdict, sc.Reason = moduleHeadersDrop, "invalid Content-Disposition header"
				return sc
			}
			hasDisposition = true
			sc.Disposition = h.Value
			if name, ok := moduleFileName(h.Value); ok {
				sc.FileName = name
			}
		case moduleHeaderSession:
			if h.Value == "" {
				sc.Verdict, sc.Reason = moduleHeadersDrop, "empty Session-ID in header"
				return sc
			}
			if !validModuleSessionID(h.Value) {
				sc.Verdict, sc.Reason = moduleHeadersDrop, "invalid Session-ID in header"
				return sc
			}
			sc.SessionID, sc.HasSession = h.Value, true
		case moduleHeaderRange:
			r, ok := parseModuleRange(h.Value, sc.Range)
			sc.Range = r
			if !ok {
				sc.Verdict, sc.Reason = moduleHeadersDrop, "invalid range "+h.Value
				return sc
			}
			if maxFileSize != 0 && r.Total > maxFileSize {
				sc.Verdict, sc.Reason = moduleHeadersTooLarge, "entity length is too big"
				return sc
			}
			if r.Len() != contentLength {
				sc.Verdict, sc.Reason = moduleHeadersBadLength, "range length is not equal to content length"
				return sc
			}
			sc.HasRange = true
		}
	}
	if !hasDisposition {
		sc.Verdict, sc.Reason = moduleHeadersNoDisposition, "no Content-Disposition header found"
	}
	return sc
}

// headersInGuessedOrder lists the headers of h for scanModuleHeaders when their arrival order
// is not known (net/http keeps the order of the values of one name, not across names): names
// in sorted order, except that every `X-`-prefixed protocol alias comes before the plain
// name, so that of two aliases the plain one wins.
func headersInGuessedOrder(h http.Header) []moduleHeader {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	rank := func(name string) int {
		if classifyModuleHeader(name) != moduleHeaderOther && hasPrefixFold(name, "X-") {
			return 0
		}
		return 1
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var out []moduleHeader
	for _, name := range names {
		for _, v := range h[name] {
			out = append(out, moduleHeader{Name: name, Value: strings.Trim(v, " \t")})
		}
	}
	return out
}
