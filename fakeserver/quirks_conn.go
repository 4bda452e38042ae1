package fakeserver

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The module reads request headers in arrival order and lets the last of two aliases win
// (docs/module-behavior.md §1.3). net/http keeps the order of the values of one header name but not
// the order across names, so with drop-on-malformed the server records the header block of
// every request as it comes off the connection: orderListener wraps the accepted
// connections, orderConn follows the HTTP/1.1 framing (header block, then Content-Length
// bytes of body), and the handler takes the recorded headers of its request.

const (
	// maxOrderHeaderBlock bounds the header block kept per request; a larger one (which
	// net/http refuses anyway) stops the recording on that connection.
	maxOrderHeaderBlock = 128 << 10
	// maxOrderQueue bounds the header blocks waiting for their handler on one connection.
	maxOrderQueue = 8
)

// RecordHeaderOrder prepares srv and ln so that a handler from New with the drop-on-malformed
// quirk sees each request's headers in arrival order, as the module does (the last of two
// aliases wins, docs/module-behavior.md §1.3). It sets srv.ConnContext and returns the listener
// to serve on. Without it the handler guesses the order (the plain header name after its `X-`
// alias): this is the one difference between httptest.NewServer(New(opts)) and
// NewServer(opts). Servers started by NewServer and Start do this themselves.
func RecordHeaderOrder(srv *http.Server, ln net.Listener) net.Listener {
	prev := srv.ConnContext
	srv.ConnContext = orderConnContext
	if prev != nil {
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return orderConnContext(prev(ctx, c), c) }
	}
	return orderListener{ln}
}

// orderListener wraps every accepted connection in an orderConn.
type orderListener struct {
	net.Listener
}

// Accept accepts the next connection and wraps it.
func (l orderListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &orderConn{Conn: c}, nil
}

// orderConnKey is the context key under which orderConnContext stores the connection.
type orderConnKey struct{}

// orderConnContext is an http.Server ConnContext that makes the orderConn reachable from the
// requests of the connection.
func orderConnContext(ctx context.Context, c net.Conn) context.Context {
	if oc, ok := c.(*orderConn); ok {
		return context.WithValue(ctx, orderConnKey{}, oc)
	}
	return ctx
}

// orderedBlock is one recorded request head.
type orderedBlock struct {
	method, target string
	headers        []moduleHeader
}

// orderConn records the request heads read from a connection, in order.
type orderConn struct {
	net.Conn

	mu       sync.Mutex
	lost     bool   // framing no longer known (chunked body, oversized head): record nothing
	head     []byte // the head being read
	bodyLeft int64  // body bytes still to pass before the next head
	queue    []orderedBlock
}

// Read reads from the connection and records what passes.
func (c *orderConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.feed(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite shuts down the writing side when the underlying connection can; net/http uses
// it to end a connection cleanly after an answer.
func (c *orderConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// feed follows the framing over b; c.mu is held.
func (c *orderConn) feed(b []byte) {
	for len(b) > 0 && !c.lost {
		if c.bodyLeft > 0 {
			k := min(int64(len(b)), c.bodyLeft)
			c.bodyLeft -= k
			b = b[k:]
			continue
		}
		if len(c.head) == 0 {
			// blank lines before a request line are skipped, as net/http does
			for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
				b = b[1:]
			}
			if len(b) == 0 {
				return
			}
		}
		old := len(c.head)
		c.head = append(c.head, b...)
		end, sep := bytes.Index(c.head, []byte("\r\n\r\n")), 4
		if lf := bytes.Index(c.head, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
			end, sep = lf, 2
		}
		if end < 0 {
			if len(c.head) > maxOrderHeaderBlock {
				c.lost, c.head = true, nil
			}
			return
		}
		used := end + sep - old
		c.record(c.head[:end])
		c.head = c.head[:0]
		b = b[used:]
	}
}

// record parses one request head and queues it; c.mu is held.
func (c *orderConn) record(head []byte) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	blk := orderedBlock{}
	if f := strings.Fields(lines[0]); len(f) >= 2 {
		blk.method, blk.target = f[0], f[1]
	}
	chunked := false
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.Trim(value, " \t")
		blk.headers = append(blk.headers, moduleHeader{Name: name, Value: value})
		switch {
		case strings.EqualFold(name, "Transfer-Encoding"):
			chunked = true
		case strings.EqualFold(name, "Content-Length"):
			if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
				c.bodyLeft = n
			}
		}
	}
	if chunked {
		c.lost = true
	}
	if len(c.queue) == maxOrderQueue {
		c.queue = c.queue[1:]
	}
	c.queue = append(c.queue, blk)
}

// take returns the recorded headers of r, in arrival order: the oldest recorded head whose
// request line matches r (older ones belong to requests already served). ok is false when
// nothing matches.
func (c *orderConn) take(r *http.Request) ([]moduleHeader, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, blk := range c.queue {
		if blk.method == r.Method && blk.target == r.RequestURI {
			c.queue = c.queue[i+1:]
			return blk.headers, true
		}
	}
	return nil, false
}

// requestHeadersInOrder returns r's headers in arrival order when the connection recorded
// them, or else in the order headersInGuessedOrder gives.
func requestHeadersInOrder(r *http.Request) []moduleHeader {
	if oc, ok := r.Context().Value(orderConnKey{}).(*orderConn); ok {
		if hs, ok := oc.take(r); ok {
			return hs
		}
	}
	return headersInGuessedOrder(r.Header)
}
