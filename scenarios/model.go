package scenarios

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/match"
	"github.com/upspec/upspec/scenarios/wire"
)

// Answer is an exchange with the parts a scenario looks at already taken apart.
type Answer struct {
	result.Exchange
	// Status is the response status, 0 when no response was read.
	Status int
	// Body is the response body (at most MaxKeptBody bytes).
	Body string
	// RangeValue is the value of the first Range header; HasRange says whether there was one.
	RangeValue string
	HasRange   bool
	// List is the Range header parsed as a range list (either form); nil when the header is
	// absent or does not parse (ListError then says why).
	List      *ranges.List
	ListError string
	// Completion is true when the session model counted this answer as the file's
	// completion (a positive answer other than 201 once every byte was received).
	Completion bool
}

// newAnswer takes an exchange apart.
func newAnswer(ex result.Exchange) Answer {
	a := Answer{Exchange: ex}
	if ex.Outcome != result.OutcomeAnswered || ex.Response == nil {
		return a
	}
	a.Status, a.Body = ex.Response.Status, ex.Response.Body
	a.RangeValue, a.HasRange = ex.Response.Header(protocol.Range)
	if a.HasRange {
		l, err := ranges.ParseList(strings.Trim(a.RangeValue, " \t"))
		if err != nil {
			a.ListError = err.Error()
		} else {
			a.List = &l
		}
	}
	return a
}

// Answered reports whether a response was read.
func (a Answer) Answered() bool { return a.Outcome == result.OutcomeAnswered && a.Response != nil }

// NoResponse reports whether the connection ended without a response: closed without a
// byte or reset (how the real module answers a malformed header; whether the client sees a
// close or a reset depends on how much of the body the server left unread).
func (a Answer) NoResponse() bool {
	return a.Outcome == result.OutcomeClosed || a.Outcome == result.OutcomeReset
}

// Success reports whether the answer is positive: a 2xx or 3xx status.
func (a Answer) Success() bool { return a.Answered() && a.Status >= 200 && a.Status < 400 }

// Created reports whether the answer is 201 Created.
func (a Answer) Created() bool { return a.Answered() && a.Status == 201 }

// ClientError reports whether the answer is a 4xx.
func (a Answer) ClientError() bool { return a.Answered() && a.Status >= 400 && a.Status < 500 }

// Header returns the first response header with the given name (any letter case).
func (a Answer) Header(name string) (string, bool) { return a.Response.Header(name) }

// String says how the exchange ended (Exchange.Describe).
func (a Answer) String() string { return a.Describe() }

// SendOption changes one thing about a segment request.
type SendOption func(*sendOpts)

type sendOpts struct {
	step          string
	rangeName     string
	sessionName   string
	rangeValue    *string
	sessionValue  *string
	disposition   *string
	contentType   *string
	omit          []string
	extra         []result.Header
	length        wire.LengthMode
	contentLength int64
	seed          *int
	body          []byte
	rawBody       bool
	pause         bool
	pauseAfter    int64
	interrupt     bool
	interruptAt   int64
	from          string
	unchecked     bool
	method        string
}

// proper reports whether the request is a well-formed segment of the session: standard
// values (names may differ in alias and case), the body the range announces, not cut off.
func (o *sendOpts) proper() bool {
	return o.rangeValue == nil && o.sessionValue == nil && !o.rawBody && o.length == wire.LengthAuto &&
		!o.interrupt && len(o.omit) == 0 && (o.method == "" || o.method == "POST")
}

// Step labels the request in the record ("segment 0-5/24" by default).
func Step(label string) SendOption { return func(o *sendOpts) { o.step = label } }

// RangeHeader sets the name of the range header as written, e.g. "content-range" (default
// "X-Content-Range").
func RangeHeader(name string) SendOption { return func(o *sendOpts) { o.rangeName = name } }

// SessionHeader sets the name of the session header as written, e.g. "x-session-id"
// (default "Session-ID").
func SessionHeader(name string) SendOption { return func(o *sendOpts) { o.sessionName = name } }

// RangeValue replaces the range header's value (e.g. a malformed one). The model then does
// not count the segment as acknowledged unless a 201 lists it.
func RangeValue(v string) SendOption { return func(o *sendOpts) { o.rangeValue = &v } }

// SessionValue replaces the session ID sent (e.g. a malformed one).
func SessionValue(v string) SendOption { return func(o *sendOpts) { o.sessionValue = &v } }

// Disposition replaces the Content-Disposition value.
func Disposition(v string) SendOption { return func(o *sendOpts) { o.disposition = &v } }

// ContentType replaces the Content-Type value.
func ContentType(v string) SendOption { return func(o *sendOpts) { o.contentType = &v } }

// Omit leaves out standard headers, named by their standard name ("X-Content-Range",
// "Session-ID", "Content-Disposition", "Content-Type") or the name set by an option; any
// letter case.
func Omit(names ...string) SendOption {
	return func(o *sendOpts) { o.omit = append(o.omit, names...) }
}

// Extra adds a header after the standard ones.
func Extra(name, value string) SendOption {
	return func(o *sendOpts) { o.extra = append(o.extra, result.Header{Name: name, Value: value}) }
}

// ContentLength announces n as the Content-Length, whatever the body is.
func ContentLength(n int64) SendOption {
	return func(o *sendOpts) { o.length, o.contentLength = wire.LengthExplicit, n }
}

// NoContentLength sends no Content-Length header.
func NoContentLength() SendOption { return func(o *sendOpts) { o.length = wire.LengthOmit } }

// Seed sends the bytes of Pattern{Seed: seed} instead of the session's pattern (different
// bytes for the same range).
func Seed(seed int) SendOption { return func(o *sendOpts) { o.seed = &seed } }

// Body sends b as the body instead of the file's bytes (Content-Length follows b unless set).
func Body(b []byte) SendOption {
	return func(o *sendOpts) { o.body, o.rawBody = b, true }
}

// PauseAfter stops the request after k body bytes until InFlight.Resume (or Wait).
func PauseAfter(k int64) SendOption {
	return func(o *sendOpts) { o.pause, o.pauseAfter = true, k }
}

// InterruptAfter cuts the request off after k body bytes: the connection is closed without
// an answer (an interrupted segment).
func InterruptAfter(k int64) SendOption {
	return func(o *sendOpts) { o.interrupt, o.interruptAt = true, k }
}

// From binds the source address of the request, e.g. "127.0.0.2".
func From(ip string) SendOption { return func(o *sendOpts) { o.from = ip } }

// Unchecked records the exchange but leaves it out of the session model: no automatic
// checks, no change to the acknowledged bytes.
func Unchecked() SendOption { return func(o *sendOpts) { o.unchecked = true } }

// Method sends the segment with another method (default POST).
func Method(m string) SendOption { return func(o *sendOpts) { o.method = m } }

// Session is one upload session: an ID, a file name, a total and the file's content, plus
// the model of what the server has acknowledged. Every answer to one of its segments is
// checked against the model (see Send).
type Session struct {
	t *T
	// ID is the session ID sent with every segment.
	ID string
	// Name is the file name in Content-Disposition.
	Name string
	// Total is the file size.
	Total int64
	// Pattern is the file's content; it may be changed before the first segment is sent.
	Pattern wire.Pattern

	mu          sync.Mutex
	acked       *ranges.Set // bytes the server has acknowledged
	uncertain   *ranges.Set // bytes sent whose answer was lost: the server may hold them
	refused     *ranges.Set // bytes of segments answered 4xx or interrupted
	flights     map[int]*flight
	nextFlight  int
	completions int
	completed   bool
}

// flight is a segment request in progress.
type flight struct {
	r          ranges.Range
	valid      bool        // r lies within the file
	holding    bool        // paused mid-body by the caller
	concurrent *ranges.Set // ranges of every request in flight at some time during this one
	ackedStart *ranges.Set // the acknowledged bytes when this one started
	afterDone  bool        // the file was already complete when this one started
}

// sessionIDChars matches the characters not allowed in a session ID.
var sessionIDChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// NewSession starts a session for a file called name of total bytes. Its ID is
// `<RunID>-<ScenarioID>-<n>` (n counts the scenario's sessions from 1), made of
// [A-Za-z0-9_-] only; its content is a Pattern with a seed that differs per session.
func (t *T) NewSession(name string, total int64) *Session {
	n := t.nextSession()
	id := fmt.Sprintf("%s-%s-%d", t.cfg.RunID, t.scenario.ID, n)
	id = sessionIDChars.ReplaceAllString(id, "_")
	return t.SessionWithID(id, name, total, wire.Pattern{Seed: (n * 17) % len(wire.Alphabet)})
}

// SessionWithID starts a session with a given ID and content: for colliding sessions (two
// files under one ID, each with its own model) and for malformed IDs.
func (t *T) SessionWithID(id, name string, total int64, p wire.Pattern) *Session {
	return &Session{
		t: t, ID: id, Name: name, Total: total, Pattern: p,
		acked:     ranges.NewSet(total),
		uncertain: ranges.NewSet(total),
		refused:   ranges.NewSet(total),
		flights:   map[int]*flight{},
	}
}

// Segment returns the segment header value `bytes S-E/T` of the session.
func (s *Session) Segment(start, end int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", start, end, s.Total)
}

// Send sends bytes start..end (inclusive) of the file as one segment and checks the answer
// against the model (see InFlight.Wait).
func (s *Session) Send(start, end int64, opts ...SendOption) Answer {
	return s.Start(start, end, opts...).Wait()
}

// SendAll sends the whole file in order, in segments of Config.SegmentSize, and returns the
// last answer. It stops early at the first answer that is neither a 201 nor the completion.
func (s *Session) SendAll(opts ...SendOption) Answer {
	size := s.t.cfg.SegmentSize
	if size <= 0 {
		size = DefaultSegmentSize
	}
	var a Answer
	for start := int64(0); start < s.Total; start += size {
		end := min(start+size, s.Total) - 1
		a = s.Send(start, end, opts...)
		if !a.Created() && !a.Completion {
			return a
		}
	}
	return a
}

// InFlight is a segment request running in the background (Session.Start).
type InFlight struct {
	s          *Session
	id         int
	gate       *wire.Gate
	step       string // the request's step, for the notes
	pauseAfter int64
	done       chan struct{}
	answer     Answer
}

// Start sends a segment in the background; with PauseAfter it stops mid-body until Resume.
// The answer is checked against the model when it arrives.
func (s *Session) Start(start, end int64, opts ...SendOption) *InFlight {
	o := &sendOpts{}
	for _, opt := range opts {
		opt(o)
	}
	req := s.request(start, end, o)
	f := &InFlight{s: s, gate: req.Gate, step: req.Step, pauseAfter: req.PauseAfter, done: make(chan struct{})}
	f.id = s.begin(ranges.Range{Start: start, End: end}, o.pause)
	go func() {
		defer close(f.done)
		ex := s.t.cfg.Client().Do(s.t.ctx, req)
		s.t.record(ex)
		a := newAnswer(ex)
		s.finish(f.id, &a, o)
		f.answer = a
	}()
	return f
}

// WaitPaused waits until the request has reached its pause point with the server provably
// in it: the server answered the request's `Expect: 100-continue` with 100 Continue, which
// it sends once it has begun the request (the reference server: once it has claimed the
// segment's range). A server that sends no 100 within ContinueWait gets the body anyway; the
// wait then falls back to a bounded one (Gate.Settle), and the scenario's result notes it. It
// returns false when the request ended first (e.g. the server answered before the body), or
// did not pause within Config.RequestTimeout plus ContinueWait.
func (f *InFlight) WaitPaused() bool {
	if f.gate == nil {
		return false
	}
	cfg := f.s.t.cfg
	timer := time.NewTimer(cfg.RequestTimeout + wire.ContinueWait(cfg.RequestTimeout))
	defer timer.Stop()
	select {
	case <-f.gate.Paused():
	case <-f.done:
		return false
	case <-f.s.t.ctx.Done():
		return false
	case <-timer.C:
		return false
	}
	if f.gate.InFlightBy() == result.InFlightByContinue {
		return true
	}
	f.s.t.Note("%s: no 100 Continue within %v; the segment counts as in flight after a bounded wait of %v once %d body bytes were written, not by the server's word",
		f.step, wire.ContinueWait(cfg.RequestTimeout), f.gate.Settle(), f.pauseAfter)
	settle := time.NewTimer(f.gate.Settle())
	defer settle.Stop()
	select {
	case <-settle.C:
	case <-f.s.t.ctx.Done():
		return false
	}
	return true
}

// inFlightCaveat says which paused requests of exchanges were taken to be in flight after a
// bounded wait, because their server sent no 100 Continue; "" when there were none.
func inFlightCaveat(exchanges []result.Exchange) string {
	var steps []string
	for _, x := range exchanges {
		if x.Request.InFlightBy == result.InFlightByWait {
			steps = append(steps, quoteText(x.Step))
		}
	}
	if len(steps) == 0 {
		return ""
	}
	return "In flight by a bounded wait: " + strings.Join(steps, ", ") +
		" got no 100 Continue, so the server was assumed, not shown, to have begun it while the next request was sent."
}

// Resume lets a paused request finish.
func (f *InFlight) Resume() {
	if f.gate == nil {
		return
	}
	f.s.mu.Lock()
	if fl := f.s.flights[f.id]; fl != nil {
		fl.holding = false
	}
	f.s.mu.Unlock()
	f.gate.Resume()
}

// Done is closed when the answer is in.
func (f *InFlight) Done() <-chan struct{} { return f.done }

// Wait resumes the request if it is paused, waits for the answer and returns it. The wait
// is bounded by the request's own deadlines.
func (f *InFlight) Wait() Answer {
	f.Resume()
	<-f.done
	return f.answer
}

// request builds the raw request of a segment.
func (s *Session) request(start, end int64, o *sendOpts) wire.Request {
	cfg := s.t.cfg
	rangeName := firstNonEmpty(o.rangeName, protocol.XContentRange)
	sessionName := firstNonEmpty(o.sessionName, protocol.SessionID)
	std := []struct {
		std, name, value string
		override         *string
	}{
		{protocol.XContentRange, rangeName, s.Segment(start, end), o.rangeValue},
		{protocol.SessionID, sessionName, s.ID, o.sessionValue},
		{protocol.ContentDisposition, protocol.ContentDisposition, `attachment; filename="` + s.Name + `"`, o.disposition},
		{"Content-Type", "Content-Type", "application/octet-stream", o.contentType},
	}
	var hs []result.Header
	for _, h := range std {
		if omitted(o.omit, h.std, h.name) {
			continue
		}
		v := h.value
		if h.override != nil {
			v = *h.override
		}
		hs = append(hs, result.Header{Name: h.name, Value: v})
	}
	hs = append(hs, o.extra...)
	step := o.step
	if step == "" {
		step = "segment " + strings.TrimPrefix(s.Segment(start, end), "bytes ")
	}
	req := wire.Request{
		Step: step, Session: s.ID, Method: firstNonEmpty(o.method, "POST"), URL: cfg.Target,
		Headers: hs, Length: o.length, ContentLength: o.contentLength, LocalAddr: o.from,
	}
	if o.rawBody {
		req.Body = o.body
	} else {
		p := s.Pattern
		if o.seed != nil {
			p = wire.Pattern{Seed: *o.seed}
		}
		req.Pattern, req.BodyOffset, req.BodyLen = &p, start, max(end-start+1, 0)
	}
	if o.pause {
		req.Gate, req.PauseAfter = wire.NewGate(), o.pauseAfter
	}
	if o.interrupt {
		req.Interrupt, req.InterruptAfter = true, o.interruptAt
	}
	return req
}

func omitted(omit []string, names ...string) bool {
	for _, o := range omit {
		for _, n := range names {
			if strings.EqualFold(o, n) {
				return true
			}
		}
	}
	return false
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// begin registers a request in flight and returns its number.
func (s *Session) begin(r ranges.Range, holding bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	fl := &flight{r: r, holding: holding, concurrent: ranges.NewSet(s.Total), ackedStart: s.acked.Clone(), afterDone: s.completed}
	fl.valid = r.Start >= 0 && r.Start <= r.End && r.End < s.Total
	for _, other := range s.flights {
		if other.valid {
			fl.concurrent.Add(other.r)
		}
		if fl.valid {
			other.concurrent.Add(r)
		}
	}
	s.nextFlight++
	s.flights[s.nextFlight] = fl
	return s.nextFlight
}

// Acked returns the bytes the server has acknowledged so far (a copy).
func (s *Session) Acked() *ranges.Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked.Clone()
}

// Completed reports whether an answer was counted as the file's completion.
func (s *Session) Completed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.completed
}

// Completions returns how many answers were counted as the completion (exactly one is
// expected, unless the completing segment is retried on purpose).
func (s *Session) Completions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.completions
}

// finish removes a request from flight and checks its answer against the model.
func (s *Session) finish(id int, a *Answer, o *sendOpts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fl := s.flights[id]
	delete(s.flights, id)
	if fl == nil || o.unchecked {
		return
	}
	if !s.completed && a.Answered() {
		// Every answer while the file is incomplete is checked for a false success
		// (checkFinal records the finding).
		s.t.ran(clause.AckFinalOnlyWhenComplete)
	}
	if fl.afterDone {
		// Every answer to a segment sent after the completion checks that the server did not
		// start the session over (check201 records the finding).
		s.t.ran(clause.RobCompletionIdempotent)
	}
	// this: the segment's bytes as the model counts them.
	sentAll := a.Request.BodySent == a.Request.BodyPlanned
	switch {
	case a.Created():
		s.check201(fl, a, o)
	case a.Success():
		s.checkFinal(fl, a, sentAll)
	case a.Answered() && a.Status >= 500 && fl.valid && sentAll:
		s.uncertain.Add(fl.r) // the server may have stored it before failing
	case !a.Answered() && a.Outcome != result.OutcomeAborted && fl.valid && sentAll:
		s.uncertain.Add(fl.r) // the answer was lost: the server may hold the bytes
	case fl.valid && (a.ClientError() || a.Outcome == result.OutcomeAborted):
		s.refused.Add(fl.r)
	}
}

// received returns the bytes the server may have received in full by now: acknowledged,
// unconfirmed, this request's (when fully sent) and those of requests in flight that are
// not held mid-body.
func (s *Session) received(fl *flight, sentAll bool) *ranges.Set {
	rx := union(s.acked, s.uncertain)
	if fl.valid && sentAll {
		rx.Add(fl.r)
	}
	for _, other := range s.flights {
		if other.valid && !other.holding {
			rx.Add(other.r)
		}
	}
	return rx
}

// checkFinal checks a positive answer other than 201.
func (s *Session) checkFinal(fl *flight, a *Answer, sentAll bool) {
	t := s.t
	if s.completed {
		s.completions++
		a.Completion = true
		return
	}
	rx := s.received(fl, sentAll)
	t.ran(clause.AckFinalOnlyWhenComplete)
	if !rx.Complete() {
		t.failStep(clause.AckFinalOnlyWhenComplete,
			fmt.Sprintf("201 Created with the range list: the file is incomplete (bytes %s of %d never received)", fmtRanges(rx.Missing()), s.Total),
			a.Describe(), "A positive answer other than 201 while bytes are missing is a false success.", a)
		return
	}
	s.completed = true
	s.completions++
	a.Completion = true
	s.acked = rx
	s.checkBackendAnswer(a)
}

// checkBackendAnswer compares the completion with the configured backend answer.
func (s *Session) checkBackendAnswer(a *Answer) {
	cfg := s.t.cfg
	if cfg.FinalStatus == 0 && cfg.FinalBody == "" {
		return
	}
	s.t.ran(clause.AckFinalIsBackendAnswer)
	if cfg.FinalStatus != 0 && a.Status != cfg.FinalStatus {
		s.t.failStep(clause.AckFinalIsBackendAnswer, fmt.Sprintf("the backend's answer, status %d", cfg.FinalStatus), a.Describe(), "", a)
		return
	}
	if cfg.FinalBody != "" && a.Body != cfg.FinalBody {
		if strings.TrimRight(a.Body, " \t\r\n") == strings.TrimRight(cfg.FinalBody, " \t\r\n") {
			return
		}
		s.t.failStep(clause.AckFinalIsBackendAnswer, fmt.Sprintf("the backend's answer, body %s", quoteText(cfg.FinalBody)),
			fmt.Sprintf("%d, body %s", a.Status, quoteText(clipText(a.Body, 200))), "", a)
	}
}

// check201 checks a 201 and its range list against the model.
func (s *Session) check201(fl *flight, a *Answer, o *sendOpts) {
	t := s.t
	if s.completed && fl.afterDone {
		t.failStep(clause.RobCompletionIdempotent, "the completion again, or a 4xx that says the session is complete",
			a.Describe(), "The file was already completed; a 201 means the server started the session over.", a)
		return
	}
	value, body := strings.Trim(a.RangeValue, " \t"), a.Body
	t.ran(clause.AckRangeHeader)
	if a.HasRange {
		t.ran(clause.AckBodyEqualsHeader)
	}
	if !a.HasRange {
		t.failStep(clause.AckRangeHeader, "a Range header listing the ranges received so far",
			fmt.Sprintf("201 without a Range header (headers: %s)", fmtHeaders(a.Response.Headers)), "", a)
		value = strings.TrimRight(body, " \t\r\n")
	} else if body != value {
		if strings.TrimRight(body, " \t\r\n") == value {
			t.Note("%s: the 201 body is the Range value followed by whitespace %s (accepted)",
				clause.AckBodyEqualsHeader, quoteText(body[len(value):]))
		} else {
			t.failStep(clause.AckBodyEqualsHeader, "the 201 body equal to the Range header "+quoteText(value),
				"body "+quoteText(clipText(body, 300)), "", a)
		}
	}
	list, err := ranges.ParseList(value)
	if err != nil {
		if a.HasRange {
			t.failStep(clause.AckRangeHeader, "a range list such as 0-5/24,9-15/24 (or 0-5,9-15/24)",
				fmt.Sprintf("Range: %s (%v)", quoteText(clipText(value, 300)), err), "", a)
		}
		return
	}
	if a.List == nil {
		a.List = &list
	}
	t.noteFormat(list.Format)
	// Every parsed list is checked against the model: its bytes, its order, the bytes
	// acknowledged before, and whether it lists the whole file (then this was the completion).
	for _, id := range []clause.ID{clause.AckListExact, clause.AckListCanonical, clause.AckDurable, clause.AckFinalIsBackendAnswer} {
		t.ran(id)
	}
	if list.Total != s.Total {
		t.failStep(clause.AckListExact, fmt.Sprintf("a list of the file of %d bytes", s.Total),
			fmt.Sprintf("total %d in Range: %s", list.Total, clipText(value, 300)), "", a)
		return
	}
	if !canonical(list) {
		t.failStep(clause.AckListCanonical, quoteText(list.Set().Format(list.Format)),
			quoteText(clipText(value, 300)), "The list is not sorted by start with overlapping and adjacent ranges merged.", a)
	}
	listed := list.Set()
	// lower: what the list must hold; upper: what it may hold.
	lower := fl.ackedStart.Clone()
	if o.proper() && fl.valid {
		lower.Add(fl.r)
	}
	upper := union(lower, s.acked)
	upper = union(upper, s.uncertain)
	upper = union(upper, fl.concurrent)
	if fl.valid {
		upper.Add(fl.r)
	}
	missing := lower.Subtract(listed)
	extra := listed.Subtract(upper)
	if len(missing) > 0 || len(extra) > 0 {
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "missing "+fmtRanges(missing))
		}
		if len(extra) > 0 {
			x := ranges.NewSet(s.Total)
			for _, r := range extra {
				x.Add(r)
			}
			if rej := intersect(x, s.refused); len(rej) > 0 {
				parts = append(parts, "listed but only sent in rejected or interrupted segments "+fmtRanges(rej))
			}
			if never := x.Subtract(s.refused); len(never) > 0 {
				parts = append(parts, "listed but never sent "+fmtRanges(never))
			}
		}
		exp := lower.String()
		if maybe := upper.Subtract(lower); len(maybe) > 0 {
			exp += fmt.Sprintf(" (plus any of %s, in flight or unconfirmed)", fmtRanges(maybe))
		}
		t.failStep(clause.AckListExact, exp, clipText(value, 300), strings.Join(parts, "; "), a)
	}
	if lost := fl.ackedStart.Subtract(listed); len(lost) > 0 {
		t.failStep(clause.AckDurable, "every range acknowledged before: "+fl.ackedStart.String(), clipText(value, 300),
			"Acknowledged before and missing now: "+fmtRanges(lost), a)
	}
	if listed.Complete() {
		t.failStep(clause.AckFinalIsBackendAnswer, "the backend's answer (any 2xx/3xx other than 201) for the segment that completes the file",
			a.Describe(), "The 201 lists every byte of the file, so this segment completed it.", a)
	}
	// The acknowledged bytes grow by what the list holds that the model allows.
	for _, r := range lower.Ranges() {
		s.acked.Add(r)
	}
	for _, r := range intersect(listed, upper) {
		s.acked.Add(r)
	}
}

// noteFormat records the form of the range lists once per scenario and form.
func (t *T) noteFormat(f ranges.Format) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.formats == nil {
		t.formats = map[ranges.Format]bool{}
	}
	if t.formats[f] || t.closed {
		return
	}
	t.formats[f] = true
	t.checked = appendNew(t.checked, clause.AckListFormat)
	example := "0-5/24,9-15/24"
	if f == ranges.FormatCompact {
		example = "0-5,9-15/24"
	}
	t.notes = append(t.notes, fmt.Sprintf("%s: the range list is in the %s form (%s)", clause.AckListFormat, f, example))
}

// appendNew appends id to ids unless it is there already.
func appendNew(ids []clause.ID, id clause.ID) []clause.ID {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// canonical reports whether a list is sorted by start with no overlapping or adjacent items.
func canonical(l ranges.List) bool {
	for i := 1; i < len(l.Ranges); i++ {
		if l.Ranges[i].Start <= l.Ranges[i-1].End+1 {
			return false
		}
	}
	return true
}

// union returns a new set holding the bytes of a and b (with a's total).
func union(a, b *ranges.Set) *ranges.Set {
	u := a.Clone()
	for _, r := range b.Ranges() {
		u.Add(r)
	}
	return u
}

// intersect returns the bytes in both a and b.
func intersect(a, b *ranges.Set) []ranges.Range {
	x, y := a.Ranges(), b.Ranges()
	var out []ranges.Range
	for i, j := 0, 0; i < len(x) && j < len(y); {
		lo, hi := max(x[i].Start, y[j].Start), min(x[i].End, y[j].End)
		if lo <= hi {
			out = append(out, ranges.Range{Start: lo, End: hi})
		}
		if x[i].End < y[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// fmtRanges writes ranges as "9-15, 30-40" (at most 20, then a count).
func fmtRanges(rs []ranges.Range) string {
	if len(rs) == 0 {
		return "none"
	}
	var parts []string
	for i, r := range rs {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rs)-20))
			break
		}
		parts = append(parts, strconv.FormatInt(r.Start, 10)+"-"+strconv.FormatInt(r.End, 10))
	}
	return strings.Join(parts, ", ")
}

// fmtHeaders writes header names as a short list.
func fmtHeaders(hs []result.Header) string {
	if len(hs) == 0 {
		return "none"
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

// ExpectAccepted checks that a segment was accepted: a 201, or the completion. id "" means
// ack.201-while-incomplete.
func (s *Session) ExpectAccepted(a Answer, id clause.ID) bool {
	if id == "" {
		id = clause.Ack201WhileIncomplete
	}
	s.t.ran(id)
	if a.Created() || a.Completion {
		return true
	}
	s.t.failStep(id, "201 Created with the range list (or the final answer when the segment completes the file)", a.Describe(), "", &a)
	return false
}

// ExpectCompleted checks that the session saw its completion. id "" means
// ack.final-only-when-complete's counterpart, ack.final-is-backend-answer.
func (s *Session) ExpectCompleted(id clause.ID) bool {
	if id == "" {
		id = clause.AckFinalIsBackendAnswer
	}
	s.mu.Lock()
	done, acked := s.completed, s.acked.String()
	s.mu.Unlock()
	return s.t.Check(id, done, fmt.Sprintf("the file of session %s completed (the backend's answer to its last segment)", s.ID),
		"no completion; acknowledged: "+firstNonEmpty(acked, "nothing"))
}

// ExpectClientError checks that an answer is a refusal: a 4xx with a reason in its body (a
// closed connection or a bare status does not count; match.BeRefusal). id "" means
// rob.malformed-4xx.
func (t *T) ExpectClientError(a Answer, id clause.ID) bool {
	if id == "" {
		id = clause.RobMalformed4xx
	}
	return t.expectStep(id, a, a, match.BeRefusal())
}

// ExpectStatus checks that an answer has one of the given statuses (match.HaveStatus).
func (t *T) ExpectStatus(a Answer, id clause.ID, statuses ...int) bool {
	return t.expectStep(id, a, a, match.HaveStatus(statuses...))
}

// expectStep checks actual (a, or what a scenario made of it) with a Gomega matcher under
// clause id, as T.Expect does; the finding also names a's step and session.
func (t *T) expectStep(id clause.ID, a Answer, actual any, m types.GomegaMatcher) bool {
	t.ran(id)
	g := gomega.NewGomega(func(message string, _ ...int) {
		expected, got, rest := splitMatcherMessage(message)
		t.failStep(id, expected, got, rest, &a)
	})
	return g.Expect(actual).To(m)
}

// MatchAnswer returns the answer as the matchers of package match read it.
func (a Answer) MatchAnswer() match.Answer {
	m := match.Answer{Summary: a.Describe()}
	if !a.Answered() {
		return m
	}
	m.Status, m.Body, m.Header = a.Status, a.Body, http.Header{}
	for _, h := range a.Response.Headers {
		m.Header.Add(h.Name, h.Value)
	}
	return m
}

// FetchFile fetches the completed file through Config.FileURL. It returns the answer and up
// to limit bytes of the body (limit <= 0: the session's total). ok is false when no file
// URL is configured.
func (s *Session) FetchFile(limit int64) (a Answer, data []byte, ok bool) {
	raw := s.t.cfg.FileURLFor(s.Name)
	if raw == "" {
		return Answer{}, nil, false
	}
	if limit <= 0 {
		limit = s.Total
	}
	u, err := url.Parse(raw)
	if err != nil {
		s.t.Note("file URL %q: %v", raw, err)
		return Answer{}, nil, false
	}
	kb := &wire.KeepBuffer{Max: int(min(limit, 1<<30))}
	a = s.t.Do(wire.Request{Step: "fetch the completed file " + s.Name, Session: s.ID, Method: "GET", URL: u,
		Length: wire.LengthOmit, BodySink: kb, MaxBody: limit + 1})
	return a, kb.Bytes(), true
}

// CheckStoredBytes fetches the completed file through Config.FileURL and compares it byte
// for byte with what was sent (the session's Pattern), under clause rob.stored-bytes. It
// returns false, with a note, when the file cannot be checked (no file URL).
func (s *Session) CheckStoredBytes() bool {
	t := s.t
	raw := t.cfg.FileURLFor(s.Name)
	if raw == "" {
		t.Note("%s: the file of session %s was not checked: no file URL configured", clause.RobStoredBytes, s.ID)
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Note("%s: file URL %q: %v", clause.RobStoredBytes, raw, err)
		return false
	}
	t.ran(clause.RobStoredBytes)
	cmp := &compareWriter{p: s.Pattern}
	a := t.Do(wire.Request{Step: "fetch the completed file " + s.Name, Session: s.ID, Method: "GET", URL: u,
		Length: wire.LengthOmit, BodySink: cmp, MaxBody: s.Total + 1})
	exp := fmt.Sprintf("200 with the %d bytes sent (Pattern seed %d)", s.Total, s.Pattern.Seed)
	if !a.Answered() || a.Status != 200 {
		t.failStep(clause.RobStoredBytes, exp, a.Describe(), "", &a)
		return false
	}
	var probs []string
	if a.Error != "" {
		probs = append(probs, a.Error)
	}
	if cmp.n != s.Total {
		probs = append(probs, fmt.Sprintf("%d bytes instead of %d", cmp.n, s.Total))
	}
	if len(cmp.diff) > 0 {
		probs = append(probs, fmt.Sprintf("%d bytes differ, in %s; first at %d: expected %q, got %q",
			cmp.ndiff, fmtRanges(cmp.diff), cmp.diff[0].Start, cmp.firstExp, cmp.firstGot))
	}
	if len(probs) > 0 {
		t.failStep(clause.RobStoredBytes, exp, strings.Join(probs, "; "), "", &a)
		return false
	}
	return true
}

// compareWriter compares a stream with a Pattern, noting the ranges that differ.
type compareWriter struct {
	p                  wire.Pattern
	n                  int64
	ndiff              int64
	diff               []ranges.Range
	firstExp, firstGot byte
}

func (c *compareWriter) Write(b []byte) (int, error) {
	exp := c.p.Bytes(c.n, int64(len(b)))
	for i := range b {
		if b[i] == exp[i] {
			continue
		}
		off := c.n + int64(i)
		if c.ndiff == 0 {
			c.firstExp, c.firstGot = exp[i], b[i]
		}
		c.ndiff++
		if k := len(c.diff); k > 0 && c.diff[k-1].End == off-1 {
			c.diff[k-1].End = off
		} else if k < 100 {
			c.diff = append(c.diff, ranges.Range{Start: off, End: off})
		}
	}
	c.n += int64(len(b))
	return len(b), nil
}
