package fakeserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts and limits of the http.Server that NewServer starts. The body of a segment is
// bounded by Options.BodyReadTimeout (per read), not by a whole-request timeout, which would
// cut large segments on slow links.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverIdleTimeout       = 60 * time.Second
	serverMaxHeaderBytes    = 64 << 10
)

// Server is a reference server listening on a free loopback port, in the manner of
// net/http/httptest.Server.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, without a trailing slash.
	URL string
	// Addr is the listening address, 127.0.0.1:PORT.
	Addr string

	handler *handler
	srv     *http.Server
	served  chan error
	once    sync.Once
	err     error
}

// NewServer starts the reference server with opts on 127.0.0.1 at a free port. The caller
// closes it with Close, which also closes the store.
func NewServer(opts Options) (*Server, error) { return serveHandler(newHandler(opts)) }

// serveHandler starts h on a free loopback port.
func serveHandler(h *handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakeserver: listen on loopback: %w", err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		Addr:    ln.Addr().String(),
		handler: h,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: serverReadHeaderTimeout,
			IdleTimeout:       serverIdleTimeout,
			MaxHeaderBytes:    serverMaxHeaderBytes,
		},
		served: make(chan error, 1),
	}
	if h.opts.Quirks.Has(DropOnMalformed) {
		ln = RecordHeaderOrder(s.srv, ln) // the module's last-header-wins needs the arrival order
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// UploadURL returns the segment endpoint, URL + Options.Path.
func (s *Server) UploadURL() string { return s.URL + s.handler.opts.Path }

// Close stops the server: it closes the listener and every connection, waits for the serving
// goroutine and for the requests in progress to end, then closes the store. It may be called
// more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
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
