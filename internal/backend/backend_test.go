package backend_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/upspec/upspec/internal/backend"
)

// boundary is the module's boundary: a counter zero-padded to 20 digits (docs/module-behavior.md §2.3).
const boundary = "00000000000000000008"

// moduleForm writes the form the module sends for a completed file in resumable mode, with the
// fields of the configuration `upspec nginx-conf` writes, in directive order: the set fields
// (name, content_type, path), then the aggregate ones (size: the end + 1 of the final segment;
// md5 and sha1: empty whenever a range header was present).
func moduleForm(name, path, size string) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"name", name}, {"content_type", "application/octet-stream"}, {"path", path},
		{"size", size}, {"md5", ""}, {"sha1", ""},
	} {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", boundary, kv[0], kv[1])
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.String()
}

// start starts a backend on a free loopback port with a directory and returns it.
func start(t *testing.T, keep bool) (*backend.Server, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := backend.Start("127.0.0.1:0", backend.Options{Dir: dir, KeepSource: keep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, dir
}

var client = &http.Client{Timeout: 30 * time.Second}

// post sends body as the module's form with the session ID and returns the status and body.
func post(t *testing.T, url, session, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Session-ID", session)
	req.Header.Set("X-Content-Range", "bytes 12-23/24")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(got)
}

func hexOf(h interface{ Sum([]byte) []byte }) string { return hex.EncodeToString(h.Sum(nil)) }

// TestBackendTakesTheModuleForm posts the module's form for a 24-byte file completed by its
// segment 12-23: the backend answers 200 `completed`, moves the file under the form's name,
// serves it at /file/<name>, keeps the form with its fields in order, and records where the
// size (the end + 1 of the final segment) and the empty digests differ from the file.
func TestBackendTakesTheModuleForm(t *testing.T) {
	content := "abcdefghijklmnopqrstuvwx"
	md, sh := md5.New(), sha1.New()
	md.Write([]byte(content))
	sh.Write([]byte(content))
	tests := []struct {
		name     string
		size     string // the form's size field
		keep     bool
		wantDiff []string // fields that differ
	}{
		{"completed by the last segment", "24", false, []string{"md5", "sha1"}},
		{"completed out of order: size of the final segment", "12", false, []string{"size", "md5", "sha1"}},
		{"copy, keep the source", "24", true, []string{"md5", "sha1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := start(t, tt.keep)
			src := filepath.Join(t.TempDir(), "0000000001")
			if err := os.WriteFile(src, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			status, body := post(t, s.URL+"/done", "s1", moduleForm(`C:\dir\big.TXT`, src, tt.size))
			if status != 200 || body != "completed" {
				t.Fatalf("answer %d %q, want 200 completed", status, body)
			}
			if got, err := os.ReadFile(filepath.Join(dir, "big.TXT")); err != nil || string(got) != content {
				t.Errorf("stored file: %q, %v", got, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("the directory holds %d entries, want the file only", len(entries))
			}
			if _, err := os.Stat(src); (err == nil) != tt.keep {
				t.Errorf("source after the move: %v (keep %v)", err, tt.keep)
			}
			if status, got := get(t, s.URL+"/file/big.TXT"); status != 200 || got != content {
				t.Errorf("GET /file/big.TXT: %d %q", status, got)
			}
			forms, err := s.Forms(context.Background(), "s1")
			if err != nil || len(forms) != 1 {
				t.Fatalf("forms: %d, %v", len(forms), err)
			}
			f := forms[0]
			if got := strings.Join(f.FieldNames(), " "); got != "name content_type path size md5 sha1" {
				t.Errorf("fields %q", got)
			}
			if f.File == nil || !f.File.Stored || f.File.Size != 24 || f.File.MD5 != hexOf(md) || f.File.SHA1 != hexOf(sh) {
				t.Fatalf("file record %+v", f.File)
			}
			var diff []string
			for _, d := range f.File.Differences {
				diff = append(diff, d.Field)
				if d.Why == "" {
					t.Errorf("difference %+v without a reason", d)
				}
			}
			if strings.Join(diff, " ") != strings.Join(tt.wantDiff, " ") {
				t.Errorf("differences %v, want %v", f.File.Differences, tt.wantDiff)
			}
		})
	}
}

// TestBackendRefusesNamesOutsideItsDirectory: a name is stripped to its last element, and
// what is left must be a plain file name; nothing outside the directory is written or served.
func TestBackendRefusesNamesOutsideItsDirectory(t *testing.T) {
	s, dir := start(t, true)
	outside := t.TempDir()
	src := filepath.Join(outside, "data")
	if err := os.WriteFile(src, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	stored := []struct{ name, want string }{
		{"../../escape.txt", "escape.txt"},
		{`..\..\win.txt`, "win.txt"},
		{"/etc/passwd", "passwd"},
	}
	for _, tt := range stored {
		if status, body := post(t, s.URL+"/", "st", moduleForm(tt.name, src, "6")); status != 200 {
			t.Errorf("name %q: %d %q, want 200 (stored as %s)", tt.name, status, body, tt.want)
		}
		if _, err := os.Stat(filepath.Join(dir, tt.want)); err != nil {
			t.Errorf("name %q: not stored as %s: %v", tt.name, tt.want, err)
		}
	}
	for _, name := range []string{"..", ".", "", "a/"} {
		status, body := post(t, s.URL+"/", "bad", moduleForm(name, src, "6"))
		if status != 500 || !strings.Contains(body, "not a file name") {
			t.Errorf("name %q: %d %q, want 500 naming the refusal", name, status, body)
		}
	}
	// Writing through a symlink in the directory is refused by os.Root.
	if status, _ := post(t, s.URL+"/", "ln", moduleForm("link", src, "6")); status == 200 {
		if _, err := os.Stat(filepath.Join(outside, ".upspec-link.part")); err == nil {
			t.Error("a file was written outside the directory")
		}
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside the directory: %d entries, want only the source", len(entries))
	}
	for _, p := range []string{"/file/../../etc/passwd", "/file/%2e%2e%2fdata", "/file/link/data", "/file/..%5cdata"} {
		if status, body := get(t, s.URL+p); status == 200 && strings.Contains(body, "secret") {
			t.Errorf("GET %s served a file outside the directory", p)
		}
	}
}

// TestBackendKeepsEmptyForms: the module's silent failures reach the backend as a form with no
// file field (only the closing boundary, or the dummy field); the backend answers them 200
// `completed` like the module's backend would, stores nothing, and marks them empty.
func TestBackendKeepsEmptyForms(t *testing.T) {
	s, dir := start(t, false)
	tests := []struct{ name, body string }{
		{"closing boundary only", "\r\n--" + boundary + "--\r\n"},
		{"dummy field", "--" + boundary + "\r\nContent-Disposition: form-data; name=\"<ngx_upload_module_dummy>\"\r\n\r\n\r\n--" + boundary + "--\r\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("e%d", i)
			if status, body := post(t, s.URL+"/", id, tt.body); status != 200 || body != "completed" {
				t.Errorf("answer %d %q", status, body)
			}
			forms, _ := s.Forms(context.Background(), id)
			if len(forms) != 1 || !forms[0].Empty() || forms[0].File != nil {
				t.Errorf("forms %+v, want one empty form and no file", forms)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the directory holds %d entries after empty forms", len(entries))
	}
	t.Run("not a form", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("x"))
		req.Header.Set("Content-Type", "text/plain")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		all := s.All()
		if last := all[len(all)-1]; last.Error == "" || last.Empty() {
			t.Errorf("a text/plain body: %+v, want an error and not empty", last)
		}
	})
	t.Run("remote reader", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := backend.NewClient(s.URL, 30*time.Second)
		forms, err := c.Forms(ctx, "e0")
		if err != nil || len(forms) != 1 || !forms[0].Empty() {
			t.Errorf("Forms(e0) = %+v, %v", forms, err)
		}
		all, err := c.All(ctx)
		if err != nil || len(all) != 3 {
			t.Errorf("All() = %d forms, %v; want 3", len(all), err)
		}
	})
}

// TestBackendWithoutDirectory is the harness backend: forms only, no file served.
func TestBackendWithoutDirectory(t *testing.T) {
	s, err := backend.Start("", backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, _ := post(t, s.URL+"/", "h", moduleForm("f.txt", src, "3")); status != 200 {
		t.Errorf("status %d", status)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("the harness backend touched the source: %v", err)
	}
	if status, _ := get(t, s.URL+"/file/f.txt"); status != 404 {
		t.Errorf("GET /file/f.txt: %d, want 404", status)
	}
	if _, err := backend.Open(backend.Options{Dir: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("Open with a missing directory: no error")
	}
}

// TestBackendMovesAcrossFilesystems: when the module's store is on another filesystem than
// the directory, the file is copied and the original removed. It needs a second filesystem
// (/dev/shm) and is skipped without one.
func TestBackendMovesAcrossFilesystems(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "upspec-backend-")
	if err != nil {
		t.Skipf("no second filesystem: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(other) })
	s, dir := start(t, false)
	var a, b syscall.Stat_t
	if syscall.Stat(other, &a) != nil || syscall.Stat(dir, &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same filesystem as the test directory")
	}
	src := filepath.Join(other, "0000000009")
	if err := os.WriteFile(src, []byte("across"), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, body := post(t, s.URL+"/", "x", moduleForm("x.bin", src, "6")); status != 200 {
		t.Fatalf("%d %q", status, body)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "x.bin")); err != nil || string(got) != "across" {
		t.Errorf("stored %q, %v", got, err)
	}
	if _, err := os.Stat(src); err == nil {
		t.Error("the original is still there")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the file only", len(entries))
	}
}
