package grade

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// mockServer is the HTTP side of a grading mock, for both protocols: the listener, the
// server with the reference server's settings, and its lifecycle.
type mockServer struct {
	srv  *http.Server
	url  string
	done chan struct{} // closed when Serve has returned
}

// serve starts serving h on ln; nil: 127.0.0.1 at a free port.
func (m *mockServer) serve(ln net.Listener, h http.Handler) error {
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("grade: listen on loopback: %w", err)
		}
	}
	m.url = "http://" + ln.Addr().String()
	m.done = make(chan struct{})
	m.srv = &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln) // ends with Shutdown or Close
	}()
	return nil
}

// URL returns the base URL of the grading mock, http://HOST:PORT.
func (m *mockServer) URL() string { return m.url }

// shutdown stops the grading mock once every request in progress has ended (so that the
// journal holds every request the client sent), or when ctx ends (then every connection is
// closed).
func (m *mockServer) shutdown(ctx context.Context) error {
	if err := m.srv.Shutdown(ctx); err != nil {
		if cerr := m.Close(); cerr != nil {
			return cerr
		}
	}
	<-m.done
	return nil
}

// Close stops the grading mock: the listener and every connection are closed.
func (m *mockServer) Close() error {
	err := m.srv.Close()
	<-m.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("grade: close: %w", err)
	}
	return nil
}
