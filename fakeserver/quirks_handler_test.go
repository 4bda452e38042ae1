package fakeserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver/internal/modulestate"
)

// quirkTimeout bounds every network wait of the quirk tests.
const quirkTimeout = 10 * time.Second

// qAnswer is what came back for one request: a status, or dropped (class E).
type qAnswer struct {
	status  int
	body    string
	dropped bool
}

func (a qAnswer) String() string {
	if a.dropped {
		return "dropped"
	}
	return fmt.Sprintf("%d %q", a.status, a.body)
}

// qFile is the content of the test files: byte i is qAlphabet[(i+seed)%62].
const qAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func qBytes(seed int, start, end int64) string {
	var b strings.Builder
	for i := start; i <= end; i++ {
		b.WriteByte(qAlphabet[(int(i)+seed)%len(qAlphabet)])
	}
	return b.String()
}

// qSeg returns the header lines and body of segment start-end/total of file name.
func qSeg(sid string, seed int, start, end, total int64, name string) ([]string, string) {
	return []string{
		"Content-Type: application/octet-stream",
		fmt.Sprintf(`Content-Disposition: attachment; filename="%s"`, name),
		fmt.Sprintf("X-Content-Range: bytes %d-%d/%d", start, end, total),
		"Session-ID: " + sid,
	}, qBytes(seed, start, end)
}

// qSend writes one request (Content-Length added unless a header line sets it) and reads
// the answer, telling a connection closed without a byte apart.
func qSend(t *testing.T, addr string, headers []string, body string) qAnswer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, quirkTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(quirkTimeout)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST /upload HTTP/1.1\r\nHost: %s\r\n", addr)
	hasLength := false
	for _, h := range headers {
		b.WriteString(h + "\r\n")
		hasLength = hasLength || strings.HasPrefix(strings.ToLower(h), "content-length:")
	}
	if !hasLength {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		return qAnswer{dropped: true}
	}
	br := bufio.NewReader(c)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset") {
			return qAnswer{dropped: true}
		}
		t.Fatalf("read: %v", err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return qAnswer{status: resp.StatusCode, body: string(rb)}
}

// qGet fetches a completed file; "" with the status when there is none.
func qGet(t *testing.T, srv *Server, name string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: quirkTimeout}
	resp, err := client.Get(srv.URL + DefaultFilePrefix + name)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// qStep is one request of a quirk test and the answer the quirk gives (ref: the reference's).
type qStep struct {
	headers []string
	body    string
	quirk   string // "dropped", or "STATUS" or "STATUS body"
	ref     string
	// guessed, when set, is the quirk's answer under httptest.NewServer(New(opts)), where
	// the handler guesses the header order instead of recording it (RecordHeaderOrder).
	guessed string
}

func seg(sid string, seed int, start, end, total int64, name string, quirk, ref string) qStep {
	h, b := qSeg(sid, seed, start, end, total, name)
	return qStep{headers: h, body: b, quirk: quirk, ref: ref}
}

func raw(headers []string, body, quirk, ref string) qStep {
	return qStep{headers: headers, body: body, quirk: quirk, ref: ref}
}

// guessed sets the answer of st under a guessed header order.
func guessed(st qStep, answer string) qStep {
	st.guessed = answer
	return st
}

func matches(a qAnswer, want string) bool {
	if want == "dropped" {
		return a.dropped
	}
	if a.dropped {
		return false
	}
	status, body, hasBody := strings.Cut(want, " ")
	if status != fmt.Sprint(a.status) {
		return false
	}
	return !hasBody || body == a.body
}

const cd = `Content-Disposition: attachment; filename="f.bin"`
const ct = "Content-Type: application/octet-stream"

func TestQuirkAnswers(t *testing.T) {
	long := func(n int) string { return strings.Repeat("L", n) }
	tests := []struct {
		name   string
		quirks QuirkSet
		steps  []qStep
		file   string // the completed file f.bin afterwards ("" = not checked, "-" = none)
		refFil string
	}{
		{"drop-on-malformed: module grammar", NewQuirkSet(DropOnMalformed), []qStep{
			raw([]string{ct, cd, "Session-ID: d1", "X-Content-Range: bytes 0-1"}, "ab", "dropped", "400"),
			raw([]string{ct, cd, "Session-ID: a.b", "X-Content-Range: bytes 0-1/4"}, "ab", "dropped", "400"),
			raw([]string{ct, "Content-Disposition: inline", "Session-ID: d1", "X-Content-Range: bytes 0-1/4"}, "ab", "dropped", "400"),
			raw([]string{ct, cd, "Session-ID: d1", "X-Content-Range: BYTES -1/4"}, "01", "201 0-1/4", "400"),
			raw([]string{ct, cd, "Session-ID: d2", "X-Content-Range: bytes 0-1/8", "Content-Range: bytes 4-5/8"}, "45", "201 4-5/8", "400"),
			guessed(raw([]string{ct, cd, "Session-ID: d2", "Content-Range: bytes 6-7/8", "X-Content-Range: bytes 0-1/8"}, "01", "201 0-1/8,4-5/8", "400"), "201 4-7/8"),
			raw([]string{ct, "Content-Disposition-Extra: attachment", "Session-ID-Whatever: d3", "X-Content-Range-2: bytes 000-001/004"}, "01", "201 0-1/4", "415"),
			raw([]string{ct, cd, "Session-ID: " + long(256), "X-Content-Range: bytes 0-1/4"}, "01", "500", "400"),
			raw([]string{ct, cd, "Session-ID: d4", "X-Content-Range: bytes 18446744073709551615-1/4"}, "abc", "400", "400"),
			raw([]string{ct, cd, "Session-ID: d5", "X-Content-Range: bytes 0-3/4"}, "0123456", "416", "416"),
		}, "", ""},
		{"false-success: total mismatch, no session, long ID", NewQuirkSet(FalseSuccess), []qStep{
			seg("f1", 0, 0, 1, 4, "f.bin", "201 0-1/4", "201 0-1/4"),
			seg("f1", 5, 0, 1, 8, "other.bin", "200 completed", "409"),
			raw([]string{ct, cd, "X-Content-Range: bytes 0-1/4"}, "ab", "200 completed", "400"),
			raw([]string{ct, cd, "Session-ID: " + long(250), "X-Content-Range: bytes 0-1/4"}, "ab", "200 completed", "400"),
			seg("f1", 0, 2, 3, 4, "f.bin", "200 completed", "200 completed"),
		}, qBytes(5, 0, 1) + qBytes(0, 2, 3), qBytes(0, 0, 3)},
		{"false-success with drop-on-malformed: wrapped start", NewQuirkSet(FalseSuccess, DropOnMalformed), []qStep{
			raw([]string{ct, cd, "Session-ID: w1", "X-Content-Range: bytes 18446744073709551615-1/4"}, "abc", "200 completed", "400"),
		}, "", ""},
		{"no-overlap-rejection: the last write wins", NewQuirkSet(NoOverlapRejection), []qStep{
			seg("o1", 0, 0, 3, 8, "f.bin", "201 0-3/8", "201 0-3/8"),
			seg("o1", 7, 2, 5, 8, "f.bin", "201 0-5/8", "201 0-5/8"),
			seg("o1", 0, 6, 7, 8, "f.bin", "200 completed", "200 completed"),
		}, qBytes(0, 0, 1) + qBytes(7, 2, 5) + qBytes(0, 6, 7), qBytes(0, 0, 3) + qBytes(7, 4, 5) + qBytes(0, 6, 7)},
		{"restart-after-complete", NewQuirkSet(RestartAfterComplete), []qStep{
			seg("r1", 0, 0, 1, 4, "f.bin", "201 0-1/4", "201 0-1/4"),
			seg("r1", 0, 2, 3, 4, "f.bin", "200 completed", "200 completed"),
			seg("r1", 0, 2, 3, 4, "f.bin", "201 2-3/4", "200 completed"),
			seg("r1", 0, 0, 3, 4, "f.bin", "200 completed", "200 completed"),
		}, qBytes(0, 0, 3), qBytes(0, 0, 3)},
		{"no-truncate-on-reuse after a restart", NewQuirkSet(RestartAfterComplete, NoTruncateOnReuse), []qStep{
			seg("n1", 0, 0, 23, 24, "f.bin", "200 completed", "200 completed"),
			seg("n1", 9, 0, 3, 4, "f.bin", "200 completed", "409"),
		}, qBytes(9, 0, 3) + qBytes(0, 4, 23), qBytes(0, 0, 23)},
		{"single-byte-state-bug", NewQuirkSet(SingleByteStateBug), []qStep{
			seg("s1", 0, 0, 0, 4, "f.bin", "201 0-0/4", "201 0-0/4"),
			seg("s1", 0, 0, 0, 4, "f.bin", "200 completed", "201 0-0/4"),
			seg("s1", 0, 1, 3, 4, "f.bin", "200 completed", "200 completed"),
			seg("s1", 0, 2, 2, 4, "f.bin", "200 completed", "200 completed"),
			seg("s2", 0, 0, 0, 1, "g.bin", "200 completed", "200 completed"),
		}, "-", qBytes(0, 0, 3)},
	}
	for _, tt := range tests {
		// httptest: the quirks through httptest.NewServer(New(opts)), which behaves like
		// NewServer(opts) except for the header order (the steps' guessed answers).
		for _, mode := range []string{"quirk", "reference", "httptest"} {
			withQuirk := mode != "reference"
			opts := Options{}
			if withQuirk {
				opts.Quirks = tt.quirks
			}
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				var srv *Server
				if mode == "httptest" {
					ts := httptest.NewServer(New(opts))
					t.Cleanup(ts.Close)
					srv = &Server{URL: ts.URL, Addr: ts.Listener.Addr().String()}
				} else {
					srv = startServer(t, opts)
				}
				for i, st := range tt.steps {
					want := st.ref
					if withQuirk {
						want = st.quirk
					}
					if mode == "httptest" && st.guessed != "" {
						want = st.guessed
					}
					got := qSend(t, srv.Addr, st.headers, st.body)
					if !matches(got, want) {
						t.Fatalf("step %d (%s): got %v, want %s", i, strings.Join(st.headers[1:], "; "), got, want)
					}
				}
				wantFile := tt.refFil
				if withQuirk {
					wantFile = tt.file
				}
				if wantFile == "" {
					return
				}
				status, body := qGet(t, srv, "f.bin")
				if wantFile == "-" {
					if status != http.StatusNotFound {
						t.Errorf("GET f.bin: %d %q, want no file", status, body)
					}
					return
				}
				if status != http.StatusOK || body != wantFile {
					t.Errorf("GET f.bin: %d %q, want %q", status, body, wantFile)
				}
			})
		}
	}
}

// TestQuirkRangeListAndStateWindow sends many disjoint single segments: the list is cut
// (range-list-cut), and past the 961-byte window the module fails (state-window).
func TestQuirkRangeListAndStateWindow(t *testing.T) {
	const total = 900000 // 19-byte state lines: "10000-10009/900000\n"
	tests := []struct {
		name   string
		quirks QuirkSet
		last   string // the answer to the 52nd segment
	}{
		{"reference", QuirkSet{}, "201"},
		{"range-list-cut", NewQuirkSet(RangeListCut), "201"},
		{"state-window: the worker crash after a long list", NewQuirkSet(StateWindow), "dropped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, Options{Quirks: tt.quirks})
			var got qAnswer
			for k := int64(0); k < 51; k++ {
				s := 10000 + 100*k
				h, b := qSeg("w", 0, s, s+9, total, "f.bin")
				got = qSend(t, srv.Addr, h, b)
				if got.status != http.StatusCreated {
					t.Fatalf("segment %d: %v", k, got)
				}
			}
			full := strings.Count(got.body, ",") + 1
			if tt.quirks.Has(RangeListCut) {
				if full >= 51 || len(got.body) < modulestate.RangeHeaderBufferSize || len(got.body) > modulestate.RangeHeaderBufferSize+64 {
					t.Errorf("51 ranges: list of %d items, %d bytes; want it cut after 256 bytes", full, len(got.body))
				}
			} else if full != 51 {
				t.Errorf("51 ranges: list of %d items", full)
			}
			h, b := qSeg("w", 0, 90000, 90009, total, "f.bin")
			if got := qSend(t, srv.Addr, h, b); !matches(got, tt.last) {
				t.Errorf("52nd segment: %v, want %s", got, tt.last)
			}
		})
	}
	// A merge that fails before anything was listed is a silent failure, not a crash: the new
	// segment absorbs the first 50 lines, and the 51st is misread.
	srv := startServer(t, Options{Quirks: NewQuirkSet(StateWindow)})
	for k := int64(0); k < 51; k++ {
		s := 10000 + 100*k
		h, b := qSeg("c", 0, s, s+9, total, "f.bin")
		if got := qSend(t, srv.Addr, h, b); got.status != http.StatusCreated {
			t.Fatalf("segment %d: %v", k, got)
		}
	}
	h, b := qSeg("c", 0, 10000, 14909, total, "f.bin")
	if got := qSend(t, srv.Addr, h, b); !matches(got, "200 completed") {
		t.Errorf("merge failing with an empty list: %v, want the class C answer", got)
	}
}

// TestQuirkBackendForm checks size-from-last-segment and empty-digests on the form that an
// external backend gets.
func TestQuirkBackendForm(t *testing.T) {
	var mu sync.Mutex
	var forms []map[string]string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := map[string]string{}
		for k, v := range r.MultipartForm.Value {
			f[k] = v[0]
		}
		mu.Lock()
		forms = append(forms, f)
		mu.Unlock()
		fmt.Fprint(w, "ok")
	}))
	defer backend.Close()
	tests := []struct {
		quirks QuirkSet
		size   string
		md5    string
	}{
		{QuirkSet{}, "4", "f9e8d7"},
		{NewQuirkSet(SizeFromLastSegment), "2", "f9e8d7"},
		{NewQuirkSet(EmptyDigests), "4", ""},
	}
	for _, tt := range tests {
		t.Run(tt.quirks.String(), func(t *testing.T) {
			mu.Lock()
			forms = nil
			mu.Unlock()
			srv := startServer(t, Options{Quirks: tt.quirks, UploadPass: backend.URL + "/done"})
			h, b := qSeg("b1", 0, 2, 3, 4, "f.bin")
			if got := qSend(t, srv.Addr, h, b); got.status != http.StatusCreated {
				t.Fatalf("first segment: %v", got)
			}
			h, b = qSeg("b1", 0, 0, 1, 4, "f.bin")
			if got := qSend(t, srv.Addr, h, b); !matches(got, "200 ok") {
				t.Fatalf("completing segment: %v", got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(forms) != 1 {
				t.Fatalf("%d forms", len(forms))
			}
			f := forms[0]
			if f["size"] != tt.size {
				t.Errorf("size = %q, want %q", f["size"], tt.size)
			}
			if (tt.md5 == "") != (f["md5"] == "") || (tt.md5 == "") != (f["sha1"] == "") {
				t.Errorf("md5 = %q, sha1 = %q; want them empty: %v", f["md5"], f["sha1"], tt.md5 == "")
			}
		})
	}
}

// cutReader gives n bytes of body, then fails as a connection closed mid-body does.
type cutReader struct{ r io.Reader }

func (c cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// serveDirect runs one request through the handler itself, so that a cut body is handled
// before the next request starts.
func serveDirect(h http.Handler, method, target string, headers []string, body io.Reader, length int64) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for _, line := range headers {
		name, value, _ := strings.Cut(line, ": ")
		req.Header.Add(name, value)
	}
	req.ContentLength = length
	if length > 0 {
		req.Header.Set("Content-Length", fmt.Sprint(length))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestQuirkCleanupOnDisconnect cuts a segment after one byte of its body: too early for the
// module to have opened the data file, so upload_cleanup deletes nothing.
func TestQuirkCleanupOnDisconnect(t *testing.T) {
	tests := []struct {
		quirks QuirkSet
		file   string
	}{
		{QuirkSet{}, qBytes(0, 0, 3)},
		// a cut after a few bytes keeps the file (§9; the threshold: TestEvidenceCleanupThreshold)
		{NewQuirkSet(CleanupOnDisconnect), qBytes(0, 0, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.quirks.String(), func(t *testing.T) {
			h := New(Options{Quirks: tt.quirks})
			hd, b := qSeg("k1", 0, 0, 1, 4, "f.bin")
			if rec := serveDirect(h, "POST", DefaultPath, hd, strings.NewReader(b), 2); rec.Code != http.StatusCreated {
				t.Fatalf("first segment: %d %q", rec.Code, rec.Body)
			}
			// the second segment announces 2 bytes, and the connection breaks after 1
			hd, b = qSeg("k1", 0, 2, 3, 4, "f.bin")
			serveDirect(h, "POST", DefaultPath, hd, cutReader{strings.NewReader(b[:1])}, 2)
			if rec := serveDirect(h, "POST", DefaultPath, hd, strings.NewReader(b), 2); rec.Code != http.StatusOK || rec.Body.String() != "completed" {
				t.Fatalf("completing segment: %d %q", rec.Code, rec.Body)
			}
			rec := serveDirect(h, "GET", DefaultFilePrefix+"f.bin", nil, http.NoBody, 0)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.file {
				t.Errorf("GET f.bin: %d %q, want %q", rec.Code, rec.Body, tt.file)
			}
		})
	}
}

// TestQuirkInFlightOverlap holds segment A in flight (headers and half its body sent) while
// an overlapping segment B is sent: the reference answers B 409, the module 201.
func TestQuirkInFlightOverlap(t *testing.T) {
	tests := []struct {
		quirks QuirkSet
		b      string
	}{
		{QuirkSet{}, "409"},
		{NewQuirkSet(NoOverlapRejection), "201 4-11/16"},
	}
	for _, tt := range tests {
		t.Run(tt.quirks.String(), func(t *testing.T) {
			srv := startServer(t, Options{Quirks: tt.quirks})
			c, err := net.DialTimeout("tcp", srv.Addr, quirkTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(quirkTimeout)); err != nil {
				t.Fatal(err)
			}
			// A asks for 100 Continue: the server sends it once A's range is claimed, so B is
			// sent while A is in flight, whatever the scheduling.
			h, body := qSeg("p1", 0, 0, 7, 16, "f.bin")
			fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\n%s\r\nExpect: 100-continue\r\nContent-Length: 8\r\n\r\n", strings.Join(h, "\r\n"))
			br := bufio.NewReader(c)
			if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, " 100 ") {
				t.Fatalf("A: want 100 Continue, got %q, %v", line, err)
			}
			if line, err := br.ReadString('\n'); err != nil || line != "\r\n" {
				t.Fatalf("A: want the end of the 100 Continue, got %q, %v", line, err)
			}
			if _, err := io.WriteString(c, body[:4]); err != nil {
				t.Fatal(err)
			}
			hb, bb := qSeg("p1", 1, 4, 11, 16, "f.bin")
			if got := qSend(t, srv.Addr, hb, bb); !matches(got, tt.b) {
				t.Fatalf("B: %v, want %s", got, tt.b)
			}
			if _, err := io.WriteString(c, body[4:]); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("A: %d", resp.StatusCode)
			}
		})
	}
}
