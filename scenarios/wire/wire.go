// Package wire is a raw HTTP/1.1 client for conformance tests: it writes the exact bytes of a
// request (any header, any Content-Length, any body), can pause a request mid-body once the
// server has begun it (Expect: 100-continue), cut it off, or bind a source address, and records
// each exchange (what was written, what was read, how it ended) in the result model. It knows
// no upload protocol.
package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/upspec/upspec/reports/result"
)

// Limits of the raw client.
const (
	// DefaultTimeout bounds each exchange of a Client whose Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// MaxKeptBody is how much of a response body an Exchange keeps; the rest is counted.
	MaxKeptBody = 4096
	// MaxBodyHead is how much of a request body an Exchange keeps as text.
	MaxBodyHead = 64
	// MaxResponseHead is the longest response head (status line and headers) read.
	MaxResponseHead = 64 * 1024
	// DefaultMaxBody is how many response body bytes are read before the client stops.
	DefaultMaxBody = 64 << 20
)

// LengthMode says which Content-Length header a Request carries.
type LengthMode int

// Content-Length modes.
const (
	// LengthAuto announces the length of the body (the zero value).
	LengthAuto LengthMode = iota
	// LengthExplicit announces Request.ContentLength, whatever the body is.
	LengthExplicit
	// LengthOmit sends no Content-Length header (the caller may put its own in Headers).
	LengthOmit
)

// Gate pauses a request mid-body until the caller lets it go on, once the server has provably
// begun the request. A request holding a gate is sent with `Expect: 100-continue` and holds
// its body until the server's interim 100 Continue, which a server sends once it has begun the
// request (the reference server: once it has claimed the segment's range; the module: once
// its header checks passed, docs/module-behavior.md §1.8). A server that sends no 100 within
// ContinueWait gets the body anyway, and the request falls back to a bounded wait (Settle).
// The request then writes its first Request.PauseAfter body bytes, closes Paused() and waits
// for Resume (or the end of its context).
type Gate struct {
	by         result.InFlightBy // set before paused is closed
	settle     time.Duration     // set before paused is closed
	pauseOnce  sync.Once
	resumeOnce sync.Once
	paused     chan struct{}
	resume     chan struct{}
}

// NewGate returns a closed gate: a request holding it pauses at its pause point.
func NewGate() *Gate {
	return &Gate{paused: make(chan struct{}), resume: make(chan struct{})}
}

// Paused is closed once the request is paused.
func (g *Gate) Paused() <-chan struct{} { return g.paused }

// Resume lets the paused request finish. It may be called before the pause point is reached
// (the request then does not stop) and more than once.
func (g *Gate) Resume() { g.resumeOnce.Do(func() { close(g.resume) }) }

// InFlightBy says how the server was known to have begun the request:
// result.InFlightByContinue (its 100 Continue came) or result.InFlightByWait (none came within
// ContinueWait). Valid once Paused is closed.
func (g *Gate) InFlightBy() result.InFlightBy { return g.by }

// Settle is how long to wait after Paused before relying on the server having begun the
// request: 0 after a 100 Continue; after none, the bounded wait of the fallback (settleTime of
// the connect time). Valid once Paused is closed.
func (g *Gate) Settle() time.Duration { return g.settle }

func (g *Gate) markPaused(by result.InFlightBy, dial time.Duration) {
	g.pauseOnce.Do(func() {
		g.by = by
		if by != result.InFlightByContinue {
			g.settle = settleTime(dial)
		}
		close(g.paused)
	})
}

// ContinueWait is how long a request holding a Gate waits for 100 Continue before it sends
// its body anyway, for a request timeout of timeout: a fifth of it, at least one second (the
// wait of curl and of net/http's Transport), at most the timeout itself.
func ContinueWait(timeout time.Duration) time.Duration {
	return min(max(timeout/5, time.Second), timeout)
}

// settleTime is the bounded wait of a paused request whose server sent no 100 Continue: how
// long the client lets the server read what was written before it relies on the request
// being in flight: 50 ms plus three times the connect time dial, at most one second.
func settleTime(dial time.Duration) time.Duration {
	return min(50*time.Millisecond+3*dial, time.Second)
}

// Request is one raw HTTP/1.1 request: the exact bytes the client writes and the controls
// for pausing, interrupting and the source address.
type Request struct {
	Step    string   // recorded in the Exchange
	Session string   // recorded in the Exchange
	Method  string   // default "POST"
	URL     *url.URL // default Client.Target
	Target  string   // request target on the request line; default URL.RequestURI()
	Proto   string   // default "HTTP/1.1"
	// Headers are written in order, exactly as given, after Host. Client.Headers follow
	// them, then Content-Length (per Length), then "Connection: close".
	Headers []result.Header
	// NoDefaultHeaders leaves out the Host and Connection headers the client adds.
	NoDefaultHeaders bool

	Length        LengthMode
	ContentLength int64 // announced when Length == LengthExplicit

	// The body: bytes BodyOffset..BodyOffset+BodyLen-1 of Pattern when Pattern is set,
	// else Body.
	Pattern    *Pattern
	BodyOffset int64
	BodyLen    int64
	Body       []byte

	// Gate, when set, pauses the request after PauseAfter body bytes, once the server has
	// begun it (see Gate). The request carries `Expect: 100-continue` (after Client.Headers)
	// unless Headers hold an Expect header of their own.
	Gate       *Gate
	PauseAfter int64
	// Interrupt cuts the request off after InterruptAfter body bytes: the client ends its side
	// of the connection and waits, without reading an answer (OutcomeAborted), until the
	// server has closed it, so that the server is done with the cut request before anything
	// is sent next.
	Interrupt      bool
	InterruptAfter int64

	// LocalAddr is the source IP to bind (e.g. "127.0.0.2"), with an optional port.
	LocalAddr string

	// BodySink, when set, receives the whole response body (the Exchange keeps only
	// MaxKeptBody bytes). MaxBody bounds the bytes read (default DefaultMaxBody).
	BodySink io.Writer
	MaxBody  int64
}

// Client says where raw requests go and what every one of them carries. The zero value of a
// field is its default; a Client is a value and safe for concurrent use.
type Client struct {
	Target  *url.URL        // where a Request without a URL goes
	Headers []result.Header // put on every request, after the Request's own headers
	TLS     *tls.Config     // used for https targets (nil: system roots)
	Timeout time.Duration   // bound on each exchange (0: DefaultTimeout)
}

// Do sends one request on a new connection and reads the answer. It never waits for the
// server to close the connection: the response is read by its Content-Length (or chunked
// framing). Every write and read is bounded by cl.Timeout (pause time excluded) and by ctx.
// The Exchange records exactly what was written and read, and how it ended.
func (cl Client) Do(ctx context.Context, req Request) result.Exchange {
	ex := result.Exchange{Step: req.Step, Session: req.Session, Start: time.Now()}
	c := &call{ctx: ctx, client: cl, req: req, ex: &ex}
	c.run()
	ex.Duration = time.Since(ex.Start)
	return ex
}

// call is the state of one Do.
type call struct {
	ctx      context.Context
	client   Client
	req      Request
	ex       *result.Exchange
	deadline time.Time
	dialTime time.Duration
	expect   bool // the request carries Expect: 100-continue

	// What came back before the body was sent (awaitContinue): a final answer's head, or the
	// error that ended the read. read starts from them.
	pendingHead []byte
	pendingErr  error
}

func (c *call) timeout() time.Duration {
	if c.client.Timeout > 0 {
		return c.client.Timeout
	}
	return DefaultTimeout
}

// fail records an outcome that is not an answer.
func (c *call) fail(o result.Outcome, format string, args ...any) {
	c.ex.Outcome = o
	c.ex.Error = fmt.Sprintf(format, args...)
}

func (c *call) run() {
	req := &c.req
	u := req.URL
	if u == nil {
		u = c.client.Target
	}
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	if req.Proto == "" {
		req.Proto = "HTTP/1.1"
	}
	rec := &c.ex.Request
	rec.Method, rec.Proto = req.Method, req.Proto
	if u == nil {
		c.fail(result.OutcomeError, "no target URL")
		return
	}
	rec.URL = u.String()
	rec.Target = req.Target
	if rec.Target == "" {
		rec.Target = u.RequestURI()
	}
	head, planned := c.buildHead(u)
	rec.BodyPlanned = planned

	c.deadline = c.ex.Start.Add(c.timeout())
	conn, err := c.dial(u)
	if err != nil {
		o, msg := c.classify(err, 0)
		if o == result.OutcomeClosed {
			o = result.OutcomeError
		}
		c.fail(o, "connect to %s: %s", u.Host, msg)
		return
	}
	defer func() { _ = conn.Close() }()
	c.ex.LocalAddr = conn.LocalAddr().String()

	cr := &countReader{r: conn}
	br := bufio.NewReaderSize(cr, 16*1024)
	werr := c.write(conn, cr, br, head, planned)
	if c.ex.Outcome != "" { // aborted or a failed pause
		return
	}
	c.read(cr, br, werr)
}

// buildHead writes the request head and fills in the request record. It returns the head
// bytes and the planned body length.
func (c *call) buildHead(u *url.URL) ([]byte, int64) {
	req, rec := &c.req, &c.ex.Request
	var hs []result.Header
	if !req.NoDefaultHeaders && !hasHeader(req.Headers, "Host") {
		hs = append(hs, result.Header{Name: "Host", Value: u.Host})
	}
	hs = append(hs, req.Headers...)
	hs = append(hs, c.client.Headers...)
	if req.Gate != nil {
		if v, ok := headerValue(hs, "Expect"); ok {
			c.expect = strings.EqualFold(strings.TrimSpace(v), "100-continue")
		} else {
			hs = append(hs, result.Header{Name: "Expect", Value: "100-continue"})
			c.expect = true
		}
	}

	var planned int64
	if req.Pattern != nil {
		planned = max(req.BodyLen, 0)
		rec.PatternBody = true
		rec.Seed = req.Pattern.Seed
		rec.BodyOffset = req.BodyOffset
		rec.BodyHead = string(req.Pattern.Bytes(req.BodyOffset, min(planned, MaxBodyHead)))
	} else {
		planned = int64(len(req.Body))
		rec.BodyHead = string(req.Body[:min(len(req.Body), MaxBodyHead)])
		if len(req.Body) <= MaxKeptBody {
			rec.BodyRaw = string(req.Body)
		}
	}
	rec.BodyLen = -1
	switch req.Length {
	case LengthAuto:
		rec.BodyLen = planned
		hs = append(hs, result.Header{Name: "Content-Length", Value: strconv.FormatInt(planned, 10)})
	case LengthExplicit:
		rec.BodyLen = req.ContentLength
		hs = append(hs, result.Header{Name: "Content-Length", Value: strconv.FormatInt(req.ContentLength, 10)})
	}
	if !req.NoDefaultHeaders && !hasHeader(req.Headers, "Connection") {
		hs = append(hs, result.Header{Name: "Connection", Value: "close"})
	}
	rec.Headers = hs

	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", req.Method, rec.Target, req.Proto)
	for _, h := range hs {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	b.WriteString("\r\n")
	return b.Bytes(), planned
}

func hasHeader(hs []result.Header, name string) bool {
	_, ok := headerValue(hs, name)
	return ok
}

// headerValue returns the value of the first header called name (any letter case).
func headerValue(hs []result.Header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// longAgo returns a deadline in the past, used to unblock reads and writes.
func longAgo() time.Time { return time.Unix(1, 0) }

// dial connects (binding the source address when asked), arms the deadline and the context,
// and does the TLS handshake for https.
func (c *call) dial(u *url.URL) (net.Conn, error) {
	d := net.Dialer{Deadline: c.deadline}
	if c.req.LocalAddr != "" {
		host, port, err := net.SplitHostPort(c.req.LocalAddr)
		if err != nil {
			host, port = c.req.LocalAddr, "0"
		}
		la, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("source address %q: %w", c.req.LocalAddr, err)
		}
		d.LocalAddr = la
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	t0 := time.Now()
	conn, err := d.DialContext(c.ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	c.dialTime = time.Since(t0)
	if err := conn.SetDeadline(c.deadline); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	raw := conn
	stop := context.AfterFunc(c.ctx, func() { _ = raw.SetDeadline(longAgo()) })
	conn = &ctxConn{Conn: raw, stop: stop}
	if u.Scheme != "https" {
		return conn, nil
	}
	var tc *tls.Config
	if c.client.TLS != nil {
		tc = c.client.TLS.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	tc.NextProtos = []string{"http/1.1"}
	tconn := tls.Client(conn, tc)
	if err := tconn.HandshakeContext(c.ctx); err != nil {
		_ = conn.Close()
		return nil, &handshakeError{err: err}
	}
	return tconn, nil
}

// handshakeError is a failed TLS handshake of dial (the TCP connection was made).
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

// ReachError is the error of Reach: the target, whether the TCP connection was made and the
// TLS handshake failed, and the cause (the handshake's error in that case).
type ReachError struct {
	Target    string // host:port as given in the target URL
	Handshake bool   // the connection was made; the TLS handshake failed
	Err       error
}

func (e *ReachError) Error() string {
	if e.Handshake {
		return fmt.Sprintf("reach target %s: TLS handshake: %v", e.Target, e.Err)
	}
	return fmt.Sprintf("reach target %s: %v", e.Target, e.Err)
}

// Unwrap returns the cause.
func (e *ReachError) Unwrap() error { return e.Err }

// Reach checks that the target accepts a connection (and completes a TLS handshake for
// https) within cl.Timeout, so that an unreachable target can be reported once, as a setup
// error, before any request is made. A failure is a *ReachError.
func (cl Client) Reach(ctx context.Context) error {
	if cl.Target == nil {
		return errors.New("reach target: no target URL")
	}
	c := &call{ctx: ctx, client: cl, ex: &result.Exchange{}}
	c.deadline = time.Now().Add(c.timeout())
	conn, err := c.dial(cl.Target)
	if err != nil {
		if he := (*handshakeError)(nil); errors.As(err, &he) {
			return &ReachError{Target: cl.Target.Host, Handshake: true, Err: he.err}
		}
		return &ReachError{Target: cl.Target.Host, Err: err}
	}
	if err := conn.Close(); err != nil {
		return &ReachError{Target: cl.Target.Host, Err: fmt.Errorf("close: %w", err)}
	}
	return nil
}

// ctxConn stops the context watch when closed.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// CloseWrite ends the client's side of the TCP connection (a FIN); the server can still answer.
func (c *ctxConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// rearm restores the request's deadline on conn after a shorter one, unless the context has
// ended meanwhile (its watch set a deadline in the past, which must stay).
func (c *call) rearm(conn net.Conn) error {
	if err := conn.SetDeadline(c.deadline); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if c.ctx.Err() != nil {
		_ = conn.SetDeadline(longAgo())
	}
	return nil
}

// countWriter counts the bytes the connection accepted.
type countWriter struct {
	w io.Writer
	n int64
}

func (cw *countWriter) Write(b []byte) (int, error) {
	n, err := cw.w.Write(b)
	cw.n += int64(n)
	return n, err
}

// write sends the head and the body, honouring the pause and interruption controls. It
// returns the first write error; the caller still tries to read an answer after one (a
// server may answer and close before reading the whole body). cr and br read the answer.
func (c *call) write(conn net.Conn, cr *countReader, br *bufio.Reader, head []byte, planned int64) error {
	req, rec := &c.req, &c.ex.Request
	cw := &countWriter{w: conn}
	bw := bufio.NewWriterSize(cw, 32*1024)
	defer func() { rec.BodySent = max(cw.n-int64(len(head)), 0) }()

	var body io.Reader
	if req.Pattern != nil {
		body = req.Pattern.Reader(req.BodyOffset, planned)
	} else {
		body = bytes.NewReader(req.Body)
	}
	send := planned
	if req.Interrupt {
		send = min(max(req.InterruptAfter, 0), planned)
	}
	pauseAt := int64(-1)
	if req.Gate != nil {
		pauseAt = min(max(req.PauseAfter, 0), send)
	}
	if _, err := bw.Write(head); err != nil {
		return fmt.Errorf("write head: %w", err)
	}
	sent := int64(0)
	if pauseAt >= 0 {
		by := result.InFlightByWait
		if c.expect {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write head: %w", err)
			}
			var stop bool
			by, stop = c.awaitContinue(conn, cr, br)
			if stop { // answered, or the connection ended, before the body: read says how
				return nil
			}
		}
		rec.InFlightBy = by
		if _, err := io.CopyN(bw, body, pauseAt); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		sent = pauseAt
		if err := c.pause(conn, by); err != nil {
			return err
		}
	}
	if _, err := io.CopyN(bw, body, send-sent); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write body: %w", err)
	}
	if req.Interrupt {
		c.fail(result.OutcomeAborted, "interrupted by the client after %d of %d body bytes; %s", send, planned, c.awaitClose(conn, br))
	}
	return nil
}

// awaitContinue reads the answers to the request's `Expect: 100-continue` until 100 Continue
// arrives (result.InFlightByContinue), or ContinueWait passes without a byte of an answer
// (result.InFlightByWait). A final answer, or an error, that comes first is kept for read and
// stop is true: the body is then not sent.
func (c *call) awaitContinue(conn net.Conn, cr *countReader, br *bufio.Reader) (by result.InFlightBy, stop bool) {
	wait := ContinueWait(c.timeout())
	limit := time.Now().Add(wait)
	if limit.After(c.deadline) {
		limit = c.deadline
	}
	if err := conn.SetReadDeadline(limit); err != nil {
		c.pendingErr = fmt.Errorf("set read deadline: %w", err)
		return "", true
	}
	if c.ctx.Err() != nil {
		_ = conn.SetDeadline(longAgo())
	}
	before := cr.n
	for {
		head, err := readHead(br)
		if err != nil {
			var ne net.Error
			if c.ctx.Err() == nil && cr.n == before && time.Now().Before(c.deadline) && errors.As(err, &ne) && ne.Timeout() {
				if err := c.rearm(conn); err != nil {
					c.pendingErr = err
					return "", true
				}
				return result.InFlightByWait, false // no 100 Continue within the wait: send the body anyway
			}
			c.pendingErr = err
			return "", true
		}
		resp, perr := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), &http.Request{Method: c.req.Method})
		switch {
		case perr == nil && resp.StatusCode == http.StatusContinue:
			if err := c.rearm(conn); err != nil {
				c.pendingErr = err
				return "", true
			}
			return result.InFlightByContinue, false
		case perr == nil && resp.StatusCode > 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols:
			before = cr.n // another interim answer (e.g. 102): wait on
		default:
			c.pendingHead = head // a final answer before the body (or not HTTP): read records it
			return "", true
		}
	}
}

// awaitClose ends the client's side of the connection of an interrupted request and waits,
// within the request's deadline, until the server has closed its side: the server has then
// seen the cut request end and is done with it. What the server sent meanwhile is read and
// discarded (an interrupted request awaits no answer); the result says how it ended.
func (c *call) awaitClose(conn net.Conn, br *bufio.Reader) string {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := conn.(closeWriter)
	if !ok {
		return "the connection was closed"
	}
	if err := cw.CloseWrite(); err != nil {
		return fmt.Sprintf("the connection was closed (ending the client's side failed: %v)", err)
	}
	var first []byte
	for {
		line, err := br.ReadSlice('\n')
		if first == nil && len(bytes.TrimSpace(line)) > 0 {
			first = bytes.Clone(bytes.TrimRight(line, "\r\n"))
		}
		if err == nil || errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		said := ""
		if first != nil {
			said = fmt.Sprintf(" after sending %s", quoteText(clipText(string(first), 80)))
		}
		if errors.Is(err, io.EOF) {
			return "the server then closed the connection" + said
		}
		o, msg := c.classify(err, 1)
		if o == result.OutcomeTimeout {
			return "the server did not close the connection" + said + " (" + msg + ")"
		}
		return "the connection then ended" + said + ": " + msg
	}
}

// pause signals the gate and waits for Resume, the context, or the pause bound (three
// request timeouts). The time spent paused does not count against the request's deadline.
func (c *call) pause(conn net.Conn, by result.InFlightBy) error {
	g := c.req.Gate
	start := time.Now()
	left := c.deadline.Sub(start)
	g.markPaused(by, c.dialTime)
	limit := time.NewTimer(3 * c.timeout())
	defer limit.Stop()
	select {
	case <-g.resume:
	case <-c.ctx.Done():
		c.fail(result.OutcomeError, "paused request: %v", c.ctx.Err())
		return c.ctx.Err()
	case <-limit.C:
		c.fail(result.OutcomeError, "paused request was never resumed within %v", 3*c.timeout())
		return errors.New("pause not resumed")
	}
	c.ex.Request.Paused = time.Since(start)
	c.deadline = time.Now().Add(left)
	if err := c.rearm(conn); err != nil {
		return fmt.Errorf("after pause: %w", err)
	}
	return nil
}

// read reads the answer from br (counted by cr); werr is the error of the write phase, if any.
func (c *call) read(cr *countReader, br *bufio.Reader, werr error) {
	method := c.req.Method
	for {
		var head []byte
		var err error
		if c.pendingHead != nil || c.pendingErr != nil { // read before the body (awaitContinue)
			head, err = c.pendingHead, c.pendingErr
			c.pendingHead, c.pendingErr = nil, nil
		} else {
			head, err = readHead(br)
		}
		if err != nil {
			o, msg := c.classify(err, cr.n)
			if werr != nil && cr.n == 0 {
				// The write failed and nothing came back: report the write error.
				o2, msg2 := c.classify(werr, 0)
				if o2 == result.OutcomeReset || o2 == result.OutcomeTimeout || o == result.OutcomeClosed {
					o, msg = o2, msg2
				}
			}
			c.fail(o, "%s", msg)
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), &http.Request{Method: method})
		if err != nil {
			c.fail(result.OutcomeError, "malformed response head %s: %v", quoteText(clipText(string(head), 200)), err)
			return
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // interim response (100 Continue): read the next one
		}
		rr := &result.Response{Status: resp.StatusCode, StatusLine: firstLine(head), Headers: rawHeaders(head)}
		c.ex.Response = rr
		c.ex.Outcome = result.OutcomeAnswered
		if werr != nil {
			c.ex.Error = fmt.Sprintf("answered before the request was fully written (%v)", werr)
		}
		c.readBody(br, resp, rr, method)
		return
	}
}

// readBody reads the response body by its framing, keeping MaxKeptBody bytes.
func (c *call) readBody(br *bufio.Reader, resp *http.Response, rr *result.Response, method string) {
	var body io.Reader
	switch {
	case method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		return
	case len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked":
		body = httputil.NewChunkedReader(br)
	case resp.ContentLength >= 0:
		body = io.LimitReader(br, resp.ContentLength)
	default:
		body = br // delimited by the end of the connection (bounded by the deadline)
	}
	limit := c.req.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	kb := &KeepBuffer{Max: MaxKeptBody}
	var w io.Writer = kb
	if c.req.BodySink != nil {
		w = io.MultiWriter(kb, c.req.BodySink)
	}
	n, err := io.Copy(w, io.LimitReader(body, limit+1))
	rr.Body = string(kb.Bytes())
	rr.BodyLen = min(n, limit)
	rr.Truncated = rr.BodyLen > int64(len(rr.Body))
	switch {
	case n > limit:
		c.ex.Error = fmt.Sprintf("response body longer than %d bytes; stopped reading", limit)
	case err != nil:
		_, msg := c.classify(err, 1)
		c.ex.Error = fmt.Sprintf("response body cut short after %d bytes: %s", n, msg)
	case resp.ContentLength >= 0 && n < resp.ContentLength:
		c.ex.Error = fmt.Sprintf("response body cut short: %d of %d bytes", n, resp.ContentLength)
	}
}

// KeepBuffer keeps the first Max bytes written to it and accepts the rest: a
// Request.BodySink that bounds how much of a response body the caller holds.
type KeepBuffer struct {
	Max int
	buf bytes.Buffer
}

// Write keeps what fits under Max and reports all of b written.
func (k *KeepBuffer) Write(b []byte) (int, error) {
	if room := k.Max - k.buf.Len(); room > 0 {
		k.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// Bytes returns the bytes kept.
func (k *KeepBuffer) Bytes() []byte { return k.buf.Bytes() }

// countReader counts the bytes read from the connection.
type countReader struct {
	r io.Reader
	n int64
}

func (cr *countReader) Read(b []byte) (int, error) {
	n, err := cr.r.Read(b)
	cr.n += int64(n)
	return n, err
}

// readHead reads the status line and headers up to and including the empty line.
func readHead(br *bufio.Reader) ([]byte, error) {
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		if err == bufio.ErrBufferFull {
			if len(head) > MaxResponseHead {
				return nil, fmt.Errorf("response head longer than %d bytes", MaxResponseHead)
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(head) > 0 {
				return nil, fmt.Errorf("response head cut off after %d bytes %s: %w", len(head), quoteText(clipText(string(head), 120)), io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		if len(head) > MaxResponseHead {
			return nil, fmt.Errorf("response head longer than %d bytes", MaxResponseHead)
		}
		if t := bytes.TrimRight(line, "\r\n"); len(t) == 0 {
			if len(bytes.TrimSpace(head)) == 0 {
				head = head[:0] // blank lines before the status line are ignored
				continue
			}
			return head, nil
		}
	}
}

// firstLine returns the status line of a response head.
func firstLine(head []byte) string {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return string(bytes.TrimRight(line, "\r"))
}

// rawHeaders returns the header fields of a response head exactly as written (names in
// their letter case, values without the surrounding blanks), in order.
func rawHeaders(head []byte) []result.Header {
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	var hs []result.Header
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(hs) > 0 { // obsolete line folding
			hs[len(hs)-1].Value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, _ := strings.Cut(l, ":")
		hs = append(hs, result.Header{Name: name, Value: strings.Trim(value, " \t")})
	}
	return hs
}

// classify maps an I/O error to an outcome class and a message; n is the number of
// response bytes read before it.
func (c *call) classify(err error, n int64) (result.Outcome, string) {
	if c.ctx.Err() != nil {
		if errors.Is(c.ctx.Err(), context.DeadlineExceeded) {
			return result.OutcomeTimeout, fmt.Sprintf("the scenario's time ran out: %v", c.ctx.Err())
		}
		return result.OutcomeError, fmt.Sprintf("canceled: %v", c.ctx.Err())
	}
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return result.OutcomeTimeout, fmt.Sprintf("no complete answer within %v (%d response bytes read)", c.timeout(), n)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED):
		return result.OutcomeReset, err.Error()
	case errors.Is(err, io.EOF) && n == 0:
		return result.OutcomeClosed, "connection closed without a response"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return result.OutcomeError, fmt.Sprintf("connection closed after %d bytes of a response: %v", n, err)
	}
	return result.OutcomeError, err.Error()
}
