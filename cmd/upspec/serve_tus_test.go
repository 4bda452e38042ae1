package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

func TestServeTusUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--protocol", "ftp"}, `unknown --protocol "ftp"`},
		{[]string{"--protocol", "tus", "--quirk", "false-success"}, "--quirk applies to the nginx protocol only"},
		{[]string{"--protocol", "tus", "--upload-pass", "http://127.0.0.1:9/"}, "--upload-pass applies to the nginx protocol only"},
		{[]string{"--protocol", "tus", "--journal-entries", "0"}, "invalid --journal-entries 0"},
		{[]string{"--protocol", "tus", "--fault", "keep=3,then=nope"}, "--fault: fault rule"},
		{[]string{"--protocol", "tus", "--admin-prefix", "/files/admin/"}, "it would be under the creation URL /files/"},
		{[]string{"--protocol", "tus", "--fsync"}, "--fsync needs --data-dir"},
	} {
		var out, errb bytes.Buffer
		code := serveMain(append([]string{"--listen", "127.0.0.1:0"}, c.args...), &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), c.want) || strings.Count(errb.String(), "\n") != 1 {
			t.Errorf("serve %q: exit %d, stderr %q; want 2 and one line with %q", c.args, code, errb.String(), c.want)
		}
	}
}

// TestServeTusMock runs `upspec serve --protocol tus` with a fault: the PATCH it fires on
// keeps 3 bytes and fails, HEAD says so, the admin API's journal and the -v line show it.
func TestServeTusMock(t *testing.T) {
	p := startServe(t, "--protocol", "tus", "--no-ui", "-v", "--fault", "keep=3,then=503,retry-after=1")
	if out, ok := p.stdout.waitFor(startTimeout, p.done, func(s string) bool { return strings.Contains(s, "admin API at "+p.base+"/_upspec/") }); !ok {
		t.Errorf("stdout %q: no admin API line", out)
	}
	do := func(method, u string, body []byte, kv ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		res, err := (&http.Client{Timeout: startTimeout}).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, _ := do(http.MethodPost, p.upload, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "6")
	loc := res.Header.Get("Location")
	if res.StatusCode != 201 {
		t.Fatalf("POST: %d", res.StatusCode)
	}
	if res, b := do(http.MethodPatch, loc, []byte("abcdef"), "Tus-Resumable", "1.0.0", "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream"); res.StatusCode != 503 || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("PATCH: %d %v %s", res.StatusCode, res.Header, b)
	}
	if res, _ := do(http.MethodHead, loc, nil, "Tus-Resumable", "1.0.0"); res.Header.Get("Upload-Offset") != "3" {
		t.Fatalf("HEAD: %d Upload-Offset %q, want 3", res.StatusCode, res.Header.Get("Upload-Offset"))
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	res, b := do(http.MethodGet, p.base+"/_upspec/journal?session="+id, nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"fault": "keep=3,then=503,retry-after=1"`) || !strings.Contains(string(b), `"range_header": "Upload-Offset"`) {
		t.Fatalf("journal: %d %s", res.StatusCode, b)
	}
	if code, _ := p.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0; stderr %q", code, p.stderr.String())
	}
	if want := "PATCH /files/" + id + " session=" + id + " range=0 status=503 in=6"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr %q: no line %q", p.stderr.String(), want)
	}
}

// TestServeTusProcess runs `upspec serve --protocol tus` and speaks tus to it: OPTIONS,
// creation, PATCH and the GET of the upload, then SIGTERM.
func TestServeTusProcess(t *testing.T) {
	p := startServe(t, "--protocol", "tus", "--max-file-size", "1K", "--no-ui")
	if !strings.HasSuffix(p.upload, "/files/") {
		t.Fatalf("creation URL %q, want it at /files/", p.upload)
	}
	do := func(method, u string, body []byte, kv ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			req.Header.Set(kv[i], kv[i+1])
		}
		res, err := (&http.Client{Timeout: startTimeout}).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	if res := do(http.MethodOptions, p.upload, nil); res.StatusCode != 204 || res.Header.Get("Tus-Max-Size") != "1024" || res.Header.Get("Tus-Version") != "1.0.0" {
		t.Fatalf("OPTIONS: %d %v", res.StatusCode, res.Header)
	}
	if res := do(http.MethodPost, p.upload, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "1025"); res.StatusCode != 413 {
		t.Errorf("POST above --max-file-size: %d, want 413", res.StatusCode)
	}
	res := do(http.MethodPost, p.upload, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "6")
	loc := res.Header.Get("Location")
	if res.StatusCode != 201 || !strings.HasPrefix(loc, p.upload) {
		t.Fatalf("POST: %d Location %q", res.StatusCode, loc)
	}
	if res := do(http.MethodPatch, loc, []byte("abcdef"), "Tus-Resumable", "1.0.0", "Upload-Offset", "0", "Content-Type", "application/offset+octet-stream"); res.StatusCode != 204 || res.Header.Get("Upload-Offset") != "6" {
		t.Fatalf("PATCH: %d Upload-Offset %q", res.StatusCode, res.Header.Get("Upload-Offset"))
	}
	res = do(http.MethodGet, loc, nil)
	if b, _ := io.ReadAll(res.Body); res.StatusCode != 200 || string(b) != "abcdef" {
		t.Errorf("GET: %d %q", res.StatusCode, b)
	}
	if code, _ := p.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0; stderr %q", code, p.stderr.String())
	}
}
