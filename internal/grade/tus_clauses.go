package grade

import (
	"fmt"
	"slices"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// The tus client clauses, in catalogue order: what a client of tus 1.0.0 (protocol.md of
// 2016-03-25) is judged by in a grade with --protocol tus.
const (
	// TusResumableHeader is tus.cli.tus-resumable (MUST): Tus-Resumable on every request but OPTIONS.
	TusResumableHeader ID = "tus.cli.tus-resumable"
	// TusPatchContentType is tus.cli.patch-content-type (MUST): PATCH bodies are application/offset+octet-stream.
	TusPatchContentType ID = "tus.cli.patch-content-type"
	// TusHeadBeforeResume is tus.cli.head-before-resume (MUST): HEAD before resuming.
	TusHeadBeforeResume ID = "tus.cli.head-before-resume"
	// TusResumeAtOffset is tus.cli.resume-at-offset (MUST): Resume at the server's Upload-Offset.
	TusResumeAtOffset ID = "tus.cli.resume-at-offset"
	// TusNoResendAcknowledged is tus.cli.no-resend-acknowledged (MUST): Never re-send acknowledged bytes.
	TusNoResendAcknowledged ID = "tus.cli.no-resend-acknowledged"
	// TusOnePatchInFlight is tus.cli.one-patch-in-flight (MUST): One PATCH of an upload at a time.
	TusOnePatchInFlight ID = "tus.cli.one-patch-in-flight"
	// TusAfterLostAnswer is tus.cli.after-lost-answer (MUST): Ask again after a lost answer.
	TusAfterLostAnswer ID = "tus.cli.after-lost-answer"
	// TusCompleteAfter5xx is tus.cli.complete-after-5xx (MUST): Complete after a 503 or another 5xx.
	TusCompleteAfter5xx ID = "tus.cli.complete-after-5xx"
	// TusCompleteAfterReset is tus.cli.complete-after-reset (MUST): Complete after a connection reset.
	TusCompleteAfterReset ID = "tus.cli.complete-after-reset"
	// TusCompleteAfterPartialCommit is tus.cli.complete-after-partial-commit (MUST): Complete after a partial commit.
	TusCompleteAfterPartialCommit ID = "tus.cli.complete-after-partial-commit"
	// TusHonourRetryAfter is tus.cli.honour-retry-after (SHOULD): Honour Retry-After.
	TusHonourRetryAfter ID = "tus.cli.honour-retry-after"
	// TusStopOn4xx is tus.cli.stop-on-4xx (MUST): Stop with an error on a 4xx.
	TusStopOn4xx ID = "tus.cli.stop-on-4xx"
	// TusNewUploadAfterGone is tus.cli.new-upload-after-gone (SHOULD): A new upload after 404 or 410.
	TusNewUploadAfterGone ID = "tus.cli.new-upload-after-gone"
	// TusNoStopIncomplete is tus.cli.no-stop-incomplete (MUST): Never stop while the file is incomplete.
	TusNoStopIncomplete ID = "tus.cli.no-stop-incomplete"
	// TusDistinctUploads is tus.cli.distinct-uploads (MUST): Different files, different uploads.
	TusDistinctUploads ID = "tus.cli.distinct-uploads"
)

// Sections of the tus catalogue, in order: those of protocol.md the clauses rest on, then
// what every user of an upload relies on.
const (
	secTusHeaders = "Core protocol: headers and PATCH"
	secTusResume  = "Core protocol: resuming"
	secTusFaults  = "Faults"
	secTusStop    = "Stopping"
	secTusUploads = "Uploads"
)

// TusCatalogue returns every tus client clause, in order (a fresh slice on every call).
func TusCatalogue() []Clause {
	return []Clause{
		{ID: TusResumableHeader, Level: result.MUST, Section: secTusHeaders, Title: "Tus-Resumable on every request but OPTIONS",
			Text: "protocol.md, Headers, Tus-Resumable: \"The Tus-Resumable header MUST be included in every request and response except for OPTIONS requests.\" The grading mock answers a request without `Tus-Resumable: 1.0.0` 412 Precondition Failed (GET of an upload, an upspec addition, needs none); every such 412 is a finding."},
		{ID: TusPatchContentType, Level: result.MUST, Section: secTusHeaders, Title: "PATCH bodies are application/offset+octet-stream",
			Text: "protocol.md, Requests, PATCH: \"All PATCH requests MUST use Content-Type: application/offset+octet-stream\". Every PATCH the client sends carries it."},
		{ID: TusHeadBeforeResume, Level: result.MUST, Section: secTusResume, Title: "HEAD before resuming",
			Text: "protocol.md, Core Protocol, Example: \"A HEAD request is used to determine the offset at which the upload should be continued\" and \"Given the offset, the Client uses the PATCH method to resume the upload\"; a PATCH's Upload-Offset MUST be the upload's current offset, which after an interruption only the server knows (\"The Server SHOULD always attempt to store as much of the received data as possible\"). After a PATCH of an upload was interrupted (no answer, a reset, a 5xx), the client's next PATCH of that upload comes after a HEAD of it answered since the interruption, or is the interrupted PATCH sent again at its Upload-Offset (a browser resends a request whose reused connection closed without an answer; a server whose offset moved refuses it 409, and the client then asks HEAD): never a PATCH at an offset guessed."},
		{ID: TusResumeAtOffset, Level: result.MUST, Section: secTusResume, Title: "Resume at the server's Upload-Offset",
			Text: "protocol.md, Requests, PATCH: \"The Upload-Offset header's value MUST be equal to the current offset of the resource\" (the server answers 409 Conflict otherwise). A PATCH that follows a HEAD or a PATCH answer, with no interruption since, carries the offset that answer gave; a PATCH refused 409 for its offset is a finding (one sent after an interruption without a HEAD is tus.cli.head-before-resume's)."},
		{ID: TusNoResendAcknowledged, Level: result.MUST, Section: secTusResume, Title: "Never re-send acknowledged bytes",
			Text: "The client resumes the upload the server holds rather than starting another: it never creates a new upload of a file, and sends its bytes again, while an earlier upload of that file is still there and the server has told the client its offset (a 404 or 410 for the earlier upload makes a new one right). Bytes the client could not know were stored (a lost answer) may go again, but the HEAD tells them. The efficiency of every file, body bytes sent / file size, is measured and reported."},
		{ID: TusOnePatchInFlight, Level: result.MUST, Section: secTusResume, Title: "One PATCH of an upload at a time",
			Text: "protocol.md, Requests, PATCH: \"The Upload-Offset header's value MUST be equal to the current offset of the resource. In order to achieve parallel upload the Concatenation extension MAY be used.\" A PATCH sent while another PATCH of the upload is in flight cannot know that offset: two PATCHes of one upload are never in flight at once (the grading mock, like tusd's locks, answers the second one 409 while the first holds the upload)."},
		{ID: TusAfterLostAnswer, Level: result.MUST, Section: secTusFaults, Title: "Ask again after a lost answer",
			Text: "When the answer to a PATCH is lost (the server stored its bytes and closed the connection without answering), the client asks again (a HEAD or another request of the upload) or starts a new upload of the file: it neither hangs nor takes the silence for success."},
		{ID: TusCompleteAfter5xx, Level: result.MUST, Section: secTusFaults, Title: "Complete after a 503 or another 5xx",
			Text: "A file whose PATCH was answered 503, 500 or 502 is uploaded until the server holds it whole (an answer whose Upload-Offset is the upload's length)."},
		{ID: TusCompleteAfterReset, Level: result.MUST, Section: secTusFaults, Title: "Complete after a connection reset",
			Text: "A file whose PATCH's connection was reset while the body was read (the bytes that arrived kept, as tus says) is uploaded until the server holds it whole."},
		{ID: TusCompleteAfterPartialCommit, Level: result.MUST, Section: secTusFaults, Title: "Complete after a partial commit",
			Text: "A file whose PATCH was kept only in part (its first bytes stored, then a 500) is uploaded until the server holds it whole."},
		{ID: TusHonourRetryAfter, Level: result.SHOULD, Section: secTusFaults, Title: "Honour Retry-After",
			Text: "After an answer with `Retry-After: S` (RFC 9110, 10.2.3), the client's next request of the upload (or a new upload of the file) comes no sooner than S seconds after the answer (250 ms of tolerance)."},
		{ID: TusStopOn4xx, Level: result.MUST, Section: secTusStop, Title: "Stop with an error on a 4xx",
			Text: "After a 4xx other than 408, 409, 423, 429, 460, 404 and 410 the client sends nothing more to the upload (no HEAD, no PATCH; a DELETE is allowed) and creates no new upload of the file: it reports an error. The exceptions, with reasons: 409 Conflict is the offset mismatch or a PATCH in progress, after which a HEAD gives the offset (tus-js-client retries it); 423 Locked is an upload held by another request (tusd's lock; tus-js-client retries it); 408 and 429 ask for a later retry (RFC 9110, RFC 6585); 460 is a checksum mismatch, a corruption in transit that a retry may cure; 404 and 410 are tus.cli.new-upload-after-gone's."},
		{ID: TusNewUploadAfterGone, Level: result.SHOULD, Section: secTusStop, Title: "A new upload after 404 or 410",
			Text: "protocol.md, Expiration: \"If a Client does attempt to resume an upload which has since been removed by the Server, the Server SHOULD respond with the 404 Not Found or 410 Gone status. [...] In both cases the Client SHOULD start a new upload.\" After a 404 or 410 for its upload the client sends nothing more to that URL and creates a new upload of the file (a POST to the creation URL), which it completes; tus-js-client does so when its HEAD gets a 4xx. A client that stops with an error instead does what the document allows, but the grade cannot tell that from a client that reports the file done: it reports the file not uploaded as NON-STRICT."},
		{ID: TusNoStopIncomplete, Level: result.MUST, Section: secTusStop, Title: "Never stop while the file is incomplete",
			Text: "A file the client began to upload ends only when one of its uploads is whole on the server (offset = length), with a 4xx that stops it, or with a 404 or 410 (tus.cli.new-upload-after-gone). A client that stops after a 204 whose offset is below the length, or takes one for the completion, abandons a file the server does not hold whole; the grade names the upload it abandoned."},
		{ID: TusDistinctUploads, Level: result.MUST, Section: secTusUploads, Title: "Different files, different uploads",
			Text: "Two different files of one name and size are two uploads: the bytes of one never go into the other's upload, and the client never takes the other's (complete) upload for its own, as a fingerprint of name and size alone would."},
	}
}

// TusCatalogueMarkdown renders the tus client clauses and the tus schedule as the section
// of docs/client-clauses.md that follows the nginx-protocol clauses.
func TusCatalogueMarkdown() string {
	var b strings.Builder
	clauses := TusCatalogue()
	counts := map[result.Level]int{}
	for _, c := range clauses {
		counts[c.Level]++
	}
	b.WriteString("\n## tus 1.0 client clauses\n\n")
	fmt.Fprintf(&b, "%d clauses (%d MUST, %d SHOULD, %d INFO), judged by `upspec grade --protocol tus` from the\n",
		len(clauses), counts[result.MUST], counts[result.SHOULD], counts[result.INFO])
	b.WriteString("journal of the reference tus server (tus 1.0.0, protocol.md of 2016-03-25), with the same\n")
	b.WriteString("levels, verdicts and reports as the clauses above.\n")
	section := ""
	for _, c := range clauses {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(&b, "\n### %s\n\n", section)
			b.WriteString("| ID | Level | Clause | Exercised by |\n|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| `%s` | %s | **%s.** %s | %s |\n", c.ID, c.Level, mdCell(c.Title), mdCell(c.Text), mdCell(exercisedIn(TusSchedule(DefaultSize, DefaultRetryAfter), c.ID)))
	}
	b.WriteString("\n### The tus schedule\n\n")
	b.WriteString("The files `upspec grade --protocol tus` asks for, and the fault the mock injects into each:\n")
	b.WriteString("it hits the PATCH (or the creating POST with a body) that holds the file's middle byte, MID,\n")
	b.WriteString("whatever the client's chunk size. Each file's rules are a fault plan of their own (the grade adds\n")
	b.WriteString("`plan=grade-NN`), named on every request of an upload of that file, so that a new upload of\n")
	b.WriteString("the file does not meet a fault that already fired:\n\n")
	writeSchedule(&b, TusSchedule(DefaultSize, DefaultRetryAfter))
	return b.String()
}

// writeSchedule writes the table of a schedule: each file, what is injected, its rules.
func writeSchedule(b *strings.Builder, uploads []Upload) {
	b.WriteString("| File | Injected | Fault rules |\n|---|---|---|\n")
	for _, u := range uploads {
		rules := make([]string, len(u.Plan.Rules))
		for i, r := range u.Plan.Rules {
			rules[i] = "`" + strings.ReplaceAll(r, fmt.Sprintf("offset=%d", DefaultSize/2), "offset=MID") + "`"
		}
		rs := strings.Join(rules, "<br>")
		if rs == "" {
			rs = "—"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", u.File, mdCell(u.Plan.Inject), rs)
	}
}

// exercisedIn names the plans of a schedule that exercise a clause.
func exercisedIn(uploads []Upload, id ID) string {
	var names []string
	for _, u := range uploads {
		if slices.Contains(u.Plan.Exercises, id) && !slices.Contains(names, "`"+u.File+"`") {
			names = append(names, "`"+u.File+"`")
		}
	}
	if len(names) == 0 {
		return "every upload"
	}
	return strings.Join(names, ", ")
}
