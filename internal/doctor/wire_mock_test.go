package doctor

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// nginxPage is the body of nginx's error page for a fault rule's body= (percent-encoded).
const nginxPage = "%3Chtml%3E%3Chead%3E%3Ctitle%3E{S}%3C/title%3E%3C/head%3E%3Cbody%3E%3Ccenter%3E%3Ch1%3E{S}%3C/h1%3E%3C/center%3E%3Chr%3E%3Ccenter%3Enginx%3C/center%3E%3C/body%3E%3C/html%3E"

// TestProbeAgainstTheMock: the reference server, made by fault rules and quirks to answer as
// each misconfiguration of docs/module-behavior.md §10 does, gives the finding that names it.
// The in-test module of wire_test.go covers what the mock cannot express: no upload_pass (a
// POST 404 and an OPTIONS 405 from nginx's static files), upload_max_file_size (a 413 keyed
// to the file's declared total) and the missing state store's empty form at the backend.
func TestProbeAgainstTheMock(t *testing.T) {
	page := func(status string) string { return strings.ReplaceAll(nginxPage, "{S}", status) }
	tests := []struct {
		name      string
		faults    []string
		quirks    []fakeserver.Quirk
		rule      string // "" for none
		directive string
	}{
		{name: "working"},
		{name: "upload_resumable off",
			faults: []string{"status=415,body=" + page("415") + ",content-type=text/html,early,times=always"},
			rule:   "resumable-off", directive: "upload_resumable"},
		{name: "client_max_body_size 64k",
			faults: []string{"status=413,above=64K,body=" + page("413") + ",content-type=text/html,early,times=always"},
			rule:   "body-size", directive: "client_max_body_size"},
		{name: "hashed store directories missing",
			faults: []string{"status=500,match=first,content-type=text/html,body=" + page("500") + ",times=always"},
			rule:   "store-unwritable", directive: "upload_store"},
		{name: "backend down",
			faults: []string{"status=502,match=last,content-type=text/html,body=" + page("502") + ",times=always"},
			rule:   "backend-down", directive: "upload_pass"},
		{name: "upload_cleanup 400",
			quirks: []fakeserver.Quirk{fakeserver.CleanupOnDisconnect},
			rule:   "cleanup-400", directive: "upload_cleanup"},
		{name: "no state store (the answer only)",
			faults: []string{"status=200,body=completed,match=first,times=always"},
			rule:   "false-success", directive: "upload_state_store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := fakeserver.NewServer(fakeserver.Options{
				Faults: fakeserver.MustParseFaultRules(tt.faults...),
				Quirks: fakeserver.NewQuirkSet(tt.quirks...),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			target, _ := url.Parse(srv.UploadURL())
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := Probe(ctx, WireOptions{Target: target, FileURL: srv.URL + fakeserver.DefaultFilePrefix + "{name}",
				SegmentSize: 256 << 10, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tt.rule != "" {
				want = []string{tt.rule}
			}
			if got := rulesOf(r); !slices.Equal(got, want) {
				t.Fatalf("rules %v, want %v\n%s", got, want, r.Text())
			}
			if tt.rule == "" {
				if len(r.Notes) != 0 {
					t.Errorf("notes on the working mock: %q", r.Notes)
				}
				return
			}
			if f := r.Findings[0]; f.Directive != tt.directive || f.Source != FromWire || f.Fix == "" {
				t.Errorf("finding %+v, want directive %s", f, tt.directive)
			}
		})
	}
}
