package fakeserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts and limits of the http.Server of a Server. The body of a segment is bounded by
// Options.BodyReadTimeout (per read), not by a whole-request timeout, which would cut large
// segments on slow links.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverIdleTimeout       = 60 * time.Second
	serverMaxHeaderBytes    = 64 << 10
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
	done    chan struct{} // closed when Serve returned
	serve   error         // what Serve returned, when it is not http.ErrServerClosed

	mu      sync.Mutex
	started bool
	once    sync.Once
	err     error
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
	return &Server{
		handler: h,
		srv: &http.Server{
			Handler:           corsHandler(h.opts.CORSOrigins, h),
			ReadHeaderTimeout: serverReadHeaderTimeout,
			IdleTimeout:       serverIdleTimeout,
			MaxHeaderBytes:    serverMaxHeaderBytes,
		},
		done: make(chan struct{}),
	}
}

// Start starts serving on Listener (a new one on 127.0.0.1 at a free port if it is nil) and
// sets URL and Addr. It is an error to start a server twice.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("fakeserver: Start: the server is already started")
	}
	if s.Listener == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("fakeserver: listen on loopback: %w", err)
		}
		s.Listener = ln
	}
	s.started = true
	s.Addr = s.Listener.Addr().String()
	s.URL = "http://" + s.Addr
	ln := s.Listener
	if s.handler.b.headerOrder {
		ln = RecordHeaderOrder(s.srv, ln) // the module's last-header-wins needs the arrival order
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serve = err
		}
	}()
	return nil
}

// UploadURL returns the segment endpoint, URL + Options.Path.
func (s *Server) UploadURL() string { return s.URL + s.handler.opts.Path }

// Done returns a channel that is closed when the server stops serving: after Close or
// Shutdown, or when its listener fails (Err says why).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns why the server stopped serving on its own (a failed listener), once Done is
// closed; nil while it serves and after Close or Shutdown.
func (s *Server) Err() error {
	select {
	case <-s.done:
		if s.serve != nil {
			return fmt.Errorf("fakeserver: serve: %w", s.serve)
		}
	default:
	}
	return nil
}

// Shutdown stops the server gracefully: it closes the listener, waits until every request in
// progress has ended or ctx is done, then closes the store. When ctx ends first it returns the
// context's error and the server still runs: call Close.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("fakeserver: shutdown: %w", err)
	}
	return s.Close()
}

// Close stops the server: it closes the listener and every connection, waits for the serving
// goroutine and for the requests in progress to end, then closes the store. It may be called
// more than once, and on a server that was never started.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		started := s.started
		s.started = true // a later Start fails
		s.mu.Unlock()
		var err error
		if started {
			err = s.srv.Close()
			<-s.done
		}
		s.handler.close() // a fault that waits stops waiting
		s.handler.wait()
		if cerr := s.handler.opts.Store.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			s.err = fmt.Errorf("fakeserver: close: %w", err)
		}
	})
	return s.err
}
