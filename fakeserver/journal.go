package fakeserver

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/ranges"
)

// DefaultJournalSize is the number of entries the journal keeps when Options.JournalSize is 0.
const DefaultJournalSize = 10000

// maxJournalAnswer bounds the answer kept in a journal entry.
const maxJournalAnswer = 256

// Outcomes of a journal entry (JournalEntry.Outcome).
const (
	// OutcomeAnswered: an answer with a status was written.
	OutcomeAnswered = "answered"
	// OutcomeDropped: the connection was closed without an answer.
	OutcomeDropped = "dropped"
	// OutcomeReset: the connection was reset while the body was read, without an answer.
	OutcomeReset = "reset"
	// OutcomeStalled: the server stopped reading the body for a while, then failed it.
	OutcomeStalled = "stalled"
)

// JournalEntry is one request the server answered, as it saw it.
type JournalEntry struct {
	Seq           int64         `json:"seq"`                      // 1, 2, ... in arrival order
	Time          time.Time     `json:"time"`                     // when the request's head was read
	Remote        string        `json:"remote"`                   // remote address
	Method        string        `json:"method"`                   // the request's method
	Path          string        `json:"path"`                     // the request's path
	RangeHeader   string        `json:"range_header,omitempty"`   // the header name as sent: "X-Content-Range" or "Content-Range"
	Range         string        `json:"range,omitempty"`          // its value as sent
	Start         int64         `json:"start"`                    // the segment's bounds as parsed; -1 when no valid range
	End           int64         `json:"end"`                      // the last byte of the segment; -1 when no valid range
	Total         int64         `json:"total"`                    // the file's size; -1 when no valid range
	SessionHeader string        `json:"session_header,omitempty"` // the header name as sent: "Session-ID" or "X-Session-ID"
	Session       string        `json:"session,omitempty"`        // its value as sent
	Disposition   string        `json:"disposition,omitempty"`    // Content-Disposition as sent
	FileName      string        `json:"file_name,omitempty"`      // the file name it carries
	ContentType   string        `json:"content_type,omitempty"`   // Content-Type as sent
	ContentLength int64         `json:"content_length"`           // -1 when none was sent
	BodyRead      int64         `json:"body_read"`                // body bytes the server read
	Status        int           `json:"status"`                   // 0 when no answer was sent (dropped, reset)
	Outcome       string        `json:"outcome"`                  // "answered", "dropped", "reset", "stalled", ...
	Answer        string        `json:"answer,omitempty"`         // the range list or the body of the answer (first 256 bytes)
	Reason        string        `json:"reason,omitempty"`         // why a request was refused
	ShapedBy      []string      `json:"shaped_by,omitempty"`      // quirks and faults that shaped the answer
	Fault         string        `json:"fault,omitempty"`          // the fault rule that fired, as written
	Duration      time.Duration `json:"duration_ns"`              // from the head read to the answer written
}

// JournalFilter selects journal entries; the zero value selects all of them.
type JournalFilter struct {
	// Session keeps only the entries of this session ID ("" = every entry).
	Session string
	// Since keeps only the entries whose Seq is greater than Since.
	Since int64
}

func (f JournalFilter) match(e *JournalEntry) bool {
	return e.Seq > f.Since && (f.Session == "" || e.Session == f.Session)
}

// JournalPage is what a journal read returns: the entries selected, oldest first, with how
// many entries the ring has dropped since the server started (or was reset), and Last, from
// which a poller continues (JournalFilter.Since): every request numbered up to Last is in the
// journal (or was dropped). A request is journalled when it is answered, so a poll may also
// return entries numbered above Last, and return them again next time: keep them by Seq.
type JournalPage struct {
	Entries []JournalEntry `json:"entries"`
	Dropped int64          `json:"dropped"`
	Last    int64          `json:"last"`
}

// SessionInfo is what the server holds of one session.
type SessionInfo struct {
	ID           string         `json:"id"`
	FileName     string         `json:"file_name,omitempty"` // the last file name a segment of the session carried
	Total        int64          `json:"total"`
	Acknowledged []ranges.Range `json:"acknowledged"`
	InFlight     []ranges.Range `json:"in_flight"`
	State        string         `json:"state"` // SessionIncomplete or SessionComplete
	List         string         `json:"list"`  // Acknowledged as a 201 would list it; "" when none
}

// States of a session (SessionInfo.State).
const (
	// SessionIncomplete: bytes of the file are missing.
	SessionIncomplete = "incomplete"
	// SessionComplete: every byte is acknowledged.
	SessionComplete = "complete"
)

// CompletedFile is a file whose last byte was acknowledged and that the store finished.
type CompletedFile struct {
	Session string    `json:"session"` // the session ID it was uploaded under
	Name    string    `json:"name"`    // its name in the store (GET <FilePrefix><Name>)
	Size    int64     `json:"size"`
	Path    string    `json:"path,omitempty"` // where it lives on disk; "" for a store in memory
	URL     string    `json:"url"`            // the URL path the built-in backend serves it at
	Time    time.Time `json:"time"`           // when the store finished it
}

// Journal is a bounded ring of entries, numbered in arrival order (Next) and added when
// answered (Add). Both reference servers (this package's and fakeserver/tus) keep one.
type Journal struct {
	mu      sync.Mutex
	size    int
	ring    []JournalEntry // len <= size; ring[(start+i)%size] is the i-th oldest
	start   int
	seq     int64
	dropped int64
	pending map[int64]struct{} // numbered, not yet answered
}

// NewJournal returns an empty journal of size entries (DefaultJournalSize when size <= 0).
func NewJournal(size int) *Journal {
	if size <= 0 {
		size = DefaultJournalSize
	}
	return &Journal{size: size, pending: map[int64]struct{}{}}
}

// Next returns the next sequence number, in arrival order; Add must follow with it.
func (j *Journal) Next() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	j.pending[j.seq] = struct{}{}
	return j.seq
}

// Add records e, dropping the oldest entry when the ring is full.
func (j *Journal) Add(e JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.pending, e.Seq)
	if len(j.ring) < j.size {
		j.ring = append(j.ring, e)
		return
	}
	j.ring[j.start] = e
	j.start = (j.start + 1) % j.size
	j.dropped++
}

// Read returns the entries f selects, in sequence order.
func (j *Journal) Read(f JournalFilter) JournalPage {
	j.mu.Lock()
	defer j.mu.Unlock()
	p := JournalPage{Entries: []JournalEntry{}, Dropped: j.dropped, Last: j.seq}
	for seq := range j.pending {
		p.Last = min(p.Last, seq-1)
	}
	for i := range j.ring {
		e := &j.ring[(j.start+i)%len(j.ring)]
		if f.match(e) {
			c := *e
			c.ShapedBy = append([]string(nil), e.ShapedBy...)
			p.Entries = append(p.Entries, c)
		}
	}
	// Entries are added when their answers are written, which is not always arrival order.
	sortEntries(p.Entries)
	return p
}

// Clear forgets every entry; sequence numbers go on.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ring, j.start, j.dropped = nil, 0, 0
}

func sortEntries(es []JournalEntry) {
	slices.SortFunc(es, func(a, b JournalEntry) int { return cmp.Compare(a.Seq, b.Seq) })
}

// record adds the journal entry of x and writes its log line, once per request: just before
// the answer is written or the connection dropped, so that a client that got its answer
// finds the request in the journal.
func (h *handler) record(x *exchange) {
	if x.recorded {
		return
	}
	x.recorded = true
	e := h.entry(x)
	h.journal.Add(e)
	if h.opts.Logf != nil {
		h.opts.Logf("%s", JournalLine(&e, x.out))
	}
}

// entry is the journal entry of x.
func (h *handler) entry(x *exchange) JournalEntry {
	r := x.r
	e := JournalEntry{
		Seq:           x.seq,
		Time:          x.start,
		Remote:        r.RemoteAddr,
		Method:        r.Method,
		Path:          r.URL.Path,
		Start:         -1,
		End:           -1,
		Total:         -1,
		ContentType:   r.Header.Get("Content-Type"),
		Disposition:   r.Header.Get(keyDisposition),
		ContentLength: -1,
		BodyRead:      x.in,
		Status:        x.status,
		Outcome:       x.outcome,
		Reason:        x.reason,
		ShapedBy:      x.shapedBy,
		Fault:         firedRule(x),
		Duration:      time.Since(x.start),
	}
	e.RangeHeader, e.Range = firstHeader(r, "X-Content-Range", keyXContentRange, "Content-Range", keyContentRange)
	e.SessionHeader, e.Session = firstHeader(r, "Session-ID", keySessionID, "X-Session-ID", keyXSessionID)
	if len(r.Header["Content-Length"]) > 0 && len(r.TransferEncoding) == 0 {
		e.ContentLength = r.ContentLength
	}
	if hd := x.hd; hd != nil {
		if hd.hasRange {
			e.Start, e.End, e.Total = hd.seg.Start, hd.seg.End, hd.seg.Total
		}
		if hd.session != "" {
			e.Session = hd.session
		}
		e.FileName = hd.fileName
	}
	if x.status == 0 && e.Outcome == OutcomeAnswered {
		e.Outcome = OutcomeDropped // the handler ended without an answer
	}
	e.Answer = x.answer
	return e
}

// clipAnswer returns the start of an answer's body that the journal keeps.
func clipAnswer(s string) string { return s[:min(len(s), maxJournalAnswer)] }

// firstHeader returns the name (as the protocol spells it) and value of the first of two
// alias headers that r carries.
func firstHeader(r *http.Request, name1, key1, name2, key2 string) (name, value string) {
	if vs := r.Header[key1]; len(vs) > 0 {
		return name1, vs[0]
	}
	if vs := r.Header[key2]; len(vs) > 0 {
		return name2, vs[0]
	}
	return "", ""
}

// JournalLine is the one line of -v for e, out being the body bytes written: method, path, session, range, status (or the outcome
// of a request that got no answer), body bytes read and written, duration, the reason of a
// refusal, the fault that fired, and, last, the deviations that shaped the answer.
func JournalLine(e *JournalEntry, out int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s session=%s range=%s", e.Method, e.Path, orDash(e.Session), orDash(e.Range))
	if e.Status != 0 {
		fmt.Fprintf(&b, " status=%d", e.Status)
	} else {
		fmt.Fprintf(&b, " status=- outcome=%s", e.Outcome)
	}
	fmt.Fprintf(&b, " in=%d out=%d %s", e.BodyRead, out, e.Duration.Round(time.Microsecond))
	if e.Reason != "" {
		fmt.Fprintf(&b, " reason=%q", e.Reason)
	}
	if e.Fault != "" {
		fmt.Fprintf(&b, " fault=%q", e.Fault)
	}
	if len(e.ShapedBy) > 0 {
		b.WriteString(" by=" + strings.Join(e.ShapedBy, ","))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
