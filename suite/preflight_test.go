package suite

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	fstus "github.com/upspec/upspec/fakeserver/tus"
)

// rawServer is a loopback listener whose every connection is handed to serve; Close stops it
// and closes the connections it holds.
type rawServer struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
}

func newRawServer(t *testing.T, serve func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, conns: make(chan net.Conn, 64), done: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case s.conns <- c:
			default:
			}
			go serve(c, s.done)
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		for {
			select {
			case c := <-s.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String()
}

// readHead reads a request head from c (and nothing of its body).
func readRequestHead(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// silent accepts and never answers.
func silent(c net.Conn, done <-chan struct{}) {
	go func() { _, _ = io.Copy(io.Discard, c) }()
	<-done
}

// dripping answers a status line one byte at a time, a byte every 200 ms.
func dripping(c net.Conn, done <-chan struct{}) {
	readRequestHead(c)
	for _, b := range []byte("HTTP/1.1 201 Created\r\nRange: 0-65535/131072\r\nContent-Length: 16\r\n\r\n0-65535/131072\r\n") {
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := c.Write([]byte{b}); err != nil {
			return
		}
	}
}

// stalledBody sends a head whose Content-Length it never fulfils.
func stalledBody(c net.Conn, done <-chan struct{}) {
	readRequestHead(c)
	_, _ = io.WriteString(c, "HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n0-6")
	<-done
}

// closing closes every connection after the request head.
func closing(c net.Conn, _ <-chan struct{}) {
	readRequestHead(c)
	c.Close()
}

func status(code int, header ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	})
}

func httpServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func tlsServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestPreflight runs the preflight against a target of each class and checks the class and
// the message: one line that names what came back and the likely cause.
func TestPreflight(t *testing.T) {
	selfTestOnly(t)
	ref := httpServer(t, fakeserver.New(fakeserver.Options{}))
	files := httpServer(t, http.FileServer(http.Dir(t.TempDir())))
	redirect := httpServer(t, http.RedirectHandler("/upload/v2", http.StatusTemporaryRedirect))
	always200 := httpServer(t, status(http.StatusOK))
	tooLarge := httpServer(t, status(http.StatusRequestEntityTooLarge))
	notAllowed := httpServer(t, status(http.StatusMethodNotAllowed))
	notImpl := httpServer(t, status(http.StatusNotImplemented))
	auth := httpServer(t, status(http.StatusUnauthorized, "WWW-Authenticate", "Bearer"))
	broken := httpServer(t, status(http.StatusInternalServerError))
	tlsRef := tlsServer(t, fakeserver.New(fakeserver.Options{}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsRef.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	silentAddr := newRawServer(t, silent)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name   string
		target string
		edit   func(c *Config)
		class  PreflightClass // "" = the preflight passes
		want   []string       // parts of the message
	}{
		{"reference server", ref.URL + "/upload", nil, "", nil},
		{"reference server, 1-byte segments", ref.URL + "/upload", func(c *Config) { c.SegmentSize = 1 }, "", nil},
		{"mistyped path", ref.URL + "/uplod", nil, PreflightNotUpload, []string{"404 Not Found", "not an upload endpoint", "path of --target"}},
		{"static file server", files.URL + "/upload", nil, PreflightNotUpload, []string{"404", "static file server"}},
		{"405", notAllowed.URL + "/upload", nil, PreflightNotUpload, []string{"405 Method Not Allowed"}},
		{"501", notImpl.URL + "/upload", nil, PreflightNotUpload, []string{"501 Not Implemented"}},
		{"redirect", redirect.URL + "/upload", nil, PreflightRedirect, []string{"307 Temporary Redirect", "Location " + redirect.URL + "/upload/v2"}},
		{"backend answering 200 to everything", always200.URL + "/upload", nil, PreflightCompleted, []string{"200 OK", "resumable mode is off", "backend"}},
		{"413", tooLarge.URL + "/upload", nil, PreflightTooLarge, []string{"413 Request Entity Too Large", "65536 bytes", "--segment-size"}},
		{"401", auth.URL + "/upload", nil, PreflightAuth, []string{"401 Unauthorized", "--header"}},
		{"500", broken.URL + "/upload", nil, PreflightUnexpected, []string{"500 Internal Server Error", "want 201", `body "Internal Server Error"`}},
		{"refused", "http://" + refused + "/upload", nil, PreflightRefused, []string{"refused the connection", "nothing listens"}},
		{"no such host", "http://no-such-host.invalid/upload", nil, PreflightUnreachable, []string{"no such host"}},
		{"silent listener", "http://" + silentAddr + "/upload", nil, PreflightNoAnswer, []string{"no complete answer", "not a byte", "accepts connections but does not answer"}},
		{"dripping target", "http://" + newRawServer(t, dripping) + "/upload", nil, PreflightNoAnswer, []string{"no complete answer", "bytes of one", "too slowly"}},
		{"stalled body", "http://" + newRawServer(t, stalledBody) + "/upload", nil, PreflightNoAnswer, []string{"201 Created", "never finished the body", "cut short after 3 bytes"}},
		{"closes", "http://" + newRawServer(t, closing) + "/upload", nil, PreflightClosed, []string{"closed the connection without an answer"}},
		{"self-signed TLS", tlsRef.URL + "/upload", nil, PreflightTLS, []string{"TLS handshake", "unknown authority", "--ca-file", "--insecure"}},
		{"self-signed TLS, --insecure", tlsRef.URL + "/upload", func(c *Config) { c.Insecure = true }, "", nil},
		{"self-signed TLS, --ca-file", tlsRef.URL + "/upload", func(c *Config) { c.CAFile = caFile }, "", nil},
		{"TLS, host name mismatch", strings.Replace(tlsRef.URL, "127.0.0.1", "localhost", 1) + "/upload", func(c *Config) { c.CAFile = caFile },
			PreflightTLS, []string{"not valid for that host name", "localhost"}},
		{"TLS handshake timeout", "https://" + silentAddr + "/upload", nil, PreflightTLS, []string{"no handshake within", "does not answer TLS"}},
		{"TLS to a plain HTTP port", "https://" + strings.TrimPrefix(ref.URL, "http://") + "/upload", nil, PreflightTLS, []string{"does not speak TLS", "http:// URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewConfig()
			c.Target = tt.target
			if tt.edit != nil {
				tt.edit(c)
			}
			sc, err := c.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			// The preflight bounds itself; the context here only keeps a broken preflight from hanging the test.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = Preflight(ctx, sc, 1)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("Preflight(%s) = %v, want it to pass", tt.target, err)
				}
				return
			}
			var pe *PreflightError
			if !errors.As(err, &pe) {
				t.Fatalf("Preflight(%s) = %v, want a *PreflightError of class %s", tt.target, err, tt.class)
			}
			if pe.Class != tt.class {
				t.Errorf("class %s, want %s: %s", pe.Class, tt.class, pe.Msg)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "preflight: target "+sc.Target.String()+" ") {
				t.Errorf("message is not one line `preflight: target %s ...`: %q", sc.Target, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if tt.class != PreflightTLS && strings.Contains(msg, "--ca-file") {
				t.Errorf("a %s target is told about --ca-file: %q", tt.class, msg)
			}
		})
	}
}

// TestPreflightTus runs the tus preflight against a target of each class: a tus server
// passes, anything that is no tus creation URL is one line of its class.
func TestPreflightTus(t *testing.T) {
	selfTestOnly(t)
	ref, err := fstus.NewServer(fstus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ref.Close() })
	bare := httpServer(t, status(http.StatusNoContent, "Tus-Resumable", "1.0.0")) // no Tus-Version: the scenarios judge that
	nginxRef := httpServer(t, fakeserver.New(fakeserver.Options{CORSOrigins: []string{"*"}}))
	always204 := httpServer(t, status(http.StatusNoContent))
	redirect := httpServer(t, http.RedirectHandler("/files/v2/", http.StatusPermanentRedirect))
	notAllowed := httpServer(t, status(http.StatusMethodNotAllowed))
	auth := httpServer(t, status(http.StatusForbidden))
	broken := httpServer(t, status(http.StatusInternalServerError))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name   string
		target string
		class  PreflightClass // "" = the preflight passes
		want   []string
	}{
		{"reference tus server", ref.CreationURL(), "", nil},
		{"Tus-Resumable without Tus-Version", bare.URL + "/files/", "", nil},
		{"the nginx-protocol reference server", nginxRef.URL + "/upload", PreflightNotUpload, []string{"OPTIONS", "not a tus server", "--protocol tus"}},
		{"204 with no Tus- header", always204.URL + "/files/", PreflightNotUpload, []string{"204 No Content", "no Tus- header"}},
		{"mistyped path", ref.URL + "/flies/", PreflightNotUpload, []string{"404", "not the creation URL of a tus server"}},
		{"405", notAllowed.URL + "/files/", PreflightNotUpload, []string{"405 Method Not Allowed"}},
		{"redirect", redirect.URL + "/files/", PreflightRedirect, []string{"308 Permanent Redirect", "Location " + redirect.URL + "/files/v2/"}},
		{"403", auth.URL + "/files/", PreflightAuth, []string{"403 Forbidden", "--header"}},
		{"500", broken.URL + "/files/", PreflightUnexpected, []string{"500 Internal Server Error", "want 200 or 204 with Tus-Version"}},
		{"refused", "http://" + refused + "/files/", PreflightRefused, []string{"refused the connection"}},
		{"silent listener", "http://" + newRawServer(t, silent) + "/files/", PreflightNoAnswer, []string{"no complete answer to an OPTIONS request"}},
		{"closes", "http://" + newRawServer(t, closing) + "/files/", PreflightClosed, []string{"closed the connection without an answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewConfig()
			c.Protocol, c.Target = ProtocolTus, tt.target
			sc, err := c.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = PreflightTus(ctx, sc)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("PreflightTus(%s) = %v, want it to pass", tt.target, err)
				}
				return
			}
			var pe *PreflightError
			if !errors.As(err, &pe) || pe.Class != tt.class {
				t.Fatalf("PreflightTus(%s) = %v, want a *PreflightError of class %s", tt.target, err, tt.class)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "preflight: target "+sc.Target.String()+" ") {
				t.Errorf("message is not one line `preflight: target %s ...`: %q", sc.Target, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}
