package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Bounds of the browser tests. They are generous: every wait ends as soon as its condition
// holds, and the bound only stops a test that would otherwise hang.
const (
	browserTestTimeout = 4 * time.Minute
	browserWait        = 2 * time.Minute
)

// newBrowser starts headless Chromium with a fresh profile and returns a tab's context, which
// ends at browserTestTimeout. Without chromium the test is skipped, except under CI=true.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("chromium is not installed (CI=true): the browser tests need it (.ci/run installs Debian's chromium): %v", err)
			}
			t.Skipf("chromium is not installed: the browser tests of the demo page did not run: %v", err)
		}
		exe = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 760),
	)
	t.Cleanup(acancel)
	tctx, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tctx
}

// pattern is byte i of a test file: (i*7 + seed) mod 251, as the library's tests make them.
func pattern(size int, seed int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte((i*7 + seed) % 251)
	}
	return b
}

// writeFiles writes files of the given sizes into a new directory and returns their paths.
func writeFiles(t *testing.T, names []string, sizes []int) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, name := range names {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pattern(sizes[i], i+1), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// openPage navigates to u and waits until the demo page's script has run.
func openPage(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u),
		chromedp.Poll[chromedp.Void](`document.documentElement.dataset.ready === 'true'`, chromedp.WithPollingTimeout(browserWait))); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
}

// pickFiles sets the files of the page's file input, as a person picking them would.
func pickFiles(t *testing.T, ctx context.Context, paths []string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS(`#files`), paths)); err != nil {
		t.Fatalf("pick files: %v", err)
	}
}

// waitRows waits until n rows of the page are completed; a row in error ends the wait at once.
func waitRows(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll('#list .file')];
		const bad = rows.find((r) => r.dataset.state === 'error');
		if (bad) return 'error: ' + bad.dataset.name + ': ' + bad.querySelector('.state').textContent;
		return rows.filter((r) => r.dataset.state === 'completed').length >= %d ? 'done' : false;
	})()`, n)
	got, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for %d completed rows: %v; page: %s", n, err, pageRows(ctx))
	}
	if got != "done" {
		t.Fatalf("upload failed: %s", got)
	}
}

// pageRows describes the page's rows, for failure messages.
func pageRows(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#list .file')].map((r) =>
		r.dataset.name + ' ' + r.dataset.state + ' ' + r.querySelector('.state').textContent + ' ' + (r.dataset.acknowledged || 0)).join('; ')`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// fetchFile returns the bytes at base/file/<name>.
func fetchFile(t *testing.T, base, name string) []byte {
	t.Helper()
	res, err := http.Get(base + "/file/" + url.PathEscape(name))
	if err != nil {
		t.Fatalf("GET file %q: %v", name, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET file %q: %d %v", name, res.StatusCode, err)
	}
	return b
}

// segmentLog records the segments that reach the reference server behind it.
type segmentLog struct {
	mu   sync.Mutex
	segs []loggedSegment
}

type loggedSegment struct {
	session    string
	start, end int64
	status     int
}

func (l *segmentLog) add(s loggedSegment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.segs = append(l.segs, s)
}

func (l *segmentLog) all() []loggedSegment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loggedSegment(nil), l.segs...)
}

// bytesSent sums the segment lengths logged from index from on.
func (l *segmentLog) bytesSent(from int) int64 {
	var n int64
	for _, s := range l.all()[from:] {
		n += s.end - s.start + 1
	}
	return n
}

// parseSegmentRange reads `bytes S-E/T` from a request.
func parseSegmentRange(r *http.Request) (start, end, total int64, ok bool) {
	v := r.Header.Get("X-Content-Range")
	if v == "" {
		v = r.Header.Get("Content-Range")
	}
	var err error
	if _, err = fmt.Sscanf(v, "bytes %d-%d/%d", &start, &end, &total); err != nil {
		return 0, 0, 0, false
	}
	return start, end, total, true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logging wraps next so that every POSTed segment is logged with its answer's status.
func (l *segmentLog) logging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, end, _, ok := parseSegmentRange(r)
		if r.Method != http.MethodPost || !ok {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		l.add(loggedSegment{session: r.Header.Get("Session-ID"), start: start, end: end, status: rec.status})
	})
}

func TestBrowserDemoPageUploads(t *testing.T) {
	ctx := newBrowser(t)
	var log segmentLog
	srv := inProcessServeWrapped(t, log.logging)
	names := []string{"one.bin", "two.bin", "twenty-four.txt", "mebi-plus-one.bin", "twenty-mebi.bin", "données ü.txt"}
	sizes := []int{1, 2, 24, 1<<20 + 1, 20 << 20, 24}
	paths := writeFiles(t, names, sizes)

	openPage(t, ctx, srv.URL+"/?concurrency=2")
	screenshot(t, ctx, "empty")
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-protocol]:not([hidden])')].map((el) => el.textContent.replace(/\s+/g, ' ').trim()).join(' | ')`))
	if err != nil || !strings.Contains(shown, "in segments to "+srv.URL+"/upload") || !strings.Contains(shown, "At once") || strings.Contains(shown, "tus") {
		t.Fatalf("the page shows %q (%v), want the segment lead with %s/upload and At once", shown, err, srv.URL)
	}
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, len(names))
	for i, name := range names {
		if got, want := fetchFile(t, srv.URL, name), pattern(sizes[i], i+1); !bytes.Equal(got, want) {
			t.Errorf("%s: the stored file has %d bytes and differs from the %d sent", name, len(got), len(want))
		}
	}
	// The probe of the 1-byte file is bytes 0-0; every other file starts with bytes 0-1.
	first := map[string]loggedSegment{}
	sessions := map[string]bool{}
	for _, s := range log.all() {
		if _, ok := first[s.session]; !ok {
			first[s.session] = s
		}
		sessions[s.session] = true
	}
	if len(sessions) != len(names) {
		t.Errorf("%d session IDs for %d files", len(sessions), len(names))
	}
	for id, s := range first {
		if s.start != 0 || s.end > 1 {
			t.Errorf("session %s began with bytes %d-%d, want the probe", id, s.start, s.end)
		}
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#list .file a.link')].map((a) => a.href)`))
	if err != nil || len(links) != len(names) {
		t.Fatalf("links %v: %v", links, err)
	}
	if res, err := http.Get(links[len(links)-1]); err != nil || res.StatusCode != 200 {
		t.Errorf("the page's link %s: %v %v", links[len(links)-1], res, err)
	} else {
		res.Body.Close()
	}
	screenshot(t, ctx, "completed")
}

// screenshot takes a screenshot of the page, checks that it is a PNG of the window's size,
// and keeps it in $UPSPEC_SCREENSHOT_DIR when that is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 500 || cfg.Height < 300 {
		t.Fatalf("screenshot: %v, %dx%d", err, cfg.Width, cfg.Height)
	}
	if dir := os.Getenv("UPSPEC_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "demo-"+name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBrowserReloadResumes(t *testing.T) {
	ctx := newBrowser(t)
	const (
		seg  = 1 << 20
		size = 4 * seg
		held = 2 * seg // the segment that starts here is held, then lost with the page
	)
	var log segmentLog
	g := newHoldGate(fmt.Sprintf("a segment from byte %d", held), segmentFrom(held))
	defer g.letGo()
	srv := inProcessServeWrapped(t, func(h http.Handler) http.Handler { return g.wrap(log.logging(h)) })
	paths := writeFiles(t, []string{"reload.bin"}, []int{size})
	page := srv.URL + "/?concurrency=1&segment=" + strconv.Itoa(seg)

	openPage(t, ctx, page)
	pickFiles(t, ctx, paths)
	g.waitHeld(t, ctx)
	before := len(log.all())
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	g.letGo()
	openPage(t, ctx, page)
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, 1)

	if got := fetchFile(t, srv.URL, "reload.bin"); !bytes.Equal(got, pattern(size, 1)) {
		t.Fatalf("the stored file differs from the one sent (%d bytes)", len(got))
	}
	resumed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#list .file').dataset.resumedFrom`))
	if err != nil || resumed != strconv.Itoa(held) {
		t.Errorf("the page resumed from %q (%v), want %d: the bytes acknowledged before the reload", resumed, err, held)
	}
	after := log.bytesSent(before)
	if want := int64(2 + size - held); after != want {
		t.Errorf("after the reload %d bytes were sent, want %d (the probe and the missing half): segments %v", after, want, log.all()[before:])
	}
}

func TestBrowserGapAfterSecondRange(t *testing.T) {
	ctx := newBrowser(t)
	var log segmentLog
	srv := inProcessServeWrapped(t, log.logging)
	const (
		size    = 1000
		session = "browser-gap-1"
		name    = "gap.bin"
	)
	data := pattern(size, 5)
	// The server already holds three ranges: after the second one lies a gap that the
	// original client never filled.
	for _, r := range [][2]int{{0, 99}, {200, 299}, {400, 499}} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/upload", bytes.NewReader(data[r[0]:r[1]+1]))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		req.Header.Set("Session-ID", session)
		req.Header.Set("X-Content-Range", fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], size))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("seed bytes %v: %v %v", r, res, err)
		}
		res.Body.Close()
	}
	before := len(log.all())
	openPage(t, ctx, srv.URL+"/")
	// The library from the page's global (the module sets it), the file made in the page.
	script := fmt.Sprintf(`(async () => {
		const b = new Uint8Array(%d);
		for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 5) %% 251;
		const up = window.fileUploader(new File([b], %q), 64, %q, { retryDelay: 10 });
		const status = await up.fetchStatus();
		const done = await up.uploadSegments(status);
		return JSON.stringify({ first: status.ranges, completed: done.completed, body: done.body });
	})()`, size, name, session)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("upload in the page: %v", err)
	}
	if want := `{"first":[{"start":0,"end":99},{"start":200,"end":299},{"start":400,"end":499}],"completed":true,"body":"completed"}`; out != want {
		t.Errorf("page: %s, want %s", out, want)
	}
	if got := fetchFile(t, srv.URL, name); !bytes.Equal(got, data) {
		t.Fatalf("the stored file differs from the one sent")
	}
	// The probe, then only the gaps: 100-199, 300-399 and 500-999.
	var sent int64
	for i, s := range log.all()[before:] {
		if i == 0 {
			if s.start != 0 || s.end != 1 {
				t.Errorf("first request %d-%d, want the probe 0-1", s.start, s.end)
			}
			continue
		}
		for _, r := range [][2]int64{{0, 99}, {200, 299}, {400, 499}} {
			if s.start <= r[1] && r[0] <= s.end {
				t.Errorf("segment %d-%d re-sends acknowledged bytes %d-%d", s.start, s.end, r[0], r[1])
			}
		}
		sent += s.end - s.start + 1
	}
	if sent != 700 {
		t.Errorf("%d bytes sent after the probe, want the 700 missing", sent)
	}
}

func TestBrowserCrossOrigin(t *testing.T) {
	ctx := newBrowser(t)
	pageSrv := inProcessServe(t)
	upload := inProcessServe(t, "--cors", pageSrv.URL, "--no-ui")
	noCORS := inProcessServe(t, "--no-ui")
	paths := writeFiles(t, []string{"cross.txt", "cross-big.bin"}, []int{24, 1<<20 + 1})

	openPage(t, ctx, pageSrv.URL+"/?retryDelay=50&maxRetryDelay=500&endpoint="+url.QueryEscape(upload.URL+"/upload"))
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, 2)
	for i, name := range []string{"cross.txt", "cross-big.bin"} {
		if got := fetchFile(t, upload.URL, name); !bytes.Equal(got, pattern(len(got), i+1)) || len(got) != []int{24, 1<<20 + 1}[i] {
			t.Errorf("%s: the stored file differs from the one sent", name)
		}
	}
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#list .file a.link').href`))
	if err != nil || !strings.HasPrefix(link, upload.URL+"/file/") {
		t.Errorf("link %q (%v), want it on the upload server", link, err)
	}

	// The same page against a server without --cors: the browser blocks every segment.
	openPage(t, ctx, pageSrv.URL+"/?retries=1&retryDelay=10&endpoint="+url.QueryEscape(noCORS.URL+"/upload"))
	pickFiles(t, ctx, paths[:1])
	state, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const r = document.querySelector('#list .file'); return r && r.dataset.state === 'error' && r.querySelector('.state').textContent; })()`,
		chromedp.WithPollingTimeout(browserWait)))
	if err != nil || !strings.Contains(state, "giving up") {
		t.Errorf("without --cors: %q (%v), want the page to report the blocked upload", state, err)
	}
}

// TestBrowserSurvivesKill uploads through a proxy in front of the built binary, kills the
// binary with SIGKILL while half of a segment's body has gone through, restarts it on the
// same data directory, and checks that the page finishes the file without sending again the
// bytes acknowledged before the kill.
func TestBrowserSurvivesKill(t *testing.T) {
	ctx := newBrowser(t)
	const (
		seg  = 1 << 20
		size = 6 * seg
		cut  = 3 * seg // the segment that starts here is cut by the kill
	)
	dataDir := t.TempDir()
	p := startServe(t, "--data-dir", dataDir)
	proxy := newServeProxy(t, p)

	var log segmentLog
	held := make(chan struct{})
	release := make(chan struct{})
	var cutOnce atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _, _, ok := parseSegmentRange(r)
		if r.Method == http.MethodPost && ok && start == cut && cutOnce.CompareAndSwap(false, true) {
			r.Body = &halfBody{r: r.Body, half: seg / 2, held: held, release: release}
		}
		log.logging(proxy).ServeHTTP(w, r)
	}))
	defer front.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	paths := writeFiles(t, []string{"killed.bin"}, []int{size})
	openPage(t, ctx, front.URL+"/?concurrency=1&retryDelay=50&maxRetryDelay=500&retries=200&segment="+strconv.Itoa(seg))
	pickFiles(t, ctx, paths)
	waitClosed(t, ctx, held, fmt.Sprintf("the segment at %d reached the proxy", cut))
	before := len(log.all())
	p.kill() // SIGKILL with half of the segment's body in the server
	close(release)
	p = startServe(t, "--data-dir", dataDir)
	proxy.to(t, p)
	waitRows(t, ctx, 1)

	if got := fetchFile(t, front.URL, "killed.bin"); !bytes.Equal(got, pattern(size, 1)) {
		t.Fatalf("the stored file differs from the one sent (%d bytes)", len(got))
	}
	// After the kill: the cut segment failed, then probes until the restart, then the rest.
	var sent int64
	for _, s := range log.all()[before:] {
		if s.start < cut && !(s.start == 0 && s.end <= 1) {
			t.Errorf("after the kill, bytes %d-%d acknowledged before it were sent again", s.start, s.end)
		}
		if s.start >= cut && s.status < 300 {
			sent += s.end - s.start + 1
		}
	}
	if sent != size-cut {
		t.Errorf("%d bytes acknowledged after the restart, want the %d missing", sent, size-cut)
	}
}

// halfBody passes the first `half` bytes of a body, then signals held and fails once release
// is closed: the request is cut in the middle of its body.
type halfBody struct {
	r       io.ReadCloser
	half    int
	n       int
	held    chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *halfBody) Read(p []byte) (int, error) {
	if b.n >= b.half {
		b.once.Do(func() { close(b.held) })
		<-b.release
		return 0, fmt.Errorf("body cut by the test after %d bytes", b.n)
	}
	if len(p) > b.half-b.n {
		p = p[:b.half-b.n]
	}
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *halfBody) Close() error { return b.r.Close() }

func TestBrowserPauseResume(t *testing.T) {
	ctx := newBrowser(t)
	const (
		seg  = 1 << 20
		size = 3 * seg
		held = 2 * seg
	)
	var log segmentLog
	g := newHoldGate(fmt.Sprintf("a segment from byte %d", held), segmentFrom(held))
	defer g.letGo()
	srv := inProcessServeWrapped(t, func(h http.Handler) http.Handler { return g.wrap(log.logging(h)) })
	paths := writeFiles(t, []string{"pause.bin"}, []int{size})

	openPage(t, ctx, srv.URL+"/?concurrency=1&segment="+strconv.Itoa(seg))
	pickFiles(t, ctx, paths)
	g.waitHeld(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#list .file .toggle`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('#list .file').dataset.state === 'paused'`, chromedp.WithPollingTimeout(browserWait))); err != nil {
		t.Fatalf("pause: %v; page: %s", err, pageRows(ctx))
	}
	g.letGo()
	before := len(log.all())
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#list .file .toggle`))); err != nil {
		t.Fatalf("resume: %v", err)
	}
	waitRows(t, ctx, 1)
	if got := fetchFile(t, srv.URL, "pause.bin"); !bytes.Equal(got, pattern(size, 1)) {
		t.Fatalf("the stored file differs from the one sent (%d bytes)", len(got))
	}
	if after, want := log.bytesSent(before), int64(2+size-held); after != want {
		t.Errorf("after the resume %d bytes were sent, want %d (the probe and the missing third): %v", after, want, log.all()[before:])
	}
}

// TestBrowserModuleProfiles uploads through the demo page to the reference server behaving
// like the real module (its quirks, among them the single-byte state bug of 2020 builds):
// the client's segments never trigger them.
func TestBrowserModuleProfiles(t *testing.T) {
	ctx := newBrowser(t)
	names := []string{"m1.bin", "m2.bin", "m24.txt", "m-mebi-plus-one.bin", "m-three-mebi-plus-one.bin"}
	sizes := []int{1, 2, 24, 1<<20 + 1, 3<<20 + 1}
	paths := writeFiles(t, names, sizes)
	for _, profile := range []string{"nginx-upload-module", "nginx-upload-module-2020"} {
		t.Run(profile, func(t *testing.T) {
			srv := inProcessServe(t, "--profile", profile)
			openPage(t, ctx, srv.URL+"/?concurrency=2&retries=2&retryDelay=10")
			pickFiles(t, ctx, paths)
			waitRows(t, ctx, len(names))
			for i, name := range names {
				if got, want := fetchFile(t, srv.URL, name), pattern(sizes[i], i+1); !bytes.Equal(got, want) {
					t.Errorf("%s: the stored file has %d bytes and differs from the %d sent", name, len(got), len(want))
				}
			}
		})
	}
}

// TestBrowserServerSawPanel: each file's "What the server saw" panel lists the journal lines
// of its session, as the admin API has them (here a scripted 503 on the first segment, then
// the retry), and the acknowledged ranges; against a server without the admin API it says so
// once and asks no more.
func TestBrowserServerSawPanel(t *testing.T) {
	ctx := newBrowser(t)
	srv := inProcessServe(t, "--fault", "status=503,retry-after=1,match=first,times=1")
	const size = 3<<10 + 5
	paths := writeFiles(t, []string{"saw.bin"}, []int{size})
	openPage(t, ctx, srv.URL+"/?concurrency=1&segment=1024")
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, 1)
	session, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#list .file').dataset.session`))
	if err != nil || session == "" {
		t.Fatalf("session of the row: %q %v", session, err)
	}

	// What the journal holds of the session: seq and status of every line.
	var page struct {
		Entries []struct {
			Seq    int64  `json:"seq"`
			Status int    `json:"status"`
			Range  string `json:"range"`
			Fault  string `json:"fault"`
		} `json:"entries"`
	}
	res, err := http.Get(srv.URL + "/_upspec/journal?session=" + url.QueryEscape(session))
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	var want []string
	for _, e := range page.Entries {
		want = append(want, fmt.Sprintf("%d %s %d", e.Seq, e.Range, e.Status))
	}
	// The probe refused by the fault, its retry, then four segments (the last completes).
	if len(page.Entries) != 6 || page.Entries[0].Status != 503 || page.Entries[0].Fault == "" ||
		page.Entries[1].Range != page.Entries[0].Range || page.Entries[1].Status != 201 || page.Entries[5].Status != 200 {
		t.Fatalf("journal of %s: %v, want the 503, the retry and the segments", session, want)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#list .file .saw summary`))); err != nil {
		t.Fatalf("open the panel: %v", err)
	}
	// The panel has them all once the upload's last poll is in.
	got, err := chromedp.Run(ctx, chromedp.Poll[[]string](fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll('#list .file .saw-journal tbody tr')];
		const lines = rows.map((r) => r.querySelector('.seq').textContent + ' ' + r.querySelector('.range').textContent + ' ' + r.querySelector('.status').textContent);
		return lines.length >= %d && document.querySelector('#list .file .saw').dataset.state === 'complete' ? lines : false;
	})()`, len(want)), chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		t.Fatalf("the panel never listed %d lines: %v", len(want), err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the panel lists\n%s\nthe journal has\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	panel, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const saw = document.querySelector('#list .file .saw');
		return saw.querySelector('.saw-ranges').textContent + ' | ' + saw.querySelector('.saw-bar').children.length + ' | ' +
			saw.querySelector('tbody tr').querySelector('.fault').textContent;
	})()`))
	if wantPanel := fmt.Sprintf("complete: 0-%d/%d of %d bytes | 1 | status=503,retry-after=1,match=first,times=1", size-1, size, size); err != nil || panel != wantPanel {
		t.Errorf("panel %q (%v), want %q", panel, err, wantPanel)
	}
	screenshot(t, ctx, "server-saw")

	// A server whose admin API is elsewhere: one request to /_upspec/, then a note.
	var adminCalls atomic.Int64
	hidden := inProcessServeWrapped(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/_upspec/") {
				adminCalls.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}, "--admin-prefix", "/_hidden/")
	openPage(t, ctx, hidden.URL+"/?concurrency=1&segment=1024")
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, 1)
	note, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const s = document.querySelector('#list .file .saw'); return s.dataset.state === 'absent' && s.querySelector('.saw-note').textContent; })()`,
		chromedp.WithPollingTimeout(browserWait)))
	if want := "no admin API at " + hidden.URL + "/_upspec/ (GET journal: 404)"; err != nil || !strings.HasPrefix(note, want) {
		t.Errorf("without the admin API the panel says %q (%v), want %q", note, err, want)
	}
	if n := adminCalls.Load(); n != 1 {
		t.Errorf("%d requests to /_upspec/ of a server without it, want 1", n)
	}
}

// TestBrowserDemoPageTus uploads files through the demo page of `upspec serve --protocol
// tus`: the page takes the creation URL from upspec-config.json, the library finds tus by
// OPTIONS, and each row's link (the upload's URL) serves the bytes sent.
func TestBrowserDemoPageTus(t *testing.T) {
	ctx := newBrowser(t)
	p := startServe(t, "--protocol", "tus")
	names := []string{"one.bin", "twenty-four.txt", "mebi-plus-one.bin"}
	sizes := []int{1, 24, 1<<20 + 1}
	paths := writeFiles(t, names, sizes)

	openPage(t, ctx, p.base+"/")
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-protocol]:not([hidden])')].map((el) => el.textContent.replace(/\s+/g, ' ').trim()).join(' | ')`))
	if err != nil || !strings.Contains(shown, "tus 1.0 uploads, created at "+p.upload) || strings.Contains(shown, "range list") || strings.Contains(shown, "At once") {
		t.Fatalf("the page shows %q (%v), want the tus lead with the creation URL %s and no range list or At once", shown, err, p.upload)
	}
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, len(names))
	links, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('#list .file')].map((r) => [r.dataset.name, r.querySelector('a.link').href]))`))
	if err != nil || len(links) != len(names) {
		t.Fatalf("links %v: %v", links, err)
	}
	for i, name := range names {
		if !strings.HasPrefix(links[name], p.upload) {
			t.Errorf("%s: link %q is not an upload URL under %s", name, links[name], p.upload)
			continue
		}
		res, err := http.Get(links[name])
		if err != nil {
			t.Fatalf("GET %s: %v", links[name], err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if want := pattern(sizes[i], i+1); err != nil || res.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: GET %s: %d, %d bytes (%v), want the %d sent", name, links[name], res.StatusCode, len(got), err, len(want))
		}
	}
	res, err := http.Get(p.base + "/_upspec/files")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range names {
		if !strings.Contains(string(b), `"name": "`+name+`"`) {
			t.Errorf("the admin API's files lack %s: %s", name, b)
		}
	}
}
