// Package serving runs an http.Server on a listener, in the manner of net/http/httptest.Server:
// start once on a given or a free loopback listener, report a listener that failed, stop
// gracefully or at once, and release what the server holds after the last request. The
// reference servers of both protocols (fakeserver, fakeserver/tus) are built on it.
package serving

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts and limits of every reference server's http.Server. A body is bounded per read by
// the server's own body timeout, not by a whole-request timeout, which would cut large
// segments on slow links.
const (
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 64 << 10
)

// NewHTTPServer returns an http.Server for h with the limits above.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// Lifecycle is the start and stop of one http.Server. Its methods are safe for concurrent use.
type Lifecycle struct {
	name    string        // prefix of its errors, e.g. "fakeserver"
	srv     *http.Server  // what it serves
	release func() error  // called once after the last request, e.g. to close a store
	done    chan struct{} // closed when Serve returned
	serve   error         // what Serve returned, when it is not http.ErrServerClosed

	mu      sync.Mutex
	started bool
	once    sync.Once
	err     error
}

// New returns a lifecycle of srv whose errors start with name; release (which may be nil)
// runs once after the server's last request, at Close.
func New(name string, srv *http.Server, release func() error) *Lifecycle {
	return &Lifecycle{name: name, srv: srv, release: release, done: make(chan struct{})}
}

// Start serves on *ln, first listening on 127.0.0.1 at a free port when *ln is nil (and
// storing that listener in *ln); wrap, when not nil, wraps the listener that Serve gets. It
// returns the listening address. It is an error to start twice, or after Close.
func (l *Lifecycle) Start(ln *net.Listener, wrap func(net.Listener) net.Listener) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return "", fmt.Errorf("%s: Start: the server is already started", l.name)
	}
	if *ln == nil {
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("%s: listen on loopback: %w", l.name, err)
		}
		*ln = nl
	}
	l.started = true
	serveOn := *ln
	if wrap != nil {
		serveOn = wrap(serveOn)
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(serveOn); !errors.Is(err, http.ErrServerClosed) {
			l.serve = err
		}
	}()
	return (*ln).Addr().String(), nil
}

// Done returns a channel that is closed when the server stops serving: after Close or
// Shutdown, or when its listener fails (Err says why).
func (l *Lifecycle) Done() <-chan struct{} { return l.done }

// Err returns why the server stopped serving on its own (a failed listener), once Done is
// closed; nil while it serves and after Close or Shutdown.
func (l *Lifecycle) Err() error {
	select {
	case <-l.done:
		if l.serve != nil {
			return fmt.Errorf("%s: serve: %w", l.name, l.serve)
		}
	default:
	}
	return nil
}

// Shutdown stops the server gracefully: it closes the listener, waits until every request in
// progress has ended or ctx is done, then calls Close. When ctx ends first it returns the
// context's error and the server still runs: call Close.
func (l *Lifecycle) Shutdown(ctx context.Context) error {
	if err := l.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", l.name, err)
	}
	return l.Close()
}

// Close stops the server: it closes the listener and every connection, waits for the serving
// goroutine, then runs release. It may be called more than once, and on a server that was
// never started (a later Start fails).
func (l *Lifecycle) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		started := l.started
		l.started = true
		l.mu.Unlock()
		var err error
		if started {
			err = l.srv.Close()
			<-l.done
		}
		if l.release != nil {
			if rerr := l.release(); err == nil {
				err = rerr
			}
		}
		if err != nil {
			l.err = fmt.Errorf("%s: close: %w", l.name, err)
		}
	})
	return l.err
}
