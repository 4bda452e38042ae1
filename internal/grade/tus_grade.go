package grade

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/fakeserver/tus"
)

// TusOptions configures a grade of a tus client.
type TusOptions struct {
	// Uploads are the files the client is asked to upload, each with its fault plan; nil:
	// TusSchedule(DefaultSize, DefaultRetryAfter).
	Uploads []Upload
	// Listener is where the grading mock serves; nil: 127.0.0.1 at a free port.
	Listener net.Listener
	// Server configures the reference tus server; its Faults are replaced by the schedule's
	// plans and its JournalSize is at least 100000.
	Server tus.Options
}

// TusGrader is a running grade of a tus client: the reference tus server as the grading
// mock, the plan of each file, and what it saw.
type TusGrader struct {
	uploads []Upload
	handler *tus.Handler
	admin   *tus.Admin
	mockServer
	base string // the creation URL's path

	mu      sync.Mutex
	planOf  map[string]int             // upload ID → index of its file by name and size (-1: none)
	carried map[string]map[string]bool // upload ID → files its bodies carried
	files   map[string][]string        // upload ID → those files in the order first seen
	state   map[int]*fileState         // index of a file → how its uploads ended
	ended   int
	changed chan struct{} // closed and replaced when ended changes
}

// fileState is how the uploads of one file of the schedule ended, for Wait.
type fileState struct {
	complete, stopped bool
	goneAt            time.Time // the latest 404 or 410 to one of its uploads
	createdAt         time.Time // the latest creating POST of one of its uploads
}

// ended reports whether the file ended: whole, stopped, or gone with no new upload since.
func (s *fileState) ended() bool {
	return s.complete || s.stopped || !s.goneAt.IsZero() && !s.createdAt.After(s.goneAt)
}

// tusPlanName is the name of the fault plan of uploads[i]: its rules apply to the requests
// the grading mock gives that name in fakeserver.FaultPlanHeader.
func tusPlanName(i int) string { return fmt.Sprintf("grade-%02d", i+1) }

// StartTus starts the grading mock of a tus client.
func StartTus(opts TusOptions) (*TusGrader, error) {
	uploads := opts.Uploads
	if uploads == nil {
		uploads = TusSchedule(DefaultSize, DefaultRetryAfter)
	}
	so := opts.Server
	so.Faults = nil
	for i, u := range uploads {
		for _, r := range u.Plan.Rules {
			rule, err := fakeserver.ParseFaultRule("plan=" + tusPlanName(i) + "," + r)
			if err != nil {
				return nil, fmt.Errorf("grade: the plan of %s: %w", u.File, err)
			}
			so.Faults = append(so.Faults, rule)
		}
	}
	if so.JournalSize < 100000 {
		so.JournalSize = 100000
	}
	h := tus.New(so)
	g := &TusGrader{
		uploads: uploads,
		handler: h,
		admin:   h.Admin(),
		base:    h.CreationPath(),
		planOf:  map[string]int{},
		carried: map[string]map[string]bool{},
		files:   map[string][]string{},
		state:   map[int]*fileState{},
		changed: make(chan struct{}),
	}
	if err := g.serve(opts.Listener, g); err != nil {
		return nil, err
	}
	return g, nil
}

// CreationURL returns the tus creation URL the client creates its uploads at.
func (g *TusGrader) CreationURL() string { return g.url + g.base }

// Uploads returns the files the client is asked to upload.
func (g *TusGrader) Uploads() []Upload { return g.uploads }

// Admin returns the inspection face of the grading mock (journal, uploads, files).
func (g *TusGrader) Admin() *tus.Admin { return g.admin }

// Ended returns how many files have ended: one of their uploads is complete, or got a 4xx
// that stops it, or got a 404 or 410 with no new upload of the file since.
func (g *TusGrader) Ended() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ended
}

// Wait returns once n files have ended (Ended), or with ctx's error when ctx ends first.
func (g *TusGrader) Wait(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		got, ch := g.ended, g.changed
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

// Evidence returns what the grade saw so far: Path is the creation URL's path, Carried maps
// an upload ID to the files its bodies carried.
func (g *TusGrader) Evidence() Evidence {
	g.mu.Lock()
	carried := make(map[string][]string, len(g.files))
	for id, fs := range g.files {
		carried[id] = append([]string(nil), fs...)
	}
	g.mu.Unlock()
	return Evidence{Path: g.base, Journal: g.admin.Journal(fakeserver.JournalFilter{}), Uploads: g.uploads, Carried: carried}
}

// Finish stops the grading mock once every request in progress has ended, or when ctx ends
// (then every connection is closed), and returns what the grade saw.
func (g *TusGrader) Finish(ctx context.Context) (Evidence, error) {
	if err := g.shutdown(ctx); err != nil {
		return Evidence{}, err
	}
	return g.Evidence(), nil
}

// ServeHTTP passes every request to the reference tus server. A creating POST finds the
// file of its upload by the filename metadata and Upload-Length (without them, the first
// body that carries the file's bytes does); every request of an upload of a file with a plan
// names that plan (fakeserver.FaultPlanHeader); the first bytes of every body are compared
// with the grade's files.
func (g *TusGrader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del(fakeserver.FaultPlanHeader)
	p := r.URL.Path
	creating := r.Method == http.MethodPost && (p == g.base || p+"/" == g.base) && r.Header.Get("X-HTTP-Method-Override") == ""
	id := ""
	if strings.HasPrefix(p, g.base) && len(p) > len(g.base) {
		id = p[len(g.base):]
	}
	plan := -1
	if creating {
		name := tusMetadata(r.Header.Get("Upload-Metadata"), "filename")
		if n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64); err == nil {
			plan, _ = planFor(g.uploads, path.Base(strings.ReplaceAll(name, `\`, "/")), n)
		}
	} else if id != "" {
		g.mu.Lock()
		if i, ok := g.planOf[id]; ok {
			plan = i
		}
		g.mu.Unlock()
	}
	if plan >= 0 && len(g.uploads[plan].Plan.Rules) > 0 {
		r.Header.Set(fakeserver.FaultPlanHeader, tusPlanName(plan))
	}
	var chk *bodyCheck
	if r.Header.Get("Content-Type") == tus.OffsetOctetStream && (creating || r.Method == http.MethodPatch) {
		off := int64(0)
		if !creating {
			off, _ = strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
		}
		chk = &bodyCheck{r: r.Body, off: off}
		if size, ok := g.sizeOf(id, r); ok {
			for _, u := range g.uploads {
				if u.Size == size {
					chk.cands = append(chk.cands, u)
				}
			}
		}
		r.Body = chk
	}
	if creating {
		cw := &creationWriter{ResponseWriter: w, g: g, plan: plan}
		g.handler.ServeHTTP(cw, r)
		id = cw.id
	} else {
		g.handler.ServeHTTP(w, r)
	}
	if id != "" {
		g.observe(id, chk)
	}
}

// creationWriter learns the ID of the upload a creating POST made from its Location, and
// gives the upload its file's plan before the client can see the answer.
type creationWriter struct {
	http.ResponseWriter
	g    *TusGrader
	plan int
	id   string
	seen bool
}

func (c *creationWriter) WriteHeader(code int) {
	if !c.seen && code >= 200 {
		c.seen = true
		if u, err := url.Parse(c.Header().Get("Location")); err == nil && u.Path != "" && u.Path != "/" {
			c.id = path.Base(u.Path)
			c.g.mu.Lock()
			c.g.planOf[c.id] = c.plan
			c.g.mu.Unlock()
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *creationWriter) Write(p []byte) (int, error) {
	if !c.seen {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (a fault drops it).
func (c *creationWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// sizeOf returns the length of the upload a request writes: its Upload-Length when it
// creates one, else the length the server holds.
func (g *TusGrader) sizeOf(id string, r *http.Request) (int64, bool) {
	if id == "" {
		n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
		return n, err == nil
	}
	s, ok := g.admin.Session(id)
	return s.Total, ok && s.Total >= 0
}

// observe records what a body carried and how the request's answer left the upload's file.
func (g *TusGrader) observe(id string, chk *bodyCheck) {
	entries := g.admin.Journal(fakeserver.JournalFilter{Session: id})
	g.mu.Lock()
	defer g.mu.Unlock()
	if chk != nil && chk.read > 0 && len(chk.cands) == 1 {
		f := chk.cands[0].File
		if g.carried[id] == nil {
			g.carried[id] = map[string]bool{}
		}
		if !g.carried[id][f] {
			g.carried[id][f] = true
			g.files[id] = append(g.files[id], f)
		}
	}
	i := g.fileIndex(id)
	if i < 0 {
		return
	}
	if p, ok := g.planOf[id]; !ok || p < 0 {
		g.planOf[id] = i // no filename metadata: the plan of the file its bytes are
	}
	s := g.state[i]
	if s == nil {
		s = &fileState{}
		g.state[i] = s
	}
	for k := range entries {
		e := &entries[k]
		switch {
		case tusCompletes(e):
			s.complete = true
		case isTusGone(e):
			if t := answeredAt(e); t.After(s.goneAt) {
				s.goneAt = t
			}
		case isTusStopping(e):
			s.stopped = true
		case e.Method == http.MethodPost && (e.Path == g.base || e.Path+"/" == g.base):
			if e.Time.After(s.createdAt) {
				s.createdAt = e.Time
			}
		}
	}
	n := 0
	for _, st := range g.state {
		if st.ended() {
			n++
		}
	}
	if n != g.ended {
		g.ended = n
		close(g.changed)
		g.changed = make(chan struct{})
	}
}

// fileIndex returns the index of the file an upload carries: the first its bodies were seen
// to carry, else the one its name and size give; -1 for none. The caller holds g.mu.
func (g *TusGrader) fileIndex(id string) int {
	if fs := g.files[id]; len(fs) > 0 {
		for i, u := range g.uploads {
			if u.File == fs[0] {
				return i
			}
		}
	}
	if i, ok := g.planOf[id]; ok {
		return i
	}
	return -1
}

// tusMetadata returns the decoded value of key in an Upload-Metadata value; "" if none.
func tusMetadata(md, key string) string {
	for pair := range strings.SplitSeq(md, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == key {
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				return string(b)
			}
		}
	}
	return ""
}

// tusOffset returns the Upload-Offset a successful answer of e gave.
func tusOffset(e *fakeserver.JournalEntry) (int64, bool) {
	if e.Status < 200 || e.Status >= 300 || e.Answer == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(e.Answer, 10, 64)
	return n, err == nil && n >= 0
}

// tusCompletes reports whether e's answer says that the upload is whole on the server.
func tusCompletes(e *fakeserver.JournalEntry) bool {
	n, ok := tusOffset(e)
	return ok && e.Total >= 0 && n == e.Total
}

// isTusGone reports whether e's answer says that the upload is no more: 404 or 410.
func isTusGone(e *fakeserver.JournalEntry) bool {
	return e.Status == http.StatusNotFound || e.Status == http.StatusGone
}

// isTusStopping reports whether e's answer is a 4xx that ends the upload with an error: not
// 408, 409, 423, 429, 460 (a client may retry them), nor 404 and 410 (a new upload is
// right).
func isTusStopping(e *fakeserver.JournalEntry) bool {
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusLocked, http.StatusTooManyRequests,
		tus.StatusChecksumMismatch, http.StatusNotFound, http.StatusGone:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

// carriesBytes reports whether e is a request with a body of the upload's bytes (a PATCH,
// or a creating POST with a body).
func carriesBytes(e *fakeserver.JournalEntry) bool { return e.Start >= 0 && e.End >= e.Start }
