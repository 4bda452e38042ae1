package scenarios

import (
	"github.com/upspec/upspec/reports/result"
)

// Level is the strength of a clause: what a failed check of it means for the run. It is the
// result model's level (result.Level), named here for the catalogue.
type Level = result.Level

// The levels of the catalogue, strongest first.
const (
	// MUST clauses come from the protocol document's normative sentences or follow directly
	// from them; a failed check fails the run.
	MUST = result.MUST
	// SHOULD clauses are robustness every user relies on; a failed check is NON-STRICT and
	// fails the run only in strict mode.
	SHOULD = result.SHOULD
	// INFO clauses are left open by the document; the scenario records what the server does
	// and never fails.
	INFO = result.INFO
)

// ParseLevel reads "MUST", "SHOULD" or "INFO" in any letter case (result.ParseLevel).
func ParseLevel(s string) (Level, error) { return result.ParseLevel(s) }

// Clause is one testable requirement of the protocol (or of the robustness every user relies
// on). Its ID is stable: it never changes when the title, level or order changes, and checks
// and reports key on it.
type Clause struct {
	ID      string `json:"id"`      // e.g. "ack.list-exact"
	Level   Level  `json:"level"`   // MUST, SHOULD or INFO
	Section string `json:"section"` // where it comes from, e.g. "§2.4 Acknowledgement"
	Title   string `json:"title"`   // a few words
	Text    string `json:"text"`    // the requirement in full
}

// Sections of the catalogue, in document order.
const (
	secSegments   = "§2.1 Segments"
	secParallel   = "§2.1 Parallel segments"
	secEncaps     = "§2.2 Encapsulation"
	secSessions   = "§2.3 Sessions"
	secAck        = "§2.4 Acknowledgement"
	secRobustness = "Robustness (beyond the document)"
	secBackend    = "Backend hand-off (beyond the document)"
)

// Catalogue returns every clause, in document order (section by section). The slice is a
// fresh copy on every call.
func Catalogue() []Clause {
	return []Clause{
		// §2.1 Segments.
		{ID: "seg.numbering", Level: MUST, Section: secSegments, Title: "Inclusive byte numbering",
			Text: "Bytes are numbered 0..n-1. `bytes S-E/T` is inclusive at both ends; T is the file size. A segment with S = E (one byte) is valid."},
		{ID: "seg.any-order", Level: MUST, Section: secSegments, Title: "Segments in any order",
			Text: "Segments may arrive in any order, including last-first and gaps filled at the end; the server accepts them all."},
		{ID: "seg.retransmit", Level: MUST, Section: secSegments, Title: "Identical retransmission",
			Text: "A client may resend a segment (lost reply, interrupted connection) until it gets a positive answer; an identical resend is accepted and answered with the same list. This includes the seed's 2-byte status probe (`bytes 0-1/T`, repeated any number of times) and repeated single-byte segments."},
		{ID: "seg.large-offsets", Level: MUST, Section: secSegments, Title: "Offsets above 4 GiB",
			Text: "Offsets and totals above 2^32 are ordinary numbers (a 5 000 000 010-byte file, segments near its end, need no 5 GB of traffic)."},

		// §2.1 Parallel segments.
		{ID: "par.disjoint-allowed", Level: MUST, Section: secParallel, Title: "Disjoint parallel segments",
			Text: "Simultaneous requests of one session whose ranges do not overlap are allowed; each gets a positive answer, and exactly one of them is the completion when they finish the file."},
		{ID: "par.overlap-rejected", Level: MUST, Section: secParallel, Title: "Overlapping parallel segments rejected",
			Text: "Simultaneous requests of one session with overlapping ranges are forbidden; the server must answer at least one of them with an error (the document names no code; 409 Conflict is the natural one). Tested deterministically: request A (headers plus part of its body) is in flight while B is sent and answered; then A finishes."},
		{ID: "par.limit-503", Level: INFO, Section: secParallel, Title: "503 for too many connections",
			Text: "The server may answer 503 when a client opens more connections than it allows."},

		// §2.2 Encapsulation.
		{ID: "enc.post", Level: INFO, Section: secEncaps, Title: "Segments are POSTs",
			Text: "A segment is one POST. What other methods get (the module: 405; OPTIONS 200) is recorded."},
		{ID: "enc.header-aliases", Level: MUST, Section: secEncaps, Title: "Header aliases in any letter case",
			Text: "`X-Content-Range` and `Content-Range` are accepted alike, and so are `X-Session-ID` and `Session-ID`, in any letter case."},
		{ID: "enc.alias-conflict", Level: INFO, Section: secEncaps, Title: "Both aliases with different values",
			Text: "A request carrying both `X-Content-Range` and `Content-Range` (or both session headers) with different values: the document is silent. The module takes the last one; the reference answers 400. What the server does is recorded."},
		{ID: "enc.disposition", Level: MUST, Section: secEncaps, Title: "Content-Disposition names the file",
			Text: "`Content-Disposition: attachment; filename=\"name\"` names the file, and that name reaches the backend with the completed file (quoted or not; the document's own table writes `attachment, filename=`)."},
		{ID: "enc.disposition-missing", Level: INFO, Section: secEncaps, Title: "Segment without Content-Disposition",
			Text: "A segment without a Content-Disposition header: the module answers 415. What the server does is recorded; such a segment must still never be answered with a completion while bytes are missing."},
		{ID: "enc.body-matches-range", Level: MUST, Section: secEncaps, Title: "Body length equals range length",
			Text: "The body carries exactly E-S+1 bytes. A request whose body length differs from its range must not be acknowledged (the module answers 416 before reading the body)."},
		{ID: "enc.not-multipart", Level: INFO, Section: secEncaps, Title: "Segments are not multipart",
			Text: "A segment must not be sent as multipart/form-data; a server may then treat it as an ordinary form upload (the module does)."},
		{ID: "enc.empty-content-type", Level: INFO, Section: secEncaps, Title: "Empty Content-Type",
			Text: "A segment whose Content-Type header has an empty value (`Content-Type:` and nothing after it), which browsers send for a file of unknown type: the document is silent; the module accepts it like any non-multipart type. What the server does is recorded; a positive answer other than 201 while bytes are missing is still a false success."},
		{ID: "enc.range-missing", Level: INFO, Section: secEncaps, Title: "Request without a range header",
			Text: "A request with a Session-ID and a Content-Disposition but no range header: the document is silent. The module stores the body as an ordinary one-shot upload under the session's name and hands it to the backend (200); the reference answers 400. What the server does is recorded; the request must leave the session's acknowledged ranges as they were."},

		// §2.3 Sessions.
		{ID: "ses.multi-address", Level: MUST, Section: secSessions, Title: "One session from several addresses",
			Text: "Segments of one session may come from different client addresses. Testable when the target is on loopback (bind 127.0.0.2 as the source of one request); skipped otherwise, with the reason."},
		{ID: "ses.collision-total", Level: SHOULD, Section: secSessions, Title: "Same session ID, another total",
			Text: "Two files whose totals differ but which share a session ID (the seed's name+size hash makes this happen): the server must never answer a segment of the second with a completion (see ack.final-only-when-complete); it should answer with a 4xx that says so."},
		{ID: "ses.collision-same-total", Level: INFO, Section: secSessions, Title: "Same session ID, same total",
			Text: "Two files of equal size under one session ID: the server cannot tell them apart; what a completed file holds is recorded. Unique IDs are the client's duty (§2.3)."},
		{ID: "ses.long-id", Level: INFO, Section: secSessions, Title: "Long session IDs",
			Text: "Session IDs of 200, 250 and 255 characters from `[A-Za-z0-9_-]`: the document sets no length. The module works up to 249 characters (its state file name ends at the filesystem's 255 bytes); from 250 to 255 every segment gets a false success (200, an empty form to the backend), from 256 on a 500. What the server does is recorded; a false success is a finding of ack.final-only-when-complete."},
		{ID: "ses.id-missing", Level: INFO, Section: secSessions, Title: "Segment without a Session-ID",
			Text: "A segment with a range but no Session-ID header: the document names the header on every segment and says nothing of its absence. The module answers every such segment with a false success (200, an empty form to the backend; issue #10); the reference answers 400. What the server does is recorded; a positive answer other than 201 is a finding of ack.final-only-when-complete."},

		// §2.4 Acknowledgement.
		{ID: "ack.201-while-incomplete", Level: MUST, Section: secAck, Title: "201 while incomplete",
			Text: "Every accepted segment that leaves the file incomplete is answered 201 Created."},
		{ID: "ack.final-only-when-complete", Level: MUST, Section: secAck, Title: "No false success",
			Text: "A positive answer other than 201 (2xx/3xx) comes only when every byte of the file has been received. A 200 to a segment after which bytes are still missing is a false success; the real module gives one for a total mismatch, a missing Session-ID, an unusable state file and more."},
		{ID: "ack.final-is-backend-answer", Level: MUST, Section: secAck, Title: "Completion is the backend's answer",
			Text: "The answer to the completing segment is the backend's answer (the seed's backend: 200 `completed`), passed through. The harness can be told which status and body the deployment's backend gives (default: any 2xx/3xx other than 201)."},
		{ID: "ack.range-header", Level: MUST, Section: secAck, Title: "201 carries a Range header",
			Text: "Every 201 carries a `Range` header enumerating the byte ranges received so far in the session."},
		{ID: "ack.body-equals-header", Level: MUST, Section: secAck, Title: "201 body equals the Range header",
			Text: "The 201 body is the same list as the Range header, byte for byte (the module sends no trailing newline; the document's example shows a trailing space: trailing whitespace is accepted and recorded)."},
		{ID: "ack.list-exact", Level: MUST, Section: secAck, Title: "The list is exact",
			Text: "The listed ranges are exactly the bytes received so far in the session: nothing missing, nothing never sent, no list cut short. Compared as sets of bytes against the harness's own model. The real module cuts the list after about 256 bytes and crashes at about 86 disjoint ranges."},
		{ID: "ack.list-canonical", Level: SHOULD, Section: secAck, Title: "The list is sorted and merged",
			Text: "The list is sorted by start, with overlapping and adjacent ranges merged."},
		{ID: "ack.durable", Level: MUST, Section: secAck, Title: "Acknowledged ranges stay",
			Text: "A range once acknowledged stays in every later list of the session, including after an interrupted segment, a dropped connection or a backend error, and its bytes stay the bytes sent: a completed file whose acknowledged bytes read back as zeros lost them (the module with `upload_cleanup 400` deletes the data file when a segment is cut off after more than about 8.5 KiB of its body, and keeps listing the ranges). The bytes part needs the completed file (a file URL) or the harness backend's digests."},
		{ID: "ack.list-format", Level: INFO, Section: secAck, Title: "Textual form of the list",
			Text: "Which textual form the list uses: the module writes `0-5/24,9-15/24` (total on every item); the seed README writes `0-5,9-15/24`. The harness accepts both and records which."},

		// Robustness.
		{ID: "rob.malformed-4xx", Level: SHOULD, Section: secRobustness, Title: "Malformed headers get a 4xx",
			Text: "A malformed range, session ID, Content-Disposition or Content-Type (multipart/form-data without a boundary) gets a 4xx answer with a reason, not a connection closed without a byte (the module's behaviour)."},
		{ID: "rob.error-reason", Level: SHOULD, Section: secRobustness, Title: "Errors say why",
			Text: "An error answer (4xx) carries a body that says why (a one-line reason or an error page), so that a client author can act on it."},
		{ID: "rob.completion-idempotent", Level: SHOULD, Section: secRobustness, Title: "Retry after completion",
			Text: "A retry of the completing segment (its reply was lost) does not start a new session with a 201 listing only that range (module issue #46); it gets the completion again, or a clear error."},
		{ID: "rob.interrupted-segment", Level: MUST, Section: secRobustness, Title: "Interrupted segment",
			Text: "A segment cut off mid-body is not acknowledged, and does not destroy earlier acknowledged bytes (a module configured with `upload_cleanup 400` deletes the data file: holes in the final file). Needs file verification (backend probe or file URL) for the bytes part."},
		{ID: "rob.stored-bytes", Level: MUST, Section: secRobustness, Title: "Stored bytes are the bytes sent",
			Text: "When the harness can see the completed file (a file URL, or its own backend), the file is byte-for-byte what was sent, for every scenario that completes."},
		{ID: "rob.last-write", Level: INFO, Section: secRobustness, Title: "Different bytes for an acknowledged range",
			Text: "Different bytes resent for an acknowledged range: which bytes the completed file holds."},

		// Backend hand-off.
		{ID: "bk.form-whole-file", Level: SHOULD, Section: secBackend, Title: "The backend form describes the whole file",
			Text: "When the completed file is handed to the backend as a form (the module's `upload_pass`), the fields that carry its size or a digest (md5, sha1, sha256, sha512, crc32) carry the values of the whole file, whatever order its segments came in. A field the deployment does not send is not checked; a digest field sent empty is a finding. The real module sends the final segment's end + 1 as the size (issue #106) and empty digests whenever a range header was present (issue #22). Needs the harness backend (`--backend-listen`)."},
	}
}

// ClauseByID returns the clause with the given ID.
func ClauseByID(id string) (Clause, bool) {
	for _, c := range Catalogue() {
		if c.ID == id {
			return c, true
		}
	}
	return Clause{}, false
}
