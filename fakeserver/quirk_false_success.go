package fakeserver

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// FalseSuccess: the failures of docs/module-behavior.md §2.6 answer with the backend's response
// (class C) and the backend gets an empty form.
const FalseSuccess Quirk = "false-success"

func falseSuccessQuirk() quirkDef {
	return quirkDef{FalseSuccess, "C",
		"a total that differs from the session's, a range without a session ID, a state that cannot be " +
			"stored (session ID of 250-255 characters) or a write at a wrapped negative offset answers with " +
			"the backend's response and sends the backend an empty form; a segment of another total is " +
			"written in full, past the session's total",
		"docs/module-behavior.md §2.6, §3.6, §1.5, §1.7, §9; issues #10, #112",
		installFalseSuccess}
}

// installFalseSuccess turns the module's silent failures into class C answers, at three
// decision points: header parsing (a range without a session ID, §1.7; a session ID of 250-255
// characters, §1.5; a wrapped start, §1.6), the total mismatch (the bytes go into the data
// file in full, past the session's total too, and the state stays, §3.6, §9), and the failure
// answer (a total mismatch found any other way). The bytes past the total follow the session's
// completed file (complete, finished and file).
func installFalseSuccess(q Quirk, b *behavior, h *handler) {
	classC := func(x *exchange, status int, reason string) *failure {
		x.by(string(q))
		return &failure{kind: kindDeviation, status: status, reason: reason, outcome: falseSuccess}
	}
	const stateTooLong = "failed to create or open state file: file name too long"

	headers := b.headers
	b.headers = func(x *exchange) (segmentHeaders, *failure) {
		hd, f := headers(x)
		switch {
		case f == nil:
		case f.kind == kindLongSessionID:
			return hd, classC(x, http.StatusBadRequest, stateTooLong)
		case f.kind == kindWrappedStart:
			return hd, classC(x, http.StatusBadRequest, f.reason)
		case f.kind == kindMalformed && f.outcome == answerStatus:
			// The reference's grammar refused a session ID that the module takes: too long
			// (a drop decided by the module's own grammar stays a drop).
			if id := sessionHeaderValue(x.r); len(id) > protocol.MaxSessionIDLen && validModuleSessionID(id) {
				if len(id) < 256 {
					return hd, classC(x, http.StatusBadRequest, stateTooLong)
				}
				return hd, fail(kindLongSessionID, http.StatusBadRequest, fmt.Sprintf("invalid session ID: longer than %d characters", protocol.MaxSessionIDLen))
			}
		case f.kind == kindIncomplete && hd.hasRange && hd.session == "":
			// the module writes the bytes to a temporary file and forwards an empty form
			return hd, classC(x, http.StatusBadRequest, f.reason)
		}
		return hd, f
	}

	// The segment's bytes are written in full at their offsets, past the session's total too
	// (§3.6, §9): what lies past the total follows the completed file (overflow).
	over := &overflow{tails: map[string][]byte{}, pending: map[string][]byte{}}
	mismatch, complete, finished, file := b.mismatch, b.complete, b.finished, b.file
	b.mismatch = func(x *exchange, s *session, seg ranges.Segment) (ticket, *failure) {
		if s.upload == nil || s.phase != phaseActive {
			return mismatch(x, s, seg)
		}
		refuse := classC(x, http.StatusConflict, fmt.Sprintf("total %d differs from the session's total %d", seg.Total, s.total))
		return ticket{s: s, upload: over.writer(s), gaps: []ranges.Range{seg.Range()}, refuse: refuse}, nil
	}
	b.complete = func(x *exchange, s *session) {
		complete(x, s)
		over.completed(s)
	}
	b.finished = func(x *exchange, id, name string, total int64) {
		finished(x, id, name, total)
		over.finished(id, name)
	}
	b.file = func(x *exchange, name string, f File) File {
		f = file(x, name, f)
		if tail := over.tailOf(name); len(tail) > 0 {
			x.by(string(q))
			return tailFile{File: f, tail: tail}
		}
		return f
	}

	answer := b.failure
	b.failure = func(x *exchange, f *failure) outcome {
		if f.kind == kindTotalMismatch {
			x.by(string(q))
			return falseSuccess // class C, §2.6, §3.6
		}
		return answer(x, f)
	}
}

// sessionHeaderValue returns the first session header's value.
func sessionHeaderValue(r *http.Request) string {
	for _, k := range [...]string{keySessionID, keyXSessionID} {
		if vs := r.Header[k]; len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// overflow is what false-success keeps of the bytes that segments of another total wrote past
// a session's total (docs/module-behavior.md §9: the module writes them into the shared data
// file in full, so the first file, once completed, is longer than its total). At most
// maxReuseTail bytes past the total are kept; the emulation drops what lies beyond.
type overflow struct {
	mu      sync.Mutex
	pending map[string][]byte // session ID → the bytes past its total, once it is complete
	tails   map[string][]byte // completed file name → the bytes that follow it
}

// overflowKey is the key of a session's overflowTail in session.value.
type overflowKey struct{}

// overflowTail is the bytes written past one session's total, from offset total on.
type overflowTail struct {
	mu   sync.Mutex
	data []byte
}

// writeAt stores p at offset off past the total, within maxReuseTail.
func (t *overflowTail) writeAt(p []byte, off int64) {
	if off >= maxReuseTail {
		return
	}
	p = p[:min(int64(len(p)), maxReuseTail-off)]
	t.mu.Lock()
	defer t.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(t.data)) {
		t.data = append(t.data, make([]byte, end-int64(len(t.data)))...)
	}
	copy(t.data[off:], p)
}

// bytes returns a copy of the tail.
func (t *overflowTail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.data...)
}

// writer returns the upload a segment of another total writes through: its bytes below the
// session's total go to the session's upload, the rest to the session's tail. s.mu is held.
func (o *overflow) writer(s *session) Upload {
	t, _ := s.value(overflowKey{}).(*overflowTail)
	if t == nil {
		t = &overflowTail{}
		s.setValue(overflowKey{}, t)
	}
	return overflowUpload{Upload: s.upload, total: s.total, tail: t}
}

// completed moves the tail of the complete session s aside until its file is stored. s.mu is
// held.
func (o *overflow) completed(s *session) {
	t, _ := s.value(overflowKey{}).(*overflowTail)
	if t == nil {
		return
	}
	s.setValue(overflowKey{}, nil)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending[s.id] = t.bytes()
}

// finished gives the completed file name of session id the tail the session had.
func (o *overflow) finished(id, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if tail, ok := o.pending[id]; ok {
		delete(o.pending, id)
		o.tails[name] = tail
		return
	}
	delete(o.tails, name)
}

// tailOf returns the bytes that follow the completed file name.
func (o *overflow) tailOf(name string) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tails[name]
}

// overflowUpload writes below total into the session's upload and past it into the tail.
type overflowUpload struct {
	Upload
	total int64
	tail  *overflowTail
}

// WriteAt splits p at the total.
func (u overflowUpload) WriteAt(p []byte, off int64) (int, error) {
	n := 0
	if off < u.total {
		k := min(int64(len(p)), u.total-off)
		m, err := u.Upload.WriteAt(p[:k], off)
		n += m
		if err != nil {
			return n, err
		}
		p, off = p[k:], u.total
	}
	if len(p) > 0 {
		u.tail.writeAt(p, off-u.total)
		n += len(p)
	}
	return n, nil
}
