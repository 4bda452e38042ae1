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
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// refuseEmptyContentType wraps a handler: a request whose Content-Type header is present and
// empty gets a 400, as the reference answered before it followed the module.
func refuseEmptyContentType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if vs, ok := r.Header["Content-Type"]; ok && strings.TrimSpace(vs[0]) == "" {
			http.Error(w, "missing Content-Type", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestEmptyContentTypeIsRecorded: HD-14 records what a server does with an empty Content-Type
// (an INFO note, and a pass when nothing else is wrong): the reference and the module's emulation accept it and complete the file;
// a server that refuses it is recorded as refusing it.
func TestEmptyContentTypeIsRecorded(t *testing.T) {
	module, err := fakeserver.ParseProfile(fakeserver.ProfileModule)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := scenarios.ScenarioByID("HD-14")
	if !ok {
		t.Fatal("no scenario HD-14")
	}
	run := func(t *testing.T, cfg scenarios.Config) scenarios.Result {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return scenarios.Run(ctx, cfg, s)
	}
	for _, tt := range []struct {
		name string
		opts fakeserver.Options
	}{{"reference", fakeserver.Options{}}, {"module", fakeserver.Options{Quirks: module.Quirks}}} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, startReference(t, tt.opts))
			notes := strings.Join(r.Notes, "\n")
			if r.Verdict != result.Pass || len(r.Findings) != 0 ||
				!strings.Contains(notes, "enc.empty-content-type: a segment with an empty Content-Type got 201") ||
				!strings.Contains(notes, "enc.empty-content-type: the completing segment with an empty Content-Type got 200") {
				t.Errorf("%s with %d findings, notes %q; want PASS, none, 201 then 200\n%s", r.Verdict, len(r.Findings), notes, r.Message())
			}
		})
	}
	t.Run("a server that refuses it", func(t *testing.T) {
		srv := httptest.NewServer(refuseEmptyContentType(fakeserver.New(fakeserver.Options{})))
		defer srv.Close()
		target, err := url.Parse(srv.URL + fakeserver.DefaultPath)
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, scenarios.Config{Target: target, RequestTimeout: 5 * time.Second}.WithDefaults())
		notes := strings.Join(r.Notes, "\n")
		if r.Verdict != result.Pass || !strings.Contains(notes, "an empty Content-Type got 400") || strings.Contains(notes, "completing segment") {
			t.Errorf("%s, notes %q; want PASS recording the 400 and no second segment", r.Verdict, notes)
		}
	})
}
