package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Timeouts of a started Backend's http.Server.
const (
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the reading of one form and the writing of one answer.
	readTimeout = 5 * time.Minute
	idleTimeout = time.Minute
)

// Server is a Backend listening on a TCP address.
type Server struct {
	*Backend
	// URL is the base URL, http://HOST:PORT (a loopback host when it listens on every
	// address). A deployment's upload_pass points at URL + "/".
	URL string
	// Addr is the listening address.
	Addr string

	srv    *http.Server
	served chan error
	once   sync.Once
	err    error
}

// Start starts a Backend with opts on addr (host:port; "" or port 0 picks a free loopback
// port). The caller stops it with Close.
func Start(addr string, opts Options) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	b, err := Open(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("backend: listen on %s: %w", addr, err)
	}
	return Serve(ln, b), nil
}

// Serve serves b on ln until Close.
func Serve(ln net.Listener, b *Backend) *Server {
	s := &Server{
		Backend: b,
		Addr:    ln.Addr().String(),
		srv: &http.Server{
			Handler:           b,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      readTimeout,
			IdleTimeout:       idleTimeout,
		},
		served: make(chan error, 1),
	}
	s.URL = "http://" + reachableAddr(ln.Addr())
	go func() { s.served <- s.srv.Serve(ln) }()
	return s
}

// reachableAddr returns a host:port to reach a listening address: the loopback address in
// place of an unspecified one.
func reachableAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	host := "127.0.0.1"
	if ta.IP.To4() == nil {
		host = "::1"
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

// Shutdown stops accepting forms and waits, until ctx ends, for those in flight; then it
// closes the server like Close.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close stops the backend: the listener, every connection, the serving goroutine and the
// directory. It may be called more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		if cerr := s.Backend.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			s.err = fmt.Errorf("backend: close: %w", err)
		}
	})
	return s.err
}

// Client reads the forms kept by a Backend of another process, over HTTP at its FormsPath.
type Client struct {
	base   string
	client *http.Client
}

// NewClient returns a reader of the Backend at base (its URL, e.g. http://127.0.0.1:9000).
// Each read is bounded by timeout and by the caller's context.
func NewClient(base string, timeout time.Duration) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: timeout}}
}

// Forms fetches the forms received with the Session-ID header id.
func (c *Client) Forms(ctx context.Context, id string) ([]Form, error) {
	return c.get(ctx, "?session="+url.QueryEscape(id))
}

// All fetches every form the Backend kept.
func (c *Client) All(ctx context.Context) ([]Form, error) {
	return c.get(ctx, "")
}

func (c *Client) get(ctx context.Context, query string) ([]Form, error) {
	u := c.base + FormsPath + query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("forms of the backend: %w", err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("forms of the backend: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("forms of the backend: GET %s: %s", u, resp.Status)
	}
	var ans formsAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFormBody)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("forms of the backend: decode: %w", err)
	}
	return ans.Forms, nil
}
