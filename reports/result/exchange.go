package result

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is one header line exactly as written or read: name in its original letter case.
// Lists of headers keep their order.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Outcome classifies how an exchange ended.
type Outcome string

// The outcome classes of an exchange.
const (
	// OutcomeAnswered: a response was read (its body may still be short; see Exchange.Error).
	OutcomeAnswered Outcome = "answered"
	// OutcomeClosed: the server closed the connection without sending a byte of a response.
	OutcomeClosed Outcome = "closed"
	// OutcomeReset: the connection was reset (ECONNRESET, EPIPE) before a response was read.
	OutcomeReset Outcome = "reset"
	// OutcomeTimeout: the request or the response did not finish within its time limit.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeAborted: the client cut the request off mid-body on purpose (an interrupted
	// request) and closed the connection without waiting for an answer.
	OutcomeAborted Outcome = "aborted"
	// OutcomeError: anything else (connection refused, a response that is not HTTP, a
	// response cut off inside its head, ...); Exchange.Error says what.
	OutcomeError Outcome = "error"
)

// Request is a request exactly as it went on the wire.
type Request struct {
	Method string `json:"method"` // e.g. "POST"
	Target string `json:"target"` // the request target, e.g. "/upload"
	Proto  string `json:"proto"`  // e.g. "HTTP/1.1"
	URL    string `json:"url"`    // the absolute URL the request went to
	// Headers are exactly as written, in order.
	Headers []Header `json:"headers"`
	// BodyLen is the Content-Length announced, or -1 when none was sent.
	BodyLen int64 `json:"body_len"`
	// BodySent is the number of body bytes actually written; BodyPlanned the number the
	// client meant to write (more than BodySent for an interrupted request or a write error).
	BodySent    int64 `json:"body_sent"`
	BodyPlanned int64 `json:"body_planned"`
	// BodyHead is the first bytes of the body (at most 64), as text.
	BodyHead string `json:"body_head"`
	// PatternBody is true when the body is the bytes from BodyOffset of the test pattern with
	// seed Seed; otherwise BodyRaw holds the body when it was short enough to keep.
	PatternBody bool   `json:"pattern_body"`
	Seed        int    `json:"seed"`
	BodyOffset  int64  `json:"body_offset"`
	BodyRaw     string `json:"body_raw"`
	// Paused is the time the request spent paused mid-body waiting for the caller. It stays
	// in the process (the console); the JSON report does not carry it.
	Paused time.Duration `json:"-"`
	// InFlightBy says how a paused request was known to be in flight at the server when its
	// pause began ("" for a request that did not pause).
	InFlightBy InFlightBy `json:"in_flight_by,omitempty"`
}

// InFlightBy is how the client established that the server had begun a paused request.
type InFlightBy string

// How a paused request was known to be in flight.
const (
	// InFlightByContinue: the server answered the request's `Expect: 100-continue` with
	// 100 Continue, which it sends once it has begun the request; the body was held until then.
	InFlightByContinue InFlightBy = "100-continue"
	// InFlightByWait: no 100 Continue came within the client's bound: the body was sent
	// anyway, and the client relied on a bounded wait after the pause point.
	InFlightByWait InFlightBy = "bounded-wait"
)

// RequestLine is e.g. "POST /upload HTTP/1.1".
func (r Request) RequestLine() string {
	return strings.TrimSpace(r.Method + " " + r.Target + " " + r.Proto)
}

// Header returns the value of the first request header with the given name (any letter
// case), and whether there is one.
func (r Request) Header(name string) (string, bool) { return headerValue(r.Headers, name) }

// Response is a response as it came off the wire.
type Response struct {
	Status     int    `json:"status"`
	StatusLine string `json:"status_line"` // e.g. "HTTP/1.1 201 Created"
	// Headers are exactly as read, in order.
	Headers []Header `json:"headers"`
	// Body is the start of the body (at most 4096 bytes); BodyLen the number of body bytes
	// read in all; Truncated is BodyLen > len(Body).
	Body      string `json:"body"`
	BodyLen   int64  `json:"body_len"`
	Truncated bool   `json:"truncated"`
}

// Header returns the value of the first header with the given name (any letter case), and
// whether there is one.
func (r *Response) Header(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	return headerValue(r.Headers, name)
}

func headerValue(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Values returns the values of every header with the given name (any letter case), in order.
func (r *Response) Values(name string) []string {
	if r == nil {
		return nil
	}
	var vs []string
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// Exchange is the record of one request and what came back.
type Exchange struct {
	// Step says what the request was for, e.g. "segment A (first half)".
	Step string `json:"step"`
	// Session is the session the request belongs to, "" for requests outside a session.
	Session string `json:"session"`
	// LocalAddr is the client's address:port of the connection.
	LocalAddr string  `json:"local_addr"`
	Request   Request `json:"request"`
	// Response is nil unless Outcome is OutcomeAnswered.
	Response *Response `json:"response"`
	Outcome  Outcome   `json:"outcome"`
	// Error says what went wrong, if anything (also for answered exchanges whose body was cut
	// short).
	Error    string        `json:"error"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
}

// Status is the response status, or 0 when there was no response.
func (x Exchange) Status() int {
	if x.Response == nil {
		return 0
	}
	return x.Response.Status
}

// Describe says in a few words how the exchange ended, e.g. `201 Created, Range: 0-5/24` or
// `connection closed without a response (0 bytes)`.
func (x Exchange) Describe() string {
	switch x.Outcome {
	case OutcomeAnswered:
		if x.Response == nil {
			return "answered"
		}
		s := statusText(x.Response)
		if v, ok := x.Response.Header("Range"); ok {
			s += ", Range: " + clip(v, 200)
		} else if b := strings.TrimSpace(x.Response.Body); b != "" {
			s += ", body " + strconv.Quote(clip(b, 120))
		}
		return s
	case OutcomeClosed:
		return "connection closed without a response (0 bytes)"
	case OutcomeReset:
		return withErr("connection reset without a response", x.Error)
	case OutcomeTimeout:
		return withErr("no response within the time limit", x.Error)
	case OutcomeAborted:
		return "request interrupted by the client (no answer awaited)"
	}
	if x.Error != "" {
		return "error: " + x.Error
	}
	return string(x.Outcome)
}

// statusText is the status line without the protocol, e.g. "201 Created".
func statusText(r *Response) string {
	s := r.StatusLine
	if i := strings.IndexByte(s, ' '); i >= 0 && strings.HasPrefix(s, "HTTP/") {
		s = s[i+1:]
	}
	if s == "" {
		s = strconv.Itoa(r.Status)
	}
	return s
}

func withErr(s, err string) string {
	if err == "" {
		return s
	}
	return s + " (" + err + ")"
}

// clip shortens s to at most n bytes (not cutting a UTF-8 sequence), marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
