package schedule_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/scenarios"
)

// target starts h on a loopback port and returns a run configuration pointed at it, with the
// built-in backend's file URL.
func target(t *testing.T, h http.Handler) scenarios.Config {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + fakeserver.DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := scenarios.Config{
		Target:         u,
		FileURL:        srv.URL + fakeserver.DefaultFilePrefix + "{name}",
		RequestTimeout: 10 * time.Second,
		FinalStatus:    200,
		FinalBody:      "completed",
		Strict:         true,
	}
	return cfg.WithDefaults()
}

// reference returns a configuration pointed at a reference server with the given quirks.
func reference(t *testing.T, quirks fakeserver.QuirkSet) scenarios.Config {
	t.Helper()
	return target(t, fakeserver.New(fakeserver.Options{Quirks: quirks}))
}
