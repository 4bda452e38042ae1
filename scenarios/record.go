package scenarios

import (
	"strconv"
	"strings"
	"time"
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
	// OutcomeClosed: the server closed the connection without sending a byte of a response
	// (the real module's answer to every malformed header).
	OutcomeClosed Outcome = "closed"
	// OutcomeReset: the connection was reset (ECONNRESET, EPIPE) before a response was read.
	OutcomeReset Outcome = "reset"
	// OutcomeTimeout: the request or the response did not finish within Config.RequestTimeout.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeAborted: the client cut the request off mid-body on purpose (an interrupted
	// segment) and closed the connection without waiting for an answer.
	OutcomeAborted Outcome = "aborted"
	// OutcomeError: anything else (connection refused, a response that is not HTTP, a
	// response cut off inside its head, ...); Exchange.Error says what.
	OutcomeError Outcome = "error"
)

// RequestRecord is a request as it went on the wire.
type RequestRecord struct {
	Method     string   `json:"method"`      // "POST"
	Target     string   `json:"target"`      // request target, e.g. "/upload"
	Proto      string   `json:"proto"`       // "HTTP/1.1"
	URL        string   `json:"url"`         // the absolute URL the request went to
	Headers    []Header `json:"headers"`     // exactly as written, in order
	BodyLen    int64    `json:"body_len"`    // Content-Length announced, -1 when none was sent
	BodySent   int64    `json:"body_sent"`   // body bytes actually written
	BodyHead   string   `json:"body_head"`   // the first <= 64 bytes of the body, as text
	Seed       int      `json:"seed"`        // Pattern seed of the body (when PatternBody)
	BodyOffset int64    `json:"body_offset"` // file offset of the first body byte (when PatternBody)
	// PatternBody is true when the body is bytes BodyOffset.. of Pattern{Seed}; false when
	// it is raw bytes (BodyRaw then holds them when they are few enough to keep).
	PatternBody bool   `json:"pattern_body"`
	BodyRaw     string `json:"body_raw,omitempty"`
	// BodyPlanned is the number of body bytes the client meant to send (before an
	// interruption or a write error).
	BodyPlanned int64 `json:"body_planned"`
	// Paused is the time the request spent paused mid-body waiting for the caller.
	Paused time.Duration `json:"paused,omitempty"`
}

// ResponseRecord is a response as it came off the wire.
type ResponseRecord struct {
	Status     int      `json:"status"`
	StatusLine string   `json:"status_line"` // e.g. "HTTP/1.1 201 Created"
	Headers    []Header `json:"headers"`     // exactly as read, in order
	Body       string   `json:"body"`        // the first <= 4096 bytes
	BodyLen    int64    `json:"body_len"`    // body bytes read in all
	Truncated  bool     `json:"truncated"`   // BodyLen > len(Body)
}

// Header returns the value of the first header with the given name (any letter case).
func (r *ResponseRecord) Header(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Values returns the values of every header with the given name (any letter case), in order.
func (r *ResponseRecord) Values(name string) []string {
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
	Step      string          `json:"step"`       // what the request was for, e.g. "segment A (first half)"
	Session   string          `json:"session"`    // session ID, "" for requests outside a session
	LocalAddr string          `json:"local_addr"` // the client's address:port
	Request   RequestRecord   `json:"request"`
	Response  *ResponseRecord `json:"response"` // nil unless Outcome == OutcomeAnswered
	Outcome   Outcome         `json:"outcome"`
	Error     string          `json:"error"` // what went wrong, if anything (also for answered exchanges whose body was cut short)
	Start     time.Time       `json:"start"`
	Duration  time.Duration   `json:"duration"` // nanoseconds in JSON
}

// Describe says in a few words how the exchange ended, e.g. `201 Created, Range: 0-5/24` or
// `connection closed without a response`.
func (e Exchange) Describe() string {
	switch e.Outcome {
	case OutcomeAnswered:
		if e.Response == nil {
			return "answered"
		}
		s := strings.TrimPrefix(e.Response.StatusLine, "HTTP/1.1 ")
		s = strings.TrimPrefix(s, "HTTP/1.0 ")
		if v, ok := e.Response.Header("Range"); ok {
			s += ", Range: " + clipText(v, 200)
		} else if b := strings.TrimSpace(e.Response.Body); b != "" {
			s += ", body " + quoteText(clipText(b, 120))
		}
		return s
	case OutcomeClosed:
		return "connection closed without a response (0 bytes)"
	case OutcomeReset:
		return "connection reset without a response (" + e.Error + ")"
	case OutcomeTimeout:
		return "no response within the time limit (" + e.Error + ")"
	case OutcomeAborted:
		return "request interrupted by the client"
	}
	if e.Error != "" {
		return "error: " + e.Error
	}
	return string(e.Outcome)
}

// clipText shortens s to at most n bytes, marking the cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// quoteText quotes s in Go syntax.
func quoteText(s string) string { return strconv.Quote(s) }
