package tus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// Timeouts and limits of the http.Server of a Server; a body is bounded per read by
// Options.BodyReadTimeout.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverIdleTimeout       = 60 * time.Second
	serverMaxHeaderBytes    = 64 << 10
)

// corsPolicy is what pages of the allowed origins (Options.CORSOrigins) may do: every method
// of the protocol, its request headers, and reading its response headers.
func corsPolicy() fakeserver.CORSPolicy {
	return fakeserver.CORSPolicy{
		AllowMethods: "POST, GET, HEAD, PATCH, DELETE, OPTIONS",
		AllowHeaders: "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Defer-Length, Upload-Offset, " +
			"Upload-Metadata, Upload-Concat, Upload-Checksum, X-HTTP-Method-Override, X-Requested-With, X-Request-ID, " + fakeserver.FaultPlanHeader,
		ExposeHeaders: "Location, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, " +
			"Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, Upload-Concat, Upload-Expires, Retry-After",
	}
}

// Server is the reference tus server on a listener, in the manner of net/http/httptest.Server
// and fakeserver.Server.
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
	done    chan struct{}
	serve   error

	mu      sync.Mutex
	started bool
	once    sync.Once
	err     error
}

// NewServer starts the reference tus server with opts on 127.0.0.1 at a free port. The
// caller closes it with Close, which also closes the store.
func NewServer(opts Options) (*Server, error) {
	s := NewUnstartedServer(opts)
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer returns a reference tus server with opts that is not yet serving: set
// Listener if it must serve somewhere else than a free loopback port, then call Start.
func NewUnstartedServer(opts Options) *Server {
	h := newHandler(opts)
	return &Server{
		handler: h,
		srv: &http.Server{
			Handler:           fakeserver.CORS(h.opts.CORSOrigins, corsPolicy(), h),
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
		return errors.New("tus: Start: the server is already started")
	}
	if s.Listener == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("tus: listen on loopback: %w", err)
		}
		s.Listener = ln
	}
	s.started = true
	s.Addr = s.Listener.Addr().String()
	s.URL = "http://" + s.Addr
	ln := s.Listener
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serve = err
		}
	}()
	return nil
}

// CreationURL returns the creation URL, URL + Options.Path.
func (s *Server) CreationURL() string { return s.URL + s.handler.base }

// UploadURL returns the URL of the upload called id (the last element of a Location).
func (s *Server) UploadURL(id string) string {
	return s.URL + s.handler.base + strings.TrimPrefix(id, "/")
}

// Done returns a channel that is closed when the server stops serving.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns why the server stopped serving on its own (a failed listener), once Done is
// closed; nil while it serves and after Close or Shutdown.
func (s *Server) Err() error {
	select {
	case <-s.done:
		if s.serve != nil {
			return fmt.Errorf("tus: serve: %w", s.serve)
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
		return fmt.Errorf("tus: shutdown: %w", err)
	}
	return s.Close()
}

// Close stops the server: it closes the listener and every connection, waits for the
// requests in progress, then closes the store. It may be called more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		started := s.started
		s.started = true
		s.mu.Unlock()
		var err error
		if started {
			err = s.srv.Close()
			<-s.done
		}
		s.handler.wait()
		if cerr := s.handler.opts.Store.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			s.err = fmt.Errorf("tus: close: %w", err)
		}
	})
	return s.err
}

// New returns the reference tus server with opts as an http.Handler (with CORS when
// opts.CORSOrigins is set), to embed in a mux or an httptest.Server. The caller closes
// opts.Store, if it gave one, once the handler serves no more.
func New(opts Options) http.Handler {
	h := newHandler(opts)
	return fakeserver.CORS(h.opts.CORSOrigins, corsPolicy(), h)
}
