// Package fakeserver is the reference server of the resumable-upload protocol of
// nginx-upload-module: an http.Handler (New), a helper that runs it on a free loopback port
// (NewServer), and the stores that keep sessions in memory (NewMemoryStore) or in a data
// directory (NewDirStore).
//
// A segment is a POST to Options.Path carrying `Content-Range: bytes S-E/T` (or
// X-Content-Range), `Session-ID` (or X-Session-ID), `Content-Disposition: attachment;
// filename="name"` and a Content-Type, with a body of exactly E-S+1 bytes. The answer is 201
// with a `Range` header and an identical body listing every range acknowledged in the session
// (`0-5/24,9-15/24`), or, for the segment that completes the file, the backend's answer.
//
// Checks, in this order (close to the module's, docs/module-behavior.md §1.8):
//
//  1. method: OPTIONS 200 empty; anything but POST 405;
//  2. 400 no Content-Type; 415 multipart/form-data;
//  3. 400 a malformed range, session ID or Content-Disposition, or two headers of one kind
//     (aliases included) whose values disagree;
//  4. 413 total above MaxFileSize, segment above MaxSegmentSize;
//  5. 416 Content-Length absent, chunked or not E-S+1 (before any body byte is read, so an
//     `Expect: 100-continue` client is never asked for the body);
//  6. 415 no Content-Disposition;
//  7. 400 a range without a session ID, a session ID without a range;
//  8. under the session's lock: 409 a total that differs from the session's; 409 a range that
//     overlaps a segment of the session still in flight;
//  9. the body is read (100 Continue is sent here); a short body or a stalled client leaves
//     nothing acknowledged;
//  10. the new bytes and then the new state are stored, and only then the range is
//     acknowledged: 201, or the completion.
//
// Acknowledged bytes are immutable: the bytes of a segment that fall inside ranges already
// acknowledged are read and discarded. A retry of any segment of a session completed less
// than CompletionTTL ago gets the completion answer again.
package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upspec/upspec/ranges"
)

// bodyBufferSize is the size of the pooled buffers that bodies stream through.
const bodyBufferSize = 256 << 10

// maxBackendAnswer bounds the backend answer kept for replays; a larger one is a 502.
const maxBackendAnswer = 4 << 20

// failureKind classifies rejected requests, so that quirks can answer a class differently.
type failureKind int

const (
	kindMethod        failureKind = iota // a method other than POST or OPTIONS
	kindContentType                      // no Content-Type
	kindMultipart                        // multipart/form-data
	kindMalformed                        // a malformed or conflicting range, session or disposition
	kindTooLarge                         // above MaxFileSize or MaxSegmentSize
	kindLength                           // Content-Length absent, chunked or not E-S+1
	kindNoDisposition                    // no Content-Disposition
	kindIncomplete                       // a range without a session ID or the reverse
	kindTotalMismatch                    // the total differs from the session's
	kindOverlap                          // the range overlaps a segment in flight
	kindBody                             // the body was short, stalled or unreadable
	kindStorage                          // the store failed
)

// failure is a rejected request: its class, status and one-line reason.
type failure struct {
	kind   failureKind
	status int
	reason string
}

func fail(kind failureKind, status int, reason string) *failure {
	return &failure{kind: kind, status: status, reason: reason}
}

// outcome is how the handler answers a failure.
type outcome int

const (
	// answerStatus answers with the failure's status and reason (the reference).
	answerStatus outcome = iota
	// dropConnection closes the connection without a byte (the module's class E).
	dropConnection
	// falseSuccess hands an empty form to the backend and relays its answer (the module's
	// class C).
	falseSuccess
)

// outcomeOf is the decision point where quirks change how a failure is answered
// (quirkOutcome, quirks_handler.go); without quirks every failure is answered with its status.
func (h *handler) outcomeOf(f *failure) outcome { return h.quirkOutcome(f) }

// phase is where a session stands.
type phase int

const (
	phaseActive   phase = iota // taking segments
	phaseComplete              // every byte acknowledged; not (yet) handed to the backend
	phaseDone                  // handed over; the answer is kept for retries until expires
)

// session is the handler's view of one session. mu is held for checks and commits, never
// while a body streams.
type session struct {
	id      string
	expires atomic.Int64 // unix nanoseconds after which a done session is forgotten; 0: never

	mu       sync.Mutex
	dead     bool // removed from the map: look the ID up again
	loaded   bool // the store was asked
	upload   Upload
	total    int64       // 0: no session yet
	acked    *ranges.Set // nil: nothing acknowledged
	list     string      // acked formatted, "" when stale
	inflight []ranges.Range
	phase    phase
	handing  bool          // a request is handing the file to the backend
	done     chan struct{} // closed when that hand-off ends
	stored   string        // name of the completed file once Finish succeeded
	answer   *answer       // the completion answer, in phaseDone

	modState  []byte // the module's state file, emulated for the state quirks (quirks_state.go)
	modLoaded bool   // modState was built from the acknowledged ranges
}

// reset forgets everything of the session (an expired completion).
func (s *session) reset() {
	s.upload, s.total, s.acked, s.list, s.inflight = nil, 0, nil, "", nil
	s.phase, s.handing, s.done, s.stored, s.answer = phaseActive, false, nil, "", nil
	s.modState, s.modLoaded = nil, false
	s.expires.Store(0)
}

// expiredLocked reports whether the session's completion has expired at now and nothing
// holds it any more: no hand-off and no segment still streaming, whose request would
// otherwise finish in a session started again under it. s.mu is held.
func (s *session) expiredLocked(now time.Time) bool {
	return s.phase == phaseDone && !s.handing && len(s.inflight) == 0 && now.UnixNano() > s.expires.Load()
}

// handler is the reference server's http.Handler.
type handler struct {
	opts Options
	pool sync.Pool // *[]byte of bodyBufferSize
	now  func() time.Time

	mu        sync.Mutex // guards sessions and lastSweep; never held while waiting for a session
	sessions  map[string]*session
	lastSweep time.Time

	quirks quirkState // what the quirks keep beside the sessions (quirks_handler.go)

	activeN    atomic.Int64 // requests in ServeHTTP
	activeMu   sync.Mutex
	activeIdle *sync.Cond
}

// New returns the reference server as an http.Handler. The segment endpoint is opts.Path,
// completed files are served under opts.FilePrefix, everything else is 404.
func New(opts Options) http.Handler { return newHandler(opts) }

func newHandler(opts Options) *handler {
	h := &handler{
		opts:     opts.withDefaults(),
		now:      time.Now,
		sessions: map[string]*session{},
	}
	h.pool.New = func() any { b := make([]byte, bodyBufferSize); return &b }
	h.activeIdle = sync.NewCond(&h.activeMu)
	return h
}

// wait returns when no request is in ServeHTTP.
func (h *handler) wait() {
	h.activeMu.Lock()
	for h.activeN.Load() > 0 {
		h.activeIdle.Wait()
	}
	h.activeMu.Unlock()
}

// exchange is one request in progress, with what the log line needs.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	session string
	rng     string
	status  int
	in      int64 // body bytes read
	out     int64 // response body bytes written
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.activeN.Add(1)
	defer func() {
		if h.activeN.Add(-1) == 0 {
			h.activeMu.Lock()
			h.activeIdle.Broadcast()
			h.activeMu.Unlock()
		}
	}()
	x := &exchange{w: w, r: r}
	if h.opts.Logf != nil {
		start := time.Now()
		defer func() {
			h.opts.Logf("%s %s session=%s range=%s status=%d in=%d out=%d %s",
				r.Method, r.URL.Path, orDash(x.session), orDash(x.rng), x.status, x.in, x.out,
				time.Since(start).Round(time.Microsecond))
		}()
	}
	switch p := r.URL.Path; {
	case p == h.opts.Path:
		h.serveUpload(x)
	case strings.HasPrefix(p, h.opts.FilePrefix):
		h.serveFile(x, p[len(h.opts.FilePrefix):])
	default:
		h.writeError(x, http.StatusNotFound, "not found")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// serveUpload handles the segment endpoint.
func (h *handler) serveUpload(x *exchange) {
	switch x.r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		x.status = http.StatusOK
		x.w.Header().Set("Content-Length", "0")
		x.w.WriteHeader(http.StatusOK)
		return
	default:
		x.w.Header().Set("Allow", "POST, OPTIONS")
		h.fail(x, fail(kindMethod, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: segments are POSTed", x.r.Method)))
		return
	}
	hd, f := h.segmentHeadersFor(x)
	x.session, x.rng = hd.session, hd.rangeValue
	if f != nil {
		h.fail(x, f)
		return
	}
	h.serveSegment(x, &hd)
}

// ticket is a segment admitted into its session.
type ticket struct {
	s      *session
	upload Upload
	gaps   []ranges.Range // the bytes of the segment not yet acknowledged: written
	after  bool           // the session is already complete: discard the body, then answer the completion
	classC bool           // false-success: store the bytes, change nothing else, answer as the module's class C
}

// serveSegment runs a segment whose headers passed: admit, stream, commit, answer.
func (h *handler) serveSegment(x *exchange, hd *segmentHeaders) {
	t, f := h.admit(hd)
	if f != nil {
		h.fail(x, f)
		return
	}
	r := hd.seg.Range()
	if t.after {
		if err := h.readBody(x, r, nil, nil); err != nil {
			h.fail(x, bodyFailure(err))
			return
		}
		h.answerCompleted(x, t.s, hd)
		return
	}
	err := h.readBody(x, r, t.upload, t.gaps)
	if err == nil && len(t.gaps) > 0 {
		err = t.upload.Flush()
	}
	s := t.s
	s.mu.Lock()
	s.release(r)
	if err != nil {
		h.cleanupOnDisconnect(s, err)
		h.dropIfEmpty(s)
		s.mu.Unlock()
		h.fail(x, bodyFailure(err))
		return
	}
	if t.classC {
		total := s.total
		s.mu.Unlock()
		h.fail(x, fail(kindClassC, http.StatusConflict, fmt.Sprintf("total %d differs from the session's total %d", hd.seg.Total, total)))
		return
	}
	if s.phase != phaseActive {
		// Completed by another request while this one (all of it acknowledged) streamed.
		s.mu.Unlock()
		h.answerCompleted(x, s, hd)
		return
	}
	var moduleList string
	var complete bool
	if h.stateQuirks() {
		moduleList, complete, f = h.moduleCommit(s, hd.seg)
	} else {
		complete, f = h.commit(s, r, len(t.gaps) > 0)
	}
	if f != nil {
		s.mu.Unlock()
		h.fail(x, f)
		return
	}
	if complete {
		s.phase, s.handing, s.done = phaseComplete, true, make(chan struct{})
		h.detachCompleted(s)
		u, stored := s.upload, s.stored
		s.mu.Unlock()
		h.handOff(x, s, hd, u, stored)
		return
	}
	if moduleList != "" {
		s.mu.Unlock()
		h.write201(x, moduleList)
		return
	}
	if s.list == "" {
		s.list = s.acked.Format(h.opts.RangeFormat)
	}
	list := s.list
	s.mu.Unlock()
	h.write201(x, list)
}

// commit acknowledges r in the session once its new bytes are stored (written is false when
// the segment brought none) and reports whether the file is complete. s.mu is held.
func (h *handler) commit(s *session, r ranges.Range, written bool) (complete bool, f *failure) {
	if written {
		next := s.acked.Clone()
		if next == nil {
			next = ranges.NewSet(s.total)
		}
		if next.Add(r) {
			if err := s.upload.Commit(r, next.Ranges()); err != nil {
				h.dropIfEmpty(s)
				return false, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot store the state: %v", err)))
			}
			s.acked, s.list = next, ""
		}
	}
	// A nil set reads as complete (total 0): a session with nothing acknowledged never is.
	return s.acked != nil && s.acked.Complete(), nil
}

// inflightOverlap returns an in-flight claim that overlaps r; s.mu is held.
func (s *session) inflightOverlap(r ranges.Range) (ranges.Range, bool) {
	for _, c := range s.inflight {
		if c.Start <= r.End && r.Start <= c.End {
			return c, true
		}
	}
	return ranges.Range{}, false
}

// release removes the in-flight claim r.
func (s *session) release(r ranges.Range) {
	for i, c := range s.inflight {
		if c == r {
			s.inflight[i] = s.inflight[len(s.inflight)-1]
			s.inflight = s.inflight[:len(s.inflight)-1]
			return
		}
	}
}

// lookup returns the session of id, creating an empty one, locked and not dead.
func (h *handler) lookup(id string) *session {
	for {
		h.mu.Lock()
		s := h.sessions[id]
		if s == nil {
			s = &session{id: id}
			h.sessions[id] = s
			h.sweepLocked()
		}
		h.mu.Unlock()
		s.mu.Lock()
		if !s.dead {
			return s
		}
		s.mu.Unlock()
	}
}

// sweepLocked forgets completed sessions whose time is up, at most once per sweep interval;
// h.mu is held. It never waits for a session.
func (h *handler) sweepLocked() {
	now := h.now()
	every := min(h.opts.CompletionTTL, time.Minute)
	if now.Sub(h.lastSweep) < every {
		return
	}
	h.lastSweep = now
	for id, s := range h.sessions {
		if exp := s.expires.Load(); exp == 0 || now.UnixNano() <= exp || !s.mu.TryLock() {
			continue
		}
		if s.expiredLocked(now) {
			s.dead = true
			delete(h.sessions, id)
		}
		s.mu.Unlock()
	}
}

// dropIfEmpty forgets a session that holds nothing: nothing acknowledged, nothing in flight.
// s.mu is held.
func (h *handler) dropIfEmpty(s *session) {
	if s.phase != phaseActive || s.acked != nil || len(s.inflight) > 0 {
		return
	}
	if s.upload != nil {
		_ = s.upload.Discard() // nothing of it was acknowledged; a failure leaves only garbage
		s.upload = nil
	}
	s.dead = true
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
}

// admit checks a segment against its session and claims its range.
func (h *handler) admit(hd *segmentHeaders) (ticket, *failure) {
	s := h.lookup(hd.session)
	defer s.mu.Unlock()
	if !s.loaded {
		s.loaded = true
		u, ok, err := h.opts.Store.Load(s.id)
		if err != nil {
			h.dropIfEmpty(s)
			return ticket{}, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot load the session: %v", err)))
		}
		if ok {
			s.upload, s.total = u, u.Total()
			if rs := u.Ranges(); len(rs) > 0 {
				s.acked = ranges.NewSet(s.total)
				for _, r := range rs {
					s.acked.Add(r)
				}
				if s.acked.Complete() {
					s.phase = phaseComplete
				}
			}
		}
	}
	if s.expiredLocked(h.now()) {
		s.reset()
	}
	seg := hd.seg
	if s.total != 0 && seg.Total != s.total && h.opts.Quirks.Has(FalseSuccess) && s.upload != nil && s.phase == phaseActive {
		// Class C (docs/module-behavior.md §3.6): the bytes go into the data file, the state
		// stays as it is, the backend's answer is relayed.
		var gaps []ranges.Range
		if r := seg.Range(); r.Start < s.total {
			gaps = []ranges.Range{{Start: r.Start, End: min(r.End, s.total-1)}}
		}
		return ticket{s: s, upload: s.upload, gaps: gaps, classC: true}, nil
	}
	if s.total != 0 && seg.Total != s.total {
		f := fail(kindTotalMismatch, http.StatusConflict, fmt.Sprintf("total %d differs from the session's total %d", seg.Total, s.total))
		h.dropIfEmpty(s)
		return ticket{}, f
	}
	if s.phase != phaseActive {
		return ticket{s: s, after: true}, nil
	}
	r := seg.Range()
	if c, ok := s.inflightOverlap(r); ok && !h.opts.Quirks.Has(NoOverlapRejection) { // the quirk: never a 409, §4
		return ticket{}, fail(kindOverlap, http.StatusConflict, fmt.Sprintf("range %d-%d overlaps segment %d-%d of the session, still in flight", r.Start, r.End, c.Start, c.End))
	}
	if s.upload == nil {
		h.reuseStarted(s.id)
		u, err := h.opts.Store.Create(s.id, seg.Total)
		if err != nil {
			h.dropIfEmpty(s)
			return ticket{}, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot create the session: %v", err)))
		}
		s.upload, s.total = u, seg.Total
	}
	var gaps []ranges.Range
	switch {
	case s.acked == nil || !s.acked.Overlaps(r) || h.opts.Quirks.Has(NoOverlapRejection):
		// (no-overlap-rejection: every byte is written again, the last write wins, §3.2)
		gaps = []ranges.Range{r}
	case s.acked.Contains(r):
		// nothing new: read and discard
	default:
		one := ranges.NewSet(s.total)
		one.Add(r)
		gaps = one.Subtract(s.acked)
	}
	s.inflight = append(s.inflight, r)
	return ticket{s: s, upload: s.upload, gaps: gaps}, nil
}

// errBodyTimeout marks a body read that waited longer than BodyReadTimeout.
var errBodyTimeout = errors.New("body read timed out")

// bodyFailure turns an error of readBody into the failure answered (if the client still
// listens).
func bodyFailure(err error) *failure {
	switch {
	case errors.Is(err, errBodyTimeout):
		return fail(kindBody, http.StatusRequestTimeout, "the body stalled: no byte within the read timeout")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(kindBody, http.StatusBadRequest, "the body is shorter than Content-Length")
	default:
		return fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot store the segment: %v", err)))
	}
}

// readBody streams the body of range r through a pooled buffer, writing into u the parts that
// fall in gaps (sorted, disjoint, inside r) and discarding the rest. Each read must come
// within BodyReadTimeout.
func (h *handler) readBody(x *exchange, r ranges.Range, u Upload, gaps []ranges.Range) error {
	rc := http.NewResponseController(x.w)
	bp := h.pool.Get().(*[]byte)
	defer h.pool.Put(bp)
	buf := *bp
	body := x.r.Body
	off, remaining := r.Start, r.Len()
	for remaining > 0 {
		limit := int(min(int64(len(buf)), remaining))
		n := 0
		for n < limit {
			if err := rc.SetReadDeadline(time.Now().Add(h.opts.BodyReadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return fmt.Errorf("set read deadline: %w", err)
			}
			m, err := body.Read(buf[n:limit])
			n += m
			if err != nil {
				if errors.Is(err, io.EOF) && int64(n) == remaining {
					break
				}
				x.in += int64(n)
				var ne interface{ Timeout() bool }
				switch {
				case errors.Is(err, io.EOF):
					return io.ErrUnexpectedEOF
				case errors.As(err, &ne) && ne.Timeout():
					return errBodyTimeout
				case errors.Is(err, io.ErrUnexpectedEOF):
					return io.ErrUnexpectedEOF
				}
				return fmt.Errorf("read body: %w: %w", io.ErrUnexpectedEOF, err)
			}
		}
		end := off + int64(n) - 1
		for len(gaps) > 0 && gaps[0].Start <= end {
			a, b := max(gaps[0].Start, off), min(gaps[0].End, end)
			if _, err := u.WriteAt(buf[a-off:b-off+1], a); err != nil {
				x.in += int64(n)
				return err
			}
			if gaps[0].End > end {
				break
			}
			gaps = gaps[1:]
		}
		off += int64(n)
		remaining -= int64(n)
		x.in += int64(n)
	}
	// The connection's later reads (the next request, the server's watch for a closed
	// connection) are under the server's own timeouts.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("clear read deadline: %w", err)
	}
	return nil
}

// answerCompleted answers a segment of a session that is already complete: the kept
// completion answer, or a new hand-off when the last one failed.
func (h *handler) answerCompleted(x *exchange, s *session, hd *segmentHeaders) {
	s.mu.Lock()
	for {
		switch {
		case s.phase == phaseDone:
			a := s.answer
			s.mu.Unlock()
			h.writeAnswer(x, a)
			return
		case s.phase == phaseComplete && s.handing:
			ch := s.done
			s.mu.Unlock()
			select {
			case <-ch:
			case <-x.r.Context().Done():
				h.fail(x, fail(kindBody, http.StatusServiceUnavailable, "the request ended while the completion was handed to the backend"))
				return
			}
			s.mu.Lock()
		case s.phase == phaseComplete:
			s.handing, s.done = true, make(chan struct{})
			u, stored := s.upload, s.stored
			s.mu.Unlock()
			h.handOff(x, s, hd, u, stored)
			return
		default:
			// Forgotten while this request streamed (its completion expired).
			s.mu.Unlock()
			h.fail(x, fail(kindTotalMismatch, http.StatusConflict, "the session's completion expired; start the session again"))
			return
		}
	}
}

// handOff hands the complete file to the backend; the caller set s.handing. u is the
// session's upload, or nil when an earlier hand-off already finished it as stored.
func (h *handler) handOff(x *exchange, s *session, hd *segmentHeaders, u Upload, stored string) {
	a, f := h.completion(x, s, hd, u, &stored)
	s.mu.Lock()
	s.handing = false
	close(s.done)
	if stored != "" {
		s.upload, s.stored = nil, stored
	}
	if a != nil {
		s.phase, s.answer = phaseDone, a
		s.expires.Store(h.now().Add(h.opts.CompletionTTL).UnixNano())
	}
	s.mu.Unlock()
	if f != nil {
		h.fail(x, f)
		return
	}
	h.writeAnswer(x, a)
}

// completion finishes the session into its completed file (once) and asks the backend.
func (h *handler) completion(x *exchange, s *session, hd *segmentHeaders, u Upload, stored *string) (*answer, *failure) {
	var file File
	var err error
	if *stored == "" {
		name := hd.fileName
		if !validFileName(name) {
			name = s.id
		}
		if file, err = u.Finish(name); err != nil {
			return nil, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot finish the file: %v", err)))
		}
		h.completed(s.id, name, u.Total())
		file = h.withTail(name, file)
		*stored = name
	}
	if h.opts.UploadPass == "" {
		if file != nil {
			_ = file.Close() // opened for reading only
		}
		return builtinAnswer(), nil
	}
	if file == nil {
		if file, err = h.opts.Store.OpenFile(*stored); err != nil {
			return nil, fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot open the completed file: %v", err)))
		}
	}
	defer file.Close()
	a, err := h.passToBackend(x.r.Context(), x.r, hd, file)
	if err != nil {
		return nil, fail(kindStorage, http.StatusBadGateway, oneLine(fmt.Sprintf("backend: %v", err)))
	}
	return a, nil
}

// fail answers a rejected request as outcomeOf decides.
func (h *handler) fail(x *exchange, f *failure) {
	switch h.outcomeOf(f) {
	case dropConnection:
		h.drop(x)
	case falseSuccess:
		h.falseSuccess(x)
	default:
		h.writeError(x, f.status, f.reason)
	}
}

// drop closes the connection without sending a byte.
func (h *handler) drop(x *exchange) {
	x.status = 0
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection without an answer
	}
	_ = conn.Close() // nothing else to do with it
}

// falseSuccess answers a rejected request the way the module's class C does: the backend
// gets a form without the file and its answer is relayed.
func (h *handler) falseSuccess(x *exchange) {
	h.drainBody(x)
	if h.opts.UploadPass == "" {
		h.writeAnswer(x, builtinAnswer())
		return
	}
	a, err := h.passEmpty(x.r.Context(), x.r)
	if err != nil {
		h.writeError(x, http.StatusBadGateway, oneLine(fmt.Sprintf("backend: %v", err)))
		return
	}
	h.writeAnswer(x, a)
}

// oneLine replaces line breaks so that a reason stays on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// writeError answers status with a one-line text/plain reason.
func (h *handler) writeError(x *exchange, status int, reason string) {
	hdr := x.w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(reason)+1))
	x.w.WriteHeader(status)
	n, _ := io.WriteString(x.w, reason+"\n") // a client that left cannot be told
	x.status, x.out = status, int64(n)
}

// write201 answers an accepted segment: the list in the Range header and as the body, no
// Content-Type, no trailing newline.
func (h *handler) write201(x *exchange, list string) {
	hdr := x.w.Header()
	hdr["Range"] = []string{list}
	hdr["Content-Length"] = []string{strconv.Itoa(len(list))}
	hdr["Content-Type"] = nil // no sniffed type either
	x.w.WriteHeader(http.StatusCreated)
	n, _ := io.WriteString(x.w, list) // a client that left cannot be told
	x.status, x.out = http.StatusCreated, int64(n)
}

// writeAnswer writes a completion answer.
func (h *handler) writeAnswer(x *exchange, a *answer) {
	hdr := x.w.Header()
	for k, vs := range a.header {
		hdr[k] = append([]string(nil), vs...)
	}
	if _, ok := a.header["Content-Type"]; !ok {
		hdr["Content-Type"] = nil
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	x.w.WriteHeader(a.status)
	n, _ := x.w.Write(a.body) // a client that left cannot be told
	x.status, x.out = a.status, int64(n)
}

// serveFile serves a completed file: GET or HEAD <FilePrefix><name>.
func (h *handler) serveFile(x *exchange, name string) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		x.w.Header().Set("Allow", "GET, HEAD")
		h.writeError(x, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on files", x.r.Method))
		return
	}
	if !validFileName(name) {
		h.writeError(x, http.StatusNotFound, "no such file")
		return
	}
	f, err := h.opts.Store.OpenFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		h.writeError(x, http.StatusNotFound, "no such file")
		return
	}
	if err != nil {
		h.writeError(x, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot open the file: %v", err)))
		return
	}
	f = h.withTail(name, f)
	defer f.Close()
	sw := &statusWriter{ResponseWriter: x.w, status: http.StatusOK}
	http.ServeContent(sw, x.r, name, time.Time{}, io.NewSectionReader(f, 0, f.Size()))
	x.status, x.out = sw.status, sw.n
}

// statusWriter records the status and size of an answer written by net/http helpers.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
