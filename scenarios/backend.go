package scenarios

import (
	"context"
	"time"

	"github.com/upspec/upspec/internal/backend"
)

// The harness backend.
//
// The module hands a completed file to its backend (`upload_pass`) as a multipart form whose
// fields the deployment chooses (upload_set_form_field, upload_aggregate_form_field): the
// file's name, its path on disk, its size, its digests. All original request headers reach
// the backend unchanged, Session-ID included (docs/module-behavior.md §2.3). The harness backend
// is such a backend (package internal/backend, the same code as `upspec backend`, without a
// directory): it answers every form with 200 `completed` (text/plain, like the seed's backend)
// and keeps what it received, keyed by the Session-ID header, so that the backend scenarios
// (BK) can compare the form with the file they sent.
//
// It also serves what it keeps, as JSON, at BackendFormsPath: the other processes of a
// parallel run read it there (RemoteBackend).

// Answer of the harness backend to every form.
const (
	BackendStatus = backend.Status
	BackendBody   = backend.Body
)

// BackendFormsPath is where a harness backend serves the forms it kept, as JSON:
// `GET <BackendFormsPath>?session=<ID>`.
const BackendFormsPath = backend.FormsPath

// MaxFormValue is how much of a form field's value the harness backend keeps; the rest is
// counted.
const MaxFormValue = backend.MaxFieldValue

// FormField is one part of a form received by the harness backend.
type FormField = backend.Field

// BackendForm is one request received by the harness backend.
type BackendForm = backend.Form

// BackendForms gives the scenarios the forms a harness backend received (Config.Backend).
type BackendForms interface {
	// Forms returns the forms received with the Session-ID header id, oldest first.
	Forms(ctx context.Context, id string) ([]BackendForm, error)
}

// Backend is the harness backend: an http.Handler that answers every POST (any path) with
// 200 `completed` and keeps the form it carried, keyed by its Session-ID header; it serves the
// forms it kept at BackendFormsPath. Use NewBackend. It is safe for concurrent use.
type Backend = backend.Backend

// NewBackend returns an empty harness backend.
func NewBackend() *Backend {
	return backend.New()
}

// BackendServer is a harness backend listening on a TCP address.
type BackendServer = backend.Server

// StartBackend starts a harness backend on addr (host:port; "" or port 0 picks a free
// loopback port). The caller stops it with Close.
func StartBackend(addr string) (*BackendServer, error) {
	return backend.Start(addr, backend.Options{})
}

// RemoteBackend reads the forms kept by a harness backend of another process, over HTTP at
// its BackendFormsPath.
type RemoteBackend = backend.Client

// NewRemoteBackend returns a reader of the harness backend at base (its URL, e.g.
// http://127.0.0.1:9000). Each read is bounded by timeout (DefaultRequestTimeout when <= 0)
// and by the caller's context.
func NewRemoteBackend(base string, timeout time.Duration) *RemoteBackend {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	return backend.NewClient(base, timeout)
}
