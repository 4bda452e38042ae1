package fakeserver

import (
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/upspec/upspec/ranges"
)

// behavior is the one seam between the reference handler and every deviation from the protocol
// document. The handler parses, checks, stores and answers, and at each decision point it calls
// the behaviour unconditionally; what it calls is a function of this value. The reference
// behaviour (referenceBehavior) is the document. A deviation changes the behaviour by wrapping
// the functions of the decision points it needs (deviation.install): a quirk of the real module
// (quirk_*.go) is one kind of deviation, and the scripted faults (faults.go) are another. Each
// function that changes an answer marks the exchange with the deviation's name (exchange.by),
// so that the journal and the log can say which deviation shaped the answer.
//
// The decision points, in the order a segment meets them:
//
//	headers     header parsing: the grammar, and what a malformed header is
//	mismatch    a total that differs from the session's
//	overlap     which bytes of a segment are written, or a refusal (in-flight overlap)
//	starting    a session ID starts (again): before its upload is created
//	body        the body as the handler reads it (a fault may cut, stall or reset it)
//	disconnect  a body that broke off
//	commit      the state update after the bytes are stored: the 201 list, completion
//	complete    the last byte is acknowledged, before the hand-off
//	finished    the completed file is stored
//	file        the view of a completed file that the backend and GET get
//	form        the size and digest fields of the backend form
//	failure     how a rejected request is answered
//	respond     every answer, just before it is written
//
// The functions run on the request's goroutine; those that take a locked session say so, and
// must neither block nor take the session's lock. The behaviour is built once per handler
// (newBehavior) and never changes after; what a deviation keeps between requests it keeps in
// its own value (guarded by its own lock), or per session with session.value.
type behavior struct {
	// headers reads the headers of a segment request (method already checked).
	headers func(x *exchange) (segmentHeaders, *failure)
	// mismatch decides a segment of total seg.Total in session s, whose total differs.
	// s.mu is held.
	mismatch func(x *exchange, s *session, seg ranges.Segment) (ticket, *failure)
	// overlap returns the parts of r to write (sorted, disjoint, inside r) given s's in-flight
	// claims and acknowledged ranges, or a refusal. s.mu is held; s.upload exists.
	overlap func(x *exchange, s *session, r ranges.Range) ([]ranges.Range, *failure)
	// starting runs before the upload of session id is created in the store.
	starting func(x *exchange, id string)
	// body returns the reader the handler reads the segment's body from.
	body func(x *exchange, r ranges.Range, body io.Reader) io.Reader
	// disconnect runs when the body of a segment of s broke off with err (readBody's
	// error). s.mu is held.
	disconnect func(x *exchange, s *session, err error)
	// commit records seg in s once its new bytes are stored (written is false when it brought
	// none): it returns the range list of the 201 and whether the file is complete, or a
	// failure. s.mu is held.
	commit func(x *exchange, s *session, seg ranges.Segment, written bool) (list string, complete bool, f *failure)
	// complete runs when s is complete, before its hand-off. s.mu is held.
	complete func(x *exchange, s *session)
	// finished runs once the file of session id is stored as name, of total bytes.
	finished func(x *exchange, id, name string, total int64)
	// file returns the view of the completed file name (f) that the backend and GET get.
	file func(x *exchange, name string, f File) File
	// form returns the fields of the backend form for the completed file.
	form func(x *exchange, hd *segmentHeaders, fields formFields) formFields
	// failure returns how f is answered.
	failure func(x *exchange, f *failure) outcome
	// respond returns the answer to write for rp; it is called for every answer.
	respond func(x *exchange, rp response) response

	// headerOrder asks the server to record each request's headers in arrival order
	// (RecordHeaderOrder), for a grammar in which the last of two aliases wins.
	headerOrder bool

	// parts holds the deviations that several quirks configure together (e.g. the emulated
	// state file), by a key of the deviation's own type.
	parts map[any]any
}

// deviation is one departure from the reference behaviour: a quirk of the real module, or
// the scripted faults (faults.go). install wraps the functions of the decision points it changes.
type deviation interface {
	// name is what the exchanges it shapes are marked with.
	name() string
	// install changes b; h is the handler b belongs to.
	install(b *behavior, h *handler)
}

// newBehavior returns the reference behaviour of h with the deviations installed in order: a
// later deviation wraps the earlier ones, so it sees (and may change) what they decided.
func newBehavior(h *handler, devs []deviation) *behavior {
	b := referenceBehavior(h)
	for _, d := range devs {
		d.install(b, h)
	}
	return b
}

// referenceBehavior is the protocol document: every decision point as the reference takes
// it.
func referenceBehavior(h *handler) *behavior {
	return &behavior{
		headers: func(x *exchange) (segmentHeaders, *failure) { return parseSegmentHeaders(x.r, &h.opts) },
		mismatch: func(_ *exchange, s *session, seg ranges.Segment) (ticket, *failure) {
			f := fail(kindTotalMismatch, http.StatusConflict, fmt.Sprintf("total %d differs from the session's total %d", seg.Total, s.total))
			h.dropIfEmpty(s)
			return ticket{}, f
		},
		overlap: func(_ *exchange, s *session, r ranges.Range) ([]ranges.Range, *failure) {
			if c, ok := s.inflightOverlap(r); ok {
				return nil, fail(kindOverlap, http.StatusConflict, fmt.Sprintf("range %d-%d overlaps segment %d-%d of the session, still in flight", r.Start, r.End, c.Start, c.End))
			}
			return s.gaps(r), nil
		},
		starting:   func(*exchange, string) {},
		body:       func(_ *exchange, _ ranges.Range, body io.Reader) io.Reader { return body },
		disconnect: func(*exchange, *session, error) {},
		commit: func(_ *exchange, s *session, seg ranges.Segment, written bool) (string, bool, *failure) {
			complete, f := h.commit(s, seg.Range(), written)
			if f != nil || complete {
				return "", complete, f
			}
			if s.list == "" {
				s.list = s.acked.Format(h.opts.RangeFormat)
			}
			return s.list, false, nil
		},
		complete: func(*exchange, *session) {},
		finished: func(*exchange, string, string, int64) {},
		file:     func(_ *exchange, _ string, f File) File { return f },
		form:     func(_ *exchange, _ *segmentHeaders, fields formFields) formFields { return fields },
		failure:  func(_ *exchange, f *failure) outcome { return f.outcome },
		respond:  func(_ *exchange, rp response) response { return rp },
		parts:    map[any]any{},
	}
}

// failureKind classifies rejected requests, so that deviations can answer a class differently.
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
	kindLongSessionID                    // a session ID of the module's grammar, longer than the reference allows
	kindWrappedStart                     // a range start that the module's grammar wrapped below 0
	kindSessionLimit                     // a new session past MaxSessions
	kindDeviation                        // a failure only a deviation produces; its outcome is set
)

// failure is a rejected request: its class, status, one-line reason, and how it is answered
// unless the behaviour's failure function decides otherwise.
type failure struct {
	kind    failureKind
	status  int
	reason  string
	outcome outcome
}

func fail(kind failureKind, status int, reason string) *failure {
	return &failure{kind: kind, status: status, reason: reason}
}

// outcome is the form of an answer.
type outcome int

const (
	// answerStatus answers with a status and a one-line reason (the reference's failures).
	answerStatus outcome = iota
	// dropConnection closes the connection without a byte (the module's class E).
	dropConnection
	// falseSuccess hands an empty form to the backend and relays its answer (the module's
	// class C).
	falseSuccess
	// answerRanges answers 201 with the range list (a segment accepted).
	answerRanges
	// answerCompletion relays the completion answer (the backend's).
	answerCompletion
	// ordinaryUpload marks a request that is no segment and that a deviation stores as one
	// whole file and hands to the backend (the module's ordinary uploads); its respond
	// function turns it into the completion answer. Left as it is, it is answered with its
	// status and reason.
	ordinaryUpload
	// resetConnection resets the connection (RST) without a byte of answer.
	resetConnection
)

// response is an answer to a segment request before it is written.
type response struct {
	outcome outcome
	status  int     // answerStatus
	reason  string  // answerStatus
	list    string  // answerRanges
	answer  *answer // answerCompletion
}

// formFields are the fields of the backend form that a deviation may change.
type formFields struct {
	size      int64
	md5, sha1 string
}

// value returns what the deviation keyed key keeps for the session, or nil. s.mu is held.
func (s *session) value(key any) any { return s.values[key] }

// setValue keeps v for the deviation keyed key; nil forgets it. s.mu is held.
func (s *session) setValue(key, v any) {
	if v == nil {
		delete(s.values, key)
		return
	}
	if s.values == nil {
		s.values = map[any]any{}
	}
	s.values[key] = v
}

// value returns what the deviation keyed key keeps for the request, or nil.
func (x *exchange) value(key any) any { return x.values[key] }

// setValue keeps v for the deviation keyed key for the rest of the request.
func (x *exchange) setValue(key, v any) {
	if x.values == nil {
		x.values = map[any]any{}
	}
	x.values[key] = v
}

// by marks the exchange as shaped by the deviation named name.
func (x *exchange) by(name string) {
	if !slices.Contains(x.shapedBy, name) {
		x.shapedBy = append(x.shapedBy, name)
	}
}
