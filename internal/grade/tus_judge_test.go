package grade

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports/result"
)

// tusJournal builds a hand-made tus journal: each request's head arrives 20 ms after the
// previous one's and is answered 10 ms later, unless an option says otherwise.
type tusJournal struct{ journal }

func newTusJournal() *tusJournal { return &tusJournal{*newJournal()} }

func (j *tusJournal) add(e fakeserver.JournalEntry, opts ...opt) *tusJournal {
	e.Seq, e.Time, e.Remote, e.Duration = int64(len(j.entries)+1), j.t, "127.0.0.1:40000", 10*time.Millisecond
	if e.Outcome == "" {
		e.Outcome = fakeserver.OutcomeAnswered
	}
	for _, o := range opts {
		o(&e)
	}
	j.entries = append(j.entries, e)
	if e.Time.After(j.t) {
		j.t = e.Time
	}
	j.t = j.t.Add(20 * time.Millisecond)
	return j
}

// create is a creating POST of upload id, a file of 30 bytes called f.bin.
func (j *tusJournal) create(id string, opts ...opt) *tusJournal {
	return j.add(fakeserver.JournalEntry{Method: "POST", Path: "/files/", Session: id, FileName: "f.bin", Total: 30, Start: -1, End: -1, ContentLength: 0, Status: 201}, opts...)
}

// patch is a PATCH of bytes start..end of upload id; a status of 204 answers end+1.
func (j *tusJournal) patch(id string, start, end int64, status int, opts ...opt) *tusJournal {
	e := fakeserver.JournalEntry{Method: "PATCH", Path: "/files/" + id, Session: id, FileName: "f.bin", Total: 30,
		RangeHeader: "Upload-Offset", Range: strconv.FormatInt(start, 10), Start: start, End: end,
		ContentType: "application/offset+octet-stream", ContentLength: end - start + 1, BodyRead: end - start + 1, Status: status}
	if status == 204 {
		e.Answer = strconv.FormatInt(end+1, 10)
	}
	return j.add(e, opts...)
}

// head is a HEAD of upload id answered 200 with offset off (or status, with off < 0).
func (j *tusJournal) head(id string, off int64, status int, opts ...opt) *tusJournal {
	e := fakeserver.JournalEntry{Method: "HEAD", Path: "/files/" + id, Session: id, FileName: "f.bin", Total: 30, Start: -1, End: -1, ContentLength: -1, Status: status}
	if off >= 0 {
		e.Answer = strconv.FormatInt(off, 10)
	}
	return j.add(e, opts...)
}

func (j *tusJournal) wait(d time.Duration) *tusJournal { j.t = j.t.Add(d); return j }

func (j *tusJournal) evidence() Evidence { return Evidence{Path: "/files/", Journal: j.entries} }

// tusComplete is the good upload of a 30-byte file in three PATCHes.
func tusComplete(j *tusJournal, id string) *tusJournal {
	return j.create(id).patch(id, 0, 9, 204).patch(id, 10, 19, 204).patch(id, 20, 29, 204)
}

func TestTusJudges(t *testing.T) {
	lost := []opt{outcome("dropped"), fault("lost-reply")}
	tests := []struct {
		name    string
		clause  ID
		ev      Evidence
		want    result.Verdict
		finding string // a part of the finding's message (FAIL or NON-STRICT)
	}{
		// tus.cli.head-before-resume
		{"HEAD after a lost answer", TusHeadBeforeResume, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, lost...).
			head("u", 20, 200).patch("u", 20, 29, 204).evidence(), result.Pass, ""},
		{"the interrupted PATCH again", TusHeadBeforeResume, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 500, fault("status=500")).
			patch("u", 10, 19, 204).patch("u", 20, 29, 204).evidence(), result.Pass, ""},
		{"a PATCH at a guessed offset", TusHeadBeforeResume, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, lost...).
			patch("u", 20, 29, 204).evidence(), result.Fail, "at another offset without asking HEAD"},
		{"a HEAD answered before the interruption does not count", TusHeadBeforeResume, newTusJournal().create("u").patch("u", 0, 9, 204).
			head("u", 10, 200, lasting(200*time.Millisecond)).patch("u", 10, 19, 0, lost...).patch("u", 20, 29, 204).evidence(), result.Fail, "without asking HEAD"},
		// tus.cli.resume-at-offset
		{"a 409 for the offset after a HEAD", TusResumeAtOffset, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, lost...).
			head("u", 20, 200).patch("u", 10, 19, 409, reason("Upload-Offset 10 is not the upload's offset 20")).head("u", 20, 200).patch("u", 20, 29, 204).evidence(),
			result.Fail, "Upload-Offset 10 is not the upload's offset 20"},
		{"a 409 for the offset without a HEAD is head-before-resume's", TusResumeAtOffset, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, lost...).
			patch("u", 10, 19, 409, reason("Upload-Offset 10 is not the upload's offset 20")).head("u", 20, 200).patch("u", 20, 29, 204).evidence(), result.Pass, ""},
		// tus.cli.no-resend-acknowledged
		{"a new upload while the first is there", TusNoResendAcknowledged, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 500, fault("status=500")).
			create("v").patch("v", 0, 29, 204).evidence(), result.Fail, "10 bytes re-sent that upload u (f.bin, 30 bytes) held"},
		{"a new upload after a 404", TusNoResendAcknowledged, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 404, fault("forget")).
			create("v").patch("v", 0, 29, 204).evidence(), result.Pass, ""},
		// tus.cli.one-patch-in-flight
		{"two PATCHes at once", TusOnePatchInFlight, newTusJournal().create("u").patch("u", 0, 19, 204, lasting(100*time.Millisecond)).
			patch("u", 0, 9, 409, reason("another request is writing this upload; ask HEAD for its offset and try again")).evidence(), result.Fail, "was in flight from"},
		// tus.cli.after-lost-answer
		{"nothing after a lost answer", TusAfterLostAnswer, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 29, 0, lost...).evidence(),
			result.Fail, "sent nothing more for the upload"},
		// tus.cli.complete-after-reset
		{"a reset, then complete", TusCompleteAfterReset, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, outcome("reset"), fault("keep=4,then=reset")).
			head("u", 14, 200).patch("u", 14, 29, 204).evidence(), result.Pass, ""},
		{"a reset, then nothing", TusCompleteAfterReset, newTusJournal().create("u").patch("u", 0, 9, 204).patch("u", 10, 19, 0, outcome("reset"), fault("keep=4,then=reset")).
			head("u", 14, 200).evidence(), result.Fail, "the highest offset answered 14 of 30"},
		// tus.cli.honour-retry-after
		{"a HEAD too soon after Retry-After", TusHonourRetryAfter, newTusJournal().create("u").patch("u", 0, 9, 503, fault("status=503,retry-after=2")).
			head("u", 0, 200).patch("u", 0, 29, 204).evidence(), result.NonStrict, "with Retry-After: 2"},
		{"a HEAD after Retry-After", TusHonourRetryAfter, newTusJournal().create("u").patch("u", 0, 9, 503, fault("status=503,retry-after=2")).wait(2*time.Second).
			head("u", 0, 200).patch("u", 0, 29, 204).evidence(), result.Pass, ""},
		// tus.cli.stop-on-4xx
		{"a new upload after a 403", TusStopOn4xx, newTusJournal().create("u").patch("u", 0, 9, 403, fault("status=403")).create("v").patch("v", 0, 29, 204).evidence(),
			result.Fail, "(a new upload of the file, v)"},
		{"a DELETE after a 403", TusStopOn4xx, newTusJournal().create("u").patch("u", 0, 9, 403, fault("status=403")).
			add(fakeserver.JournalEntry{Method: "DELETE", Path: "/files/u", Session: "u", Total: 30, Start: -1, End: -1, Status: 204}).evidence(), result.Pass, ""},
		{"a 409 does not stop", TusStopOn4xx, newTusJournal().create("u").patch("u", 0, 9, 409, reason("x")).head("u", 0, 200).patch("u", 0, 29, 204).evidence(), result.Skipped, ""},
		// tus.cli.new-upload-after-gone
		{"PATCHes after a 404", TusNewUploadAfterGone, newTusJournal().create("u").patch("u", 0, 9, 404).patch("u", 0, 9, 404).evidence(),
			result.NonStrict, "went on with the upload the server no longer has"},
		{"a new upload after a 410", TusNewUploadAfterGone, newTusJournal().create("u").patch("u", 0, 9, 410).create("v").patch("v", 0, 29, 204).evidence(), result.Pass, ""},
		{"a new upload never completed", TusNewUploadAfterGone, newTusJournal().create("u").patch("u", 0, 9, 410).create("v").patch("v", 0, 9, 204).evidence(),
			result.NonStrict, "a new upload, v, never completed"},
		// tus.cli.no-stop-incomplete
		{"the file completed by a second upload", TusNoStopIncomplete, tusComplete(newTusJournal().create("u").patch("u", 0, 9, 404), "v").evidence(), result.Pass, ""},
		{"an upload stopped after a 204", TusNoStopIncomplete, newTusJournal().create("u").patch("u", 0, 9, 204).evidence(), result.Fail, "abandoned upload: upload u (f.bin, 30 bytes)"},
		// tus.cli.tus-resumable
		{"a 412 for a missing Tus-Resumable", TusResumableHeader, newTusJournal().create("u").
			head("u", -1, 412, reason(`unsupported Tus-Resumable "": this server speaks 1.0.0`)).evidence(), result.Fail, "1 HEAD requests without Tus-Resumable"},
		// tus.cli.patch-content-type
		{"a PATCH of another type", TusPatchContentType, newTusJournal().create("u").patch("u", 0, 29, 415, func(e *fakeserver.JournalEntry) {
			e.ContentType, e.Start, e.End = "application/octet-stream", -1, -1
		}).evidence(), result.Fail, `"application/octet-stream"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resultOf(t, JudgeTus(tt.ev, false), tt.clause)
			if r.Verdict != tt.want {
				t.Fatalf("%s: %s, want %s; findings %v; skip %q", tt.clause, r.Verdict, tt.want, r.Findings, r.SkipReason)
			}
			if tt.finding != "" && (len(r.Findings) == 0 || !strings.Contains(r.Findings[0].Message, tt.finding)) {
				t.Errorf("findings %v, want one saying %q", r.Findings, tt.finding)
			}
		})
	}
}
