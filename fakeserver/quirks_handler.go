package fakeserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// This file is where the handler turns into the real module, one quirk at a time. Each
// function names the quirk it serves and the section of docs/module-behavior.md it follows.

// maxReuseTail bounds the bytes of an earlier file kept for no-truncate-on-reuse.
const maxReuseTail = 64 << 20

// quirkState is what the quirks keep beside the sessions.
type quirkState struct {
	mu sync.Mutex
	// lastFile maps a session ID to the name of its last completed file
	// (no-truncate-on-reuse).
	lastFile map[string]string
	// old maps a session ID that started again after a completion to the bytes of the
	// earlier file, which the module's data file still holds (no-truncate-on-reuse).
	old map[string][]byte
	// tails maps a completed file name to the bytes that follow its total on the module's
	// disk: the tail of an earlier, longer file of the same session ID.
	tails map[string][]byte
}

// RecordHeaderOrder prepares srv and ln so that a handler from New with the drop-on-malformed
// quirk sees each request's headers in arrival order, as the module does (the last of two
// aliases wins, docs/module-behavior.md §1.3). It sets srv.ConnContext and returns the listener to
// serve on. Without it the handler guesses the order (the plain header name after its `X-`
// alias). Servers started by NewServer do this themselves.
func RecordHeaderOrder(srv *http.Server, ln net.Listener) net.Listener {
	prev := srv.ConnContext
	srv.ConnContext = orderConnContext
	if prev != nil {
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return orderConnContext(prev(ctx, c), c) }
	}
	return orderListener{ln}
}

// Failure kinds that only the quirks produce.
const (
	// kindClassC is a failure the module discovers after the body: with false-success it
	// answers with the backend's response (class C, docs/module-behavior.md §2.6).
	kindClassC failureKind = 100 + iota
	// kindState is a failed merge of the emulated state file (class C, §5, §7.7).
	kindState
	// kindCrash is a failed merge after the range list overran its buffer: the worker
	// crashes (class E, §7.8).
	kindCrash
	// kindRejected is answered with its status whatever the quirks (a 400 that the module's
	// grammar would not drop).
	kindRejected
)

// quirkOutcome decides how a failure is answered under the quirks (outcomeOf).
func (h *handler) quirkOutcome(f *failure) outcome {
	q := h.opts.Quirks
	switch f.kind {
	case kindMalformed:
		if q.Has(DropOnMalformed) {
			return dropConnection // class E, §2.7
		}
	case kindTotalMismatch:
		if q.Has(FalseSuccess) {
			return falseSuccess // class C, §2.6, §3.6
		}
	case kindClassC, kindState:
		return falseSuccess
	case kindCrash:
		return dropConnection
	}
	return answerStatus
}

// moduleSegmentHeaders reads the headers of a segment with the module's grammar
// (drop-on-malformed, docs/module-behavior.md §1.3-1.8), in arrival order.
func (h *handler) moduleSegmentHeaders(x *exchange) (segmentHeaders, *failure) {
	var hd segmentHeaders
	r, o := x.r, &h.opts
	ct := r.Header["Content-Type"]
	if len(ct) == 0 {
		return hd, fail(kindContentType, http.StatusBadRequest, "missing Content-Type")
	}
	hd.contentType = ct[0]
	if hasPrefixFold(hd.contentType, "multipart/form-data") {
		return hd, fail(kindMultipart, http.StatusUnsupportedMediaType, "a segment must not be multipart/form-data")
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
		hd.rangeValue = sc.Range.String()
	}
	switch sc.Verdict {
	case moduleHeadersDrop:
		return hd, fail(kindMalformed, http.StatusBadRequest, sc.Reason)
	case moduleHeadersTooLarge:
		return hd, fail(kindTooLarge, http.StatusRequestEntityTooLarge, sc.Reason)
	case moduleHeadersBadLength:
		return hd, fail(kindLength, http.StatusRequestedRangeNotSatisfiable, sc.Reason)
	case moduleHeadersNoDisposition:
		return hd, fail(kindNoDisposition, http.StatusUnsupportedMediaType, sc.Reason)
	}
	hd.hasDisposition, hd.fileName = true, sc.FileName
	switch {
	case !hd.hasRange && hd.session == "":
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a segment needs a Content-Range and a Session-ID header")
	case !hd.hasRange:
		return hd, fail(kindIncomplete, http.StatusBadRequest, "a Session-ID without a Content-Range: the reference takes segments only")
	case hd.session == "":
		return hd, h.noSession()
	}
	if f := h.longSessionID(hd.session); f != nil {
		return hd, f
	}
	if hd.seg.Start < 0 {
		// a start of 2^64-1 wrapped to -1: the module writes at a negative offset, which
		// fails with EINVAL after the body is read (class C, §1.6)
		return hd, h.classC(fmt.Sprintf("range start %d: a number wrapped past 2^63", hd.seg.Start))
	}
	return hd, nil
}

// String prints the range as the module's log does.
func (r moduleRange) String() string {
	return "bytes " + strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10) + "/" + strconv.FormatInt(r.Total, 10)
}

// longSessionID applies what the module does with a session ID longer than the reference
// allows (§1.5): 250-255 characters store the data but not the state (class C, with
// false-success); 256 or more cannot even create the data file (503, with drop-on-malformed,
// whose grammar has no length limit).
func (h *handler) longSessionID(id string) *failure {
	switch q := h.opts.Quirks; {
	case len(id) <= protocol.MaxSessionIDLen:
		return nil
	case len(id) >= 256 && q.Has(DropOnMalformed):
		return fail(kindStorage, http.StatusServiceUnavailable, "failed to create output file: file name too long")
	case len(id) < 256 && q.Has(FalseSuccess):
		return fail(kindClassC, http.StatusBadRequest, "failed to create or open state file: file name too long")
	}
	return fail(kindRejected, http.StatusBadRequest, fmt.Sprintf("invalid session ID: longer than %d characters", protocol.MaxSessionIDLen))
}

// classC is a failure the module finds after the body (class C with false-success), else the
// reference's 400.
func (h *handler) classC(reason string) *failure {
	if h.opts.Quirks.Has(FalseSuccess) {
		return fail(kindClassC, http.StatusBadRequest, reason)
	}
	return fail(kindRejected, http.StatusBadRequest, reason)
}

// noSession is a Content-Range without a session ID: class C with false-success (the module
// writes the bytes to a temporary file and forwards an empty form, §1.7, issue #10).
func (h *handler) noSession() *failure {
	if h.opts.Quirks.Has(FalseSuccess) {
		return fail(kindClassC, http.StatusBadRequest, "a Content-Range without a Session-ID")
	}
	return fail(kindIncomplete, http.StatusBadRequest, "a Content-Range without a Session-ID")
}

// segmentHeadersFor parses the headers of a segment: with the module's grammar under
// drop-on-malformed, else the reference's, with the false-success treatment of long session
// IDs.
func (h *handler) segmentHeadersFor(x *exchange) (segmentHeaders, *failure) {
	if h.opts.Quirks.Has(DropOnMalformed) {
		return h.moduleSegmentHeaders(x)
	}
	hd, f := parseSegmentHeaders(x.r, &h.opts)
	if f != nil && f.kind == kindMalformed && h.opts.Quirks.Has(FalseSuccess) {
		if id := sessionHeaderValue(x.r); len(id) > protocol.MaxSessionIDLen && validModuleSessionID(id) {
			if lf := h.longSessionID(id); lf != nil && lf.kind != kindMalformed {
				return hd, lf
			}
		}
	}
	if f != nil && f.kind == kindIncomplete && hd.hasRange && hd.session == "" {
		return hd, h.noSession()
	}
	return hd, f
}

// sessionHeaderValue returns the first session header's value.
func sessionHeaderValue(r *http.Request) string {
	for _, k := range [...]string{keySessionID, keyXSessionID} {
		if vs := r.Header[k]; len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// stateQuirks reports whether segments merge through the emulated state file.
func (h *handler) stateQuirks() bool {
	q := h.opts.Quirks
	return q.Has(RangeListCut) || q.Has(StateWindow) || q.Has(SingleByteStateBug)
}

// merger returns the emulation switches of the quirks.
func (h *handler) merger() moduleMerger {
	q := h.opts.Quirks
	return moduleMerger{window: q.Has(StateWindow), singleByteBug: q.Has(SingleByteStateBug), cut: q.Has(RangeListCut)}
}

// stateFileOf formats acknowledged ranges as the module's state file.
func stateFileOf(set *ranges.Set) []byte {
	var b bytes.Buffer
	if set == nil {
		return nil
	}
	for _, r := range set.Ranges() {
		fmt.Fprintf(&b, "%d-%d/%d\n", r.Start, r.End, set.Total())
	}
	return b.Bytes()
}

// setOfState reads the emulated state file back as a range set: the ranges the module
// believes it has (misread or not). Lines it cannot read are left out.
func setOfState(state []byte, total int64) *ranges.Set {
	set := ranges.NewSet(total)
	for _, line := range bytes.Split(state, []byte("\n")) {
		var s, e, t int64
		if _, err := fmt.Sscanf(string(line), "%d-%d/%d", &s, &e, &t); err == nil && t == total {
			set.Add(ranges.Range{Start: s, End: e})
		}
	}
	return set
}

// moduleCommit merges seg into the session's emulated state file (range-list-cut,
// state-window, single-byte-state-bug; docs/module-behavior.md §2.2, §5, §7.7, §7.8). s.mu is
// held. It returns the list of the 201 and whether the module completes, or the failure:
// kindState (class C) or kindCrash (class E, the worker crash).
func (h *handler) moduleCommit(s *session, seg ranges.Segment) (string, bool, *failure) {
	if !s.modLoaded {
		s.modState, s.modLoaded = stateFileOf(s.acked), true
	}
	res := h.merger().merge(s.modState, moduleRange{Start: seg.Start, End: seg.End, Total: seg.Total})
	s.modState = res.State
	if res.Err != nil {
		if res.Overrun && h.opts.Quirks.Has(StateWindow) {
			return "", false, fail(kindCrash, http.StatusInternalServerError, oneLine(res.Err.Error()))
		}
		return "", false, fail(kindState, http.StatusInternalServerError, oneLine(res.Err.Error()))
	}
	next := setOfState(res.State, s.total)
	if res.Complete {
		next = ranges.NewSet(s.total)
		next.Add(ranges.Range{Start: 0, End: s.total - 1})
		s.modState, s.modLoaded = nil, true // the module deletes the state file
	}
	if err := s.upload.Commit(seg.Range(), next.Ranges()); err != nil {
		return "", false, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot store the state: %v", err)))
	}
	s.acked, s.list = next, ""
	return res.List, res.Complete, nil
}

// drainBody reads and discards what is left of the body, as the module does before a silent
// failure (class C): the client finishes sending and then gets the backend's answer.
func (h *handler) drainBody(x *exchange) {
	n := x.r.ContentLength - x.in
	if n <= 0 || len(x.r.TransferEncoding) > 0 {
		return
	}
	_ = h.readBody(x, ranges.Range{Start: 0, End: n - 1}, nil, nil) // a body that breaks leaves nothing to answer
}

// cleanupOnDisconnect is `upload_cleanup 400` (docs/module-behavior.md §7.5): a client that
// closes mid-body makes the module delete the session's data file, while the state keeps
// listing the ranges. The acknowledged bytes read back as zeros from then on. s.mu is held.
func (h *handler) cleanupOnDisconnect(s *session, err error) {
	if !h.opts.Quirks.Has(CleanupOnDisconnect) || !errors.Is(err, io.ErrUnexpectedEOF) || s.upload == nil || s.acked == nil {
		return
	}
	zero := make([]byte, 64<<10)
	for _, r := range s.acked.Ranges() {
		for off := r.Start; off <= r.End; {
			n := min(int64(len(zero)), r.End-off+1)
			if _, err := s.upload.WriteAt(zero[:n], off); err != nil {
				return // the emulated deletion is best effort
			}
			off += n
		}
	}
}

// detachCompleted is restart-after-complete (docs/module-behavior.md §3.5, issue #46): the module
// deletes the state file as soon as the file is complete, before the backend answers, so the
// next segment of the session ID starts a new session. The session leaves the map; the
// requests that hold it finish with it.
func (h *handler) detachCompleted(s *session) {
	if !h.opts.Quirks.Has(RestartAfterComplete) {
		return
	}
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
}

// reuseStarted records, for no-truncate-on-reuse, that session id starts again: the module's
// data file of the ID still holds the earlier file (docs/module-behavior.md §3.7).
func (h *handler) reuseStarted(id string) {
	if !h.opts.Quirks.Has(NoTruncateOnReuse) {
		return
	}
	h.quirks.mu.Lock()
	name, ok := h.quirks.lastFile[id]
	h.quirks.mu.Unlock()
	if !ok {
		return
	}
	f, err := h.opts.Store.OpenFile(name)
	if err != nil {
		return
	}
	defer f.Close()
	tail := h.tailOf(name)
	size := f.Size() + int64(len(tail))
	if size > maxReuseTail {
		return
	}
	buf := make([]byte, size)
	if _, err := readFull(f, buf, tail); err != nil {
		return
	}
	h.quirks.mu.Lock()
	if h.quirks.old == nil {
		h.quirks.old = map[string][]byte{}
	}
	h.quirks.old[id] = buf
	h.quirks.mu.Unlock()
}

// readFull fills buf from f and then from tail.
func readFull(f File, buf, tail []byte) (int, error) {
	n, err := f.ReadAt(buf[:min(int64(len(buf)), f.Size())], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	n += copy(buf[n:], tail)
	return n, nil
}

// completed records a completed file of session id (no-truncate-on-reuse): its name, and the
// tail that an earlier, longer file of the ID leaves behind it.
func (h *handler) completed(id, name string, total int64) {
	if !h.opts.Quirks.Has(NoTruncateOnReuse) {
		return
	}
	h.quirks.mu.Lock()
	defer h.quirks.mu.Unlock()
	if h.quirks.lastFile == nil {
		h.quirks.lastFile, h.quirks.tails = map[string]string{}, map[string][]byte{}
	}
	h.quirks.lastFile[id] = name
	old := h.quirks.old[id]
	delete(h.quirks.old, id)
	if int64(len(old)) > total {
		h.quirks.tails[name] = append([]byte(nil), old[total:]...)
	} else {
		delete(h.quirks.tails, name)
	}
}

// tailOf returns the bytes that follow the completed file name on the module's disk.
func (h *handler) tailOf(name string) []byte {
	h.quirks.mu.Lock()
	defer h.quirks.mu.Unlock()
	return h.quirks.tails[name]
}

// withTail returns f followed by its tail, if it has one.
func (h *handler) withTail(name string, f File) File {
	if tail := h.tailOf(name); len(tail) > 0 {
		return tailFile{File: f, tail: tail}
	}
	return f
}

// tailFile is a completed file followed by the tail of an earlier file.
type tailFile struct {
	File
	tail []byte
}

// Size includes the tail.
func (t tailFile) Size() int64 { return t.File.Size() + int64(len(t.tail)) }

// ReadAt reads across the file and its tail.
func (t tailFile) ReadAt(p []byte, off int64) (int, error) {
	base := t.File.Size()
	n := 0
	if off < base {
		m, err := t.File.ReadAt(p[:min(int64(len(p)), base-off)], off)
		n += m
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
	}
	if n < len(p) {
		toff := off + int64(n) - base
		if toff >= int64(len(t.tail)) {
			return n, io.EOF
		}
		n += copy(p[n:], t.tail[toff:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// formFields returns the size and digest fields of the backend form under
// size-from-last-segment and empty-digests (docs/module-behavior.md §2.3, issues #106, #22).
func (h *handler) formFields(hd *segmentHeaders, size int64, md5sum, sha1sum string) (int64, string, string) {
	q := h.opts.Quirks
	if q.Has(SizeFromLastSegment) {
		size = hd.seg.End + 1
	}
	if q.Has(EmptyDigests) {
		md5sum, sha1sum = "", ""
	}
	return size, md5sum, sha1sum
}
