// Package fakeserver is the reference server of the resumable-upload protocol of
// nginx-upload-module: an http.Handler (New), a Server in the manner of httptest that owns
// every server setting (NewServer on a free loopback port, or NewUnstartedServer and Start
// on a listener of one's choice), and the stores that keep sessions in memory
// (NewMemoryStore) or in a data directory (NewDirStore). Quirks (Options.Quirks) make it
// behave as the real module does, one deviation at a time; scripted faults (Options.Faults,
// ParseFaultRule) make it fail on purpose; its journal and admin API (Admin, under
// Options.AdminPrefix) say what it saw.
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
	"net"
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
	values   map[any]any   // what deviations keep for the session (session.value)
	name     string        // the file name the latest segment carried (for inspection)
	touched  time.Time     // when a request last claimed or released a range (h.now), for SessionTTL
}

// reset forgets everything of the session (an expired completion).
func (s *session) reset() {
	s.upload, s.total, s.acked, s.list, s.inflight = nil, 0, nil, "", nil
	s.phase, s.handing, s.done, s.stored, s.answer = phaseActive, false, nil, "", nil
	s.values = nil
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
	createMu  sync.Mutex // serialises the creation of sessions under MaxSessions (limits.go)

	b *behavior // the decision points: the reference's, with the deviations installed

	journal *Journal      // every request answered (journal.go)
	faults  *faultPlans   // the scripted faults, the last deviation installed (faults.go)
	admin   http.Handler  // the admin API under opts.AdminPrefix (admin.go)
	files   fileList      // the files completed since the start
	stop    chan struct{} // closed when the server closes: a fault's wait ends
	stopped sync.Once

	activeN    atomic.Int64 // requests in ServeHTTP
	activeMu   sync.Mutex
	activeIdle *sync.Cond
}

// New returns the reference server as an http.Handler. The segment endpoint is opts.Path,
// completed files are served under opts.FilePrefix, the admin API under opts.AdminPrefix,
// other paths by opts.Fallback (404 without one); opts.CORSOrigins adds CORS (cors.go).
func New(opts Options) *Handler {
	h := newHandler(opts)
	return &Handler{h: h, next: corsHandler(h.opts.CORSOrigins, h)}
}

func newHandler(opts Options) *handler {
	h := &handler{
		opts:     opts.withDefaults(),
		now:      time.Now,
		sessions: map[string]*session{},
		stop:     make(chan struct{}),
	}
	h.pool.New = func() any { b := make([]byte, bodyBufferSize); return &b }
	h.journal = NewJournal(h.opts.JournalSize)
	h.faults = newFaultPlans(h, h.opts.Faults)
	h.b = newBehavior(h, h.deviations())
	h.admin = newAdminAPI(h)
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

// exchange is one request in progress, with what its journal entry and log line need.
type exchange struct {
	w        http.ResponseWriter
	r        *http.Request
	seq      int64     // the journal's sequence number
	start    time.Time // when the head was read
	hd       *segmentHeaders
	session  string
	rng      string
	status   int
	in       int64  // body bytes read
	out      int64  // response body bytes written
	outcome  string // OutcomeAnswered unless a deviation or the handler says otherwise
	recorded bool   // the journal has the entry
	reason   string // why the request was refused
	answer   string // the start of the answer's body (clipAnswer)
	// shapedBy names the deviations that shaped the answer, in the order they did; empty
	// for the reference behaviour.
	shapedBy []string
	values   map[any]any // what deviations keep for the request (exchange.value)
	// headers is where hd points for a segment request, so that one allocation serves the
	// whole request.
	headers segmentHeaders
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
	p := r.URL.Path
	if p != h.opts.Path && !strings.HasPrefix(p, h.opts.FilePrefix) && strings.HasPrefix(p, h.opts.AdminPrefix) {
		h.admin.ServeHTTP(w, r) // not journalled
		return
	}
	x := &exchange{w: w, r: r, seq: h.journal.Next(), start: time.Now(), outcome: OutcomeAnswered}
	defer h.record(x) // a file or an OPTIONS answer; a no-op when the answer was recorded
	switch {
	case p == h.opts.Path:
		h.serveUpload(x)
	case strings.HasPrefix(p, h.opts.FilePrefix):
		h.serveFile(x, p[len(h.opts.FilePrefix):])
	case h.opts.Fallback != nil:
		h.serveFallback(x)
	default:
		h.writeError(x, http.StatusNotFound, "not found")
	}
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
	var f *failure
	x.headers, f = h.b.headers(x)
	hd := &x.headers
	x.hd, x.session, x.rng = hd, hd.session, hd.rangeValue
	if f != nil {
		h.fail(x, f)
		return
	}
	h.serveSegment(x, hd)
}

// ticket is a segment admitted into its session.
type ticket struct {
	s       *session
	upload  Upload
	gaps    []ranges.Range // the bytes of the segment not yet acknowledged: written
	claimed bool           // the segment's range is an in-flight claim of the session, released after the body
	after   bool           // the session is already complete: discard the body, then answer the completion
	// refuse, when set, is the answer once the body is stored: the bytes are written and
	// nothing else changes (the module's class C stores a mismatched segment this way).
	refuse *failure
}

// serveSegment runs a segment whose headers passed: admit, stream, commit, answer.
func (h *handler) serveSegment(x *exchange, hd *segmentHeaders) {
	t, f := h.admit(x, hd)
	if f != nil {
		h.fail(x, f)
		return
	}
	r := hd.seg.Range()
	if t.after {
		if err := h.readBody(x, r, nil, nil); err != nil {
			closeAfterTimeout(x, err)
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
	if t.claimed {
		s.release(r)
		if h.opts.SessionTTL > 0 {
			s.touched = h.now()
		}
	}
	if err != nil {
		h.b.disconnect(x, s, err)
		h.dropIfEmpty(s)
		s.mu.Unlock()
		closeAfterTimeout(x, err)
		h.fail(x, bodyFailure(err))
		return
	}
	if t.refuse != nil {
		s.mu.Unlock()
		h.fail(x, t.refuse)
		return
	}
	if s.phase != phaseActive {
		// Completed by another request while this one (all of it acknowledged) streamed.
		s.mu.Unlock()
		h.answerCompleted(x, s, hd)
		return
	}
	list, complete, f := h.b.commit(x, s, hd.seg, len(t.gaps) > 0)
	if f != nil {
		s.mu.Unlock()
		h.fail(x, f)
		return
	}
	if complete {
		s.phase, s.handing, s.done = phaseComplete, true, make(chan struct{})
		h.b.complete(x, s)
		u, stored := s.upload, s.stored
		s.mu.Unlock()
		h.handOff(x, s, hd, u, stored)
		return
	}
	s.mu.Unlock()
	h.respond(x, response{outcome: answerRanges, list: list})
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

// gaps returns the parts of r not yet acknowledged, sorted and disjoint; s.mu is held.
func (s *session) gaps(r ranges.Range) []ranges.Range {
	switch {
	case s.acked == nil || !s.acked.Overlaps(r):
		return []ranges.Range{r}
	case s.acked.Contains(r):
		return nil // nothing new: read and discard
	}
	one := ranges.NewSet(s.total)
	one.Add(r)
	return one.Subtract(s.acked)
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

// lookup returns the session of id, creating an empty one, locked and not dead; now is the
// handler's time of the request, for the sweep.
func (h *handler) lookup(id string, now time.Time) *session {
	for {
		h.mu.Lock()
		s := h.sessions[id]
		if s == nil {
			s = &session{id: id}
			h.sessions[id] = s
		}
		idle := h.sweepLocked(now)
		h.mu.Unlock()
		if idle {
			h.expireIdle(now)
		}
		s.mu.Lock()
		if !s.dead {
			return s
		}
		s.mu.Unlock()
	}
}

// sweepLocked forgets completed sessions whose time is up, at most once per sweep interval
// (the shortest of CompletionTTL, SessionTTL and a minute), and reports whether idle
// sessions are due for expiry (expireIdle, which the caller runs once h.mu is released);
// h.mu is held. It never waits for a session.
func (h *handler) sweepLocked(now time.Time) (idle bool) {
	every := min(h.opts.CompletionTTL, time.Minute)
	if h.opts.SessionTTL > 0 {
		every = min(every, h.opts.SessionTTL)
	}
	if now.Sub(h.lastSweep) < every {
		return false
	}
	h.lastSweep = now
	h.expireCompletions(now)
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
	return h.opts.SessionTTL > 0
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
	h.forget(s)
}

// forget removes s from the sessions, so that the next request of its ID starts afresh; the
// requests that hold s finish with it.
func (h *handler) forget(s *session) {
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
}

// admit checks a segment against its session and claims its range.
func (h *handler) admit(x *exchange, hd *segmentHeaders) (ticket, *failure) {
	now := h.now()
	s := h.lookup(hd.session, now)
	defer s.mu.Unlock()
	if f := h.load(s); f != nil {
		h.dropIfEmpty(s)
		return ticket{}, f
	}
	s.name = hd.fileName
	if h.idleLocked(s, now) {
		h.expireLocked(s) // untouched for SessionTTL: start over, as after the sweep
	}
	seg := hd.seg
	if s.total != 0 && seg.Total != s.total {
		return h.b.mismatch(x, s, seg)
	}
	if s.phase != phaseActive {
		return ticket{s: s, after: true}, nil
	}
	if s.upload == nil {
		// Nothing of the session exists, so nothing of it is in flight either.
		if f := h.createSession(x, s, seg.Total); f != nil {
			h.dropIfEmpty(s)
			return ticket{}, f
		}
	}
	r := seg.Range()
	gaps, f := h.b.overlap(x, s, r)
	if f != nil {
		h.dropIfEmpty(s)
		return ticket{}, f
	}
	s.inflight = append(s.inflight, r)
	s.touched = now
	return ticket{s: s, upload: s.upload, gaps: gaps, claimed: true}, nil
}

// load reads the session from the store the first time it is looked up (its upload, or its
// completion record), and forgets a completion that expired. s.mu is held.
func (h *handler) load(s *session) *failure {
	if !s.loaded {
		s.loaded = true
		u, ok, err := h.opts.Store.Load(s.id)
		if err != nil {
			return fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot load the session: %v", err)))
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
		} else if f := h.loadCompletion(s); f != nil {
			return f
		}
	}
	if s.expiredLocked(h.now()) {
		s.reset()
	}
	return nil
}

// errBodyTimeout marks a body read that waited longer than BodyReadTimeout.
var errBodyTimeout = errors.New("body read timed out")

// errBodyTooSlow marks a body that did not arrive within its whole-segment deadline
// (MinBodyRate); the error readBody returns wraps it with the figures.
var errBodyTooSlow = errors.New("the body is slower than the minimum rate")

// bodyDeadline returns when a body of n bytes must have arrived if it starts now, under
// MinBodyRate and BodyDeadlineFloor; zero when no whole-segment deadline applies.
func (h *handler) bodyDeadline(start time.Time, n int64) time.Time {
	rate := h.opts.MinBodyRate
	if rate <= 0 {
		return time.Time{}
	}
	secs := float64(n) / float64(rate)
	if secs > 1e9 { // beyond any connection's life: no deadline
		return time.Time{}
	}
	return start.Add(max(h.opts.BodyDeadlineFloor, time.Duration(secs*float64(time.Second))))
}

// closeAfterTimeout asks the server to close the connection after the answer when the body
// timed out: what is left of it is never read.
func closeAfterTimeout(x *exchange, err error) {
	if errors.Is(err, errBodyTimeout) || errors.Is(err, errBodyTooSlow) {
		x.w.Header().Set("Connection", "close")
	}
}

// bodyFailure turns an error of readBody into the failure answered (if the client still
// listens).
func bodyFailure(err error) *failure {
	switch {
	case errors.Is(err, errBodyTimeout):
		return fail(kindBody, http.StatusRequestTimeout, "the body stalled: no byte within the read timeout")
	case errors.Is(err, errBodyTooSlow):
		return fail(kindBody, http.StatusRequestTimeout, oneLine(err.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(kindBody, http.StatusBadRequest, "the body is shorter than Content-Length")
	default:
		return fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot store the segment: %v", err)))
	}
}

// readBody streams the body of range r through a pooled buffer, writing into u the parts that
// fall in gaps (sorted, disjoint, inside r) and discarding the rest. Each read must come
// within BodyReadTimeout, and the whole body within its deadline under MinBodyRate
// (bodyDeadline).
func (h *handler) readBody(x *exchange, r ranges.Range, u Upload, gaps []ranges.Range) error {
	rc := http.NewResponseController(x.w)
	bp := h.pool.Get().(*[]byte)
	defer h.pool.Put(bp)
	buf := *bp
	body := h.b.body(x, r, x.r.Body)
	off, remaining := r.Start, r.Len()
	start := time.Now()
	whole := h.bodyDeadline(start, remaining)
	last := start // the time of the last read, read afresh after the first
	for remaining > 0 {
		limit := int(min(int64(len(buf)), remaining))
		n := 0
		for n < limit {
			if x.in > 0 || n > 0 {
				last = time.Now()
			}
			dl := last.Add(h.opts.BodyReadTimeout)
			if !whole.IsZero() && whole.Before(dl) {
				dl = whole
			}
			if err := rc.SetReadDeadline(dl); err != nil && !errors.Is(err, http.ErrNotSupported) {
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
				case errors.As(err, &ne) && ne.Timeout() && !whole.IsZero() && !time.Now().Before(whole):
					return fmt.Errorf("%w of %d bytes/s: %d of %d bytes within %v", errBodyTooSlow,
						h.opts.MinBodyRate, x.in, r.Len(), whole.Sub(start).Round(time.Millisecond))
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
			h.respond(x, response{outcome: answerCompletion, answer: a})
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
		h.saveCompletion(s)
	}
	s.mu.Unlock()
	if f != nil {
		h.fail(x, f)
		return
	}
	h.respond(x, response{outcome: answerCompletion, answer: a})
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
		h.completed(s.id, name, file)
		h.b.finished(x, s.id, name, u.Total())
		file = h.b.file(x, name, file)
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
	a, err := h.passToBackend(x, hd, file)
	if err != nil {
		return nil, fail(kindStorage, http.StatusBadGateway, oneLine(fmt.Sprintf("backend: %v", err)))
	}
	return a, nil
}

// fail answers a rejected request as the behaviour decides.
func (h *handler) fail(x *exchange, f *failure) {
	h.respond(x, response{outcome: h.b.failure(x, f), status: f.status, reason: f.reason})
}

// respond writes the answer to a segment request, in the form the behaviour gives it last.
func (h *handler) respond(x *exchange, rp response) {
	rp = h.b.respond(x, rp)
	x.reason = rp.reason
	switch rp.outcome {
	case dropConnection:
		h.drop(x, false)
	case resetConnection:
		h.drop(x, true)
	case falseSuccess:
		h.falseSuccess(x)
	case answerRanges:
		h.write201(x, rp.list)
	case answerCompletion:
		h.writeAnswer(x, rp.answer)
	default:
		h.writeError(x, rp.status, rp.reason)
	}
}

// drop closes the connection without sending a byte; with reset, it resets it (RST) rather
// than closing it.
func (h *handler) drop(x *exchange, reset bool) {
	x.status, x.outcome = 0, OutcomeDropped
	if reset {
		x.outcome = OutcomeReset
	}
	h.record(x)
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection without an answer
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0) // the close sends RST; a failure leaves a plain close
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

// drainBody reads and discards what is left of the body, as the module does before a silent
// failure (class C): the client finishes sending and then gets the backend's answer.
func (h *handler) drainBody(x *exchange) {
	n := x.r.ContentLength - x.in
	if n <= 0 || len(x.r.TransferEncoding) > 0 {
		return
	}
	_ = h.readBody(x, ranges.Range{Start: 0, End: n - 1}, nil, nil) // a body that breaks leaves nothing to answer
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
	body := reason + "\n"
	x.status, x.out, x.reason, x.answer = status, int64(len(body)), reason, clipAnswer(body)
	h.record(x)
	x.w.WriteHeader(status)
	_, _ = io.WriteString(x.w, body) // a client that left cannot be told
}

// write201 answers an accepted segment: the list in the Range header and as the body, no
// Content-Type, no trailing newline.
func (h *handler) write201(x *exchange, list string) {
	hdr := x.w.Header()
	hdr["Range"] = []string{list}
	hdr["Content-Length"] = []string{strconv.Itoa(len(list))}
	hdr["Content-Type"] = nil // no sniffed type either
	x.status, x.out, x.answer = http.StatusCreated, int64(len(list)), clipAnswer(list)
	h.record(x)
	x.w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(x.w, list) // a client that left cannot be told
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
	x.status, x.out, x.answer = a.status, int64(len(a.body)), string(a.body[:min(len(a.body), maxJournalAnswer)])
	h.record(x)
	x.w.WriteHeader(a.status)
	_, _ = x.w.Write(a.body) // a client that left cannot be told
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
	f = h.b.file(x, name, f)
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
