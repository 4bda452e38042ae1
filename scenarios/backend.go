package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/internal/protocol"
)

// The harness backend.
//
// The module hands a completed file to its backend (`upload_pass`) as a multipart form whose
// fields the deployment chooses (upload_set_form_field, upload_aggregate_form_field): the
// file's name, its path on disk, its size, its digests. All original request headers reach
// the backend unchanged, Session-ID included (docs/module-behavior.md §2.3). The harness backend
// is such a backend: it answers every form with 200 `completed` (text/plain, like the seed's
// backend) and keeps what it received, keyed by the Session-ID header, so that the backend
// scenarios (BK) can compare the form with the file they sent.
//
// It also serves what it keeps, as JSON, at BackendFormsPath: the other processes of a
// parallel run read it there (RemoteBackend).

// Answer of the harness backend to every form.
const (
	BackendStatus = http.StatusOK
	BackendBody   = "completed"
)

// BackendFormsPath is where a harness backend serves the forms it kept, as JSON:
// `GET <BackendFormsPath>?session=<ID>`.
const BackendFormsPath = "/.upspec/forms"

// Limits of the harness backend.
const (
	// MaxFormValue is how much of a form field's value is kept; the rest is counted.
	MaxFormValue = 4096
	// maxFormBody bounds the body of one form read by the harness backend.
	maxFormBody = 256 << 20
	// maxKeptForms bounds the forms kept; the oldest sessions are forgotten first.
	maxKeptForms = 4096
	// backendReadTimeout bounds the reading of one request by a started harness backend.
	backendReadTimeout = time.Minute
)

// FormField is one part of a form received by the harness backend.
type FormField struct {
	Name     string `json:"name"`
	Value    string `json:"value"`              // at most MaxFormValue bytes
	Size     int64  `json:"size"`               // the length of the whole value
	FileName string `json:"filename,omitempty"` // a file part: its filename parameter
}

// BackendForm is one request received by the harness backend.
type BackendForm struct {
	SessionID   string      `json:"session_id"` // the Session-ID (or X-Session-ID) header; "" without one
	Method      string      `json:"method"`
	Target      string      `json:"target"` // the request target, e.g. "/done?x=1"
	ContentType string      `json:"content_type"`
	Fields      []FormField `json:"fields"`
	Error       string      `json:"error,omitempty"` // why the body could not be read as a form
	Received    time.Time   `json:"received"`
}

// Field returns the first field named name (exact match).
func (f BackendForm) Field(name string) (FormField, bool) {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl, true
		}
	}
	return FormField{}, false
}

// FieldNames returns the names of the fields, in order, for messages.
func (f BackendForm) FieldNames() []string {
	names := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		names[i] = fl.Name
	}
	return names
}

// BackendForms gives the scenarios the forms a harness backend received (Config.Backend).
type BackendForms interface {
	// Forms returns the forms received with the Session-ID header id, oldest first.
	Forms(ctx context.Context, id string) ([]BackendForm, error)
}

// Backend is the harness backend: an http.Handler that answers every POST (any path) with
// 200 `completed` and keeps the form it carried, keyed by its Session-ID header; it serves the
// forms it kept at BackendFormsPath. The zero value is not usable: use NewBackend. It is safe
// for concurrent use.
type Backend struct {
	mu    sync.Mutex
	forms map[string][]BackendForm
	order []string // session IDs in the order first seen, for forgetting the oldest
	kept  int
	now   func() time.Time
}

// NewBackend returns an empty harness backend.
func NewBackend() *Backend {
	return &Backend{forms: map[string][]BackendForm{}, now: time.Now}
}

// Forms returns the forms received with the Session-ID header id, oldest first (copies).
func (b *Backend) Forms(_ context.Context, id string) ([]BackendForm, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BackendForm, len(b.forms[id]))
	for i, f := range b.forms[id] {
		f.Fields = append([]FormField(nil), f.Fields...)
		out[i] = f
	}
	return out, nil
}

// Len returns how many forms are kept.
func (b *Backend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kept
}

// ServeHTTP answers a form (POST, any path) with 200 `completed` after keeping it, and a GET
// of BackendFormsPath with the forms of the session named by its `session` parameter.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == BackendFormsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		b.serveForms(w, r)
	case r.Method == http.MethodPost:
		b.keep(readForm(r, b.now()))
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(BackendBody)))
		w.WriteHeader(BackendStatus)
		_, _ = io.WriteString(w, BackendBody) // a client that left cannot be told
	default:
		w.Header().Set("Allow", "POST")
		http.Error(w, "the harness backend takes forms (POST)", http.StatusMethodNotAllowed)
	}
}

// formsAnswer is the JSON answer of BackendFormsPath.
type formsAnswer struct {
	Session string        `json:"session"`
	Forms   []BackendForm `json:"forms"`
}

func (b *Backend) serveForms(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("session")
	forms, _ := b.Forms(r.Context(), id) // never fails
	if forms == nil {
		forms = []BackendForm{}
	}
	data, err := json.Marshal(formsAnswer{Session: id, Forms: forms})
	if err != nil {
		http.Error(w, fmt.Sprintf("encode the forms: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data) // a client that left cannot be told
	}
}

// keep records a form, forgetting the oldest sessions beyond maxKeptForms.
func (b *Backend) keep(f BackendForm) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, seen := b.forms[f.SessionID]; !seen {
		b.order = append(b.order, f.SessionID)
	}
	b.forms[f.SessionID] = append(b.forms[f.SessionID], f)
	b.kept++
	for b.kept > maxKeptForms && len(b.order) > 1 {
		old := b.order[0]
		b.order = b.order[1:]
		b.kept -= len(b.forms[old])
		delete(b.forms, old)
	}
}

// readForm reads a request as the module's form: every part's name and value (the first
// MaxFormValue bytes), keyed by the Session-ID header.
func readForm(r *http.Request, now time.Time) BackendForm {
	f := BackendForm{
		SessionID:   sessionIDOf(r.Header),
		Method:      r.Method,
		Target:      r.URL.RequestURI(),
		ContentType: r.Header.Get("Content-Type"),
		Fields:      []FormField{},
		Received:    now,
	}
	body := io.LimitReader(r.Body, maxFormBody)
	defer func() { _, _ = io.Copy(io.Discard, body) }() // read to the end: the connection stays usable
	mt, params, err := mime.ParseMediaType(f.ContentType)
	switch {
	case err != nil:
		f.Error = fmt.Sprintf("Content-Type %q: %v", f.ContentType, err)
		return f
	case mt != "multipart/form-data" || params["boundary"] == "":
		f.Error = fmt.Sprintf("Content-Type %q: not multipart/form-data with a boundary", f.ContentType)
		return f
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			f.Error = fmt.Sprintf("read the form: %v", err)
			return f
		}
		field := FormField{Name: p.FormName(), FileName: p.FileName()}
		var kept strings.Builder
		n, err := io.Copy(&kept, io.LimitReader(p, MaxFormValue))
		if err == nil {
			var rest int64
			rest, err = io.Copy(io.Discard, p)
			n += rest
		}
		field.Value, field.Size = kept.String(), n
		f.Fields = append(f.Fields, field)
		if err != nil {
			f.Error = fmt.Sprintf("read the form field %q: %v", field.Name, err)
			return f
		}
	}
}

// sessionIDOf returns the Session-ID header, else the X-Session-ID header.
func sessionIDOf(h http.Header) string {
	if v := h.Get(protocol.SessionID); v != "" {
		return v
	}
	return h.Get(protocol.XSessionID)
}

// BackendServer is a harness backend listening on a TCP address.
type BackendServer struct {
	*Backend
	// URL is the base URL, http://HOST:PORT (a loopback host when it listens on every
	// address). A deployment's upload_pass points at URL + "/".
	URL string
	// Addr is the listening address.
	Addr string

	srv    *http.Server
	served chan error
	once   sync.Once
	err    error
}

// StartBackend starts a harness backend on addr (host:port; "" or port 0 picks a free
// loopback port). The caller stops it with Close.
func StartBackend(addr string) (*BackendServer, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("harness backend: listen on %s: %w", addr, err)
	}
	b := NewBackend()
	s := &BackendServer{
		Backend: b,
		Addr:    ln.Addr().String(),
		srv: &http.Server{
			Handler:           b,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       backendReadTimeout,
			WriteTimeout:      backendReadTimeout,
			IdleTimeout:       time.Minute,
		},
		served: make(chan error, 1),
	}
	s.URL = "http://" + reachableAddr(ln.Addr())
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// reachableAddr returns a host:port to reach a listening address: the loopback address in
// place of an unspecified one.
func reachableAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	host := "127.0.0.1"
	if ta.IP.To4() == nil {
		host = "::1"
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

// Close stops the backend: the listener, every connection, and the serving goroutine. It
// may be called more than once.
func (s *BackendServer) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		if err != nil {
			s.err = fmt.Errorf("harness backend: close: %w", err)
		}
	})
	return s.err
}

// RemoteBackend reads the forms kept by a harness backend of another process, over HTTP at
// its BackendFormsPath.
type RemoteBackend struct {
	base   string
	client *http.Client
}

// NewRemoteBackend returns a reader of the harness backend at base (its URL, e.g.
// http://127.0.0.1:9000). Each read is bounded by timeout (DefaultRequestTimeout when <= 0)
// and by the caller's context.
func NewRemoteBackend(base string, timeout time.Duration) *RemoteBackend {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	return &RemoteBackend{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: timeout}}
}

// Forms fetches the forms received with the Session-ID header id.
func (rb *RemoteBackend) Forms(ctx context.Context, id string) ([]BackendForm, error) {
	u := rb.base + BackendFormsPath + "?session=" + url.QueryEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("forms of the harness backend: %w", err)
	}
	resp, err := rb.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("forms of the harness backend: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("forms of the harness backend: GET %s: %s", u, resp.Status)
	}
	var ans formsAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFormBody)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("forms of the harness backend: decode: %w", err)
	}
	return ans.Forms, nil
}
