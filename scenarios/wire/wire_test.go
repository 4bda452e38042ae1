package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/internal/wiretest"
)

func testClient(u *url.URL, timeout time.Duration) Client {
	return Client{Target: u, Timeout: timeout}
}

func TestDoWritesExactBytes(t *testing.T) {
	got := make(chan string, 1)
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		br := bufio.NewReader(c)
		var head bytes.Buffer
		for {
			line, err := br.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		body := make([]byte, 4)
		_, _ = io.ReadFull(br, body)
		got <- head.String() + string(body)
		wiretest.Respond(c, 416, nil, "length mismatch\n")
	})
	cl := testClient(srv.URL, wiretest.Roomy)
	cl.Headers = []result.Header{{Name: "Authorization", Value: "Bearer x"}}
	ex := cl.Do(context.Background(), Request{
		Step:    "exact",
		Headers: []result.Header{{Name: "x-content-RANGE", Value: "bytes 0-3/10"}, {Name: "Session-ID", Value: "abc"}},
		Length:  LengthExplicit, ContentLength: 10,
		Body: []byte("wxyz"),
	})
	want := "POST /upload HTTP/1.1\r\nHost: " + srv.URL.Host + "\r\nx-content-RANGE: bytes 0-3/10\r\nSession-ID: abc\r\n" +
		"Authorization: Bearer x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nwxyz"
	if w := <-got; w != want {
		t.Errorf("wire bytes:\n%q\nwant\n%q", w, want)
	}
	if ex.Outcome != result.OutcomeAnswered || ex.Response.Status != 416 || ex.Response.Body != "length mismatch\n" {
		t.Errorf("exchange = %+v", ex)
	}
	if ex.Request.BodyLen != 10 || ex.Request.BodySent != 4 || ex.Request.BodyHead != "wxyz" {
		t.Errorf("request record = %+v", ex.Request)
	}
	if ex.Step != "exact" || ex.LocalAddr == "" || ex.Duration <= 0 {
		t.Errorf("exchange record = %+v", ex)
	}
	if len(ex.Response.Headers) != 2 || ex.Response.Headers[0].Name != "Content-Length" || ex.Response.StatusLine != "HTTP/1.1 416 Requested Range Not Satisfiable" {
		t.Errorf("response record = %+v", ex.Response)
	}
}

func TestDoOutcomes(t *testing.T) {
	// The cases that end in result.OutcomeTimeout have a short request timeout: their server never
	// completes an answer, however long it is given. The others end by what the server does.
	const short = 300 * time.Millisecond
	tests := []struct {
		name    string
		handler func(c net.Conn, done <-chan struct{})
		want    result.Outcome
		errHas  string
		status  int
	}{
		{"closed without a byte", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
		}, result.OutcomeClosed, "without a response", 0},
		{"reset", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_ = c.(*net.TCPConn).SetLinger(0)
		}, result.OutcomeReset, "reset", 0},
		{"never answers", func(c net.Conn, done <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			<-done
		}, result.OutcomeTimeout, "no complete answer", 0},
		{"garbage", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "hello there\r\n\r\n")
		}, result.OutcomeError, "malformed response head", 0},
		{"drips bytes", func(c net.Conn, done <-chan struct{}) {
			// A byte every 50 ms, never the end of the head: only a bound on the whole
			// exchange (not on each read) ends it with result.OutcomeTimeout; a bound per read would
			// last until the server's own deadline closes the connection (result.OutcomeError).
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			head := "HTTP/1.1 201 Created\r\nX-Pad: "
			for i := 0; ; i++ {
				b := byte('a')
				if i < len(head) {
					b = head[i]
				}
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
			}
		}, result.OutcomeTimeout, "", 0},
		{"head cut off", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "HTTP/1.1 201 Cre")
		}, result.OutcomeError, "closed after 16 bytes", 0},
		{"answer without closing", func(c net.Conn, done <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad")
			<-done
		}, result.OutcomeAnswered, "", 400},
		{"interim 100 then 201", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nRange: 0-1/4\r\nContent-Length: 5\r\n\r\n0-1/4")
		}, result.OutcomeAnswered, "", 201},
		{"chunked", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
		}, result.OutcomeAnswered, "", 200},
		{"body cut short", func(c net.Conn, _ <-chan struct{}) {
			_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
		}, result.OutcomeAnswered, "cut short", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := wiretest.NewServer(t, tc.handler)
			timeout := wiretest.Roomy
			if tc.want == result.OutcomeTimeout {
				timeout = short
			}
			ex := testClient(srv.URL, timeout).Do(context.Background(), Request{Body: []byte("abcd")})
			if ex.Outcome != tc.want {
				t.Fatalf("outcome = %s (%s), want %s", ex.Outcome, ex.Error, tc.want)
			}
			if !strings.Contains(ex.Error, tc.errHas) {
				t.Errorf("error = %q, want it to contain %q", ex.Error, tc.errHas)
			}
			if tc.status != 0 && (ex.Response == nil || ex.Response.Status != tc.status) {
				t.Errorf("response = %+v, want status %d", ex.Response, tc.status)
			}
			if tc.want != result.OutcomeAnswered && ex.Response != nil {
				t.Errorf("response recorded for outcome %s", ex.Outcome)
			}
		})
	}
}

func TestDoReadsChunkedAndCapsBody(t *testing.T) {
	big := strings.Repeat("x", 10_000)
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
		wiretest.Respond(c, 200, []result.Header{{Name: "X-One", Value: " spaced "}, {Name: "x-two", Value: "b"}}, big)
	})
	var sink bytes.Buffer
	ex := testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{Method: "GET", Length: LengthOmit, BodySink: &sink})
	r := ex.Response
	if ex.Outcome != result.OutcomeAnswered || len(r.Body) != MaxKeptBody || r.BodyLen != 10_000 || !r.Truncated || sink.Len() != 10_000 {
		t.Fatalf("outcome %s, body kept %d, len %d, truncated %v, sink %d", ex.Outcome, len(r.Body), r.BodyLen, r.Truncated, sink.Len())
	}
	if v, _ := r.Header("x-ONE"); v != "spaced" || r.Headers[1].Name != "x-two" {
		t.Errorf("headers = %+v", r.Headers)
	}
	if ex.Request.BodyLen != -1 {
		t.Errorf("BodyLen = %d, want -1 without Content-Length", ex.Request.BodyLen)
	}
}

// pausedSeen is what a test server saw of a paused request.
type pausedSeen struct {
	expect string // its Expect header
	n      int    // body bytes read before the client resumed
	err    error
}

// pauseServer reads a request head, answers `Expect: 100-continue` with 100 Continue when
// sendContinue is set, reads the first 3 body bytes, reports what it saw, and then, once the
// test says the client has been resumed, reads the rest and answers 201.
func pauseServer(t *testing.T, sendContinue bool) (*wiretest.Server, <-chan pausedSeen, chan<- struct{}) {
	partial := make(chan pausedSeen, 1)
	resumed := make(chan struct{})
	srv := wiretest.NewServer(t, func(c net.Conn, done <-chan struct{}) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			partial <- pausedSeen{err: err}
			return
		}
		if sendContinue {
			_, _ = io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
		}
		first := make([]byte, 3)
		_, err = io.ReadFull(br, first)
		partial <- pausedSeen{expect: req.Header.Get("Expect"), n: 3, err: err}
		select {
		case <-resumed:
		case <-done:
			return
		}
		rest := make([]byte, req.ContentLength-3)
		if _, err := io.ReadFull(br, rest); err != nil {
			return
		}
		wiretest.Respond(c, 201, nil, "")
	})
	return srv, partial, resumed
}

func TestDoPauseAndResume(t *testing.T) {
	tests := []struct {
		name         string
		sendContinue bool
		want         result.InFlightBy
	}{
		{"the server sends 100 Continue", true, result.InFlightByContinue},
		{"the server never sends 100 Continue", false, result.InFlightByWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, partial, resumed := pauseServer(t, tt.sendContinue)
			g := NewGate()
			done := make(chan result.Exchange, 1)
			go func() {
				done <- testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{
					Pattern: &Pattern{}, BodyOffset: 0, BodyLen: 10, Gate: g, PauseAfter: 3,
				})
			}()
			select {
			case <-g.Paused():
			case ex := <-done:
				t.Fatalf("the request ended before its pause point: %+v", ex)
			}
			if g.InFlightBy() != tt.want {
				t.Errorf("in flight by %q, want %q", g.InFlightBy(), tt.want)
			}
			if settle := g.Settle(); (tt.want == result.InFlightByContinue) != (settle == 0) {
				t.Errorf("settle = %v after in flight by %q", settle, tt.want)
			}
			s := <-partial
			if s.err != nil || s.n != 3 || s.expect != "100-continue" {
				t.Fatalf("server saw %d body bytes (err %v) with Expect %q, want 3 with 100-continue", s.n, s.err, s.expect)
			}
			g.Resume()
			close(resumed)
			ex := <-done
			if ex.Outcome != result.OutcomeAnswered || ex.Response.Status != 201 || ex.Request.BodySent != 10 || ex.Request.Paused <= 0 {
				t.Fatalf("exchange = %+v", ex)
			}
			if ex.Request.InFlightBy != tt.want {
				t.Errorf("record: in flight by %q, want %q", ex.Request.InFlightBy, tt.want)
			}
			if v, ok := headerValue(ex.Request.Headers, "Expect"); !ok || v != "100-continue" {
				t.Errorf("recorded headers %+v lack Expect: 100-continue", ex.Request.Headers)
			}
		})
	}
}

// TestDoHoldsTheBodyUntilContinue checks that a paused request writes no body byte before the
// server's 100 Continue: the server reads the head, then waits for the test, which sees the
// request still short of its pause point, then sends 100 Continue.
func TestDoHoldsTheBodyUntilContinue(t *testing.T) {
	gotHead := make(chan int, 1) // body bytes buffered with the head
	sendContinue := make(chan struct{})
	srv := wiretest.NewServer(t, func(c net.Conn, done <-chan struct{}) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			gotHead <- -1
			return
		}
		gotHead <- br.Buffered()
		select {
		case <-sendContinue:
		case <-done:
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
		if _, err := io.CopyN(io.Discard, br, req.ContentLength); err != nil {
			return
		}
		wiretest.Respond(c, 201, nil, "")
	})
	g := NewGate()
	g.Resume() // no stop at the pause point: the only hold is the wait for 100 Continue
	done := make(chan result.Exchange, 1)
	go func() {
		// A request timeout of minutes: the client's own wait for 100 Continue (a fifth of
		// it) must not end while the test looks.
		done <- testClient(srv.URL, 5*time.Minute).Do(context.Background(), Request{Pattern: &Pattern{}, BodyLen: 10, Gate: g, PauseAfter: 3})
	}()
	if n := <-gotHead; n != 0 {
		t.Fatalf("%d body bytes came with the head, want 0", n)
	}
	select {
	case <-g.Paused():
		t.Fatal("the request reached its pause point before 100 Continue")
	default:
	}
	close(sendContinue)
	ex := <-done
	if ex.Outcome != result.OutcomeAnswered || ex.Response.Status != 201 || ex.Request.InFlightBy != result.InFlightByContinue || ex.Request.BodySent != 10 {
		t.Fatalf("exchange = %+v", ex)
	}
}

// TestDoFinalAnswerBeforeBody checks a paused request that the server answers instead of
// sending 100 Continue: the answer is recorded, no body byte is sent, the gate never pauses.
func TestDoFinalAnswerBeforeBody(t *testing.T) {
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		wiretest.Respond(c, 409, nil, "overlaps a segment in flight\n")
	})
	g := NewGate()
	ex := testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{Pattern: &Pattern{}, BodyLen: 10, Gate: g, PauseAfter: 3})
	if ex.Outcome != result.OutcomeAnswered || ex.Response.Status != 409 || ex.Request.BodySent != 0 || ex.Request.InFlightBy != "" {
		t.Fatalf("exchange = %+v", ex)
	}
	select {
	case <-g.Paused():
		t.Error("the gate paused a request answered before its body")
	default:
	}
}

func TestDoPauseNeverResumedIsBounded(t *testing.T) {
	srv := wiretest.NewServer(t, func(c net.Conn, done <-chan struct{}) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
		_, _ = io.Copy(io.Discard, br)
	})
	// The pause bound is three request timeouts: the outcome is the event under test.
	ex := testClient(srv.URL, time.Second).Do(context.Background(), Request{
		Body: []byte("abcdef"), Gate: NewGate(), PauseAfter: 2,
	})
	if ex.Outcome != result.OutcomeError || !strings.Contains(ex.Error, "never resumed") {
		t.Fatalf("outcome %s (%s)", ex.Outcome, ex.Error)
	}
}

func TestDoInterrupt(t *testing.T) {
	tests := []struct {
		name   string
		answer bool // the server answers the short body (else it only closes)
		errHas string
	}{
		{"the server closes", false, "the server then closed the connection"},
		{"the server answers and closes", true, `the server then closed the connection after sending "HTTP/1.1 400 Bad Request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan int64, 1)
			srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					got <- -1
					return
				}
				n, _ := io.Copy(io.Discard, br) // up to the client's end of the connection
				got <- n
				if tt.answer {
					wiretest.Respond(c, 400, nil, "short body\n")
				}
			})
			ex := testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{
				Pattern: &Pattern{}, BodyLen: 20, Interrupt: true, InterruptAfter: 5,
			})
			if ex.Outcome != result.OutcomeAborted || ex.Request.BodySent != 5 || ex.Request.BodyPlanned != 20 || ex.Response != nil {
				t.Fatalf("exchange = %+v", ex)
			}
			if !strings.Contains(ex.Error, tt.errHas) {
				t.Errorf("error %q, want it to contain %q", ex.Error, tt.errHas)
			}
			// Do returned after the server closed: the server's count is in.
			select {
			case n := <-got:
				if n != 5 {
					t.Errorf("server read %d body bytes, want 5", n)
				}
			default:
				t.Error("Do returned before the server had seen the end of the connection")
			}
		})
	}
}

func TestDoLocalAddress(t *testing.T) {
	remote := make(chan string, 1)
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		remote <- c.RemoteAddr().String()
		_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
		wiretest.Respond(c, 201, nil, "")
	})
	ex := testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{LocalAddr: "127.0.0.2"})
	if ex.Outcome != result.OutcomeAnswered {
		t.Fatalf("outcome %s: %s", ex.Outcome, ex.Error)
	}
	if r := <-remote; !strings.HasPrefix(r, "127.0.0.2:") || !strings.HasPrefix(ex.LocalAddr, "127.0.0.2:") {
		t.Errorf("server saw %s, local %s; want 127.0.0.2", r, ex.LocalAddr)
	}
}

func TestDoTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(201)
		_, _ = w.Write(b)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	u, _ := url.Parse(ts.URL + "/upload")
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	cl := testClient(u, wiretest.Roomy)
	cl.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	ex := cl.Do(context.Background(), Request{Body: []byte("hello")})
	if ex.Outcome != result.OutcomeAnswered || ex.Response.Status != 201 || ex.Response.Body != "hello" {
		t.Fatalf("exchange: %s %s %+v", ex.Outcome, ex.Error, ex.Response)
	}
	cl.TLS = nil // the test CA is unknown to the system roots
	ex = cl.Do(context.Background(), Request{Body: []byte("hello")})
	if ex.Outcome != result.OutcomeError || !strings.Contains(ex.Error, "TLS handshake") {
		t.Fatalf("untrusted certificate: %s %s", ex.Outcome, ex.Error)
	}
}

func TestDoRefusedAndCanceled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ex := testClient(&url.URL{Scheme: "http", Host: addr, Path: "/"}, time.Second).Do(context.Background(), Request{})
	if ex.Outcome != result.OutcomeError || !strings.Contains(ex.Error, "connect to") {
		t.Errorf("refused: %s %s", ex.Outcome, ex.Error)
	}

	// The context is canceled once the server has the request, which it never answers: only
	// the cancellation can end the exchange before its (wiretest.Roomy) timeout, as result.OutcomeError.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := wiretest.NewServer(t, func(c net.Conn, done <-chan struct{}) {
		_, _, _ = wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
		cancel()
		<-done
	})
	ex = testClient(srv.URL, wiretest.Roomy).Do(ctx, Request{})
	if ex.Outcome != result.OutcomeError || !strings.Contains(ex.Error, "canceled") {
		t.Errorf("canceled: %s %s", ex.Outcome, ex.Error)
	}
}

func TestDoAnswerBeforeBody(t *testing.T) {
	// The server answers after the head and closes without reading an 8 MiB body: the
	// client either reads the answer or sees the reset, never hangs.
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		wiretest.Respond(c, 416, nil, "no\n")
	})
	ex := testClient(srv.URL, wiretest.Roomy).Do(context.Background(), Request{Pattern: &Pattern{}, BodyLen: 8 << 20})
	switch {
	case ex.Outcome == result.OutcomeAnswered && ex.Response.Status == 416:
	case ex.Outcome == result.OutcomeReset:
	default:
		t.Fatalf("outcome %s (%s)", ex.Outcome, ex.Error)
	}
}

func TestClassifyWrappedErrors(t *testing.T) {
	c := &call{ctx: context.Background()}
	if o, _ := c.classify(errors.Join(errors.New("x"), io.EOF), 0); o != result.OutcomeClosed {
		t.Errorf("EOF: %s", o)
	}
	if o, _ := c.classify(io.ErrUnexpectedEOF, 3); o != result.OutcomeError {
		t.Errorf("unexpected EOF: %s", o)
	}
}

func TestReach(t *testing.T) {
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {})
	if err := testClient(srv.URL, time.Second).Reach(context.Background()); err != nil {
		t.Errorf("reachable: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	err = testClient(&url.URL{Scheme: "http", Host: addr}, time.Second).Reach(context.Background())
	if err == nil || !strings.Contains(err.Error(), "reach target") {
		t.Errorf("closed port: %v", err)
	}
	var re *ReachError
	if !errors.As(err, &re) || re.Handshake || re.Target != addr {
		t.Errorf("closed port: %#v, want a *ReachError for %s without Handshake", err, addr)
	}
}
