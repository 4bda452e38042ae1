package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upspec/upspec/fakeserver"
)

func TestServeUIUsageErrors(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"static is a file", []string{"--static", notADir}, "is not a directory"},
		{"static missing", []string{"--static", filepath.Join(t.TempDir(), "none")}, "is not a directory"},
		{"static and no-ui", []string{"--static", t.TempDir(), "--no-ui"}, "exclude each other"},
		{"cors with a path", []string{"--cors", "http://a.example/page"}, `invalid --cors origin "http://a.example/page"`},
		{"cors without scheme", []string{"--cors", "a.example"}, "invalid --cors origin"},
		{"cors bad in a list", []string{"--cors", "http://a.example,ftp://b"}, `invalid --cors origin "ftp://b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runServeOnce(t, tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d stdout %q, want %d and nothing", code, stdout, exitUsage)
			}
			checkOneLineError(t, stderr, tt.want)
		})
	}
}

// inProcessServe builds the handler of `upspec serve ARGS` (flags parsed and checked as the
// command does) and serves it on a loopback port.
func inProcessServe(tb testing.TB, args ...string) *httptest.Server {
	tb.Helper()
	return inProcessServeWrapped(tb, nil, args...)
}

// inProcessServeWrapped is inProcessServe with the handler wrapped by wrap (when not nil).
func inProcessServeWrapped(tb testing.TB, wrap func(http.Handler) http.Handler, args ...string) *httptest.Server {
	tb.Helper()
	var cfg serveConfig
	fs := newServeFlagSet(&cfg)
	if err := fs.Parse(args); err != nil {
		tb.Fatalf("flags %q: %v", args, err)
	}
	if err := cfg.validate(fs); err != nil {
		tb.Fatalf("flags %q: %v", args, err)
	}
	opts, err := cfg.options(io.Discard)
	if err != nil {
		tb.Fatalf("flags %q: %v", args, err)
	}
	var h http.Handler = fakeserver.New(opts)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.Close()
		if opts.Store != nil {
			_ = opts.Store.Close()
		}
	})
	return srv
}

func TestServePage(t *testing.T) {
	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "index.html"), []byte("<p>my page</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	type check struct {
		method, path string
		status       int
		body         string // a piece of the body
	}
	tests := []struct {
		name   string
		args   []string
		checks []check
	}{
		{"demo page", nil, []check{
			{"GET", "/", 200, "Resumable upload"},
			{"GET", "/upload.css", 200, "--accent"},
			{"GET", "/js/upspec-uploader.js", 200, "export function fileUploader"},
			{"GET", "/js/demo.js", 200, "fileUploader"},
			{"GET", "/test/uploader.test.js", 404, ""},
			{"GET", "/upload", 405, ""},
			{"OPTIONS", "/upload", 200, ""},
			{"GET", "/file/none.bin", 404, ""},
			{"GET", "/nothing", 404, ""},
		}},
		{"own directory", []string{"--static", own}, []check{
			{"GET", "/", 200, "my page"},
			{"GET", "/js/upspec-uploader.js", 404, ""},
			{"GET", "/upload", 405, ""},
		}},
		{"no page", []string{"--no-ui"}, []check{
			{"GET", "/", 404, ""},
			{"GET", "/js/upspec-uploader.js", 404, ""},
		}},
		{"another path", []string{"--path", "/up"}, []check{
			{"GET", "/up", 405, ""},
			{"GET", "/", 200, "Resumable upload"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := inProcessServe(t, tt.args...)
			for _, c := range tt.checks {
				req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != c.status || !strings.Contains(string(b), c.body) {
					t.Errorf("%s %s: %d %.80q, want %d with %q", c.method, c.path, res.StatusCode, b, c.status, c.body)
				}
			}
		})
	}
}

func TestServeCORSFlag(t *testing.T) {
	preflight := func(srv *httptest.Server, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/upload", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	srv := inProcessServe(t, "--cors", "http://127.0.0.1:1,http://localhost:3000")
	if res := preflight(srv, "http://localhost:3000"); res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("allowed origin: %d %v", res.StatusCode, res.Header)
	}
	if res := preflight(srv, "http://other:3000"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin got %v", res.Header)
	}
	plain := inProcessServe(t)
	if res := preflight(plain, "http://localhost:3000"); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without --cors: %d %v, want the module's bare 200", res.StatusCode, res.Header)
	}
}
