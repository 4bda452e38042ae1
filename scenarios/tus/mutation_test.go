package tus_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	fstus "github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/tus"
)

// The mutation test: every tus clause that can fail is shown to fail against a tus server
// with that clause broken, and only the listed scenarios fail. Each mutation is middleware
// around two servers: the reference tus server (fakeserver/tus), and tusd v2 in process made
// whole by small middleware (conforming): it announces and implements the
// checksum (sha1) and expiration extensions tusd lacks, adds Tus-Version to its 412 and answers
// 415 for a PATCH's wrong Content-Type. Against either every scenario passes; each mutation
// breaks one clause.

// middleware wraps a handler.
type middleware func(http.Handler) http.Handler

// answerEdit is called once per answer, before its head is written: it may change the headers
// and returns the status to send.
type answerEdit func(r *http.Request, status int, h http.Header) int

// editWriter applies an answerEdit to the head of the answer.
type editWriter struct {
	http.ResponseWriter
	r     *http.Request
	edit  answerEdit
	wrote bool
}

func (w *editWriter) WriteHeader(code int) {
	if code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.wrote {
		w.wrote = true
		code = w.edit(w.r, code, w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *editWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (tusd's deadlines) reach the connection.
func (w *editWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// onAnswer is middleware that edits every answer's head.
func onAnswer(edit answerEdit) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&editWriter{ResponseWriter: w, r: r, edit: edit}, r)
		})
	}
}

// onRequest is middleware that may change a request, or answer it itself (answered true).
func onRequest(f func(w http.ResponseWriter, r *http.Request, next http.Handler) (answered bool)) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !f(w, r, next) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// chain applies middleware, the first outermost.
func chain(h http.Handler, mws ...middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// reply answers a request itself, as a tus server would (Tus-Resumable), with no body.
func reply(w http.ResponseWriter, status int, hs ...string) {
	w.Header().Set("Tus-Resumable", tus.Version)
	for i := 0; i+1 < len(hs); i += 2 {
		w.Header().Set(hs[i], hs[i+1])
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// readBody reads a small request body and puts it back for the next handler.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

func sha1Of(b []byte) string {
	d := sha1.Sum(b)
	return base64.StdEncoding.EncodeToString(d[:])
}

// addExtension adds ext to an OPTIONS answer's Tus-Extension.
func addExtension(r *http.Request, h http.Header, ext string) {
	if r.Method == http.MethodOptions {
		h.Set("Tus-Extension", h.Get("Tus-Extension")+","+ext)
	}
}

// conforming makes tusd whole: the checksum and expiration extensions, Tus-Version on the
// 412, 415 for a PATCH's wrong Content-Type.
func conforming() []middleware {
	return []middleware{
		onAnswer(func(r *http.Request, status int, h http.Header) int {
			if status == http.StatusPreconditionFailed {
				h.Set("Tus-Version", tus.Version)
			}
			if status == http.StatusBadRequest && r.Method == http.MethodPatch && r.Header.Get("Content-Type") != tus.OffsetOctetStream {
				return http.StatusUnsupportedMediaType
			}
			return status
		}),
		// expiration: every upload expires in a day.
		onAnswer(func(r *http.Request, status int, h http.Header) int {
			addExtension(r, h, tus.ExtExpiration)
			if (r.Method == http.MethodPost && status == 201) || (r.Method == http.MethodPatch && status == 204) {
				h.Set("Upload-Expires", time.Now().Add(24*time.Hour).UTC().Format(http.TimeFormat))
			}
			return status
		}),
		// checksum: sha1.
		onAnswer(func(r *http.Request, status int, h http.Header) int {
			addExtension(r, h, tus.ExtChecksum)
			if r.Method == http.MethodOptions {
				h.Set("Tus-Checksum-Algorithm", "sha1")
			}
			return status
		}),
		onRequest(func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			v := r.Header.Get("Upload-Checksum")
			if r.Method != http.MethodPatch || v == "" {
				return false
			}
			alg, digest, _ := strings.Cut(v, " ")
			if alg != "sha1" {
				reply(w, http.StatusBadRequest)
				return true
			}
			b, err := readBody(r)
			if err != nil {
				reply(w, http.StatusBadRequest)
				return true
			}
			if sha1Of(b) != digest {
				reply(w, 460)
				return true
			}
			return false
		}),
	}
}

// offsetNow asks next for an upload's offset with a HEAD of its own.
func offsetNow(next http.Handler, r *http.Request) string {
	req := httptest.NewRequestWithContext(r.Context(), http.MethodHead, r.URL.String(), nil)
	req.Header.Set("Tus-Resumable", tus.Version)
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	return rec.Header().Get("Upload-Offset")
}

// mutation is one row of the table: what breaks, and the scenarios that must fail.
type mutation struct {
	name string
	mw   middleware // outermost
	fail []string
	// racy are scenarios that may or may not fail: TP-05 when the mutation changes what a
	// HEAD of a complete upload says, since tusd settles the race either way (the held PATCH
	// interrupted, the upload incomplete; or the held PATCH completing the upload), both
	// conforming.
	racy []string
}

// head, patch, ... select requests.
func isHead(r *http.Request) bool  { return r.Method == http.MethodHead }
func isPatch(r *http.Request) bool { return r.Method == http.MethodPatch }
func isFinal(r *http.Request, h http.Header) bool {
	return strings.HasPrefix(h.Get("Upload-Concat"), "final;")
}

func mutations() []mutation {
	dropHeader := func(sel func(*http.Request, int, http.Header) bool, names ...string) middleware {
		return onAnswer(func(r *http.Request, status int, h http.Header) int {
			if sel(r, status, h) {
				for _, n := range names {
					h.Del(n)
				}
			}
			return status
		})
	}
	always := func(*http.Request, int, http.Header) bool { return true }
	// readBack are the scenarios that read a completed upload back; patching those that
	// PATCH.
	readBack := []string{"TC-02", "TC-05", "TE-01", "TH-01", "TK-01", "TK-02", "TK-03", "TN-01", "TN-02",
		"TO-02", "TP-01", "TP-02", "TP-03", "TP-04", "TP-05"}
	patching := append(slices.Clone(readBack), "TT-01")
	return []mutation{
		{name: "no Tus-Resumable on the answers", fail: []string{"TO-02"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return r.Method != http.MethodOptions }, "Tus-Resumable")},
		{name: "any Tus-Resumable accepted", fail: []string{"TO-03"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if r.Header.Get("Tus-Resumable") != "" {
				r.Header.Set("Tus-Resumable", tus.Version)
			}
			return false
		})},
		{name: "the 412 without Tus-Version", fail: []string{"TO-03"}, mw: dropHeader(func(_ *http.Request, s int, _ http.Header) bool { return s == 412 }, "Tus-Version")},
		{name: "OPTIONS without Tus-Version", fail: []string{"TO-01"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return r.Method == http.MethodOptions }, "Tus-Version")},
		{name: "HEAD of a complete upload without Upload-Offset", fail: []string{"TC-01", "TH-01", "TN-01", "TP-01"}, racy: []string{"TP-05"}, mw: dropHeader(func(r *http.Request, _ int, h http.Header) bool {
			return isHead(r) && h.Get("Upload-Offset") != "" && h.Get("Upload-Offset") == h.Get("Upload-Length")
		}, "Upload-Offset")},
		{name: "HEAD without Upload-Length", fail: []string{"TC-01", "TC-02", "TH-01", "TN-01"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return isHead(r) }, "Upload-Length")},
		{name: "HEAD without Cache-Control", fail: []string{"TH-01"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return isHead(r) }, "Cache-Control")},
		{name: "an unknown or terminated upload answered 200 with offset 0", fail: []string{"TH-02", "TT-01"}, mw: onAnswer(func(r *http.Request, s int, h http.Header) int {
			if (s == 404 || s == 410) && (isHead(r) || isPatch(r)) {
				h.Set("Upload-Offset", "0")
				return 200
			}
			return s
		})},
		{name: "any PATCH Content-Type accepted", fail: []string{"TP-02"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if isPatch(r) {
				r.Header.Set("Content-Type", tus.OffsetOctetStream)
			}
			return false
		})},
		{name: "a wrong Content-Type refused with 400", fail: []string{"TP-02"}, mw: onAnswer(func(r *http.Request, s int, _ http.Header) int {
			if s == 415 {
				return 400
			}
			return s
		})},
		{name: "a PATCH at another offset applied at the upload's", fail: []string{"TP-03"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if isPatch(r) {
				if off := offsetNow(next, r); off != "" {
					r.Header.Set("Upload-Offset", off)
				}
			}
			return false
		})},
		{name: "204 without Upload-Offset", fail: patching, mw: dropHeader(func(r *http.Request, s int, _ http.Header) bool { return isPatch(r) && s == 204 }, "Upload-Offset")},
		{name: "a PATCH cut off mid-body keeps nothing", fail: []string{"TP-04"}, mw: onRequest(func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if !isPatch(r) {
				return false
			}
			b, err := readBody(r)
			if err != nil || int64(len(b)) < r.ContentLength {
				reply(w, http.StatusBadRequest)
				return true
			}
			return false
		})},
		{name: "HEAD of a complete upload gives one byte less", fail: []string{"TH-01", "TP-01"}, racy: []string{"TP-05"}, mw: onAnswer(func(r *http.Request, s int, h http.Header) int {
			if n := mustInt(h.Get("Upload-Offset")); isHead(r) && n > 0 && h.Get("Upload-Offset") == h.Get("Upload-Length") && !isFinal(r, h) {
				h.Set("Upload-Offset", strconv.FormatInt(n-1, 10))
			}
			return s
		})},
		{name: "no lock, and bytes written where the PATCH said", fail: []string{"TP-04", "TP-05"}, mw: writeAtClaimedOffset()},
		{name: "the creating POST answered 200", fail: allBut("TC-04", "TO-01"), mw: onAnswer(func(r *http.Request, s int, _ http.Header) int {
			if r.Method == http.MethodPost && s == 201 {
				return 200
			}
			return s
		})},
		{name: "HEAD without Upload-Defer-Length", fail: []string{"TC-02"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return isHead(r) }, "Upload-Defer-Length")},
		{name: "HEAD without Upload-Metadata", fail: []string{"TC-03"}, mw: dropHeader(func(r *http.Request, _ int, _ http.Header) bool { return isHead(r) }, "Upload-Metadata")},
		{name: "no maximum size enforced", fail: []string{"TC-04"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if n := mustInt(r.Header.Get("Upload-Length")); r.Method == http.MethodPost && n > tusdMaxSize {
				r.Header.Set("Upload-Length", strconv.Itoa(tusdMaxSize))
			}
			return false
		})},
		{name: "the creating POST's body ignored", fail: []string{"TC-05"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if r.Method == http.MethodPost && r.ContentLength > 0 {
				r.Header.Del("Content-Type")
			}
			return false
		})},
		{name: "no Upload-Expires", fail: []string{"TE-01"}, mw: dropHeader(always, "Upload-Expires")},
		{name: "Upload-Expires in the past", fail: []string{"TE-01"}, mw: onAnswer(func(_ *http.Request, s int, h http.Header) int {
			if h.Get("Upload-Expires") != "" {
				h.Set("Upload-Expires", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))
			}
			return s
		})},
		{name: "no Tus-Checksum-Algorithm", fail: []string{"TK-01"}, mw: dropHeader(always, "Tus-Checksum-Algorithm")},
		{name: "a matching checksum refused", fail: []string{"TK-01"}, mw: onRequest(func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if isPatch(r) && strings.HasPrefix(r.Header.Get("Upload-Checksum"), "sha1 ") {
				reply(w, 460)
				return true
			}
			return false
		})},
		{name: "a checksum mismatch stored", fail: []string{"TK-02"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if v := r.Header.Get("Upload-Checksum"); isPatch(r) && strings.HasPrefix(v, "sha1 ") {
				if b, err := readBody(r); err == nil && "sha1 "+sha1Of(b) != v {
					r.Header.Del("Upload-Checksum")
				}
			}
			return false
		})},
		{name: "an unsupported checksum algorithm ignored", fail: []string{"TK-03"}, mw: onRequest(func(_ http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if v := r.Header.Get("Upload-Checksum"); isPatch(r) && v != "" && !strings.HasPrefix(v, "sha1 ") {
				r.Header.Del("Upload-Checksum")
			}
			return false
		})},
		{name: "DELETE answered 200", fail: []string{"TT-01"}, mw: onAnswer(func(r *http.Request, s int, _ http.Header) int {
			if r.Method == http.MethodDelete && s == 204 {
				return 200
			}
			return s
		})},
		{name: "DELETE acknowledged, nothing terminated", fail: []string{"TT-01"}, mw: onRequest(func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if r.Method == http.MethodDelete {
				reply(w, http.StatusNoContent)
				return true
			}
			return false
		})},
		{name: "partial uploads refused", fail: []string{"TN-01", "TN-02"}, mw: onRequest(func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
			if r.Method == http.MethodPost && r.Header.Get("Upload-Concat") == "partial" {
				reply(w, http.StatusBadRequest)
				return true
			}
			return false
		})},
		{name: "HEAD of a final upload gives a length one byte too long", fail: []string{"TN-01"}, mw: onAnswer(func(r *http.Request, s int, h http.Header) int {
			if isHead(r) && isFinal(r, h) {
				h.Set("Upload-Length", strconv.FormatInt(mustInt(h.Get("Upload-Length"))+1, 10))
			}
			return s
		})},
		{name: "HEAD of a final upload without Upload-Concat", fail: []string{"TN-01"}, mw: dropHeader(func(r *http.Request, _ int, h http.Header) bool { return isHead(r) && isFinal(r, h) }, "Upload-Concat")},
		{name: "a PATCH of a final upload acknowledged", fail: []string{"TN-02"}, mw: onAnswer(func(r *http.Request, s int, h http.Header) int {
			if isPatch(r) && s == 403 {
				h.Set("Upload-Offset", r.Header.Get("Upload-Offset"))
				return 204
			}
			return s
		})},
		{name: "the stored bytes differ from those sent", fail: readBack, mw: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet {
					next.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if len(body) > 0 {
					body[len(body)/2] ^= 0x20
				}
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(body)
			})
		}},
	}
}

// allBut is every tus scenario but those named.
func allBut(ids ...string) []string {
	var out []string
	for _, s := range tus.All() {
		if !slices.Contains(ids, s.ID) {
			out = append(out, s.ID)
		}
	}
	return out
}

// writeAtClaimedOffset is middleware that checks a PATCH's Upload-Offset when it arrives,
// without a lock, reads the whole body, and then writes it where the PATCH said: bytes the
// upload already has are taken as overwritten (a 204 without storing them), the rest
// appended. Two PATCHes at one offset are then both acknowledged (TP-05); and, since it reads
// the whole body before it writes, a PATCH cut off mid-body keeps nothing (TP-04).
func writeAtClaimedOffset() middleware {
	return onRequest(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if !isPatch(r) {
			return false
		}
		claimed := mustInt(r.Header.Get("Upload-Offset"))
		if cur := offsetNow(next, r); cur == "" || mustInt(cur) != claimed {
			return false // tusd answers: 404, 409
		}
		b, err := readBody(r)
		if err != nil {
			reply(w, http.StatusBadRequest)
			return true
		}
		cur := mustInt(offsetNow(next, r))
		end := claimed + int64(len(b))
		switch {
		case cur == claimed:
			return false
		case end <= cur:
			reply(w, http.StatusNoContent, "Upload-Offset", strconv.FormatInt(end, 10))
			return true
		}
		rest := b[cur-claimed:]
		r.Body = io.NopCloser(bytes.NewReader(rest))
		r.ContentLength = int64(len(rest))
		r.Header.Set("Upload-Offset", strconv.FormatInt(cur, 10))
		return false
	})
}

// startReference starts the reference tus server (fakeserver/tus) with mw around it, on a
// free loopback port, with the Tus-Max-Size of the tusd under test; it returns the creation
// URL.
func startReference(t *testing.T, mw middleware) *url.URL {
	t.Helper()
	opts := fstus.Options{MaxSize: tusdMaxSize, Path: "/files/"}
	srv := httptest.NewServer(mw(fstus.New(opts)))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/files/")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// failedIDs are the scenarios of a run that failed (FAIL or NON-STRICT: the run is strict),
// sorted, with their messages.
func failedIDs(t *testing.T, o tusdOptions) ([]string, map[string]string) {
	return failedAt(t, startTusd(t, o))
}

// failedAt is failedIDs for the server at target.
func failedAt(t *testing.T, target *url.URL) ([]string, map[string]string) {
	res := runAll(t, target)

	var ids []string
	msgs := map[string]string{}
	for _, s := range tus.All() {
		r := res[s.ID]
		checkDeclared(t, s, r)
		if r.Verdict == result.Skipped {
			t.Errorf("%s skipped against the conforming tusd: %s", s.ID, r.SkipReason)
		}
		if r.Verdict == result.Fail || r.Verdict == result.NonStrict {
			ids = append(ids, s.ID)
			msgs[s.ID] = r.Message()
		}
	}
	sort.Strings(ids)
	return ids, msgs
}

func TestConformingTusdPassesAll(t *testing.T) {
	ids, msgs := failedIDs(t, tusdOptions{wrap: func(h http.Handler) http.Handler { return chain(h, conforming()...) }})
	for _, id := range ids {
		t.Errorf("%s fails against the conforming tusd:\n%s", id, msgs[id])
	}
}

// TestMutations: each mutation is caught by exactly the listed scenarios, both around the
// conforming tusd and around the reference tus server (fakeserver/tus), and every clause
// that can fail (all but INFO) is the clause of a finding under at least one mutation.
func TestMutations(t *testing.T) {
	bases := []struct {
		name  string
		start func(t *testing.T, mw middleware) *url.URL
	}{
		{"tusd", func(t *testing.T, mw middleware) *url.URL {
			mws := append([]middleware{mw}, conforming()...)
			return startTusd(t, tusdOptions{wrap: func(h http.Handler) http.Handler { return chain(h, mws...) }})
		}},
		{"reference", func(t *testing.T, mw middleware) *url.URL { return startReference(t, mw) }},
	}
	caught := map[string]bool{}
	for _, base := range bases {
		for _, m := range mutations() {
			t.Run(base.name+"/"+m.name, func(t *testing.T) {
				ids, msgs := failedAt(t, base.start(t, m.mw))
				for _, id := range ids {
					for _, c := range tus.Catalogue() {
						if strings.Contains(msgs[id], c.ID+" (") {
							caught[c.ID] = true
						}
					}
				}
				if len(ids) == 0 {
					t.Fatalf("no scenario catches the mutation")
				}
				want := slices.Sorted(slices.Values(m.fail))
				for _, id := range ids {
					if !slices.Contains(want, id) && !slices.Contains(m.racy, id) {
						t.Errorf("%s fails but is not listed:\n%s", id, msgs[id])
					}
				}
				for _, id := range want {
					if !slices.Contains(ids, id) {
						t.Errorf("%s is listed but does not fail", id)
					}
				}
			})
		}
	}
	for _, c := range tus.Catalogue() {
		if c.Level != tus.INFO && !caught[c.ID] {
			t.Errorf("clause %s (%s): no mutation makes a scenario fail with it", c.ID, c.Level)
		}
	}
}
