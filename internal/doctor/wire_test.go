package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/internal/backend"
	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// misconfig is one change from a working deployment, answered the way the module answers it
// (docs/module-behavior.md §10).
type misconfig int

const (
	working           misconfig = iota
	resumableOff                // 415 for every segment
	noUploadPass                // 404 for POST, 405 for OPTIONS: nginx serves a static file
	storeMissing                // 500 for every segment: the data file cannot be opened
	stateStoreMissing           // the backend's 200 for every segment, with an empty form
	bodyLimit64k                // client_max_body_size 64k: 413 before the body
	maxFileSize64k              // upload_max_file_size 64k: 413 for a larger total
	cleanup400                  // upload_cleanup 400: a segment cut after ~8.5 KiB deletes the data file
	backendDown                 // 502 for the completing segment
)

// module emulates nginx with the module in resumable mode, in one misconfiguration.
type module struct {
	mis     misconfig
	backend string // URL of the upload_pass backend
	dir     string // upload_store

	mu       sync.Mutex
	sessions map[string]*ranges.Set
}

// htmlPage answers like nginx's own error pages.
func htmlPage(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Server", "nginx/1.22.1")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n",
		status, http.StatusText(status), status, http.StatusText(status))
}

func (m *module) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case m.mis == noUploadPass && r.Method == http.MethodOptions:
		htmlPage(w, http.StatusMethodNotAllowed)
		return
	case r.Method == http.MethodOptions:
		w.WriteHeader(http.StatusOK)
		return
	case m.mis == noUploadPass:
		htmlPage(w, http.StatusNotFound)
		return
	case r.Method != http.MethodPost:
		htmlPage(w, http.StatusMethodNotAllowed)
		return
	case m.mis == bodyLimit64k && r.ContentLength > 64<<10:
		htmlPage(w, http.StatusRequestEntityTooLarge) // nginx core, before the body
		return
	case m.mis == resumableOff:
		htmlPage(w, http.StatusUnsupportedMediaType)
		return
	}
	seg, err := ranges.ParseSegment(r.Header.Get(protocol.XContentRange))
	id := r.Header.Get(protocol.SessionID)
	if err != nil || !protocol.ValidSessionID(id) || r.ContentLength != seg.Len() {
		panic(http.ErrAbortHandler) // the module drops the connection
	}
	switch {
	case m.mis == maxFileSize64k && seg.Total > 64<<10:
		htmlPage(w, http.StatusRequestEntityTooLarge)
		return
	case m.mis == storeMissing:
		_, _ = io.Copy(io.Discard, r.Body)
		htmlPage(w, http.StatusInternalServerError)
		return
	}
	path := filepath.Join(m.dir, id)
	body, err := io.ReadAll(r.Body)
	f, ferr := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if ferr != nil {
		htmlPage(w, http.StatusInternalServerError)
		return
	}
	_, _ = f.WriteAt(body, seg.Start)
	_ = f.Close()
	if err != nil { // cut off mid-body: status 400, nothing sent
		if m.mis == cleanup400 && len(body) > 8700 {
			_ = os.Remove(path)
		}
		return
	}
	if m.mis == stateStoreMissing {
		m.pass(w, r, "\r\n--00000000000000000001--\r\n")
		return
	}
	m.mu.Lock()
	set := m.sessions[id]
	if set == nil {
		set = ranges.NewSet(seg.Total)
		m.sessions[id] = set
	}
	set.Add(seg.Range())
	done, list := set.Complete(), set.String()
	if done {
		delete(m.sessions, id)
	}
	m.mu.Unlock()
	if !done {
		w.Header().Set(protocol.Range, list)
		w.Header().Set("Content-Length", strconv.Itoa(len(list)))
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, list)
		return
	}
	if m.mis == backendDown {
		htmlPage(w, http.StatusBadGateway)
		return
	}
	var form strings.Builder
	for _, kv := range [][2]string{{"name", "f"}, {"content_type", "application/octet-stream"}, {"path", path},
		{"size", strconv.FormatInt(seg.End+1, 10)}, {"md5", ""}, {"sha1", ""}} {
		fmt.Fprintf(&form, "--00000000000000000001\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", kv[0], kv[1])
	}
	form.WriteString("--00000000000000000001--\r\n")
	// The name the module sends: the path-stripped filename of Content-Disposition.
	_, params, _ := strings.Cut(r.Header.Get(protocol.ContentDisposition), `filename="`)
	name := strings.TrimSuffix(params, `"`)
	m.pass(w, r, strings.Replace(form.String(), "\r\n\r\nf\r\n", "\r\n\r\n"+name+"\r\n", 1))
}

// pass hands a form to the backend, with the original headers, and relays its answer.
func (m *module) pass(w http.ResponseWriter, r *http.Request, form string) {
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, m.backend+r.URL.Path, strings.NewReader(form))
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.Header.Set("Content-Type", "multipart/form-data; boundary=00000000000000000001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		htmlPage(w, http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// deployment starts the emulated module in front of an `upspec backend` and returns the probe
// options for it.
func deployment(t *testing.T, mis misconfig) WireOptions {
	t.Helper()
	be, err := backend.Start("127.0.0.1:0", backend.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = be.Close() })
	m := &module{mis: mis, backend: be.URL, dir: t.TempDir(), sessions: map[string]*ranges.Set{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL + "/upload")
	return WireOptions{Target: target, Backend: be.URL, SegmentSize: 256 << 10, Timeout: 30 * time.Second}
}

// TestProbeNamesTheMisconfiguration: each misconfiguration, answered as the module answers it,
// gives exactly its finding; the working deployment none.
func TestProbeNamesTheMisconfiguration(t *testing.T) {
	tests := []struct {
		mis      misconfig
		name     string
		fileSize int64
		want     []string
		evidence string // substring of the first finding's evidence
	}{
		{working, "working", 1 << 30, nil, ""},
		{resumableOff, "resumable off", 0, []string{"resumable-off"}, "→ 415, text/html"},
		{noUploadPass, "no upload_pass", 0, []string{"upload-pass-missing"}, "OPTIONS /upload → 405"},
		{storeMissing, "store directory missing", 0, []string{"store-unwritable"}, "→ 500"},
		{stateStoreMissing, "no state store", 0, []string{"false-success"}, "a form without any file field (fields: none)"},
		{bodyLimit64k, "client_max_body_size 64k", 0, []string{"body-size"}, "262144 bytes) → 413"},
		{maxFileSize64k, "upload_max_file_size 64k", 0, []string{"max-file-size"}, "/98304, 16 bytes) → 413"},
		{cleanup400, "upload_cleanup 400", 0, []string{"cleanup-400"}, "cut off after 24576 bytes"},
		{backendDown, "backend down", 0, []string{"backend-down"}, "98304, 32768 bytes) → 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := deployment(t, tt.mis)
			opts.FileSize = tt.fileSize
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := Probe(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := rulesOf(r); !slices.Equal(got, tt.want) {
				t.Fatalf("rules %v, want %v\n%s", got, tt.want, r.Text())
			}
			if len(r.Findings) > 0 {
				f := r.Findings[0]
				if !strings.Contains(f.Evidence, tt.evidence) {
					t.Errorf("evidence %q, want it to contain %q", f.Evidence, tt.evidence)
				}
				if f.Source != FromWire || f.Fix == "" || f.Directive == "" {
					t.Errorf("finding %+v", f)
				}
			}
			if tt.mis == working && len(r.Notes) != 0 {
				t.Errorf("notes on a working deployment: %q", r.Notes)
			}
		})
	}
}

// TestProbeFileSize: a small segment of a session of --file-size bytes shows an
// upload_max_file_size below it, even when the probes' own files fit.
func TestProbeFileSize(t *testing.T) {
	opts := deployment(t, working)
	var limited http.Handler
	target := opts.Target
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seg, err := ranges.ParseSegment(r.Header.Get(protocol.XContentRange)); err == nil && seg.Total > 1<<20 {
			htmlPage(w, http.StatusRequestEntityTooLarge)
			return
		}
		limited.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	proxyTarget := *target
	limited = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, proxyTarget.String(), r.Body)
		req.Header = r.Header.Clone()
		req.ContentLength = r.ContentLength
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			htmlPage(w, http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	opts.Target, _ = url.Parse(srv.URL + "/upload")
	opts.FileSize = 1 << 30
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Probe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := rulesOf(r); !slices.Equal(got, []string{"max-file-size"}) || !strings.Contains(r.Findings[0].Fix, "upload_max_file_size 1g;") {
		t.Errorf("rules %v\n%s", got, r.Text())
	}
}

// TestProbeUnreachable: nothing listening is a setup error, within the timeout.
func TestProbeUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL + "/upload")
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Probe(ctx, WireOptions{Target: u, Timeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("Probe of a closed port: %v", err)
	}
	for _, bad := range []string{"ftp://x/upload", "/upload"} {
		u, _ := url.Parse(bad)
		if _, err := Probe(ctx, WireOptions{Target: u}); err == nil {
			t.Errorf("Probe(%q): no error", bad)
		}
	}
}

// TestProbeWithoutFileAccess: without a file URL or a backend, the interrupted-segment probe
// cannot read the file and says so in a note.
func TestProbeWithoutFileAccess(t *testing.T) {
	opts := deployment(t, cleanup400)
	opts.Backend = ""
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Probe(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "--file-url") {
		t.Errorf("findings %v, notes %q", rulesOf(r), r.Notes)
	}
}

func TestPatternHasNoZero(t *testing.T) {
	if bytes.IndexByte(pattern(0, 1<<16), 0) >= 0 {
		t.Error("the probe pattern holds a zero byte")
	}
}
