package grade

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports/result"
)

// journal builds a hand-made journal: each segment's head arrives 20 ms after the previous
// one's, and is answered 10 ms later, unless an option says otherwise.
type journal struct {
	t       time.Time
	entries []fakeserver.JournalEntry
}

type opt func(*fakeserver.JournalEntry)

func fault(rule string) opt                      { return func(e *fakeserver.JournalEntry) { e.Fault = rule } }
func outcome(o string) opt                       { return func(e *fakeserver.JournalEntry) { e.Outcome, e.Status = o, 0 } }
func reason(r string) opt                        { return func(e *fakeserver.JournalEntry) { e.Reason = r } }
func lasting(d time.Duration) opt                { return func(e *fakeserver.JournalEntry) { e.Duration = d } }
func remote(r string) opt                        { return func(e *fakeserver.JournalEntry) { e.Remote = r } }
func name(n string) opt                          { return func(e *fakeserver.JournalEntry) { e.FileName = n } }
func back(d time.Duration) opt                   { return func(e *fakeserver.JournalEntry) { e.Time = e.Time.Add(-d) } }
func newJournal() *journal                       { return &journal{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (j *journal) wait(d time.Duration) *journal { j.t = j.t.Add(d); return j }

func (j *journal) seg(session string, start, end, total int64, status int, answer string, opts ...opt) *journal {
	e := fakeserver.JournalEntry{
		Seq: int64(len(j.entries) + 1), Time: j.t, Method: "POST", Path: "/upload",
		RangeHeader: "X-Content-Range", Range: fmt.Sprintf("bytes %d-%d/%d", start, end, total), Start: start, End: end, Total: total,
		SessionHeader: "Session-ID", Session: session, FileName: "f.bin", Remote: "127.0.0.1:40000",
		ContentLength: end - start + 1, BodyRead: end - start + 1,
		Status: status, Outcome: fakeserver.OutcomeAnswered, Answer: answer, Duration: 10 * time.Millisecond,
	}
	for _, o := range opts {
		o(&e)
	}
	if e.Status == 0 && e.Outcome == fakeserver.OutcomeAnswered {
		e.Outcome = fakeserver.OutcomeDropped
	}
	j.entries = append(j.entries, e)
	if e.Time.After(j.t) {
		j.t = e.Time
	}
	j.t = j.t.Add(20 * time.Millisecond)
	return j
}

func (j *journal) evidence() Evidence { return Evidence{Journal: j.entries} }

// complete is the good upload of a 30-byte file in three segments.
func complete(j *journal, s string) *journal {
	return j.seg(s, 0, 9, 30, 201, "0-9/30").seg(s, 10, 19, 30, 201, "0-19/30").seg(s, 20, 29, 30, 200, "completed")
}

func TestJudges(t *testing.T) {
	const sec = time.Second
	tests := []struct {
		name    string
		clause  ID
		ev      Evidence
		want    result.Verdict
		finding string // a part of the finding's message (FAIL or NON-STRICT)
	}{
		// cli.probe-before-resume
		{"probe after a lost answer", ProbeBeforeResume, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 0, "", outcome("dropped"), fault("lost-reply")).
			seg("s", 0, 1, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"retransmission after a 500", ProbeBeforeResume, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 500, "", fault("status=500")).
			seg("s", 10, 19, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"a new cut after a 500", ProbeBeforeResume, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 500, "", fault("status=500")).
			seg("s", 10, 29, 30, 200, "completed").evidence(), result.Fail, "sent those bytes again with others, without asking"},
		{"a new cut after a list", ProbeBeforeResume, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30", lasting(100*time.Millisecond)).seg("s", 10, 19, 30, 500, "", fault("status=500"), back(15*time.Millisecond)).
			wait(100*time.Millisecond).seg("s", 10, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"no interruption", ProbeBeforeResume, complete(newJournal(), "s").evidence(), result.Skipped, ""},

		// cli.no-resend-acknowledged
		{"follows the list", NoResendAcknowledged, complete(newJournal(), "s").evidence(), result.Pass, ""},
		{"the probe is not a resend", NoResendAcknowledged, newJournal().
			seg("s", 0, 1, 30, 201, "0-1/30").seg("s", 0, 1, 30, 201, "0-1/30").seg("s", 2, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"re-sends listed bytes", NoResendAcknowledged, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 0, 19, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(),
			result.Fail, "10 bytes re-sent"},
		{"a list on another connection may be unread", NoResendAcknowledged, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 0, 19, 30, 201, "0-19/30", remote("127.0.0.1:40001")).seg("s", 20, 29, 30, 200, "completed").evidence(),
			result.Pass, ""},
		{"a loss seen on another connection", NoResendAcknowledged, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "10-19/30", fault("forget"), remote("127.0.0.1:40001")).
			seg("s", 0, 9, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"after a lost session the lost bytes go again", NoResendAcknowledged, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "10-19/30", fault("forget")).
			seg("s", 0, 9, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},

		// cli.fill-every-gap
		{"fills the head after a lost session", FillEveryGap, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "10-19/30", fault("forget")).
			seg("s", 0, 9, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"only the tail after a lost session", FillEveryGap, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "10-19/30", fault("forget")).
			seg("s", 20, 29, 30, 201, "10-29/30").evidence(), result.Fail, "missing 0-9"},
		{"no gap ever", FillEveryGap, complete(newJournal(), "s").evidence(), result.Skipped, ""},

		// cli.no-overlap-in-flight
		{"one segment at a time", NoOverlapInFlight, complete(newJournal(), "s").evidence(), result.Pass, ""},
		{"disjoint segments at once", NoOverlapInFlight, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30", lasting(100*time.Millisecond)).seg("s", 10, 19, 30, 201, "0-19/30", back(15*time.Millisecond)).
			wait(100*time.Millisecond).seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"overlapping segments at once", NoOverlapInFlight, newJournal().
			seg("s", 0, 19, 30, 201, "0-19/30", lasting(100*time.Millisecond)).
			seg("s", 10, 29, 30, 409, "", back(15*time.Millisecond), reason("range 10-29 overlaps segment 0-19 of the session, still in flight")).
			wait(100*time.Millisecond).seg("s", 20, 29, 30, 200, "completed").evidence(), result.Fail, "0-19/30 answered 201 was in flight"},

		// cli.resend-after-lost-answer
		{"sends again after a lost answer", ResendAfterLostAnswer, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 20, 29, 30, 0, "", outcome("dropped"), fault("lost-reply,match=last")).
			seg("s", 0, 1, 30, 201, "0-9,20-29/30").seg("s", 10, 19, 30, 200, "completed").evidence(), result.Pass, ""},
		{"takes the silence for success", ResendAfterLostAnswer, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 0, "", outcome("dropped"), fault("lost-reply")).
			seg("s", 20, 29, 30, 200, "completed").evidence(), result.Fail, "none for bytes 10-19"},
		{"a later list holds the segment", ResendAfterLostAnswer, newJournal().
			seg("s", 10, 19, 30, 0, "", outcome("dropped"), fault("lost-reply")).
			seg("s", 0, 9, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"silent after a lost answer", ResendAfterLostAnswer, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "0-19/30").
			seg("s", 20, 29, 30, 0, "", outcome("dropped"), fault("lost-reply,match=last")).evidence(), result.Fail, "0 later requests"},
		{"no lost answer", ResendAfterLostAnswer, complete(newJournal(), "s").evidence(), result.Skipped, ""},

		// cli.complete-after-5xx
		{"completes after a 503", CompleteAfter5xx, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 503, "", fault("status=503,retry-after=2")).wait(2*sec).
			seg("s", 0, 1, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"gives up after a 502", CompleteAfter5xx, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 502, "", fault("status=502")).evidence(), result.Fail, "never completed"},
		{"no 5xx", CompleteAfter5xx, complete(newJournal(), "s").evidence(), result.Skipped, ""},

		// cli.complete-after-reset
		{"completes after a reset", CompleteAfterReset, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 0, "", outcome("reset"), fault("reset-after=5")).
			seg("s", 0, 1, 30, 201, "0-9/30").seg("s", 10, 19, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"gives up after a reset", CompleteAfterReset, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 0, "", outcome("reset"), fault("reset-after=5")).
			seg("s", 0, 1, 30, 201, "0-9/30").evidence(), result.Fail, "never completed"},

		// cli.complete-after-partial-commit
		{"completes after a partial commit", CompleteAfterPartialCommit, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 500, "", fault("keep=5,then=500")).
			seg("s", 0, 1, 30, 201, "0-14/30").seg("s", 15, 19, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"gives up after a partial commit", CompleteAfterPartialCommit, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 500, "", fault("keep=5,then=500")).evidence(), result.Fail, "never completed"},

		// cli.honour-retry-after
		{"waits as told", HonourRetryAfter, newJournal().
			seg("s", 0, 9, 30, 503, "", fault("status=503,retry-after=2")).wait(2*sec).
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"other segments at once, the retry as told", HonourRetryAfter, newJournal().
			seg("s", 0, 9, 30, 503, "", fault("status=503,retry-after=2")).seg("s", 10, 19, 30, 201, "10-19/30").wait(2*sec).
			seg("s", 0, 9, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Pass, ""},
		{"retries at once", HonourRetryAfter, newJournal().
			seg("s", 0, 9, 30, 503, "", fault("status=503,retry-after=2")).
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 29, 30, 200, "completed").evidence(), result.NonStrict, "came 10ms after it"},
		{"no Retry-After", HonourRetryAfter, complete(newJournal(), "s").evidence(), result.Skipped, ""},

		// cli.stop-on-4xx
		{"stops on a 403", StopOn4xx, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 403, "stop", fault("status=403")).evidence(), result.Pass, ""},
		{"retries after a 409", StopOn4xx, newJournal().
			seg("s", 0, 9, 30, 409, "").seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 29, 30, 200, "completed").evidence(), result.Skipped, ""},
		{"retries a 403", StopOn4xx, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 403, "stop", fault("status=403")).
			seg("s", 10, 19, 30, 201, "0-19/30").seg("s", 0, 1, 30, 201, "0-19/30").seg("s", 20, 29, 30, 200, "completed").evidence(), result.Fail, "2 more requests for them (#3, #4)"},
		{"other segments already sent", StopOn4xx, newJournal().
			seg("s", 10, 19, 30, 403, "stop", fault("status=403")).seg("s", 20, 29, 30, 201, "20-29/30").evidence(), result.Pass, ""},

		// cli.no-stop-incomplete
		{"completes", NoStopIncomplete, complete(newJournal(), "s").evidence(), result.Pass, ""},
		{"a stopping 4xx is no abandonment", NoStopIncomplete, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 19, 30, 403, "stop").evidence(), result.Pass, ""},
		{"stops after a 201", NoStopIncomplete, newJournal().
			seg("s", 0, 9, 30, 201, "0-9/30", name("07-lost-session.bin")).seg("s", 10, 19, 30, 201, "0-19/30", name("07-lost-session.bin")).evidence(),
			result.Fail, "abandoned upload: session s (07-lost-session.bin, 30 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resultOf(t, Judge(tt.ev, false), tt.clause)
			if r.Verdict != tt.want {
				t.Fatalf("%s: verdict %s, want %s; findings %v; skip %q", tt.clause, r.Verdict, tt.want, r.Findings, r.SkipReason)
			}
			if tt.finding == "" {
				if len(r.Findings) > 0 {
					t.Errorf("findings %v, want none", r.Findings)
				}
				return
			}
			if len(r.Findings) == 0 || !strings.Contains(r.Findings[0].Message, tt.finding) {
				t.Errorf("findings %v, want one saying %q", r.Findings, tt.finding)
			}
			f := r.Findings[0]
			if f.Clause != string(tt.clause) || f.Session != "s" || !strings.HasPrefix(f.Message, string(tt.clause)) {
				t.Errorf("finding %+v: want clause %s and session s", f, tt.clause)
			}
		})
	}
}

func TestJudgeStrict(t *testing.T) {
	ev := newJournal().seg("s", 0, 9, 30, 503, "", fault("status=503,retry-after=2")).
		seg("s", 0, 9, 30, 201, "0-9/30").seg("s", 10, 29, 30, 200, "completed").evidence()
	if r := resultOf(t, Judge(ev, true), HonourRetryAfter); r.Verdict != result.Fail {
		t.Errorf("strict: %s, want FAIL", r.Verdict)
	}
}

func TestJudgeTwins(t *testing.T) {
	up := Schedule(30, 2)
	j := complete(complete(newJournal(), "s1"), "s2")
	tests := []struct {
		name    string
		carried map[string][]string
		want    result.Verdict
	}{
		{"two sessions", map[string][]string{"s1": {"twins/a/twin.bin"}, "s2": {"twins/b/twin.bin"}}, result.Pass},
		{"one session for both", map[string][]string{"s1": {"twins/a/twin.bin", "twins/b/twin.bin"}}, result.Fail},
		{"one twin only", map[string][]string{"s1": {"twins/a/twin.bin"}, "s2": {"01-clean.bin"}}, result.Skipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evidence{Journal: j.entries, Uploads: up, Carried: tt.carried}
			r := resultOf(t, Judge(ev, false), DistinctSessionIDs)
			if r.Verdict != tt.want {
				t.Fatalf("verdict %s, want %s; findings %v", r.Verdict, tt.want, r.Findings)
			}
			if tt.want == result.Fail && !strings.Contains(r.Findings[0].Message, "one session ID, s1, for twins/a/twin.bin and twins/b/twin.bin") {
				t.Errorf("finding %q", r.Findings[0].Message)
			}
		})
	}
}

// TestEveryClauseJudged checks that every clause of the catalogue has a judge and a failing
// case in TestJudges or TestJudgeTwins.
func TestEveryClauseJudged(t *testing.T) {
	for _, c := range Catalogue() {
		if r := resultOf(t, Judge(Evidence{}, false), c.ID); r.Verdict != result.Skipped {
			t.Errorf("%s on an empty journal: %s, want SKIPPED", c.ID, r.Verdict)
		}
	}
}

func resultOf(t *testing.T, rs []Result, id ID) Result {
	t.Helper()
	for _, r := range rs {
		if r.Clause.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return Result{}
}
