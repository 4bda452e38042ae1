package fakeserver

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for the completion TTL.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// startServerClock starts a server whose handler reads the time from a fake clock.
func startServerClock(t *testing.T, opts Options) (*Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	srv := NewUnstartedServer(opts)
	srv.handler.now = clock.now
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, clock
}

// TestCompletionRetry: retries within the TTL get the completion again; a different total is
// a 409; after the TTL the session is new.
func TestCompletionRetry(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv, clock := startServerClock(t, Options{Store: sk.make(t), CompletionTTL: time.Minute})
			send(t, srv, "again", 0, 0, 3, 8, "again.bin")
			if got := send(t, srv, "again", 0, 4, 7, 8, "again.bin"); got.status != 200 || got.body != "completed" {
				t.Fatalf("completion: %d %q", got.status, got.body)
			}
			steps := []struct {
				name       string
				advance    time.Duration
				start, end int64
				total      int64
				status     int
				body       string
			}{
				{"last segment again", 0, 4, 7, 8, 200, "completed"},
				{"first segment again", 30 * time.Second, 0, 3, 8, 200, "completed"},
				{"probe", 0, 0, 1, 8, 200, "completed"},
				{"other total", 0, 0, 1, 9, 409, "total 9 differs from the session's total 8\n"},
				{"after the TTL", 31 * time.Second, 0, 1, 9, 201, "0-1/9"},
			}
			for _, st := range steps {
				clock.advance(st.advance)
				got := send(t, srv, "again", 5, st.start, st.end, st.total, "again.bin")
				if got.status != st.status || got.body != st.body {
					t.Fatalf("%s: %d %q, want %d %q", st.name, got.status, got.body, st.status, st.body)
				}
			}
			// The completed file is intact: the retries' bytes (seed 5) were discarded.
			if f := get(t, srv, "/file/again.bin"); f.body != string(pattern(0, 0, 7)) {
				t.Fatalf("file %q", f.body)
			}
		})
	}
}

// TestSweepForgetsExpired: expired completed sessions leave the session map.
func TestSweepForgetsExpired(t *testing.T) {
	srv, clock := startServerClock(t, Options{CompletionTTL: time.Minute})
	for _, sid := range []string{"a", "b", "c"} {
		if got := send(t, srv, sid, 0, 0, 1, 2, sid); got.status != 200 {
			t.Fatalf("%s: %d", sid, got.status)
		}
	}
	clock.advance(2 * time.Minute)
	send(t, srv, "d", 0, 0, 0, 2, "d")
	h := srv.handler
	h.mu.Lock()
	n := len(h.sessions)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d sessions in the map, want 1", n)
	}
}

// backendRecord is what the test backend saw.
type backendRecord struct {
	fields      []string // names in order
	values      map[string]string
	contentType string
	sessionHdr  string
}

// TestExternalBackend: the form's fields in order, the digests, the relayed answer; a retry
// gets the kept answer without a second hand-off.
func TestExternalBackend(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []backendRecord
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := backendRecord{values: map[string]string{}, contentType: r.Header.Get("Content-Type"), sessionHdr: r.Header.Get("Session-ID")}
				_, params, err := mime.ParseMediaType(rec.contentType)
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				mr := multipart.NewReader(r.Body, params["boundary"])
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					if err != nil {
						http.Error(w, err.Error(), 500)
						return
					}
					b, _ := io.ReadAll(p)
					rec.fields = append(rec.fields, p.FormName())
					rec.values[p.FormName()] = string(b)
				}
				mu.Lock()
				seen = append(seen, rec)
				mu.Unlock()
				w.Header().Set("X-Backend", "yes")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				_, _ = io.WriteString(w, `{"ok":true}`)
			}))
			t.Cleanup(backend.Close)
			srv := startServer(t, Options{Store: sk.make(t), UploadPass: backend.URL + "/done"})
			const total = 300000
			send(t, srv, "ext", 9, 100000, total-1, total, `C:\up\ext.bin`)
			for range 2 { // the completion, then a retry
				got := send(t, srv, "ext", 9, 0, 99999, total, `C:\up\ext.bin`)
				if got.status != 202 || got.body != `{"ok":true}` || got.header.Get("X-Backend") != "yes" || got.header.Get("Content-Type") != "application/json" {
					t.Fatalf("answer: %d %q %v", got.status, got.body, got.header)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 {
				t.Fatalf("%d hand-offs, want 1", len(seen))
			}
			rec := seen[0]
			want := []string{"name", "content_type", "path", "size", "md5", "sha1"}
			if len(rec.fields) != len(want) {
				t.Fatalf("fields %v, want %v", rec.fields, want)
			}
			for i := range want {
				if rec.fields[i] != want[i] {
					t.Fatalf("fields %v, want %v", rec.fields, want)
				}
			}
			data := pattern(9, 0, total-1)
			m, s := md5.Sum(data), sha1.Sum(data)
			checks := map[string]string{
				"name": "ext.bin", "content_type": "application/octet-stream", "size": "300000",
				"md5": hex.EncodeToString(m[:]), "sha1": hex.EncodeToString(s[:]),
			}
			for k, v := range checks {
				if rec.values[k] != v {
					t.Errorf("field %s = %q, want %q", k, rec.values[k], v)
				}
			}
			if rec.sessionHdr != "ext" {
				t.Errorf("Session-ID passed to the backend: %q", rec.sessionHdr)
			}
			if sk.name == "memory" {
				if rec.values["path"] != "" {
					t.Errorf("path %q for a memory store", rec.values["path"])
				}
			} else {
				b, err := os.ReadFile(rec.values["path"])
				if err != nil || string(b) != string(data) {
					t.Errorf("the file at path %q: %v (%d bytes)", rec.values["path"], err, len(b))
				}
			}
		})
	}
}

// TestBackendUnreachable: 502 with a reason, the session stays complete, a retry hands it
// over again.
func TestBackendUnreachable(t *testing.T) {
	var reachable atomic.Bool
	var calls atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if !reachable.Load() {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		_, _ = io.WriteString(w, "handed over")
	}))
	t.Cleanup(backend.Close)
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			reachable.Store(false)
			calls.Store(0)
			srv := startServer(t, Options{Store: sk.make(t), UploadPass: backend.URL})
			send(t, srv, "down", 0, 0, 3, 8, "down.bin")
			expectErrorReply(t, send(t, srv, "down", 0, 4, 7, 8, "down.bin"), 502, "backend")
			expectErrorReply(t, send(t, srv, "down", 0, 0, 1, 8, "down.bin"), 502, "backend")
			reachable.Store(true)
			for range 2 {
				if got := send(t, srv, "down", 0, 0, 3, 8, "down.bin"); got.status != 200 || got.body != "handed over" {
					t.Fatalf("retry: %d %q", got.status, got.body)
				}
			}
			if n := calls.Load(); n != 3 {
				t.Errorf("%d backend calls, want 3", n)
			}
		})
	}
	// A backend nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close()
	srv := startServer(t, Options{UploadPass: dead})
	expectErrorReply(t, send(t, srv, "gone", 0, 0, 3, 4, "gone.bin"), 502, "cannot reach")
}

// TestExpiryWaitsForInflight: a segment of a completed session still streams when the
// completion TTL runs out and another segment of the ID arrives. The session is not forgotten
// under the streaming one: both get the completion, the completed file stays intact, and only
// then does the ID start a new session.
func TestExpiryWaitsForInflight(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv, clock := startServerClock(t, Options{Store: sk.make(t), CompletionTTL: time.Minute})
			if got := send(t, srv, "ttl", 0, 0, 3, 8, "ttl.bin"); got.status != 201 {
				t.Fatalf("first segment: %d %q", got.status, got.body)
			}
			a := startInflight(t, srv, "ttl", 0, 0, 3, 8) // a retry: nothing new in it
			if got := send(t, srv, "ttl", 0, 4, 7, 8, "ttl.bin"); got.status != 200 || got.body != "completed" {
				t.Fatalf("completion: %d %q", got.status, got.body)
			}
			clock.advance(2 * time.Minute)
			c := startInflight(t, srv, "ttl", 9, 0, 1, 8)
			for _, st := range []struct {
				name string
				f    *inflight
			}{{"streaming retry", a}, {"segment after the TTL", c}} {
				if got := st.f.finish(t); got.status != 200 || got.body != "completed" {
					t.Errorf("%s: %d %q, want 200 \"completed\"", st.name, got.status, got.body)
				}
			}
			if f := get(t, srv, "/file/ttl.bin"); f.body != string(pattern(0, 0, 7)) {
				t.Errorf("completed file %q, want %q", f.body, pattern(0, 0, 7))
			}
			if got := send(t, srv, "ttl", 5, 0, 1, 9, "ttl.bin"); got.status != 201 || got.body != "0-1/9" {
				t.Errorf("new session after the TTL: %d %q, want 201 \"0-1/9\"", got.status, got.body)
			}
		})
	}
}
