package tus

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/fakeserver/internal/serving"
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
	life    *serving.Lifecycle
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
	srv := serving.NewHTTPServer(fakeserver.CORS(h.opts.CORSOrigins, corsPolicy(), h))
	return &Server{handler: h, life: serving.New("tus", srv, func() error {
		h.wait()
		return h.opts.Store.Close()
	})}
}

// Start starts serving on Listener (a new one on 127.0.0.1 at a free port if it is nil) and
// sets URL and Addr. It is an error to start a server twice.
func (s *Server) Start() error {
	addr, err := s.life.Start(&s.Listener, nil)
	if err != nil {
		return err
	}
	s.Addr, s.URL = addr, "http://"+addr
	return nil
}

// CreationURL returns the creation URL, URL + Options.Path.
func (s *Server) CreationURL() string { return s.URL + s.handler.base }

// UploadURL returns the URL of the upload called id (the last element of a Location).
func (s *Server) UploadURL(id string) string {
	return s.URL + s.handler.base + strings.TrimPrefix(id, "/")
}

// Done returns a channel that is closed when the server stops serving.
func (s *Server) Done() <-chan struct{} { return s.life.Done() }

// Err returns why the server stopped serving on its own (a failed listener), once Done is
// closed; nil while it serves and after Close or Shutdown.
func (s *Server) Err() error { return s.life.Err() }

// Shutdown stops the server gracefully: it closes the listener, waits until every request in
// progress has ended or ctx is done, then closes the store. When ctx ends first it returns the
// context's error and the server still runs: call Close.
func (s *Server) Shutdown(ctx context.Context) error { return s.life.Shutdown(ctx) }

// Close stops the server: it closes the listener and every connection, waits for the
// requests in progress, then closes the store. It may be called more than once.
func (s *Server) Close() error { return s.life.Close() }

// Handler is the reference tus server as an http.Handler (with CORS when
// Options.CORSOrigins is set), to embed in a mux or an httptest.Server, or to wrap (a
// grading mock that sees every request), with its Admin.
type Handler struct {
	h    *handler
	next http.Handler
}

// New returns the reference tus server with opts as a Handler. The caller closes
// opts.Store, if it gave one, once the handler serves no more.
func New(opts Options) *Handler {
	h := newHandler(opts)
	return &Handler{h: h, next: fakeserver.CORS(h.opts.CORSOrigins, corsPolicy(), h)}
}

// ServeHTTP serves the tus protocol, the admin API and the fallback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// Admin returns the handler's Admin: its journal, uploads, completed uploads and fault plan.
func (h *Handler) Admin() *Admin { return &Admin{h: h.h} }

// CreationPath returns the path of the creation URL (Options.Path with a trailing slash).
func (h *Handler) CreationPath() string { return h.h.base }
