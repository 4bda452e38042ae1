package tus

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
)

// maxJournalAnswer bounds the answer kept in a journal entry.
const maxJournalAnswer = 256

// exchange is one request in progress: the ResponseWriter the protocol writes to, with what
// its journal entry, its log line and its fault need.
type exchange struct {
	http.ResponseWriter
	h     *handler
	r     *http.Request
	seq   int64
	start time.Time
	body  *countReader

	status   int
	out      int64
	outcome  string
	reason   string
	upload   string // the upload's ID, once known
	total    int64  // its Upload-Length; -1 deferred or unknown
	fileName string
	entry    fakeserver.JournalEntry
	recorded bool

	fault   *fakeserver.FaultRule // the rule that fired, nil when none
	effect  fakeserver.FaultEffect
	delayed bool
	stalled bool
}

// exchangeOf returns the exchange behind w; nil when w is not one (never within ServeHTTP).
func exchangeOf(w http.ResponseWriter) *exchange {
	x, _ := w.(*exchange)
	return x
}

// WriteHeader journals the answer just before the client can see it; a delay fault waits
// first, and a lost-reply fault drops the connection instead of a success.
func (x *exchange) WriteHeader(code int) {
	if code < 200 || x.status != 0 {
		x.ResponseWriter.WriteHeader(code)
		return
	}
	if x.fault != nil && x.effect.Action == "delay" && !x.delayed {
		x.delayed = true
		x.h.pause(x.r, x.effect.Wait)
	}
	if x.fault != nil && x.effect.Action == "lost-reply" && code < 300 {
		x.drop(false)
		return
	}
	x.status = code
	x.record()
	x.ResponseWriter.WriteHeader(code)
}

func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if x.outcome != fakeserver.OutcomeAnswered {
		return 0, http.ErrHijacked
	}
	n, err := x.ResponseWriter.Write(p)
	x.out += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

// drop closes the connection without an answer (reset: with RST), journalled first.
func (x *exchange) drop(reset bool) {
	x.status, x.outcome = 0, fakeserver.OutcomeDropped
	if reset {
		x.outcome = fakeserver.OutcomeReset
	}
	if x.stalled {
		x.outcome = fakeserver.OutcomeStalled
	}
	x.reason = "scripted fault " + x.fault.String()
	x.record()
	conn, _, err := http.NewResponseController(x.ResponseWriter).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection without an answer
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0) // the close sends RST; a failure leaves a plain close
	}
	_ = conn.Close() // nothing else to do with it
}

// record adds the journal entry of x, once.
func (x *exchange) record() {
	if x.recorded {
		return
	}
	x.recorded = true
	x.entry = x.journalEntry()
	x.h.journal.Add(x.entry)
}

// journalEntry maps the request to the journal's fields: Session is the upload ID, Range the
// PATCH's Upload-Offset, Start..End the bytes of the body at that offset, Total the upload's
// length.
func (x *exchange) journalEntry() fakeserver.JournalEntry {
	r := x.r
	e := fakeserver.JournalEntry{
		Seq: x.seq, Time: x.start, Remote: r.RemoteAddr, Method: r.Method, Path: r.URL.Path,
		Start: -1, End: -1, Total: x.total, Session: x.upload, FileName: x.fileName,
		ContentType: r.Header.Get("Content-Type"), ContentLength: -1, BodyRead: x.body.n,
		Status: x.status, Outcome: x.outcome, Reason: x.reason, Duration: time.Since(x.start),
	}
	if len(r.Header["Content-Length"]) > 0 && len(r.TransferEncoding) == 0 {
		e.ContentLength = r.ContentLength
	}
	if v := r.Header.Get("Upload-Offset"); v != "" {
		e.RangeHeader, e.Range = "Upload-Offset", v
	}
	if x.fault != nil {
		e.Fault = x.fault.String()
		e.ShapedBy = []string{"fault"}
	}
	if start, ok := x.bodyStart(); ok {
		n := e.ContentLength
		if n < 0 {
			n = x.body.n
		}
		e.Start, e.End = start, start+n-1
	}
	if x.stalled && e.Status >= 400 {
		e.Outcome = fakeserver.OutcomeStalled
	}
	if e.Status != 0 {
		e.Answer = x.ResponseWriter.Header().Get("Upload-Offset")
		if e.Status >= 300 {
			e.Answer = x.reason
		}
	}
	e.Answer = e.Answer[:min(len(e.Answer), maxJournalAnswer)]
	return e
}

// bodyStart is the offset of the request's body in the upload: Upload-Offset for a PATCH, 0
// for a creating POST with a body.
func (x *exchange) bodyStart() (int64, bool) {
	if x.r.Header.Get("Content-Type") != OffsetOctetStream {
		return 0, false
	}
	if v := x.r.Header.Get("Upload-Offset"); v != "" {
		return parseLength(v)
	}
	return 0, x.r.Method == http.MethodPost
}

// pause waits d, or less when the request ends or the server closes.
func (h *handler) pause(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-h.stop:
	}
}

// pickFault fires the fault plan's rule for a request that carries bytes of upload id at
// offset start, of an upload of length total (-1 unknown). It reports false when the request
// names an unknown plan, which it answers 400.
func (h *handler) pickFault(x *exchange, id string, start, total int64) bool {
	if x == nil {
		return true
	}
	end := start + x.r.ContentLength - 1
	if x.r.ContentLength < 0 {
		end = max(start, total-1)
	}
	plan := strings.TrimSpace(x.r.Header.Get(fakeserver.FaultPlanHeader))
	rule, ok, err := h.faults.Pick(plan, id, ranges.Segment{Start: start, End: end, Total: total})
	if err != nil {
		fail(x, http.StatusBadRequest, "no fault plan named %q (header %s)", plan, fakeserver.FaultPlanHeader)
		return false
	}
	if ok {
		x.fault, x.effect = &rule, rule.Effect()
	}
	return true
}

// faultAnswer answers the status of the fault that fired: its body (or a one-line reason),
// content type and Retry-After.
func faultAnswer(x *exchange) {
	fe := x.effect
	hd := x.Header()
	hd.Del("Upload-Offset")
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	if fe.ContentType != "" {
		hd.Set("Content-Type", fe.ContentType)
	}
	if fe.RetryAfter != "" {
		hd.Set("Retry-After", fe.RetryAfter)
	}
	x.reason = "scripted fault " + x.fault.String()
	body := fe.Body
	if body == nil {
		body = []byte(x.reason + "\n")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	x.WriteHeader(fe.Status)
	_, _ = x.Write(body)
}

// drainLimit bounds what a fault reads and discards of a body it does not store.
const drainLimit = 1 << 30

// drain reads and discards at most n bytes of the body (n < 0: all of it, up to drainLimit).
func drain(r io.Reader, n int64) {
	if n < 0 {
		n = drainLimit
	}
	_, _ = io.CopyN(io.Discard, r, n)
}

// stallReader returns left bytes of r, then waits the fault's duration before it reads on.
type stallReader struct {
	x    *exchange
	r    io.Reader
	left int64
}

func (s *stallReader) Read(p []byte) (int, error) {
	x := s.x
	if s.left <= 0 && !x.stalled {
		x.stalled = true
		x.h.pause(x.r, x.effect.Wait)
		// The read deadline set before this read has run out during the stall.
		rc := http.NewResponseController(x.ResponseWriter)
		if err := rc.SetReadDeadline(time.Now().Add(x.h.opts.BodyReadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	if !x.stalled {
		p = p[:min(int64(len(p)), s.left)]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// forgetUpload loses upload id as a server that never had it: its entry and its bytes go,
// and it is unknown afterwards (404). It reports whether there was such an upload.
func (h *handler) forgetUpload(id string) bool {
	e, err := h.lookup(id)
	if err != nil {
		return false
	}
	e.mu.Lock()
	e.removed = true
	e.mu.Unlock()
	h.mu.Lock()
	delete(h.entries, id)
	h.mu.Unlock()
	_ = e.up.Remove()
	return true
}

// restart loses what the server holds in memory, as a restart does: the uploads it loaded
// (reloaded from the store when next asked for), what it knew was gone, and, with the store
// in memory, every upload.
func (h *handler) restart() {
	h.mu.Lock()
	h.entries, h.gone, h.goneOrder = map[string]*entry{}, map[string]bool{}, nil
	h.mu.Unlock()
	if m, ok := h.opts.Store.(*memStore); ok {
		m.forgetAll()
	}
}

// fileList is the uploads completed since the server started.
type fileList struct {
	mu    sync.Mutex
	files []fakeserver.CompletedFile
}

func (l *fileList) add(f fakeserver.CompletedFile) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.files = append(l.files, f)
}

func (l *fileList) list() []fakeserver.CompletedFile {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]fakeserver.CompletedFile{}, l.files...)
}

// completed records info, an upload whose last byte was stored.
func (h *handler) completed(info Info) {
	h.files.add(fakeserver.CompletedFile{Session: info.ID, Name: metadataValue(info.Metadata, "filename"),
		Size: info.Length, URL: h.base + info.ID, Time: h.opts.now().UTC()})
}

// metadataValue returns the decoded value of key in an Upload-Metadata value; "" if none.
func metadataValue(md, key string) string {
	for pair := range strings.SplitSeq(md, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == key {
			b, err := base64.StdEncoding.DecodeString(v)
			if err == nil {
				return string(b)
			}
		}
	}
	return ""
}

// Admin reads and changes the state of a reference tus server: its journal, its uploads (the
// admin API's sessions), its completed uploads and its fault plan. It is the backend of the
// admin API under Options.AdminPrefix.
type Admin struct{ h *handler }

var _ fakeserver.AdminBackend = (*Admin)(nil)

// Admin returns the server's Admin.
func (s *Server) Admin() *Admin { return &Admin{h: s.handler} }

// Journal returns the journal entries f selects.
func (a *Admin) Journal(f fakeserver.JournalFilter) []fakeserver.JournalEntry {
	return a.h.journal.Read(f).Entries
}

// JournalPage returns the journal entries f selects, with the drop count and the last number.
func (a *Admin) JournalPage(f fakeserver.JournalFilter) fakeserver.JournalPage {
	return a.h.journal.Read(f)
}

// Sessions returns the uploads the server holds in memory, by ID.
func (a *Admin) Sessions() []fakeserver.SessionInfo {
	a.h.mu.Lock()
	es := make([]*entry, 0, len(a.h.entries))
	for _, e := range a.h.entries {
		es = append(es, e)
	}
	a.h.mu.Unlock()
	out := make([]fakeserver.SessionInfo, 0, len(es))
	for _, e := range es {
		out = append(out, sessionInfo(e.up.Info()))
	}
	slices.SortFunc(out, func(x, y fakeserver.SessionInfo) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// Session returns upload id (loaded from the store if need be).
func (a *Admin) Session(id string) (fakeserver.SessionInfo, bool) {
	if !validID.MatchString(id) {
		return fakeserver.SessionInfo{}, false
	}
	e, err := a.h.lookup(id)
	if err != nil {
		return fakeserver.SessionInfo{}, false
	}
	return sessionInfo(e.up.Info()), true
}

// ForgetSession loses upload id, bytes and all, as the fault forget does: it is unknown (404)
// afterwards. It reports whether there was such an upload.
func (a *Admin) ForgetSession(id string) bool {
	return validID.MatchString(id) && a.h.forgetUpload(id)
}

// Reset empties the journal (sequence numbers go on) and makes the fault plan the configured
// one again (Options.Faults, nothing fired). Uploads stay.
func (a *Admin) Reset() {
	a.h.journal.Clear()
	a.h.faults.Reset()
}

// Files returns the uploads completed since the server started, in completion order.
func (a *Admin) Files() []fakeserver.CompletedFile { return a.h.files.list() }

// Faults returns the rules of the fault plan with how often each fired.
func (a *Admin) Faults() []fakeserver.FaultStatus { return a.h.faults.Status() }

// AddFaults appends rules to the fault plan.
func (a *Admin) AddFaults(rules ...fakeserver.FaultRule) { a.h.faults.Add(rules) }

// ClearFaults removes the rules of plan ("" the default plan, "*" every plan); it returns how
// many.
func (a *Admin) ClearFaults(plan string) int { return a.h.faults.Clear(plan) }

// sessionInfo maps an upload to the admin API's session: the bytes up to its offset are
// acknowledged.
func sessionInfo(info Info) fakeserver.SessionInfo {
	s := fakeserver.SessionInfo{ID: info.ID, FileName: metadataValue(info.Metadata, "filename"), Total: info.Length,
		Acknowledged: []ranges.Range{}, InFlight: []ranges.Range{}, State: fakeserver.SessionIncomplete}
	if info.Offset > 0 {
		s.Acknowledged = append(s.Acknowledged, ranges.Range{Start: 0, End: info.Offset - 1})
		total := "*"
		if info.Length >= 0 {
			total = strconv.FormatInt(info.Length, 10)
		}
		s.List = fmt.Sprintf("0-%d/%s", info.Offset-1, total)
	}
	if info.Complete() {
		s.State = fakeserver.SessionComplete
	}
	return s
}
