package fakeserver

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// Handler is the reference server as an http.Handler (New), with its admin face (Admin).
type Handler struct {
	h    *handler
	next http.Handler // h, behind CORS when Options.CORSOrigins asks for it
}

// ServeHTTP answers a request: a segment, a completed file, the admin API, the fallback, or
// 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// Admin returns the inspection and control face of the handler.
func (h *Handler) Admin() *Admin { return &Admin{h: h.h} }

// Admin is the inspection and control face of a reference server: the journal of requests,
// the sessions, the completed files, the scripted faults. The admin API (Options.AdminPrefix)
// serves the same. Its methods are safe for concurrent use with the requests being served.
type Admin struct{ h *handler }

// Admin returns the inspection and control face of the server.
func (s *Server) Admin() *Admin { return &Admin{h: s.handler} }

// Journal returns the entries of the server's journal that f selects, oldest first.
func (s *Server) Journal(f JournalFilter) []JournalEntry { return s.Admin().Journal(f) }

// Sessions returns the sessions the server holds in memory, by ID.
func (s *Server) Sessions() []SessionInfo { return s.Admin().Sessions() }

// Session returns the session id (read from the store if it is not in memory), or false when
// there is none.
func (s *Server) Session(id string) (SessionInfo, bool) { return s.Admin().Session(id) }

// ForgetSession forgets the session id, as a server that lost it (Admin.ForgetSession).
func (s *Server) ForgetSession(id string) bool { return s.Admin().ForgetSession(id) }

// Reset returns the server to its start (Admin.Reset).
func (s *Server) Reset() { s.Admin().Reset() }

// Journal returns the entries that f selects, oldest first.
func (a *Admin) Journal(f JournalFilter) []JournalEntry { return a.h.journal.Read(f).Entries }

// JournalPage returns the entries that f selects with the journal's counters: how many
// entries the ring dropped, and the sequence number of the latest request.
func (a *Admin) JournalPage(f JournalFilter) JournalPage { return a.h.journal.Read(f) }

// Sessions returns the sessions held in memory (those the server saw since it started, or
// was reset or restarted), sorted by ID.
func (a *Admin) Sessions() []SessionInfo {
	h := a.h
	h.mu.Lock()
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	infos := []SessionInfo{}
	for _, s := range all {
		s.mu.Lock()
		if !s.dead && s.total > 0 {
			infos = append(infos, h.info(s))
		}
		s.mu.Unlock()
	}
	slices.SortFunc(infos, func(x, y SessionInfo) int { return cmp.Compare(x.ID, y.ID) })
	return infos
}

// Session returns the session id, loading it from the store when it is not in memory (as a
// segment of it would), or false when there is none or id is not a valid session ID.
func (a *Admin) Session(id string) (SessionInfo, bool) {
	h := a.h
	if !protocol.ValidSessionID(id) {
		return SessionInfo{}, false
	}
	s := h.lookup(id, h.now())
	defer s.mu.Unlock()
	if err := h.load(s); err != nil || s.total == 0 {
		h.dropIfEmpty(s)
		return SessionInfo{}, false
	}
	return h.info(s), true
}

// ForgetSession forgets the session id as a server that lost it: its state in memory, its
// incomplete bytes and its completion record in the store are dropped (a completed file
// stays), so that its next segment starts it afresh. A segment of it still in flight fails with a 500 instead of being
// acknowledged. It reports whether there was such a session.
func (a *Admin) ForgetSession(id string) bool {
	if !protocol.ValidSessionID(id) {
		return false
	}
	return a.h.forgetSession(id)
}

// Reset returns the server to its start: the journal is emptied (sequence numbers go on),
// every session in memory is forgotten (ForgetSession), and the fault plan is the configured
// one again (Options.Faults, with nothing fired). Completed files stay.
func (a *Admin) Reset() {
	h := a.h
	h.mu.Lock()
	ids := make([]string, 0, len(h.sessions))
	for id := range h.sessions {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	for _, id := range ids {
		h.forgetSession(id)
	}
	h.journal.Clear()
	h.faults.Reset()
}

// Files returns the files completed since the server started, by name.
func (a *Admin) Files() []CompletedFile { return a.h.files.list() }

// Faults returns the rules of the fault plan, in order, with how often each fired.
func (a *Admin) Faults() []FaultStatus { return a.h.faults.Status() }

// AddFaults appends rules to the fault plan.
func (a *Admin) AddFaults(rules ...FaultRule) { a.h.faults.Add(rules) }

// ClearFaults removes every rule of the plan named plan ("" is the default plan, "*" every
// plan) and returns how many it removed.
func (a *Admin) ClearFaults(plan string) int { return a.h.faults.Clear(plan) }

// info is what s holds. s.mu is held.
func (h *handler) info(s *session) SessionInfo {
	in := SessionInfo{ID: s.id, FileName: s.name, Total: s.total, Acknowledged: []ranges.Range{}, InFlight: []ranges.Range{}, State: SessionIncomplete}
	if s.acked != nil {
		in.Acknowledged = s.acked.Ranges()
		in.List = s.acked.Format(h.opts.RangeFormat)
	}
	in.InFlight = append(in.InFlight, s.inflight...)
	slices.SortFunc(in.InFlight, func(x, y ranges.Range) int { return cmp.Compare(x.Start, y.Start) })
	if s.phase != phaseActive {
		in.State = SessionComplete
	}
	return in
}

// errForgotten is the store error of a segment whose session was forgotten while it was in
// flight.
var errForgotten = errors.New("the session was forgotten while the segment was in flight")

// lostUpload stands for the upload of a forgotten session in the requests that still hold
// it: nothing more of it can be committed.
type lostUpload struct{ total int64 }

func (u lostUpload) Total() int64                            { return u.total }
func (lostUpload) Ranges() []ranges.Range                    { return nil }
func (lostUpload) WriteAt([]byte, int64) (int, error)        { return 0, errForgotten }
func (lostUpload) Flush() error                              { return errForgotten }
func (lostUpload) Commit(ranges.Range, []ranges.Range) error { return errForgotten }
func (lostUpload) Finish(string) (File, error)               { return nil, errForgotten }
func (lostUpload) Discard() error                            { return nil }

// forgetSession forgets session id in memory and drops its incomplete bytes from the store.
func (h *handler) forgetSession(id string) bool {
	s := h.lookup(id, h.now())
	defer s.mu.Unlock()
	_ = h.load(s) // a session the store cannot load has nothing to forget there
	had := s.total > 0 || s.upload != nil
	switch {
	case s.handing:
		// its hand-off finishes it; a retry gets the completion
	case s.upload != nil:
		_ = s.upload.Discard() // forgetting is the point: a failure leaves only garbage
	case s.phase != phaseActive:
		// A completion record: creating the ID again removes it (CompletionStore), and the
		// empty upload goes with it. The completed file stays.
		if u, err := h.opts.Store.Create(s.id, s.total); err == nil {
			_ = u.Discard()
		}
	}
	h.lose(s)
	return had
}

// restart loses every session held in memory, as a restarted server does: the store keeps
// them, and the next segment of each loads it again.
func (h *handler) restart() {
	h.mu.Lock()
	all := h.sessions
	h.sessions = map[string]*session{}
	h.mu.Unlock()
	for _, s := range all {
		s.mu.Lock()
		h.lose(s)
		s.mu.Unlock()
	}
}

// lose marks s dead and removes it from the sessions; a segment of it still in flight can no
// longer commit. s.mu is held.
func (h *handler) lose(s *session) {
	if s.phase == phaseActive && s.upload != nil {
		s.upload = lostUpload{s.total}
	}
	s.dead = true
	h.forget(s)
}

// fileList is the files completed since the start, by name.
type fileList struct {
	mu    sync.Mutex
	files map[string]CompletedFile
}

func (l *fileList) add(f CompletedFile) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil {
		l.files = map[string]CompletedFile{}
	}
	l.files[f.Name] = f
}

func (l *fileList) list() []CompletedFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := make([]CompletedFile, 0, len(l.files))
	for _, f := range l.files {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(x, y CompletedFile) int { return cmp.Compare(x.Name, y.Name) })
	return fs
}

// completed records the file the store finished for session id and calls OnComplete.
func (h *handler) completed(id, name string, f File) {
	c := CompletedFile{Session: id, Name: name, Size: f.Size(), Path: f.Path(), URL: h.opts.FilePrefix + name, Time: h.now()}
	h.files.add(c)
	if h.opts.OnComplete != nil {
		h.opts.OnComplete(c)
	}
}

// deviations returns the deviations installed in the handler's behaviour, in order: the
// quirks, then the scripted faults, which see what the quirks decided.
func (h *handler) deviations() []deviation { return append(h.opts.deviations(), h.faults) }

// close ends the waits of the faults (stall, delay) at once; the server is closing.
func (h *handler) close() { h.stopped.Do(func() { close(h.stop) }) }

// pause waits d, or less when the request ends or the server closes; it reports whether the
// whole of d passed.
func (h *handler) pause(x *exchange, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.r.Context().Done():
	case <-h.stop:
	}
	return false
}
