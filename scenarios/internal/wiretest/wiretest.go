// Package wiretest holds the loopback test servers of the raw client's tests and of the
// scenarios' tests: a listener with a connection handler, request readers and a response writer.
package wiretest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
)

// Server is a loopback listener whose connections are handled by a function. Everything it
// starts is stopped by the test's cleanup.
type Server struct {
	URL  *url.URL // http://127.0.0.1:port/upload
	ln   net.Listener
	wg   sync.WaitGroup
	done chan struct{}
}

// NewServer starts a Server whose connections are handled by fn (done is closed when the test
// ends); each connection has a deadline of 10 seconds.
func NewServer(t testing.TB, fn func(c net.Conn, done <-chan struct{})) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &Server{ln: ln, done: make(chan struct{})}
	s.URL = &url.URL{Scheme: "http", Host: ln.Addr().String(), Path: "/upload"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { _ = c.Close() }()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				fn(c, s.done)
			}()
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// ReadRequest reads one request head and the body its Content-Length announces (at most
// bodyMax bytes: the rest is left unread).
func ReadRequest(br *bufio.Reader, bodyMax int64) (*http.Request, []byte, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	n := req.ContentLength
	if n > bodyMax {
		n = bodyMax
	}
	body := make([]byte, max(n, 0))
	_, err = io.ReadFull(br, body)
	return req, body, err
}

// ReadRequestContinue is ReadRequest for a server that answers `Expect: 100-continue` with
// 100 Continue before it reads the body, as net/http's server does.
func ReadRequestContinue(c net.Conn, br *bufio.Reader, bodyMax int64) (*http.Request, []byte, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return nil, nil, err
		}
	}
	body := make([]byte, max(min(req.ContentLength, bodyMax), 0))
	_, err = io.ReadFull(br, body)
	return req, body, err
}

// Respond writes a complete response: status, headers, Content-Length and body, and
// `Connection: close`.
func Respond(c net.Conn, status int, headers []result.Header, body string) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	for _, h := range headers {
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
	_, _ = io.WriteString(c, b.String())
}

// Roomy is the request timeout of the tests whose exchanges end by an event, not by a
// timeout: long enough for a loaded machine, and never reached when the code is right.
const Roomy = 30 * time.Second
