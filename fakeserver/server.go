package fakeserver

import (
	"context"
	"net"
	"net/http"

	"github.com/upspec/upspec/fakeserver/internal/serving"
)

// Server is the reference server on a listener, in the manner of net/http/httptest.Server. It
// owns every setting of its http.Server: 10 seconds to read a request's headers, 64 KiB of
// them at most, 60 seconds for an idle connection (a body is bounded per read by
// Options.BodyReadTimeout), and, for a grammar in which the last of two header aliases wins
// (drop-on-malformed), the recording of header order (RecordHeaderOrder).
type Server struct {
	// URL is the base URL, http://HOST:PORT, without a trailing slash; set by Start.
	URL string
	// Addr is the listening address, HOST:PORT; set by Start.
	Addr string
	// Listener is where Start serves. It may be set between NewUnstartedServer and Start;
	// nil makes Start listen on 127.0.0.1 at a free port.
	Listener net.Listener

	handler *handler
	srv     *http.Server
	life    *serving.Lifecycle
}

// NewServer starts the reference server with opts on 127.0.0.1 at a free port. The caller
// closes it with Close, which also closes the store.
func NewServer(opts Options) (*Server, error) {
	s := NewUnstartedServer(opts)
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer returns a reference server with opts that is not yet serving: set
// Listener if it must serve somewhere else than a free loopback port, then call Start. The
// caller closes it with Close (or Shutdown), which also closes the store.
func NewUnstartedServer(opts Options) *Server {
	h := newHandler(opts)
	srv := serving.NewHTTPServer(corsHandler(h.opts.CORSOrigins, h))
	return &Server{handler: h, srv: srv, life: serving.New("fakeserver", srv, func() error {
		h.close() // a fault that waits stops waiting
		h.wait()
		return h.opts.Store.Close()
	})}
}

// Start starts serving on Listener (a new one on 127.0.0.1 at a free port if it is nil) and
// sets URL and Addr. It is an error to start a server twice.
func (s *Server) Start() error {
	var wrap func(net.Listener) net.Listener
	if s.handler.b.headerOrder {
		// the module's last-header-wins needs the arrival order
		wrap = func(ln net.Listener) net.Listener { return RecordHeaderOrder(s.srv, ln) }
	}
	addr, err := s.life.Start(&s.Listener, wrap)
	if err != nil {
		return err
	}
	s.Addr, s.URL = addr, "http://"+addr
	return nil
}

// UploadURL returns the segment endpoint, URL + Options.Path.
func (s *Server) UploadURL() string { return s.URL + s.handler.opts.Path }

// Done returns a channel that is closed when the server stops serving: after Close or
// Shutdown, or when its listener fails (Err says why).
func (s *Server) Done() <-chan struct{} { return s.life.Done() }

// Err returns why the server stopped serving on its own (a failed listener), once Done is
// closed; nil while it serves and after Close or Shutdown.
func (s *Server) Err() error { return s.life.Err() }

// Shutdown stops the server gracefully: it closes the listener, waits until every request in
// progress has ended or ctx is done, then closes the store. When ctx ends first it returns the
// context's error and the server still runs: call Close.
func (s *Server) Shutdown(ctx context.Context) error { return s.life.Shutdown(ctx) }

// Close stops the server: it closes the listener and every connection, waits for the serving
// goroutine and for the requests in progress to end, then closes the store. It may be called
// more than once, and on a server that was never started.
func (s *Server) Close() error { return s.life.Close() }
