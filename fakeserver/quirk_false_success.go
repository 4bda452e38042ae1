package fakeserver

import (
	"fmt"
	"net/http"

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
			"the backend's response and sends the backend an empty form",
		"docs/module-behavior.md §2.6, §3.6, §1.5, §1.7; issues #10, #112",
		installFalseSuccess}
}

// installFalseSuccess turns the module's silent failures into class C answers, at three
// decision points: header parsing (a range without a session ID, §1.7; a session ID of 201-255
// characters, §1.5; a wrapped start, §1.6), the total mismatch (the bytes go into the data
// file, the state stays, §3.6), and the failure answer (a total mismatch found any other way).
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

	mismatch := b.mismatch
	b.mismatch = func(x *exchange, s *session, seg ranges.Segment) (ticket, *failure) {
		if s.upload == nil || s.phase != phaseActive {
			return mismatch(x, s, seg)
		}
		var gaps []ranges.Range
		if r := seg.Range(); r.Start < s.total {
			gaps = []ranges.Range{{Start: r.Start, End: min(r.End, s.total-1)}}
		}
		refuse := classC(x, http.StatusConflict, fmt.Sprintf("total %d differs from the session's total %d", seg.Total, s.total))
		return ticket{s: s, upload: s.upload, gaps: gaps, refuse: refuse}, nil
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
