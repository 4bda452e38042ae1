package scenarios_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// dropOnMalformed wraps the reference handler: a malformed range or session ID closes the
// connection without a byte, as the real module does (class E).
func dropOnMalformed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bad := false
		for _, name := range []string{protocol.XContentRange, protocol.ContentRange} {
			if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
				for _, v := range vs {
					if _, err := ranges.ParseSegment(v); err != nil {
						bad = true
					}
				}
			}
		}
		for _, name := range []string{protocol.SessionID, protocol.XSessionID} {
			if vs, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
				for _, v := range vs {
					bad = bad || !protocol.ValidSessionID(v)
				}
			}
		}
		if !bad {
			next.ServeHTTP(w, r)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
}

// TestDroppedConnectionIsNonStrict checks that a server that closes the connection on a
// malformed header (the module's class E) gets NON-STRICT findings of rob.malformed-4xx that
// say so, never a FAIL.
func TestDroppedConnectionIsNonStrict(t *testing.T) {
	srv := httptest.NewServer(dropOnMalformed(fakeserver.New(fakeserver.Options{})))
	defer srv.Close()
	target, err := url.Parse(srv.URL + fakeserver.DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := scenarios.Config{Target: target, RequestTimeout: 5 * time.Second}.WithDefaults()
	for _, id := range []string{"MF-01", "MF-03", "MF-06", "MF-08", "MF-10"} {
		t.Run(id, func(t *testing.T) {
			s, ok := scenarios.ScenarioByID(id)
			if !ok {
				t.Fatalf("no scenario %s", id)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := scenarios.Run(ctx, cfg, s)
			if r.Verdict != result.NonStrict {
				t.Fatalf("%s: %s, want NON-STRICT: %s", id, r.Verdict, r.Message())
			}
			for _, f := range r.Findings {
				if f.Clause != "rob.malformed-4xx" || !strings.Contains(f.Got, "connection closed without a response (class E)") {
					t.Errorf("%s: finding %s got %q; want rob.malformed-4xx with the closed connection", id, f.Clause, f.Got)
				}
			}
		})
	}
}
