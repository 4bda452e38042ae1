package fakeserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// Canonical forms of the request header names (textproto.CanonicalMIMEHeaderKey of the
// protocol's names), as net/http stores them; the tests check that they match.
const (
	keyContentRange  = "Content-Range"
	keyXContentRange = "X-Content-Range"
	keySessionID     = "Session-Id"
	keyXSessionID    = "X-Session-Id"
	keyDisposition   = "Content-Disposition"
)

// segmentHeaders is what the headers of a segment request say.
type segmentHeaders struct {
	contentType    string
	hasRange       bool
	seg            ranges.Segment
	rangeValue     string // as written, for the log
	session        string
	hasDisposition bool
	fileName       string // path-stripped
}

// maxQuoted bounds how much of a client's header value a reason repeats.
const maxQuoted = 64

// quoteValue quotes a header value for a one-line reason, clipped to maxQuoted bytes.
func quoteValue(v string) string {
	if len(v) > maxQuoted {
		return fmt.Sprintf("%q...", v[:maxQuoted])
	}
	return fmt.Sprintf("%q", v)
}

// parseSegmentHeaders applies the header checks, in this order (docs/module-behavior.md §1.8 with
// the reference's answers): 400 no Content-Type; 415 multipart/form-data; 400 a malformed or
// conflicting range header, session header or Content-Disposition; 413 total above
// MaxFileSize or segment above MaxSegmentSize; 416 Content-Length absent, chunked or not
// E-S+1; 415 no Content-Disposition; 400 a range without a session ID or a session ID
// without a range.
func parseSegmentHeaders(r *http.Request, o *Options) (segmentHeaders, *failure) {
	var hd segmentHeaders
	h := r.Header

	// Content-Type.
	// An empty value is accepted like any non-multipart type, as the module does: browsers
	// send it for files of unknown type.
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return hd, fail(kindContentType, http.StatusBadRequest, "missing Content-Type")
	}
	hd.contentType = ct[0]
	if hasPrefixFold(hd.contentType, "multipart/form-data") {
		return hd, fail(kindMultipart, http.StatusUnsupportedMediaType, "a segment must not be multipart/form-data")
	}

	// Range: Content-Range and X-Content-Range, any number of times, all equal.
	first := ""
	for _, vs := range [2][]string{h[keyContentRange], h[keyXContentRange]} {
		for _, v := range vs {
			seg, err := ranges.ParseSegment(v)
			if err != nil {
				return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("malformed range header %s: %v", quoteValue(v), err))
			}
			if !hd.hasRange {
				hd.hasRange, hd.seg, hd.rangeValue, first = true, seg, v, v
			} else if seg != hd.seg {
				return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("range headers disagree: %s and %s", quoteValue(first), quoteValue(v)))
			}
		}
	}

	// Session: Session-ID and X-Session-ID, any number of times, all equal.
	for _, vs := range [2][]string{h[keySessionID], h[keyXSessionID]} {
		for _, v := range vs {
			v = strings.Trim(v, " \t")
			if !protocol.ValidSessionID(v) {
				return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("invalid session ID %s: it must match [A-Za-z0-9_-]{1,%d}", quoteValue(v), protocol.MaxSessionIDLen))
			}
			if hd.session == "" {
				hd.session = v
			} else if v != hd.session {
				return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("session headers disagree: %s and %s", quoteValue(hd.session), quoteValue(v)))
			}
		}
	}

	// Content-Disposition.
	if cds := h[keyDisposition]; len(cds) > 0 {
		for _, v := range cds[1:] {
			if v != cds[0] {
				return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("Content-Disposition headers disagree: %s and %s", quoteValue(cds[0]), quoteValue(v)))
			}
		}
		name, ok := parseDisposition(cds[0])
		if !ok {
			return hd, fail(kindMalformed, http.StatusBadRequest, fmt.Sprintf("Content-Disposition %s is neither attachment nor form-data", quoteValue(cds[0])))
		}
		hd.hasDisposition, hd.fileName = true, name
	}

	if hd.hasRange {
		if o.MaxFileSize > 0 && hd.seg.Total > o.MaxFileSize {
			return hd, fail(kindTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("total %d is above the limit of %d bytes", hd.seg.Total, o.MaxFileSize))
		}
		if o.MaxSegmentSize > 0 && hd.seg.Len() > o.MaxSegmentSize {
			return hd, fail(kindTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("segment of %d bytes is above the limit of %d bytes", hd.seg.Len(), o.MaxSegmentSize))
		}
		switch {
		case len(r.TransferEncoding) > 0:
			return hd, fail(kindLength, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("chunked body: a segment needs Content-Length %d", hd.seg.Len()))
		case r.ContentLength < 0 || len(h["Content-Length"]) == 0:
			return hd, fail(kindLength, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("missing Content-Length: the range needs %d", hd.seg.Len()))
		case r.ContentLength != hd.seg.Len():
			return hd, fail(kindLength, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("Content-Length %d does not match the range, which needs %d", r.ContentLength, hd.seg.Len()))
		}
	}
	if !hd.hasDisposition {
		return hd, fail(kindNoDisposition, http.StatusUnsupportedMediaType, "missing Content-Disposition")
	}
	switch {
	case !hd.hasRange && hd.session == "":
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a segment needs a Content-Range and a Session-ID header")
	case !hd.hasRange:
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a Session-ID without a Content-Range: the reference takes segments only")
	case hd.session == "":
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a Content-Range without a Session-ID")
	}
	return hd, nil
}

// parseDisposition reads a Content-Disposition value the way the module does
// (docs/module-behavior.md §1.4): the type must be attachment or form-data (any case, leading blanks
// allowed), followed by the end, `;`, `,` or a blank. The file name is the value of the first
// `filename=` parameter (the name matched in any case; `filename*=` is not read): quoted, it
// ends at the closing quote; unquoted, at the first `;` or the end, without trailing blanks.
// It is then path-stripped with protocol.BaseName. A missing filename gives "".
func parseDisposition(v string) (name string, ok bool) {
	v = strings.TrimLeft(v, " \t")
	var rest string
	for _, t := range []string{"attachment", "form-data"} {
		if hasPrefixFold(v, t) {
			rest = v[len(t):]
			if rest != "" && !strings.ContainsRune(";, \t", rune(rest[0])) {
				return "", false
			}
			ok = true
			break
		}
	}
	if !ok {
		return "", false
	}
	const param = "filename="
	for i := 1; i+len(param) <= len(rest); i++ {
		if !strings.ContainsRune(";, \t", rune(rest[i-1])) || !strings.EqualFold(rest[i:i+len(param)], param) {
			continue
		}
		val := rest[i+len(param):]
		if strings.HasPrefix(val, `"`) {
			val = val[1:]
			if j := strings.IndexByte(val, '"'); j >= 0 {
				val = val[:j]
			}
		} else {
			if j := strings.IndexByte(val, ';'); j >= 0 {
				val = val[:j]
			}
			val = strings.TrimRight(val, " \t")
		}
		return protocol.BaseName(val), true
	}
	return "", true
}
