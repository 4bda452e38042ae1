package fakeserver_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// BenchmarkHandlerProbe calls the handlers' ServeHTTP directly, without a connection, with
// 2-byte probes of one stored session and, beside them, 1 KiB segments of 16 sessions that
// complete and start again: the handler's own cost per request (header parsing, locking,
// the answer) beside the plain handler's, with no network or net/http in the figures.
//
//	go test -run='^$' -bench=HandlerProbe -count=5 ./fakeserver/
func BenchmarkHandlerProbe(b *testing.B) {
	for _, tgt := range benchTargets() {
		b.Run("probe/"+tgt.name, func(b *testing.B) {
			h := tgt.handler(b, b.TempDir())
			req := newBenchRequest("probe-1", 0, 1, 1<<20, []byte("01"))
			w := &benchWriter{}
			b.ReportAllocs()
			for b.Loop() {
				req.reset()
				w.reset()
				h.ServeHTTP(w, req.r)
				if w.status != http.StatusCreated {
					b.Fatalf("status %d %q", w.status, w.body.String())
				}
			}
		})
	}
	for _, tgt := range benchTargets() {
		b.Run("16x1KiB/"+tgt.name, func(b *testing.B) {
			h := tgt.handler(b, b.TempDir())
			const seg, total = 1 << 10, 64 << 10
			body := bytes.Repeat([]byte("x"), seg)
			var off [16]int64
			var file [16]int
			w := &benchWriter{}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % 16
				i++
				sid := fmt.Sprintf("s%d-f%d", k, file[k])
				r := newBenchRequest(sid, off[k], off[k]+seg-1, total, body)
				w.reset()
				h.ServeHTTP(w, r.r)
				if w.status != http.StatusCreated && w.status != http.StatusOK {
					b.Fatalf("status %d %q", w.status, w.body.String())
				}
				if off[k] += seg; off[k] == total {
					off[k], file[k] = 0, file[k]+1
				}
			}
		})
	}
}

// benchRequest is a segment request whose body can be read again.
type benchRequest struct {
	r    *http.Request
	body *bytes.Reader
	data []byte
}

func newBenchRequest(sid string, start, end, total int64, data []byte) *benchRequest {
	br := &benchRequest{body: bytes.NewReader(data), data: data}
	r := httptest.NewRequest(http.MethodPost, fakeserver.DefaultPath, nil)
	r.Header["Content-Type"] = []string{"application/octet-stream"}
	r.Header["Content-Disposition"] = []string{`attachment; filename="` + sid + `.bin"`}
	r.Header["X-Content-Range"] = []string{fmt.Sprintf("bytes %d-%d/%d", start, end, total)}
	r.Header["Session-Id"] = []string{sid}
	r.Header["Content-Length"] = []string{fmt.Sprint(len(data))}
	r.ContentLength = int64(len(data))
	r.Body = io.NopCloser(br.body)
	br.r = r
	return br
}

func (q *benchRequest) reset() { q.body.Reset(q.data) }

// benchWriter is a ResponseWriter that keeps the status and body, reused between requests.
type benchWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *benchWriter) WriteHeader(status int)      { w.status = status }
func (w *benchWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *benchWriter) reset()                      { clear(w.h); w.status = 0; w.body.Reset() }

// SetReadDeadline lets http.ResponseController set deadlines, as on a connection.
func (w *benchWriter) SetReadDeadline(time.Time) error { return nil }
