package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/internal/webui"
)

// tusJSDir holds the pinned tus-js-client (package.json, package-lock.json); `npm ci` there
// installs it (.ci/run does).
const tusJSDir = "testdata/tusjs"

// tusJSClient returns tus-js-client's browser bundle. Without it the test is skipped, except
// under CI=true.
func tusJSClient(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tusJSDir, "node_modules", "tus-js-client", "dist", "tus.min.js"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tus-js-client is not installed (CI=true): run npm ci in cmd/upspec/%s: %v", tusJSDir, err)
		}
		t.Skipf("tus-js-client is not installed (npm ci in cmd/upspec/%s): %v", tusJSDir, err)
	}
	return b
}

// tusJSPage is the page of the tus-js-client tests: window.runUpload(size, seed, chunkSize)
// uploads a file made in the page (the pattern of the Go side, a fixed name and date, so that
// its fingerprint is the same after a reload) to /files/, resuming a previous upload of it
// that tus-js-client remembers, and records the outcome in window.outcome.
const tusJSPage = `<!doctype html>
<meta charset="utf-8">
<title>tus-js-client against the reference tus server</title>
<script src="/tus.min.js"></script>
<script>
window.runUpload = (size, seed, chunkSize) => {
  const b = new Uint8Array(size);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7 + seed) % 251;
  const file = new File([b], 'tusjs.bin', { type: 'application/octet-stream', lastModified: 1700000000000 });
  window.outcome = null;
  const up = new tus.Upload(file, {
    endpoint: location.origin + '/files/',
    chunkSize,
    retryDelays: Array(400).fill(100),
    metadata: { filename: file.name, filetype: file.type },
    onSuccess: () => { window.outcome = 'done ' + up.url; },
    onError: (e) => { window.outcome = 'error ' + e; },
  });
  up.findPreviousUploads().then((previous) => {
    if (previous.length > 0) {
      window.resumedFrom = previous[0].uploadUrl;
      up.resumeFromPreviousUpload(previous[0]);
    }
    up.start();
  });
};
document.documentElement.dataset.ready = 'true';
</script>`

// tusJSFront is the origin of the page: it serves the page and the client, and hands every
// other request to the tus server behind it (through hold first).
func tusJSFront(t *testing.T, client []byte, next http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(tusJSPage))
	})
	mux.HandleFunc("GET /tus.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(client)
	})
	mux.Handle("/files/", next)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// patchLog records the offset and status of every PATCH that reaches the tus server.
type patchLog struct {
	mu      sync.Mutex
	patches []loggedPatch
}

type loggedPatch struct {
	offset int64
	status int
}

func (l *patchLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		off, _ := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.patches = append(l.patches, loggedPatch{offset: off, status: rec.status})
	})
}

func (l *patchLog) all() []loggedPatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loggedPatch(nil), l.patches...)
}

// startTusJSUpload starts window.runUpload in the page.
func startTusJSUpload(t *testing.T, ctx context.Context, size, seed, chunk int) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void window.runUpload(%d, %d, %d)`, size, seed, chunk))); err != nil {
		t.Fatalf("start the upload: %v", err)
	}
}

// waitTusJSUpload waits for the outcome of the page's upload and returns the upload's URL.
func waitTusJSUpload(t *testing.T, ctx context.Context) string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Poll[string](`window.outcome`, chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for tus-js-client: %v", err)
	}
	u, ok := strings.CutPrefix(out, "done ")
	if !ok {
		t.Fatalf("tus-js-client: %s", out)
	}
	return u
}

// getUpload reads an upload back with the server's GET (the upspec addition).
func getUpload(t *testing.T, u string) []byte {
	t.Helper()
	c := &http.Client{Timeout: browserWait}
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return b.Bytes()
}

// inProcessTus is the reference tus server in memory, its handler wrapped by wrap.
func inProcessTus(t *testing.T, wrap func(http.Handler) http.Handler) http.Handler {
	t.Helper()
	st := tus.NewMemoryStore()
	t.Cleanup(func() { _ = st.Close() })
	return wrap(tus.New(tus.Options{Store: st}))
}

func TestTusJSUploads(t *testing.T) {
	client := tusJSClient(t)
	ctx := newBrowser(t)
	const chunk, size = 256 << 10, 1<<20 + 12345
	var log patchLog
	front := tusJSFront(t, client, inProcessTus(t, log.wrap))
	openPage(t, ctx, front.URL+"/")
	startTusJSUpload(t, ctx, size, 3, chunk)
	u := waitTusJSUpload(t, ctx)
	if got := getUpload(t, u); !bytes.Equal(got, pattern(size, 3)) {
		t.Fatalf("the stored upload (%d bytes) differs from the file sent (%d)", len(got), size)
	}
	patches := log.all()
	if len(patches) != (size+chunk-1)/chunk {
		t.Errorf("%d PATCHes, want one per chunk of %d: %v", len(patches), chunk, patches)
	}
	for i, p := range patches {
		if p.offset != int64(i*chunk) || p.status != http.StatusNoContent {
			t.Errorf("PATCH %d at %d answered %d, want at %d with 204", i, p.offset, p.status, i*chunk)
		}
	}
}

func TestTusJSResumesAfterReload(t *testing.T) {
	client := tusJSClient(t)
	ctx := newBrowser(t)
	const chunk, size, held = 256 << 10, 1 << 20, 512 << 10
	var log patchLog
	g := newHoldGate(fmt.Sprintf("a PATCH at offset %d", held), patchFrom(held))
	defer g.letGo()
	front := tusJSFront(t, client, inProcessTus(t, func(h http.Handler) http.Handler { return g.wrap(log.wrap(h)) }))
	openPage(t, ctx, front.URL+"/")
	startTusJSUpload(t, ctx, size, 4, chunk)
	g.waitHeld(t, ctx)
	before := len(log.all())
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	g.letGo()
	openPage(t, ctx, front.URL+"/")
	startTusJSUpload(t, ctx, size, 4, chunk)
	u := waitTusJSUpload(t, ctx)
	if got := getUpload(t, u); !bytes.Equal(got, pattern(size, 4)) {
		t.Fatalf("the stored upload (%d bytes) differs from the file sent", len(got))
	}
	resumed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.resumedFrom || ''`))
	if err != nil || resumed != u {
		t.Errorf("after the reload the page resumed %q (%v), want the upload %s", resumed, err, u)
	}
	for _, p := range log.all()[before:] {
		if p.offset < held {
			t.Errorf("after the reload a PATCH at %d sent again bytes acknowledged before it", p.offset)
		}
	}
}

// TestTusJSSurvivesKill uploads through a proxy in front of `upspec serve --protocol tus
// --data-dir`, kills the server with SIGKILL while half of a PATCH's body has gone through,
// restarts it on the same directory, and checks that tus-js-client finishes the upload
// without sending again the bytes acknowledged before the kill. Until the restart, requests
// wait at the proxy.
func TestTusJSSurvivesKill(t *testing.T) {
	client := tusJSClient(t)
	ctx := newBrowser(t)
	const chunk, size, cut = 256 << 10, 1 << 20, 512 << 10
	dataDir := t.TempDir()
	p := startServe(t, "--protocol", "tus", "--data-dir", dataDir)
	proxy := newServeProxy(t, p)
	held, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	defer letGo()
	var cutOnce atomic.Bool
	var log patchLog
	// While the server is down, requests wait at the front until it is back: tus-js-client
	// answers a HEAD that fails with a status (a proxy's 502) by creating a new upload, which
	// would measure the proxy, not the server.
	var up atomic.Pointer[chan struct{}]
	running := make(chan struct{})
	close(running)
	up.Store(&running)
	front := tusJSFront(t, client, log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-*up.Load():
		case <-r.Context().Done():
			return
		case <-time.After(browserWait):
			http.Error(w, "the server did not come back", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPatch && r.Header.Get("Upload-Offset") == strconv.Itoa(cut) && cutOnce.CompareAndSwap(false, true) {
			r.Body = &halfBody{r: r.Body, half: chunk / 2, held: held, release: release}
		}
		proxy.ServeHTTP(w, r)
	})))
	openPage(t, ctx, front.URL+"/")
	startTusJSUpload(t, ctx, size, 5, chunk)
	waitClosed(t, ctx, held, fmt.Sprintf("half of the PATCH at %d reached the server", cut))
	before := len(log.all())
	down := make(chan struct{})
	up.Store(&down)
	p.kill() // SIGKILL with half of the PATCH's body in the server
	letGo()
	p = startServe(t, "--protocol", "tus", "--data-dir", dataDir)
	proxy.to(t, p)
	close(down)
	u := waitTusJSUpload(t, ctx)
	if got := getUpload(t, u); !bytes.Equal(got, pattern(size, 5)) {
		t.Fatalf("the stored upload (%d bytes) differs from the file sent", len(got))
	}
	var after int64
	for _, q := range log.all()[before:] {
		if q.offset < cut {
			t.Errorf("after the kill a PATCH at %d sent again bytes acknowledged before it", q.offset)
		}
		if q.status == http.StatusNoContent {
			after++
		}
	}
	if want := int64((size - cut) / chunk); after != want {
		t.Errorf("%d PATCHes applied after the restart, want %d: %v", after, want, log.all()[before:])
	}
}

// TestBrowserLibraryTus uploads with the project's own client (the demo page's
// window.fileUploader, protocol 'auto') through the reference tus server in Chromium: the
// OPTIONS answer makes it speak tus, and the upload is byte for byte the file.
func TestBrowserLibraryTus(t *testing.T) {
	ctx := newBrowser(t)
	const chunk, size = 64 << 10, 300000
	var log patchLog
	st := tus.NewMemoryStore()
	t.Cleanup(func() { _ = st.Close() })
	srv := httptest.NewServer(log.wrap(tus.New(tus.Options{Store: st, Fallback: webui.Handler(webui.FS(), nil)})))
	t.Cleanup(srv.Close)
	openPage(t, ctx, srv.URL+"/")
	script := fmt.Sprintf(`(async () => {
		const b = new Uint8Array(%d);
		for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 6) %% 251;
		const up = window.fileUploader(new File([b], 'library.bin'), %d, 'library-1', { protocol: 'auto', endpoint: '/files/', retryDelay: 10 });
		const st = await up.upload();
		const url = localStorage.getItem('upspec-tus:' + location.origin + '/files/:library-1');
		return JSON.stringify({ protocol: up.protocol, completed: st.completed, acknowledged: st.acknowledged, url });
	})()`, size, chunk)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("upload in the page: %v", err)
	}
	var got struct {
		Protocol     string
		Completed    bool
		Acknowledged int
		URL          string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("page answered %q: %v", out, err)
	}
	if got.Protocol != "tus" || !got.Completed || got.Acknowledged != size || !strings.HasPrefix(got.URL, srv.URL+"/files/") {
		t.Fatalf("page: %s, want protocol tus, completed, %d bytes, the upload URL remembered", out, size)
	}
	if b := getUpload(t, got.URL); !bytes.Equal(b, pattern(size, 6)) {
		t.Fatalf("the stored upload (%d bytes) differs from the file sent", len(b))
	}
	for i, p := range log.all() {
		if p.offset != int64(i*chunk) || p.status != http.StatusNoContent {
			t.Errorf("PATCH %d at %d answered %d, want at %d with 204", i, p.offset, p.status, i*chunk)
		}
	}
	if n := len(log.all()); n != (size+chunk-1)/chunk {
		t.Errorf("%d PATCHes, want %d", n, (size+chunk-1)/chunk)
	}
}
