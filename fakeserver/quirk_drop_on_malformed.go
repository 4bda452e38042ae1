package fakeserver

import (
	"fmt"
	"net/http"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// DropOnMalformed: a malformed range, session ID or Content-Disposition closes the
// connection without a response (class E), with the module's own header grammar.
const DropOnMalformed Quirk = "drop-on-malformed"

func dropOnMalformedQuirk() quirkDef {
	return quirkDef{DropOnMalformed, "E",
		"a malformed range, session ID or Content-Disposition closes the connection without a byte; " +
			"module grammar: case-insensitive `bytes` + one space, empty numbers read as 0, leading zeros, " +
			"numbers wrap at 2^63, header names matched by prefix, the last header wins; a request that is no " +
			"segment is an ordinary upload handed to the backend (multipart/form-data with a boundary, or no " +
			"range header; multipart without a boundary: no response)",
		"docs/module-behavior.md §1.2-1.8, §2.7, §9; issues #14, #139",
		installDropOnMalformed}
}

// installDropOnMalformed replaces the header parsing with the module's grammar
// (quirks_header.go), read in arrival order (quirks_conn.go), and answers the requests that
// grammar finds to be no segment with the module's ordinary uploads (quirks_upload.go).
func installDropOnMalformed(q Quirk, b *behavior, h *handler) {
	b.headerOrder = true
	b.headers = func(x *exchange) (segmentHeaders, *failure) {
		hd, f := moduleSegmentHeaders(x, &h.opts)
		if f != nil && (f.outcome == dropConnection || f.outcome == ordinaryUpload || f.kind == kindStorage) {
			x.by(string(q))
		}
		return hd, f
	}
	uploads := &ordinaryUploads{h: h}
	respond := b.respond
	b.respond = func(x *exchange, rp response) response {
		if rp.outcome == ordinaryUpload {
			rp = uploads.serve(x)
		}
		return respond(x, rp)
	}
}

// moduleSegmentHeaders reads the headers of a segment with the module's grammar
// (docs/module-behavior.md §1.3-1.8), in arrival order. Where the grammar drops the connection
// the failure's outcome is dropConnection; a session ID longer than the reference allows is
// kindLongSessionID (256 characters or more: the module cannot create the data file, 500), a
// start wrapped below 0 is kindWrappedStart (false-success makes both class C).
func moduleSegmentHeaders(x *exchange, o *Options) (segmentHeaders, *failure) {
	var hd segmentHeaders
	r := x.r
	ct := r.Header["Content-Type"]
	if len(ct) == 0 {
		return hd, fail(kindContentType, http.StatusBadRequest, "missing Content-Type")
	}
	hd.contentType = ct[0]
	if hasPrefixFold(hd.contentType, "multipart/form-data") {
		// An ordinary form upload, whose range and session headers are ignored; without a
		// boundary the module answers nothing (§1.2, §9).
		if multipartBoundary(hd.contentType) == "" {
			f := fail(kindMalformed, http.StatusBadRequest, "multipart/form-data without a boundary")
			f.outcome = dropConnection
			return hd, f
		}
		f := fail(kindMultipart, http.StatusUnsupportedMediaType, "a segment must not be multipart/form-data")
		f.outcome = ordinaryUpload
		return hd, f
	}
	// client_max_body_size is nginx's own check, before the module runs (§1.8 step 1)
	if o.MaxSegmentSize > 0 && r.ContentLength > o.MaxSegmentSize {
		return hd, fail(kindTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf("Content-Length %d is above the limit of %d bytes", r.ContentLength, o.MaxSegmentSize))
	}
	cl := r.ContentLength
	if len(r.TransferEncoding) > 0 {
		cl = -1
	}
	sc := scanModuleHeaders(requestHeadersInOrder(r), cl, o.MaxFileSize)
	hd.session = sc.SessionID
	if sc.HasRange {
		hd.hasRange = true
		hd.seg = ranges.Segment{Start: sc.Range.Start, End: sc.Range.End, Total: sc.Range.Total}
		hd.rangeValue = moduleLogRange(sc.Range)
	}
	switch sc.Verdict {
	case moduleHeadersDrop:
		f := fail(kindMalformed, http.StatusBadRequest, sc.Reason)
		f.outcome = dropConnection // class E, §2.7
		return hd, f
	case moduleHeadersTooLarge:
		return hd, fail(kindTooLarge, http.StatusRequestEntityTooLarge, sc.Reason)
	case moduleHeadersBadLength:
		return hd, fail(kindLength, http.StatusRequestedRangeNotSatisfiable, sc.Reason)
	case moduleHeadersNoDisposition:
		return hd, fail(kindNoDisposition, http.StatusUnsupportedMediaType, sc.Reason)
	}
	hd.hasDisposition, hd.fileName = true, sc.FileName
	switch {
	case !hd.hasRange:
		// No range header: an ordinary upload of the whole body, stored under the session's
		// name when there is a session ID (§1.7, §9).
		f := fail(kindIncomplete, http.StatusBadRequest, "a segment needs a Content-Range header: the reference takes segments only")
		f.outcome = ordinaryUpload
		return hd, f
	case hd.session == "":
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a Content-Range without a Session-ID")
	}
	switch n := len(hd.session); {
	case n >= 256:
		// The module cannot even create the data file: nginx's 500 page for every segment
		// (§9; §1.5 names 503 for a body that did not come with the headers).
		return hd, fail(kindStorage, http.StatusInternalServerError, "failed to create output file: file name too long")
	case n > protocol.MaxSessionIDLen:
		return hd, fail(kindLongSessionID, http.StatusBadRequest, fmt.Sprintf("invalid session ID: longer than %d characters", protocol.MaxSessionIDLen))
	}
	if hd.seg.Start < 0 {
		// a start of 2^64-1 wrapped to -1: the module writes at a negative offset, which
		// fails with EINVAL after the body is read (class C with false-success, §1.6)
		return hd, fail(kindWrappedStart, http.StatusBadRequest, fmt.Sprintf("range start %d: a number wrapped past 2^63", hd.seg.Start))
	}
	return hd, nil
}
