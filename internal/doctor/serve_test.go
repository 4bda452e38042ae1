package doctor

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// TestProbeReferenceServer runs the probes against the reference server (`upspec serve`):
// nothing is found with the reference behaviour and with the module's profile; the quirk of
// upload_cleanup 400 is found from the completed file's bytes.
func TestProbeReferenceServer(t *testing.T) {
	profile, err := fakeserver.ParseProfile(fakeserver.ProfileModule)
	if err != nil {
		t.Fatal(err)
	}
	module := profile.Quirks
	tests := []struct {
		name   string
		quirks fakeserver.QuirkSet
		want   []string
	}{
		{"reference", fakeserver.QuirkSet{}, nil},
		{"the module's profile", module, nil},
		{"upload_cleanup 400", module.With(fakeserver.CleanupOnDisconnect), []string{"cleanup-400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := fakeserver.NewServer(fakeserver.Options{Quirks: tt.quirks})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			target, _ := url.Parse(srv.UploadURL())
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := Probe(ctx, WireOptions{Target: target, FileURL: srv.URL + "/file/{name}", Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if got := rulesOf(r); !slices.Equal(got, tt.want) || len(r.Notes) != 0 {
				t.Errorf("rules %v, want %v\n%s", got, tt.want, r.Text())
			}
		})
	}
}
