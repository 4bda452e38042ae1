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
)

// The tests of this file hold the module profile to what docs/module-behavior.md §9
// ("Observed against running builds since") saw on the wire, and the reference to the
// protocol document (refusals with reasons).

// formRecorder is a backend that keeps the fields of every form it gets and answers 200 ok.
type formRecorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	forms []map[string]string
}

func newFormRecorder(t *testing.T) *formRecorder {
	t.Helper()
	fr := &formRecorder{}
	fr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := map[string]string{}
		for k, v := range r.MultipartForm.Value {
			f[k] = v[0]
		}
		fr.mu.Lock()
		fr.forms = append(fr.forms, f)
		fr.mu.Unlock()
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(fr.srv.Close)
	return fr
}

// last returns the last form received, or nil.
func (fr *formRecorder) last() map[string]string {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.forms) == 0 {
		return nil
	}
	return fr.forms[len(fr.forms)-1]
}

// count returns how many forms were received.
func (fr *formRecorder) count() int {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return len(fr.forms)
}

// emptyForm reports whether f is the module's form without a file (class C): no field but the
// dummy one.
func emptyForm(f map[string]string) bool {
	_, dummy := f["<ngx_upload_module_dummy>"]
	return len(f) == 1 && dummy
}

// moduleProfile returns the quirks of the current module's profile.
func moduleProfile(t *testing.T) QuirkSet {
	t.Helper()
	p, err := ParseProfile(ProfileModule)
	if err != nil {
		t.Fatal(err)
	}
	return p.Quirks
}

// evidenceServers starts the reference and the module profile, each handing completed files
// to its own form recorder.
func evidenceServers(t *testing.T) map[string]struct {
	srv *Server
	fr  *formRecorder
} {
	t.Helper()
	out := map[string]struct {
		srv *Server
		fr  *formRecorder
	}{}
	for name, qs := range map[string]QuirkSet{"reference": {}, "module": moduleProfile(t)} {
		fr := newFormRecorder(t)
		out[name] = struct {
			srv *Server
			fr  *formRecorder
		}{startServer(t, Options{Quirks: qs, UploadPass: fr.srv.URL + "/done"}), fr}
	}
	return out
}

// TestEvidenceOtherTotalWrittenInFull: §9 "Two files of different totals under one session ID
// (CO-02's case). The second file's segment (e.g. `bytes 0-47/48` on a session of total 24)
// gets the false success (200 with an empty form), and its bytes are written into the shared
// data file in full, past the first file's total: the first file, once completed, is 48 bytes
// long, not 24. Nothing clips the write at the session's total."
func TestEvidenceOtherTotalWrittenInFull(t *testing.T) {
	for name, s := range evidenceServers(t) {
		t.Run(name, func(t *testing.T) {
			h, b := qSeg("ot1", 0, 0, 11, 24, "f.bin")
			if got := qSend(t, s.srv.Addr, h, b); !matches(got, "201 0-11/24") {
				t.Fatalf("first file, 0-11/24: %v", got)
			}
			h, b = qSeg("ot1", 9, 0, 47, 48, "g.bin")
			got := qSend(t, s.srv.Addr, h, b)
			switch name {
			case "reference":
				if got.status != http.StatusConflict || !strings.Contains(got.body, "differs") {
					t.Fatalf("second file, 0-47/48: %v, want 409 with a reason", got)
				}
			default:
				if !matches(got, "200 ok") || !emptyForm(s.fr.last()) {
					t.Fatalf("second file, 0-47/48: %v, form %v; want 200 with an empty form", got, s.fr.last())
				}
			}
			h, b = qSeg("ot1", 0, 12, 23, 24, "f.bin")
			if got := qSend(t, s.srv.Addr, h, b); !matches(got, "200 ok") {
				t.Fatalf("first file, 12-23/24: %v", got)
			}
			want := qBytes(0, 0, 23)
			if name == "module" {
				want = qBytes(9, 0, 11) + qBytes(0, 12, 23) + qBytes(9, 24, 47)
			}
			if status, body := qGet(t, s.srv, "f.bin"); status != http.StatusOK || body != want {
				t.Errorf("GET f.bin: %d %q (%d bytes), want %q (%d bytes)", status, body, len(body), want, len(want))
			}
		})
	}
}

// multipartBody returns a form with one file part holding data.
func multipartBody(boundary, name, data string) string {
	return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
		"\"\r\nContent-Type: text/plain\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n"
}

// TestEvidenceMultipart: §9 "A multipart/form-data segment with a real boundary is handled as an
// ordinary one-shot multipart upload: range and session headers are ignored, the file is stored
// under a temp-numbered name, md5 and sha1 are present, and the backend's 200 comes back. A
// multipart/form-data type without a boundary gets no response at all."
func TestEvidenceMultipart(t *testing.T) {
	data := qBytes(3, 0, 23)
	for name, s := range evidenceServers(t) {
		t.Run(name, func(t *testing.T) {
			headers := []string{"Content-Type: multipart/form-data; boundary=b0undary", cd, "X-Content-Range: bytes 0-11/24", "Session-ID: mp1"}
			got := qSend(t, s.srv.Addr, headers, multipartBody("b0undary", "m.txt", data))
			if name == "reference" {
				if got.status != http.StatusUnsupportedMediaType || got.body == "" {
					t.Errorf("multipart with a boundary: %v, want 415 with a reason", got)
				}
			} else {
				f := s.fr.last()
				if !matches(got, "200 ok") || f == nil || f["name"] != "m.txt" || f["size"] != "24" || f["md5"] == "" || f["sha1"] == "" {
					t.Errorf("multipart with a boundary: %v, form %v; want 200, a form of m.txt, size 24 and digests", got, f)
				}
				if status, body := qGet(t, s.srv, "0000000001"); status != http.StatusOK || body != data {
					t.Errorf("GET 0000000001 (a temp-numbered name): %d %q, want %q", status, body, data)
				}
				// the session's headers were ignored: the session is untouched
				h, b := qSeg("mp1", 0, 0, 11, 24, "f.bin")
				if got := qSend(t, s.srv.Addr, h, b); !matches(got, "201 0-11/24") {
					t.Errorf("segment 0-11/24 of session mp1 afterwards: %v, want 201 0-11/24", got)
				}
			}
			headers[0] = "Content-Type: multipart/form-data"
			got = qSend(t, s.srv.Addr, headers, data[:12])
			switch {
			case name == "reference" && (got.status != http.StatusUnsupportedMediaType || got.body == ""):
				t.Errorf("multipart without a boundary: %v, want 415 with a reason", got)
			case name == "module" && !got.dropped:
				t.Errorf("multipart without a boundary: %v, want no response", got)
			}
		})
	}
}

// TestEvidenceNoRangeHeader: §9 "No range header at all (Session-ID and Content-Disposition
// present, whole body): 200 from the backend with a real form, md5 and sha1 present, the size
// correct; stored under the session's name."
func TestEvidenceNoRangeHeader(t *testing.T) {
	data := qBytes(4, 0, 23)
	for name, s := range evidenceServers(t) {
		t.Run(name, func(t *testing.T) {
			got := qSend(t, s.srv.Addr, []string{ct, cd, "Session-ID: nr1"}, data)
			if name == "reference" {
				if got.status != http.StatusBadRequest || !strings.Contains(got.body, "Content-Range") {
					t.Fatalf("no range header: %v, want 400 naming the range header", got)
				}
				return
			}
			f := s.fr.last()
			if !matches(got, "200 ok") || f == nil || f["name"] != "f.bin" || f["size"] != "24" || f["md5"] == "" || f["sha1"] == "" {
				t.Fatalf("no range header: %v, form %v; want 200, a form of f.bin, size 24 and digests", got, f)
			}
			if status, body := qGet(t, s.srv, "nr1"); status != http.StatusOK || body != data {
				t.Errorf("GET nr1 (the session's name): %d %q, want %q", status, body, data)
			}
		})
	}
}

// TestEvidenceNoSessionID: §9 "No Session-ID header (range present): every segment gets 200
// with an empty form (false success)."
func TestEvidenceNoSessionID(t *testing.T) {
	for name, s := range evidenceServers(t) {
		t.Run(name, func(t *testing.T) {
			for _, r := range [][2]int64{{0, 11}, {12, 23}} {
				headers := []string{ct, cd, fmt.Sprintf("X-Content-Range: bytes %d-%d/24", r[0], r[1])}
				got := qSend(t, s.srv.Addr, headers, qBytes(0, r[0], r[1]))
				if name == "reference" {
					if got.status != http.StatusBadRequest || !strings.Contains(got.body, "Session-ID") {
						t.Errorf("segment %d-%d/24 without a Session-ID: %v, want 400 naming it", r[0], r[1], got)
					}
					continue
				}
				if !matches(got, "200 ok") || !emptyForm(s.fr.last()) {
					t.Errorf("segment %d-%d/24 without a Session-ID: %v, form %v; want 200 with an empty form", r[0], r[1], got, s.fr.last())
				}
			}
		})
	}
}

// TestEvidenceLongSessionIDs: §9 "Session IDs of 250 characters: 200 with an empty form for every
// segment (the data file name fits in 255 bytes, the state file name with its suffix does not).
// 300 characters: 500 (nginx's HTML page) for every segment."
func TestEvidenceLongSessionIDs(t *testing.T) {
	for name, s := range evidenceServers(t) {
		for _, n := range []int{250, 255, 300} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				id := strings.Repeat("x", n-1) + "0"
				for _, r := range [][2]int64{{0, 11}, {12, 23}} {
					before := s.fr.count()
					h, b := qSeg(id, 0, r[0], r[1], 24, "f.bin")
					got := qSend(t, s.srv.Addr, h, b)
					switch {
					case name == "reference":
						if got.status != http.StatusBadRequest || !strings.Contains(got.body, "session ID") {
							t.Errorf("segment %d-%d/24: %v, want 400 naming the session ID", r[0], r[1], got)
						}
					case n < 256:
						if !matches(got, "200 ok") || s.fr.count() != before+1 || !emptyForm(s.fr.last()) {
							t.Errorf("segment %d-%d/24: %v, form %v; want 200 with an empty form", r[0], r[1], got, s.fr.last())
						}
					default:
						if got.status != http.StatusInternalServerError || s.fr.count() != before {
							t.Errorf("segment %d-%d/24: %v; want 500 and nothing handed to the backend", r[0], r[1], got)
						}
					}
				}
			})
		}
	}
}

// TestEvidenceCleanupThreshold: §9 "`upload_cleanup 400` and a segment cut off mid-body: the data
// file is deleted only when the module had already written part of the cut segment to disk,
// i.e. after more than about 8.5 KiB of its body arrived (one write buffer plus what came with
// the headers). Cut after 8 500 bytes: the file is kept. Cut after 9 000 bytes: the file is
// deleted while the state file keeps the earlier ranges, so the completed file later has
// zero-filled holes where acknowledged bytes were. A cut after a few bytes therefore never
// shows this loss."
func TestEvidenceCleanupThreshold(t *testing.T) {
	const first, second = 100, 16 << 10
	const total = first + second
	kept := qBytes(0, 0, total-1)
	holed := strings.Repeat("\x00", first) + qBytes(0, first, total-1)
	tests := []struct {
		quirks QuirkSet
		cut    int
		file   string
	}{
		{QuirkSet{}, 9000, kept},
		{NewQuirkSet(CleanupOnDisconnect), 3, kept},
		{NewQuirkSet(CleanupOnDisconnect), 8500, kept},
		{NewQuirkSet(CleanupOnDisconnect), 9000, holed},
		{NewQuirkSet(CleanupOnDisconnect), second - 1, holed},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/cut-after-%d", tt.quirks, tt.cut), func(t *testing.T) {
			h := New(Options{Quirks: tt.quirks})
			hd, b := qSeg("ct1", 0, 0, first-1, total, "f.bin")
			if rec := serveDirect(h, "POST", DefaultPath, hd, strings.NewReader(b), first); rec.Code != http.StatusCreated {
				t.Fatalf("first segment: %d %q", rec.Code, rec.Body)
			}
			hd, b = qSeg("ct1", 0, first, total-1, total, "f.bin")
			serveDirect(h, "POST", DefaultPath, hd, cutReader{strings.NewReader(b[:tt.cut])}, second)
			if rec := serveDirect(h, "POST", DefaultPath, hd, strings.NewReader(b), second); rec.Code != http.StatusOK {
				t.Fatalf("completing segment: %d %q", rec.Code, rec.Body)
			}
			rec := serveDirect(h, "GET", DefaultFilePrefix+"f.bin", nil, http.NoBody, 0)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.file {
				t.Errorf("GET f.bin: %d, %d bytes, first %q; want %d bytes, first %q", rec.Code, rec.Body.Len(),
					clip(rec.Body.String()), len(tt.file), clip(tt.file))
			}
		})
	}
}

func clip(s string) string { return s[:min(len(s), 8)] }

// TestOrdinaryUploadStallEnds: the body of an ordinary upload is read under BodyReadTimeout
// like a segment's: a client that stops sending gets an answer (or the connection closed)
// instead of holding the handler.
func TestOrdinaryUploadStallEnds(t *testing.T) {
	srv := startServer(t, Options{Quirks: moduleProfile(t), BodyReadTimeout: 50 * time.Millisecond})
	c, err := net.DialTimeout("tcp", srv.Addr, quirkTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(quirkTimeout)); err != nil {
		t.Fatal(err)
	}
	req := "POST /upload HTTP/1.1\r\nHost: x\r\n" + ct + "\r\n" + cd + "\r\nSession-ID: st1\r\nContent-Length: 24\r\n\r\n01234"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("no answer within %s: the stalled body held the handler", quirkTimeout)
	case err == nil:
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("a stalled body got %d, want an error status", resp.StatusCode)
		}
	}
}
