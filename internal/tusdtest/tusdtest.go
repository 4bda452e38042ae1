// Package tusdtest starts tusd v2 (github.com/tus/tusd/v2) in process, for the tests of the tus
// scenarios: its pkg/handler with pkg/filestore in a temporary directory and pkg/memorylocker,
// at /files/ on a free loopback port. Only tests import it: the upspec binary never links
// tusd.
package tusdtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"golang.org/x/exp/slog"
)

// Version is the tusd release the tests pin (go.mod).
const Version = "v2.9.1"

// MaxSize is the Tus-Max-Size of the tusd started, so that the scenario of that limit runs.
const MaxSize = 1 << 20

// BasePath is where tusd answers; its creation URL is the server's URL plus BasePath.
const BasePath = "/files/"

// Start starts tusd and returns its creation URL; it stops when t ends. wrap, when not nil,
// is middleware put around tusd's handler.
func Start(t testing.TB, wrap func(http.Handler) http.Handler) *url.URL {
	t.Helper()
	composer := handler.NewStoreComposer()
	filestore.New(t.TempDir()).UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := handler.NewHandler(handler.Config{
		BasePath:      BasePath,
		StoreComposer: composer,
		MaxSize:       MaxSize,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("tusd handler: %v", err)
	}
	var top http.Handler = http.StripPrefix(BasePath, h)
	if wrap != nil {
		top = wrap(top)
	}
	mux := http.NewServeMux()
	mux.Handle(BasePath, top)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + BasePath)
	if err != nil {
		t.Fatalf("tusd URL: %v", err)
	}
	return u
}
