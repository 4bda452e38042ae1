package webui

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// nodeTestTimeout bounds the library's `node --test` run (a few seconds on an idle machine).
const nodeTestTimeout = 5 * time.Minute

// TestNode runs the library's unit tests (test/*.test.js) with Node's test runner, each test
// bounded by 60 s. Without node the test is skipped, except under CI=true, where it fails.
func TestNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is not installed (CI=true): the JavaScript client's tests need Node 20 or later: %v", err)
		}
		t.Skipf("node is not installed: the JavaScript client's tests (node --test internal/webui/test/) did not run: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-timeout=60000", "test/")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %v:\n%s", nodeTestTimeout, out)
	}
	if err != nil {
		t.Fatalf("node --test test/: %v\n%s", err, out)
	}
	summary := out
	if i := strings.LastIndex(string(out), "# tests"); i >= 0 {
		summary = out[i:]
	}
	t.Logf("node --test test/:\n%s", summary)
}

func TestEmbeddedFiles(t *testing.T) {
	for _, name := range []string{"index.html", "upload.css", "js/upspec-uploader.js", "js/demo.js", "js/server-view.js"} {
		b, err := fs.ReadFile(FS(), name)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
	}
	for _, name := range []string{"test/uploader.test.js", "test/fake-server.js", "package.json", "webui.go"} {
		if _, err := fs.Stat(FS(), name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is embedded (%v); only the page and the library should be", name, err)
		}
	}
}

func TestHandler(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html": {Data: []byte("<p>page</p>")},
		"js/a.js":    {Data: []byte("export const a = 1;")},
		"sub/b.txt":  {Data: []byte("b")},
		"upload.css": {Data: []byte("body{}")},
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "next "+r.Method+" "+r.URL.Path)
	})
	srv := httptest.NewServer(Handler(fsys, next))
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		body, ctype  string
	}{
		{"GET", "/", 200, "<p>page</p>", "text/html; charset=utf-8"},
		{"GET", "/js/a.js", 200, "export const a = 1;", "text/javascript; charset=utf-8"},
		{"GET", "/upload.css", 200, "body{}", "text/css; charset=utf-8"},
		{"HEAD", "/", 200, "", "text/html; charset=utf-8"},
		{"GET", "/missing", 418, "next GET /missing", ""},
		{"GET", "/file/x.bin", 418, "next GET /file/x.bin", ""},
		{"POST", "/", 418, "next POST /", ""},
		{"OPTIONS", "/js/a.js", 418, "next OPTIONS /js/a.js", ""},
		{"GET", "/../index.html", 200, "<p>page</p>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || string(b) != tt.body {
				t.Errorf("%d %q, want %d %q", res.StatusCode, b, tt.status, tt.body)
			}
			if tt.ctype != "" && res.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
		})
	}
}
