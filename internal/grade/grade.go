package grade

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// Settings of the grading mock's http.Server, those of fakeserver.Server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
	// checkBytes is how many bytes of each segment body are compared with the grade's
	// files: enough to tell any two of them apart.
	checkBytes = 64
)

// Options configures a grade.
type Options struct {
	// Uploads are the files the client is asked to upload, each with its fault plan; nil:
	// Schedule(DefaultSize, DefaultRetryAfter).
	Uploads []Upload
	// Listener is where the grading mock serves; nil: 127.0.0.1 at a free port.
	Listener net.Listener
	// Server configures the reference server; its Faults are ignored (the schedule's plans
	// are the faults) and its JournalSize is at least 100000.
	Server fakeserver.Options
}

// Grader is a running grade: the grading mock, the plan of each upload, and what it saw.
type Grader struct {
	uploads []Upload
	handler *fakeserver.Handler
	admin   *fakeserver.Admin
	mockServer
	path string

	mu       sync.Mutex
	assigned map[string]int             // session → index of its upload in uploads (-1: none)
	carried  map[string]map[string]bool // session → files its bodies carried
	ended    map[string]bool            // sessions that got their final answer or a stopping 4xx
	changed  chan struct{}              // closed and replaced when ended grows
}

// Start starts the grading mock.
func Start(opts Options) (*Grader, error) {
	uploads := opts.Uploads
	if uploads == nil {
		uploads = Schedule(DefaultSize, DefaultRetryAfter)
	}
	so := opts.Server
	so.Faults = nil
	if so.JournalSize < 100000 {
		so.JournalSize = 100000
	}
	if so.Path == "" {
		so.Path = fakeserver.DefaultPath
	}
	h := fakeserver.New(so)
	g := &Grader{
		uploads:  uploads,
		handler:  h,
		admin:    h.Admin(),
		path:     so.Path,
		assigned: map[string]int{},
		carried:  map[string]map[string]bool{},
		ended:    map[string]bool{},
		changed:  make(chan struct{}),
	}
	if err := g.serve(opts.Listener, g); err != nil {
		return nil, err
	}
	return g, nil
}

// UploadURL returns the segment endpoint the client uploads to.
func (g *Grader) UploadURL() string { return g.url + g.path }

// Uploads returns the files the client is asked to upload.
func (g *Grader) Uploads() []Upload { return g.uploads }

// Admin returns the inspection face of the grading mock (journal, sessions, files).
func (g *Grader) Admin() *fakeserver.Admin { return g.admin }

// Ended returns how many uploads have ended: got the final answer, or a 4xx that stops them.
func (g *Grader) Ended() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.ended)
}

// Wait returns once n uploads have ended (Ended), or with ctx's error when ctx ends first.
func (g *Grader) Wait(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		got, ch := len(g.ended), g.changed
		g.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Evidence returns what the grade saw so far.
func (g *Grader) Evidence() Evidence {
	g.mu.Lock()
	carried := make(map[string][]string, len(g.carried))
	for s, fs := range g.carried {
		for _, u := range g.uploads {
			if fs[u.File] {
				carried[s] = append(carried[s], u.File)
			}
		}
	}
	g.mu.Unlock()
	return Evidence{Path: g.path, Journal: g.admin.Journal(fakeserver.JournalFilter{}), Uploads: g.uploads, Carried: carried}
}

// Finish stops the grading mock once every request in progress has ended (so that the
// journal holds every request the client sent), or when ctx ends (then every connection is
// closed), and returns what the grade saw.
func (g *Grader) Finish(ctx context.Context) (Evidence, error) {
	if err := g.shutdown(ctx); err != nil {
		return Evidence{}, err
	}
	return g.Evidence(), nil
}

// ServeHTTP passes every request to the reference server. A segment of a session not seen
// before first gets the fault plan of its upload (found by the file name and size it
// carries); the first bytes of every segment's body are compared with the grade's files.
func (g *Grader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != g.path {
		g.handler.ServeHTTP(w, r)
		return
	}
	id := headerOf(r, "Session-Id", "X-Session-Id")
	seg, err := ranges.ParseSegment(headerOf(r, "X-Content-Range", "Content-Range"))
	if err != nil || !protocol.ValidSessionID(id) {
		g.handler.ServeHTTP(w, r)
		return
	}
	g.assign(id, fileName(r.Header.Get("Content-Disposition")), seg.Total)
	chk := &bodyCheck{r: r.Body, off: seg.Start}
	for _, u := range g.uploads {
		if u.Size == seg.Total {
			chk.cands = append(chk.cands, u)
		}
	}
	r.Body = chk
	g.handler.ServeHTTP(w, r)
	g.observe(id, chk)
}

// assign gives a new session the fault plan of its upload.
func (g *Grader) assign(id, name string, total int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.assigned[id]; ok {
		return
	}
	i, ok := planFor(g.uploads, name, total)
	g.assigned[id] = i
	if !ok {
		return
	}
	texts := make([]string, 0, len(g.uploads[i].Plan.Rules))
	for _, rule := range g.uploads[i].Plan.Rules {
		texts = append(texts, "session="+id+","+rule)
	}
	rules, err := fakeserver.ParseFaultRules(texts...)
	if err != nil {
		panic(fmt.Sprintf("grade: the schedule holds a bad rule: %v", err)) // Schedule's rules are constants
	}
	g.admin.AddFaults(rules...)
}

// observe records what a segment's body carried and whether its answer ended the upload.
func (g *Grader) observe(id string, chk *bodyCheck) {
	ended := false
	for _, e := range g.admin.Journal(fakeserver.JournalFilter{Session: id}) {
		if isFinal(&e) || isStopping(&e) {
			ended = true
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if chk.read > 0 && len(chk.cands) == 1 {
		if g.carried[id] == nil {
			g.carried[id] = map[string]bool{}
		}
		g.carried[id][chk.cands[0].File] = true
	}
	if ended && !g.ended[id] {
		g.ended[id] = true
		close(g.changed)
		g.changed = make(chan struct{})
	}
}

// headerOf returns the first of two alias headers that r carries.
func headerOf(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Values(n); len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

var filenameParam = regexp.MustCompile(`(?i)filename\s*=\s*("([^"]*)"|[^;,\s]*)`)

// fileName returns the file name a Content-Disposition carries ("" when none), without
// directories.
func fileName(cd string) string {
	m := filenameParam.FindStringSubmatch(cd)
	if m == nil {
		return ""
	}
	name := m[1]
	if strings.HasPrefix(name, `"`) {
		name = m[2]
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// bodyCheck passes a segment's body through and compares its first bytes with the files
// of the same size, keeping those that match.
type bodyCheck struct {
	r     io.ReadCloser
	off   int64 // the file offset of the next byte
	read  int64 // bytes compared
	cands []Upload
	buf   [checkBytes]byte
}

func (c *bodyCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if k := min(int64(n), checkBytes-c.read); k > 0 && len(c.cands) > 0 {
		got := p[:k]
		want := c.buf[:k]
		keep := c.cands[:0]
		for _, u := range c.cands {
			u.Content(want, c.off)
			if string(want) == string(got) {
				keep = append(keep, u)
			}
		}
		c.cands = keep
		c.read += k
		c.off += k
	}
	return n, err
}

func (c *bodyCheck) Close() error { return c.r.Close() }
