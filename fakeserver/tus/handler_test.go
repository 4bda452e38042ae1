package tus

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testWait bounds every wait of these tests; each ends as soon as its condition holds.
const testWait = 30 * time.Second

// clock is a settable clock for Options.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start starts a server with opts (a fixed clock unless opts has one) and closes it with the
// test.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.now == nil {
		c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		opts.now = c.now
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// hdrs are request headers, in pairs.
type hdrs []string

// tusReq is hdrs with Tus-Resumable: 1.0.0 first.
func tusReq(kv ...string) hdrs { return append(hdrs{"Tus-Resumable", Version}, kv...) }

func do(t *testing.T, method, u string, h hdrs, body []byte) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	c := &http.Client{Timeout: testWait}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, u, err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// create creates an upload of length (or deferred, length -1) and returns its URL.
func create(t *testing.T, s *Server, length int64, kv ...string) string {
	t.Helper()
	h := tusReq(kv...)
	if length >= 0 {
		h = append(h, "Upload-Length", strconv.FormatInt(length, 10))
	} else {
		h = append(h, "Upload-Defer-Length", "1")
	}
	a := do(t, http.MethodPost, s.CreationURL(), h, nil)
	loc := a.header.Get("Location")
	if a.status != http.StatusCreated || !strings.HasPrefix(loc, s.CreationURL()) {
		t.Fatalf("create: %d Location %q: %s", a.status, loc, a.body)
	}
	return loc
}

// patch sends body at off.
func patch(t *testing.T, u string, off int64, body []byte, kv ...string) answer {
	t.Helper()
	h := tusReq(append([]string{"Content-Type", OffsetOctetStream, "Upload-Offset", strconv.FormatInt(off, 10)}, kv...)...)
	return do(t, http.MethodPatch, u, h, body)
}

// offset returns the Upload-Offset of a HEAD of u, failing unless it is a 200.
func offset(t *testing.T, u string) int64 {
	t.Helper()
	a := do(t, http.MethodHead, u, tusReq(), nil)
	n, err := strconv.ParseInt(a.header.Get("Upload-Offset"), 10, 64)
	if a.status != http.StatusOK || err != nil {
		t.Fatalf("HEAD %s: %d Upload-Offset %q", u, a.status, a.header.Get("Upload-Offset"))
	}
	return n
}

// stored returns the bytes a GET of u gives.
func stored(t *testing.T, u string) []byte {
	t.Helper()
	a := do(t, http.MethodGet, u, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d", u, a.status)
	}
	return a.body
}

// data is a test pattern of n bytes.
func data(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// wantHeaders checks the headers of a: a value "" means absent, "*" present.
func wantHeaders(t *testing.T, what string, a answer, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := a.header[http.CanonicalHeaderKey(k)]
		switch {
		case v == "" && ok:
			t.Errorf("%s: %s: %q, want none", what, k, got)
		case v == "*" && !ok:
			t.Errorf("%s: no %s", what, k)
		case v != "" && v != "*" && (!ok || got[0] != v):
			t.Errorf("%s: %s: %q, want %q", what, k, got, v)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		want map[string]string
	}{
		{"defaults", Options{}, map[string]string{"Tus-Version": "1.0.0", "Tus-Extension": Extensions, "Tus-Max-Size": "", "Tus-Checksum-Algorithm": "sha1,md5,sha256"}},
		{"max size", Options{MaxSize: 1000}, map[string]string{"Tus-Max-Size": "1000"}},
		{"no expiry", Options{Expiration: -1}, map[string]string{"Tus-Extension": "creation,creation-with-upload,creation-defer-length,checksum,termination,concatenation"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, c.opts)
			for _, u := range []string{s.CreationURL(), create(t, s, 3)} {
				a := do(t, http.MethodOptions, u, nil, nil)
				if a.status != http.StatusNoContent {
					t.Errorf("OPTIONS %s: %d", u, a.status)
				}
				wantHeaders(t, "OPTIONS", a, c.want)
			}
		})
	}
}

func TestTusResumable(t *testing.T) {
	s := start(t, Options{})
	u := create(t, s, 10)
	if a := patch(t, u, 0, []byte("abc")); a.status != http.StatusNoContent {
		t.Fatalf("PATCH: %d", a.status)
	}
	for _, version := range []string{"", "0.2.2", "2.0.0"} {
		for _, c := range []struct {
			method, url string
			h           hdrs
			body        []byte
		}{
			{http.MethodPost, s.CreationURL(), hdrs{"Upload-Length", "5"}, nil},
			{http.MethodHead, u, nil, nil},
			{http.MethodPatch, u, hdrs{"Content-Type", OffsetOctetStream, "Upload-Offset", "3"}, []byte("def")},
			{http.MethodDelete, u, nil, nil},
		} {
			h := c.h
			if version != "" {
				h = append(hdrs{"Tus-Resumable", version}, h...)
			}
			a := do(t, c.method, c.url, h, c.body)
			if a.status != http.StatusPreconditionFailed || a.header.Get("Tus-Version") != Version || a.header.Get("Location") != "" {
				t.Errorf("%s with Tus-Resumable %q: %d Tus-Version %q Location %q, want 412 with Tus-Version 1.0.0", c.method, version, a.status, a.header.Get("Tus-Version"), a.header.Get("Location"))
			}
			if a.header.Get("Tus-Resumable") != Version {
				t.Errorf("%s: the 412 has no Tus-Resumable", c.method)
			}
		}
	}
	if got := offset(t, u); got != 3 {
		t.Errorf("offset %d after refused requests, want 3", got)
	}
	for _, a := range []answer{do(t, http.MethodHead, u, tusReq(), nil), patch(t, u, 3, nil), do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Length", "1"), nil)} {
		if a.header.Get("Tus-Resumable") != Version {
			t.Errorf("an answer (%d) without Tus-Resumable", a.status)
		}
	}
}

func TestCreate(t *testing.T) {
	s := start(t, Options{MaxSize: 100})
	for _, c := range []struct {
		name   string
		h      hdrs
		status int
		want   map[string]string
	}{
		{"length", hdrs{"Upload-Length", "100"}, 201, map[string]string{"Location": "*", "Upload-Expires": "Sat, 03 Jan 2026 03:04:05 GMT", "Upload-Offset": ""}},
		{"empty", hdrs{"Upload-Length", "0"}, 201, map[string]string{"Location": "*", "Upload-Expires": ""}},
		{"deferred", hdrs{"Upload-Defer-Length", "1"}, 201, map[string]string{"Location": "*"}},
		{"metadata", hdrs{"Upload-Length", "1", "Upload-Metadata", "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential"}, 201, nil},
		{"partial", hdrs{"Upload-Length", "1", "Upload-Concat", "partial"}, 201, nil},
		{"above max size", hdrs{"Upload-Length", "101"}, 413, map[string]string{"Location": ""}},
		{"no length", nil, 400, map[string]string{"Location": ""}},
		{"both lengths", hdrs{"Upload-Length", "1", "Upload-Defer-Length", "1"}, 400, nil},
		{"negative length", hdrs{"Upload-Length", "-1"}, 400, nil},
		{"not a number", hdrs{"Upload-Length", "1e3"}, 400, nil},
		{"defer not 1", hdrs{"Upload-Defer-Length", "2"}, 400, nil},
		{"metadata not base64", hdrs{"Upload-Length", "1", "Upload-Metadata", "name !!!"}, 400, nil},
		{"metadata key twice", hdrs{"Upload-Length", "1", "Upload-Metadata", "a,a"}, 400, nil},
		{"unknown concat", hdrs{"Upload-Length", "1", "Upload-Concat", "whole"}, 400, nil},
		{"final of nothing", hdrs{"Upload-Concat", "final;"}, 400, nil},
		{"final of a stranger", hdrs{"Upload-Concat", "final;/files/0123456789abcdef0123456789abcdef"}, 400, nil},
		{"final with a length", hdrs{"Upload-Concat", "final;/files/x", "Upload-Length", "1"}, 400, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, http.MethodPost, s.CreationURL(), tusReq(c.h...), nil)
			if a.status != c.status {
				t.Fatalf("%d %s, want %d", a.status, a.body, c.status)
			}
			wantHeaders(t, c.name, a, c.want)
			if c.status == 201 {
				if got := offset(t, a.header.Get("Location")); got != 0 {
					t.Errorf("a new upload at offset %d", got)
				}
			}
		})
	}
}

func TestHead(t *testing.T) {
	s := start(t, Options{})
	const md = "filename d29ybGQ=,empty"
	full := create(t, s, 4, "Upload-Metadata", md)
	deferred := create(t, s, -1)
	partial := create(t, s, 2, "Upload-Concat", "partial")
	patch(t, full, 0, []byte("abcd"))
	for _, c := range []struct {
		name, url string
		status    int
		want      map[string]string
	}{
		{"complete", full, 200, map[string]string{"Upload-Offset": "4", "Upload-Length": "4", "Upload-Metadata": md, "Cache-Control": "no-store", "Upload-Expires": "", "Upload-Defer-Length": ""}},
		{"deferred", deferred, 200, map[string]string{"Upload-Offset": "0", "Upload-Length": "", "Upload-Defer-Length": "1", "Upload-Metadata": "", "Upload-Expires": "*"}},
		{"partial", partial, 200, map[string]string{"Upload-Offset": "0", "Upload-Concat": "partial"}},
		{"unknown", s.CreationURL() + "0123456789abcdef0123456789abcdef", 404, map[string]string{"Upload-Offset": ""}},
		{"not an ID", s.CreationURL() + "..%2f..%2fetc", 404, map[string]string{"Upload-Offset": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, http.MethodHead, c.url, tusReq(), nil)
			if a.status != c.status {
				t.Fatalf("%d, want %d", a.status, c.status)
			}
			wantHeaders(t, c.name, a, c.want)
		})
	}
}

func TestPatch(t *testing.T) {
	body := data(10, 1)
	for _, c := range []struct {
		name   string
		length int64 // -1 deferred
		before int   // bytes sent first
		h      hdrs  // the PATCH's headers; Upload-Offset is `off`
		off    int64
		send   []byte
		status int
		after  int64
	}{
		{"first bytes", 10, 0, nil, 0, body[:4], 204, 4},
		{"the rest", 10, 4, nil, 4, body[4:], 204, 10},
		{"empty body", 10, 4, nil, 4, nil, 204, 4},
		{"behind", 10, 4, nil, 2, body[2:6], 409, 4},
		{"ahead", 10, 4, nil, 6, body[6:], 409, 4},
		{"past the length", 10, 4, nil, 4, data(7, 5), 413, 4},
		{"wrong content type", 10, 0, hdrs{"Content-Type", "application/octet-stream"}, 0, body, 415, 0},
		{"no content type", 10, 0, hdrs{"Content-Type", ""}, 0, body, 415, 0},
		{"no offset", 10, 0, hdrs{"Upload-Offset", ""}, 0, body, 400, 0},
		{"bad offset", 10, 0, hdrs{"Upload-Offset", "-1"}, 0, body, 400, 0},
		{"deferred, length given", -1, 4, hdrs{"Upload-Length", "10"}, 4, body[4:], 204, 10},
		{"deferred, length below offset", -1, 4, hdrs{"Upload-Length", "3"}, 4, body[4:], 400, 4},
		{"another length", 10, 0, hdrs{"Upload-Length", "9"}, 0, body, 400, 0},
		{"method override", 10, 0, hdrs{"X-HTTP-Method-Override", "PATCH"}, 0, body, 204, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, Options{})
			u := create(t, s, c.length)
			if c.before > 0 {
				if a := patch(t, u, 0, body[:c.before]); a.status != 204 {
					t.Fatalf("first PATCH: %d", a.status)
				}
			}
			h := tusReq("Content-Type", OffsetOctetStream, "Upload-Offset", strconv.FormatInt(c.off, 10))
			h = append(h, c.h...)
			method := http.MethodPatch
			if len(c.h) > 0 && c.h[0] == "X-HTTP-Method-Override" {
				method = http.MethodPost
			}
			a := do(t, method, u, h, c.send)
			if a.status != c.status {
				t.Fatalf("%d %s, want %d", a.status, a.body, c.status)
			}
			if c.status == 204 && a.header.Get("Upload-Offset") != strconv.FormatInt(c.after, 10) {
				t.Errorf("204 with Upload-Offset %q, want %d", a.header.Get("Upload-Offset"), c.after)
			}
			if c.status != 204 && a.header.Get("Upload-Offset") != "" {
				t.Errorf("a refusal with Upload-Offset %q", a.header.Get("Upload-Offset"))
			}
			if got := offset(t, u); got != c.after {
				t.Errorf("offset %d, want %d", got, c.after)
			}
			if got := stored(t, u); !bytes.Equal(got, body[:c.after]) {
				t.Errorf("stored %q, want %q", got, body[:c.after])
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	body := []byte("hello, tus")
	s1, m5, s2 := sha1.Sum(body), md5.Sum(body), sha256.Sum256(body)
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	for _, c := range []struct {
		name, checksum string
		status         int
		after          int64
	}{
		{"sha1", "sha1 " + enc(s1[:]), 204, 10},
		{"md5", "md5 " + enc(m5[:]), 204, 10},
		{"sha256", "sha256 " + enc(s2[:]), 204, 10},
		{"sha1 mismatch", "sha1 " + enc(make([]byte, 20)), StatusChecksumMismatch, 0},
		{"sha256 given as sha1", "sha1 " + enc(s2[:]), 400, 0},
		{"unsupported", "crc32 AAAAAA==", 400, 0},
		{"not base64", "sha1 !!!", 400, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, Options{})
			u := create(t, s, 10)
			a := patch(t, u, 0, body, "Upload-Checksum", c.checksum)
			if a.status != c.status {
				t.Fatalf("%d %s, want %d", a.status, a.body, c.status)
			}
			if got := offset(t, u); got != c.after {
				t.Errorf("offset %d, want %d", got, c.after)
			}
		})
	}
}

func TestCreationWithUpload(t *testing.T) {
	s := start(t, Options{})
	body := data(100, 3)
	a := do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Length", "100", "Content-Type", OffsetOctetStream), body[:60])
	if a.status != 201 || a.header.Get("Upload-Offset") != "60" {
		t.Fatalf("POST with a body: %d Upload-Offset %q", a.status, a.header.Get("Upload-Offset"))
	}
	u := a.header.Get("Location")
	if got := offset(t, u); got != 60 {
		t.Errorf("offset %d, want 60", got)
	}
	patch(t, u, 60, body[60:])
	if got := stored(t, u); !bytes.Equal(got, body) {
		t.Errorf("stored bytes differ")
	}
	// Another Content-Type: the body is not the upload's.
	a = do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Length", "100", "Content-Type", "text/plain"), body)
	if a.status != 201 || offset(t, a.header.Get("Location")) != 0 {
		t.Errorf("POST with a text body: %d, offset not 0", a.status)
	}
}

func TestTermination(t *testing.T) {
	s := start(t, Options{})
	u := create(t, s, 10)
	patch(t, u, 0, []byte("abc"))
	if a := do(t, http.MethodDelete, u, tusReq(), nil); a.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", a.status)
	}
	for _, a := range []answer{do(t, http.MethodHead, u, tusReq(), nil), patch(t, u, 3, []byte("def")), do(t, http.MethodDelete, u, tusReq(), nil), do(t, http.MethodGet, u, nil, nil)} {
		if a.status != http.StatusGone {
			t.Errorf("after DELETE: %d, want 410", a.status)
		}
	}
}

func TestExpiration(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := start(t, Options{Expiration: time.Hour, now: c.now})
	u := create(t, s, 10)
	done := create(t, s, 3)
	patch(t, done, 0, []byte("abc"))
	c.advance(50 * time.Minute)
	a := patch(t, u, 0, []byte("abc"))
	if a.status != 204 || a.header.Get("Upload-Expires") != "Fri, 02 Jan 2026 04:54:05 GMT" {
		t.Fatalf("PATCH: %d Upload-Expires %q, want it an hour after the PATCH", a.status, a.header.Get("Upload-Expires"))
	}
	c.advance(50 * time.Minute) // within the hour since the PATCH
	if got := offset(t, u); got != 3 {
		t.Fatalf("offset %d", got)
	}
	c.advance(11 * time.Minute)
	if a := do(t, http.MethodHead, u, tusReq(), nil); a.status != http.StatusGone {
		t.Errorf("HEAD of an expired upload: %d, want 410", a.status)
	}
	if a := patch(t, u, 3, []byte("d")); a.status != http.StatusGone {
		t.Errorf("PATCH of an expired upload: %d, want 410", a.status)
	}
	if got := offset(t, done); got != 3 {
		t.Errorf("a complete upload expired: offset %d", got)
	}
}

func TestConcatenation(t *testing.T) {
	s := start(t, Options{MaxSize: 1000})
	a, b := data(30, 1), data(20, 2)
	pa := create(t, s, 30, "Upload-Concat", "partial")
	pb := create(t, s, 20, "Upload-Concat", "partial")
	plain := create(t, s, 5)
	patch(t, pa, 0, a)
	patch(t, pb, 0, b[:10])
	// pb is incomplete: the final upload waits for it.
	pathOf := func(u string) string { return u[len(s.URL):] }
	r := do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Concat", "final;"+pa+" "+pathOf(pb)), nil)
	if r.status != 201 {
		t.Fatalf("final: %d %s", r.status, r.body)
	}
	final := r.header.Get("Location")
	h := do(t, http.MethodHead, final, tusReq(), nil)
	wantHeaders(t, "HEAD of a final upload before its partials are complete", h, map[string]string{
		"Upload-Offset": "", "Upload-Length": "50", "Upload-Concat": "final;" + pathOf(pa) + " " + pathOf(pb)})
	if p := patch(t, final, 0, []byte("x")); p.status != http.StatusForbidden {
		t.Errorf("PATCH of a final upload: %d, want 403", p.status)
	}
	patch(t, pb, 10, b[10:])
	h = do(t, http.MethodHead, final, tusReq(), nil)
	wantHeaders(t, "HEAD of a final upload", h, map[string]string{"Upload-Offset": "50", "Upload-Length": "50"})
	if got := stored(t, final); !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
		t.Errorf("the final upload's bytes are not its partials'")
	}
	if got := stored(t, pa); !bytes.Equal(got, a) {
		t.Errorf("a partial changed")
	}
	for _, c := range []struct {
		name, concat string
	}{{"a plain upload", "final;" + plain}, {"a final upload", "final;" + final}} {
		if r := do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Concat", c.concat), nil); r.status != 400 {
			t.Errorf("final of %s: %d, want 400", c.name, r.status)
		}
	}
	big := create(t, s, 999, "Upload-Concat", "partial")
	if r := do(t, http.MethodPost, s.CreationURL(), tusReq("Upload-Concat", "final;"+big+" "+pa), nil); r.status != 413 {
		t.Errorf("final above Tus-Max-Size: %d, want 413", r.status)
	}
}

func TestCORS(t *testing.T) {
	s := start(t, Options{CORSOrigins: []string{"http://page.test"}})
	a := do(t, http.MethodOptions, s.CreationURL(), hdrs{"Origin", "http://page.test", "Access-Control-Request-Method", "PATCH", "Access-Control-Request-Headers", "upload-offset,tus-resumable"}, nil)
	if a.status != 204 || !strings.Contains(a.header.Get("Access-Control-Allow-Methods"), "PATCH") || !strings.Contains(a.header.Get("Access-Control-Allow-Headers"), "Upload-Offset") {
		t.Errorf("preflight: %d %v", a.status, a.header)
	}
	a = do(t, http.MethodPost, s.CreationURL(), tusReq("Origin", "http://page.test", "Upload-Length", "1"), nil)
	for _, h := range []string{"Location", "Upload-Offset", "Tus-Resumable", "Upload-Expires"} {
		if !strings.Contains(a.header.Get("Access-Control-Expose-Headers"), h) {
			t.Errorf("%s is not exposed: %q", h, a.header.Get("Access-Control-Expose-Headers"))
		}
	}
}

// rawPatch starts a PATCH of n bytes at off on a connection of its own, with Expect:
// 100-continue, and returns the connection once the server sent 100 Continue.
func rawPatch(t *testing.T, s *Server, u string, off int64, n int) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, testWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(testWait))
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nContent-Type: %s\r\nUpload-Offset: %d\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		u[len(s.URL):], s.Addr, OffsetOctetStream, off, n)
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q (%v)", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the empty line after it
		t.Fatal(err)
	}
	return conn, br
}

func TestConcurrentPatches(t *testing.T) {
	s := start(t, Options{})
	u := create(t, s, 100)
	first, second := data(100, 1), data(100, 9)
	conn, br := rawPatch(t, s, u, 0, 100)
	if _, err := conn.Write(first[:40]); err != nil {
		t.Fatal(err)
	}
	// The first PATCH holds the upload: the second, at the same offset, is refused.
	if a := patch(t, u, 0, second); a.status != http.StatusConflict {
		t.Fatalf("second PATCH while the first is in flight: %d, want 409", a.status)
	}
	if _, err := conn.Write(first[40:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Upload-Offset") != "100" {
		t.Fatalf("first PATCH: %d Upload-Offset %q", res.StatusCode, res.Header.Get("Upload-Offset"))
	}
	if got := stored(t, u); !bytes.Equal(got, first) {
		t.Errorf("the stored bytes are not the first PATCH's")
	}
}

// waitOffset polls HEAD until the offset is want, within testWait.
func waitOffset(t *testing.T, u string, want int64) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		got := offset(t, u)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("offset %d after %v, want %d", got, testWait, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInterruptedPatch(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra string // a header of the PATCH
		kept  int64
	}{
		{"plain", "", 400},
		{"with a checksum", "sha1 " + base64.StdEncoding.EncodeToString(make([]byte, 20)), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := start(t, Options{})
			u := create(t, s, 1000)
			body := data(1000, 4)
			conn, err := net.DialTimeout("tcp", s.Addr, testWait)
			if err != nil {
				t.Fatal(err)
			}
			head := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nContent-Type: %s\r\nUpload-Offset: 0\r\nContent-Length: 1000\r\n",
				u[len(s.URL):], s.Addr, OffsetOctetStream)
			if c.extra != "" {
				head += "Upload-Checksum: " + c.extra + "\r\n"
			}
			if _, err := conn.Write(append([]byte(head+"\r\n"), body[:400]...)); err != nil {
				t.Fatal(err)
			}
			// The server has the 400 bytes once it holds the upload: a PATCH is then refused.
			deadline := time.Now().Add(testWait)
			for patch(t, u, 0, nil).status != http.StatusConflict {
				if time.Now().After(deadline) {
					t.Fatal("the cut PATCH never held the upload")
				}
				time.Sleep(5 * time.Millisecond)
			}
			_ = conn.Close()
			waitOffset(t, u, c.kept)
			// The cut PATCH holds the upload until the server has read the end of its body
			// (409 meanwhile); the offset of 0 in the checksum case is true before that.
			a := patch(t, u, c.kept, body[c.kept:])
			for a.status == http.StatusConflict && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
				a = patch(t, u, c.kept, body[c.kept:])
			}
			if a.status != 204 {
				t.Fatalf("resume: %d", a.status)
			}
			if got := stored(t, u); !bytes.Equal(got, body) {
				t.Errorf("stored bytes differ after the resume")
			}
		})
	}
}

func TestRestartOnDataDirectory(t *testing.T) {
	dir := t.TempDir()
	open := func() *Server {
		st, err := NewDirStore(dir, true)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewServer(Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	body := data(300, 7)
	s := open()
	u := create(t, s, 300, "Upload-Metadata", "filename YS5iaW4=")
	patch(t, u, 0, body[:120])
	dl := create(t, s, -1)
	patch(t, dl, 0, body[:50])
	path, dpath := u[len(s.URL):], dl[len(s.URL):]
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	u, dl = s.URL+path, s.URL+dpath
	a := do(t, http.MethodHead, u, tusReq(), nil)
	wantHeaders(t, "HEAD after the restart", a, map[string]string{"Upload-Offset": "120", "Upload-Length": "300", "Upload-Metadata": "filename YS5iaW4="})
	if p := patch(t, u, 120, body[120:]); p.status != 204 {
		t.Fatalf("PATCH after the restart: %d", p.status)
	}
	if got := stored(t, u); !bytes.Equal(got, body) {
		t.Errorf("stored bytes differ")
	}
	if p := patch(t, dl, 50, body[50:80], "Upload-Length", "80"); p.status != 204 || offset(t, dl) != 80 {
		t.Errorf("deferred upload after the restart: %d", p.status)
	}
}

// TestGoneIsBounded: the server remembers the last maxGone removed uploads (410); an older one
// is unknown (404), so a long-running server does not keep every upload it ever removed.
func TestGoneIsBounded(t *testing.T) {
	h := newHandler(Options{})
	h.goneLimit = 2
	for _, id := range []string{"a", "b", "b", "c"} {
		h.forget(id)
	}
	for _, tc := range []struct {
		id   string
		want error
	}{{"a", errUnknown}, {"b", errGone}, {"c", errGone}, {"d", errUnknown}} {
		if _, err := h.lookup(tc.id); !errors.Is(err, tc.want) {
			t.Errorf("lookup(%q) = %v, want %v", tc.id, err, tc.want)
		}
	}
	if len(h.gone) != 2 || len(h.goneOrder) != 2 {
		t.Errorf("%d gone, %d in order; want 2 and 2", len(h.gone), len(h.goneOrder))
	}
}
