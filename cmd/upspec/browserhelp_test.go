package main

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The helpers that the browser tests of both protocols share (the demo page's in
// browser_test.go, tus-js-client's and the library's in tusjs_test.go): a gate that holds one
// request, a wait that ends a test that would hang, and a proxy to a server that restarts.

// holdGate holds the first request that match selects, before it reaches the server, until
// it is let go; it then answers 503: a held request never reaches the server.
type holdGate struct {
	what    string // the request it waits for, for failure messages
	match   func(*http.Request) bool
	active  atomic.Bool
	held    chan struct{} // closed when a request is held
	release chan struct{} // closed to answer the held request 503
	once    sync.Once
}

func newHoldGate(what string, match func(*http.Request) bool) *holdGate {
	g := &holdGate{what: what, match: match, held: make(chan struct{}), release: make(chan struct{})}
	g.active.Store(true)
	return g
}

// segmentFrom selects a POSTed segment of the nginx protocol that starts at byte from or later.
func segmentFrom(from int64) func(*http.Request) bool {
	return func(r *http.Request) bool {
		start, _, _, ok := parseSegmentRange(r)
		return r.Method == http.MethodPost && ok && start >= from
	}
}

// patchFrom selects a tus PATCH at Upload-Offset from or beyond.
func patchFrom(from int64) func(*http.Request) bool {
	return func(r *http.Request) bool {
		off, err := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
		return r.Method == http.MethodPatch && err == nil && off >= from
	}
}

func (g *holdGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.match(r) && g.active.CompareAndSwap(true, false) {
			close(g.held)
			select {
			case <-g.release:
			case <-r.Context().Done():
			}
			http.Error(w, "held by the test", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// waitHeld waits until the gate holds its request.
func (g *holdGate) waitHeld(t *testing.T, ctx context.Context) {
	t.Helper()
	waitClosed(t, ctx, g.held, g.what+" reached the server")
}

func (g *holdGate) letGo() { g.once.Do(func() { close(g.release) }) }

// waitClosed waits until ch is closed, or fails the test after browserWait with what and the
// rows of the page in ctx.
func waitClosed(t *testing.T, ctx context.Context, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(browserWait):
		t.Fatalf("not within %v: %s; page: %s", browserWait, what, pageRows(ctx))
	}
}

// serveProxy is a reverse proxy to the `upspec serve` process of the moment, keeping the
// Host the client asked for (so that the server's URLs name the proxy); to points it at a
// restarted process. While there is no process behind it, a request gets a 502.
type serveProxy struct {
	target atomic.Pointer[url.URL]
	*httputil.ReverseProxy
}

func newServeProxy(tb testing.TB, p *serveProc) *serveProxy {
	tb.Helper()
	sp := &serveProxy{}
	sp.ReverseProxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(sp.target.Load())
			r.Out.Host = r.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	sp.to(tb, p)
	return sp
}

// to points the proxy at p.
func (sp *serveProxy) to(tb testing.TB, p *serveProc) {
	tb.Helper()
	u, err := url.Parse(p.base)
	if err != nil {
		tb.Fatalf("the base URL of upspec serve %q: %v", p.base, err)
	}
	sp.target.Store(u)
}
