package grade

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
)

// Judging constants.
const (
	// ProbeMax is the largest segment counted as a probe: the seed's status probe is bytes
	// 0-1.
	ProbeMax = 2
	// RetryAfterTolerance is how much sooner than Retry-After a request may come: the
	// journal's times are the server's, read when a request's head arrives and when its
	// answer was written.
	RetryAfterTolerance = 250 * time.Millisecond
)

// Evidence is what the grade judges: the server's journal and what the grade knows of the
// files it asked for.
type Evidence struct {
	// Path is the segment endpoint; entries of other paths are not segments. Default
	// fakeserver.DefaultPath.
	Path string
	// Journal holds the server's entries, in any order.
	Journal []fakeserver.JournalEntry
	// Uploads are the files the client was asked to upload.
	Uploads []Upload
	// Carried maps a session ID to the files of Uploads (Upload.File) whose bytes its
	// segments carried, as the grading mock compared them.
	Carried map[string][]string
}

// Result is the verdict of one client clause.
type Result struct {
	Clause     Clause
	Verdict    result.Verdict
	Findings   []result.Finding
	Notes      []string
	SkipReason string
	// Sessions are the sessions whose requests are the evidence, findings first.
	Sessions []string
}

// judgement is what a judge finds.
type judgement struct {
	findings []result.Finding
	notes    []string
	// exercised are the sessions in which the clause was put to the test; none (and no
	// finding) makes the clause SKIPPED with skip as the reason.
	exercised []string
	skip      string
}

// session is the journal's view of one session: its segments (requests with a valid range),
// by sequence number.
type session struct {
	id    string
	name  string
	total int64
	segs  []fakeserver.JournalEntry
}

func (s *session) String() string {
	if s.name == "" {
		return "session " + s.id
	}
	return fmt.Sprintf("session %s (%s, %d bytes)", s.id, s.name, s.total)
}

// Judge judges every client clause on ev; strict makes a failed SHOULD a FAIL.
func Judge(ev Evidence, strict bool) []Result {
	ss := sessionsOf(ev)
	judges := map[ID]func(*Evidence, []*session) judgement{
		ProbeBeforeResume:          judgeProbe,
		NoResendAcknowledged:       judgeResend,
		FillEveryGap:               judgeGaps,
		NoOverlapInFlight:          judgeOverlap,
		ResendAfterLostAnswer:      judgeLostAnswer,
		CompleteAfter5xx:           completeAfter("5xx answer", is5xxFault),
		CompleteAfterReset:         completeAfter("reset", isResetFault),
		CompleteAfterPartialCommit: completeAfter("partial commit", isPartialFault),
		HonourRetryAfter:           judgeRetryAfter,
		StopOn4xx:                  judgeStop,
		NoStopIncomplete:           judgeAbandoned,
		DistinctSessionIDs:         judgeTwins,
	}
	return decide(Catalogue(), func(c Clause) judgement { return judges[c.ID](&ev, ss) }, strict)
}

// sessionsOf groups the segments of the journal by session, in the order sessions first
// appear.
func sessionsOf(ev Evidence) []*session {
	path := ev.Path
	if path == "" {
		path = fakeserver.DefaultPath
	}
	entries := slices.Clone(ev.Journal)
	slices.SortFunc(entries, func(a, b fakeserver.JournalEntry) int { return int(a.Seq - b.Seq) })
	var out []*session
	byID := map[string]*session{}
	for _, e := range entries {
		if e.Method != http.MethodPost || e.Path != path || e.Session == "" || e.Start < 0 {
			continue
		}
		s := byID[e.Session]
		if s == nil {
			s = &session{id: e.Session, total: e.Total}
			byID[e.Session] = s
			out = append(out, s)
		}
		if e.FileName != "" {
			s.name = e.FileName
		}
		s.segs = append(s.segs, e)
	}
	return out
}

// finish writes the message of a finding the way the server suite does: the clause, its
// requirement, then what was expected and what came.
func finish(c Clause, f result.Finding) result.Finding {
	f.Clause, f.Level, f.Requirement = string(c.ID), c.Level, c.Text
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n  %s", c.ID, c.Level, c.Title, c.Text)
	if f.Detail != "" {
		fmt.Fprintf(&b, "\n  %s", f.Detail)
	}
	if f.Expected != "" {
		fmt.Fprintf(&b, "\n  Expected: %s", f.Expected)
	}
	if f.Got != "" {
		fmt.Fprintf(&b, "\n  Got: %s", f.Got)
	}
	if f.Step != "" {
		fmt.Fprintf(&b, "\n  Step: %s", f.Step)
	}
	f.Message = b.String()
	return f
}

// Helpers on journal entries.

func answeredAt(e *fakeserver.JournalEntry) time.Time { return e.Time.Add(e.Duration) }

func step(e *fakeserver.JournalEntry) string { return "#" + strconv.FormatInt(e.Seq, 10) }

func rangeOf(e *fakeserver.JournalEntry) ranges.Range {
	return ranges.Range{Start: e.Start, End: e.End}
}

func isProbe(e *fakeserver.JournalEntry) bool { return e.End-e.Start+1 <= ProbeMax }

// isFinal reports whether e carried the server's final answer: a 2xx or 3xx other than 201.
func isFinal(e *fakeserver.JournalEntry) bool {
	return e.Status >= 200 && e.Status < 400 && e.Status != http.StatusCreated
}

// isInterrupted reports whether e left the client without a list: no answer, or a 5xx.
func isInterrupted(e *fakeserver.JournalEntry) bool { return e.Status == 0 || e.Status >= 500 }

// isStopping reports whether e's answer is a 4xx that ends the upload (not 408, 409, 429).
func isStopping(e *fakeserver.JournalEntry) bool {
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

// what describes e in a few words: its step, range and answer.
func what(e *fakeserver.JournalEntry) string {
	s := fmt.Sprintf("%s bytes %d-%d/%d", step(e), e.Start, e.End, e.Total)
	switch {
	case e.Status != 0:
		s += fmt.Sprintf(" answered %d", e.Status)
	default:
		s += " " + e.Outcome + " without an answer"
	}
	if e.Fault != "" {
		s += " (fault " + e.Fault + ")"
	}
	return s
}

// faultAction returns the action of the fault rule that shaped e ("" when none): "status",
// "keep", "reset-after", "lost-reply", "forget", ...
func faultAction(e *fakeserver.JournalEntry) string {
	for _, item := range strings.Split(e.Fault, ",") {
		key, _, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch key = strings.ToLower(key); key {
		case "status", "keep", "reset-after", "stall", "lost-reply", "delay", "forget", "restart":
			return key
		}
	}
	return ""
}

// faultValue returns the value of key in e's fault rule.
func faultValue(e *fakeserver.JournalEntry, key string) (string, bool) {
	for _, item := range strings.Split(e.Fault, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if ok && strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func is5xxFault(e *fakeserver.JournalEntry) bool {
	return faultAction(e) == "status" && e.Status >= 500
}

func isResetFault(e *fakeserver.JournalEntry) bool { return faultAction(e) == "reset-after" }

func isPartialFault(e *fakeserver.JournalEntry) bool { return faultAction(e) == "keep" }

// listOf returns the bytes a 201 told the client the server holds; ok is false for any
// other answer. (A final answer lists nothing: a careful client may check it by sending
// again, since a server with a false success gives one while bytes are missing.)
func listOf(e *fakeserver.JournalEntry) (*ranges.Set, bool) {
	if e.Status != http.StatusCreated {
		return nil, false
	}
	l, err := ranges.ParseList(strings.TrimSpace(e.Answer))
	if err != nil || l.Total != e.Total {
		return nil, false
	}
	return l.Set(), true
}

// knownBefore returns the list of the latest answer of s with a list written before t, and
// that answer; nil when the client had none.
func knownBefore(s *session, t time.Time) (*ranges.Set, *fakeserver.JournalEntry) {
	var best *fakeserver.JournalEntry
	var set *ranges.Set
	for i := range s.segs {
		e := &s.segs[i]
		if !answeredAt(e).Before(t) {
			continue
		}
		if l, ok := listOf(e); ok && (best == nil || answeredAt(e).After(answeredAt(best))) {
			best, set = e, l
		}
	}
	return set, best
}

// receivedBefore returns the list of the latest 201 of s that the client had certainly read
// when it sent e, and that answer: a 201 answered earlier on e's connection (the same remote
// address): HTTP/1.1 clients send a request on a connection only once they have read the
// answer before it. An answer on another connection may still be unread (a client with
// several segments in flight), so it is not counted.
func receivedBefore(s *session, e *fakeserver.JournalEntry) (*ranges.Set, *fakeserver.JournalEntry) {
	var best *fakeserver.JournalEntry
	var set *ranges.Set
	for i := range s.segs {
		x := &s.segs[i]
		if x.Remote != e.Remote || x.Seq >= e.Seq || !answeredAt(x).Before(e.Time) {
			continue
		}
		if l, ok := listOf(x); ok && (best == nil || x.Seq > best.Seq) {
			best, set = x, l
		}
	}
	return set, best
}

// lastList returns the latest list the server gave in s (by answer time), and whether the
// client got the final answer.
func lastList(s *session) (*ranges.Set, bool) {
	set, _ := knownBefore(s, time.Unix(1<<40, 0))
	for i := range s.segs {
		if isFinal(&s.segs[i]) {
			return set, true
		}
	}
	return set, false
}

// stoppedAt returns the first stopping 4xx of s, or nil.
func stoppedAt(s *session) *fakeserver.JournalEntry {
	for i := range s.segs {
		if isStopping(&s.segs[i]) {
			return &s.segs[i]
		}
	}
	return nil
}

// after returns the requests of s whose heads arrived after t, in order.
func after(s *session, t time.Time) []*fakeserver.JournalEntry {
	var out []*fakeserver.JournalEntry
	for i := range s.segs {
		if s.segs[i].Time.After(t) {
			out = append(out, &s.segs[i])
		}
	}
	return out
}

func noteSession(ex []string, s *session) []string {
	if !slices.Contains(ex, s.id) {
		ex = append(ex, s.id)
	}
	return ex
}

// The judges.

// reaction returns the first request of s after t that is the probe or overlaps r: the
// client's answer to what happened to r. Other requests after t may have been sent before
// the client could know (by a client with several segments in flight), so they are not
// judged as a reaction.
func reaction(s *session, r ranges.Range, t time.Time) *fakeserver.JournalEntry {
	for _, n := range after(s, t) {
		if isProbe(n) || n.Start <= r.End && r.Start <= n.End {
			return n
		}
	}
	return nil
}

// freshList returns the first 201 of s answered after t and before u, or nil.
func freshList(s *session, t, u time.Time) *fakeserver.JournalEntry {
	for i := range s.segs {
		e := &s.segs[i]
		if a := answeredAt(e); e.Status == http.StatusCreated && a.After(t) && a.Before(u) {
			return e
		}
	}
	return nil
}

func judgeProbe(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no segment was interrupted (no answer, or a 5xx): upload the files of the schedule"}
	for _, s := range ss {
		for i := range s.segs {
			in := &s.segs[i]
			if !isInterrupted(in) {
				continue
			}
			t := answeredAt(in)
			n := reaction(s, rangeOf(in), t)
			if n == nil {
				continue // never resumed (other clauses judge that)
			}
			j.exercised = noteSession(j.exercised, s)
			if isProbe(n) || in.Start <= n.Start && n.End <= in.End || freshList(s, t, n.Time) != nil {
				continue
			}
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Step:     step(n),
				Detail:   fmt.Sprintf("%s: after %s the client sent those bytes again with others, without asking what the server holds", s, what(in)),
				Expected: fmt.Sprintf("the probe (at most %d bytes), a retransmission within bytes %d-%d, or a list read first", ProbeMax, in.Start, in.End),
				Got:      what(n),
			})
		}
	}
	return j
}

func judgeResend(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no upload"}
	for _, s := range ss {
		j.exercised = noteSession(j.exercised, s)
		var sent, resent int64
		var first *fakeserver.JournalEntry
		var firstBytes ranges.Range
		var firstList *fakeserver.JournalEntry
		for i := range s.segs {
			e := &s.segs[i]
			sent += e.BodyRead
			if isProbe(e) {
				continue
			}
			known, from := receivedBefore(s, e)
			if latest, _ := knownBefore(s, e.Time); known != nil && latest != nil {
				known = intersect(known, latest) // bytes the server lost since may go again
			}
			if known == nil || !known.Overlaps(rangeOf(e)) {
				continue
			}
			dup := overlapBytes(known, rangeOf(e))
			resent += dup.n
			if first == nil {
				first, firstBytes, firstList = e, dup.first, from
			}
		}
		if s.total > 0 {
			j.notes = append(j.notes, fmt.Sprintf("%s: %d bytes sent for a file of %d: efficiency %.3f (bytes sent / file size)", s, sent, s.total, float64(sent)/float64(s.total)))
		}
		if first != nil {
			j.findings = append(j.findings, result.Finding{
				Session: s.id,
				Step:    step(first),
				Detail: fmt.Sprintf("%s: %d bytes re-sent that the server had listed; the first: bytes %d-%d in %s, listed by the answer to %s (%q)",
					s, resent, firstBytes.Start, firstBytes.End, what(first), step(firstList), firstList.Answer),
				Expected: "segments of the bytes missing from the latest list only",
				Got:      fmt.Sprintf("%d bytes sent for a file of %d (efficiency %.3f)", sent, s.total, float64(sent)/float64(s.total)),
			})
		}
	}
	return j
}

// intersect returns the bytes that both a and b hold.
func intersect(a, b *ranges.Set) *ranges.Set {
	out := ranges.NewSet(a.Total())
	for _, x := range a.Ranges() {
		for _, y := range b.Ranges() {
			if lo, hi := max(x.Start, y.Start), min(x.End, y.End); lo <= hi {
				out.Add(ranges.Range{Start: lo, End: hi})
			}
		}
	}
	return out
}

// overlapped is the bytes of a range that a set holds.
type overlapped struct {
	n     int64
	first ranges.Range
}

func overlapBytes(set *ranges.Set, r ranges.Range) overlapped {
	var o overlapped
	for _, k := range set.Ranges() {
		lo, hi := max(k.Start, r.Start), min(k.End, r.End)
		if lo > hi {
			continue
		}
		if o.n == 0 {
			o.first = ranges.Range{Start: lo, End: hi}
		}
		o.n += hi - lo + 1
	}
	return o
}

func judgeGaps(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no list with a gap before its last range was given: upload the files of the schedule"}
	for _, s := range ss {
		gapped := false
		for i := range s.segs {
			if l, ok := listOf(&s.segs[i]); ok && innerGaps(l) != nil {
				gapped = true
			}
		}
		if gapped {
			j.exercised = noteSession(j.exercised, s)
		}
		if stoppedAt(s) != nil {
			continue
		}
		last, final := lastList(s)
		if final || last == nil {
			continue
		}
		if gaps := innerGaps(last); gaps != nil {
			j.exercised = noteSession(j.exercised, s)
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Detail:   fmt.Sprintf("%s: the upload ended with bytes missing before the last listed range", s),
				Expected: "every gap filled, then the final answer",
				Got:      fmt.Sprintf("the last list %s; missing %s", last, formatRanges(gaps)),
			})
		}
	}
	return j
}

// innerGaps returns the missing ranges of set that lie before its last range; nil when only
// a tail is missing (or nothing).
func innerGaps(set *ranges.Set) []ranges.Range {
	rs := set.Ranges()
	if len(rs) == 0 {
		return nil
	}
	last := rs[len(rs)-1]
	var out []ranges.Range
	for _, m := range set.Missing() {
		if m.End < last.Start {
			out = append(out, m)
		}
	}
	return out
}

func formatRanges(rs []ranges.Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d-%d", r.Start, r.End)
	}
	return strings.Join(parts, ",")
}

func judgeOverlap(_ *Evidence, ss []*session) judgement {
	j := judgement{}
	for _, s := range ss {
		j.exercised = noteSession(j.exercised, s)
		for i := range s.segs {
			b := &s.segs[i]
			if b.Status != http.StatusConflict || !strings.Contains(b.Reason, "still in flight") {
				continue
			}
			detail := fmt.Sprintf("%s: the server refused %s: %s", s, what(b), b.Reason)
			for k := range s.segs {
				a := &s.segs[k]
				if a.Seq != b.Seq && a.Time.Before(b.Time) && answeredAt(a).After(b.Time) && a.Start <= b.End && b.Start <= a.End {
					detail += fmt.Sprintf("; %s was in flight from %s to %s", what(a), a.Time.Format("15:04:05.000000"), answeredAt(a).Format("15:04:05.000000"))
					break
				}
			}
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Step:     step(b),
				Detail:   detail,
				Expected: "no segment sent while an overlapping one of the session is in flight",
				Got:      fmt.Sprintf("bytes %d-%d sent while an overlapping segment was in flight", b.Start, b.End),
			})
		}
	}
	j.skip = "no upload"
	return j
}

func judgeLostAnswer(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no answer was lost: upload 02-lost-answer.bin"}
	for _, s := range ss {
		for i := range s.segs {
			e := &s.segs[i]
			if faultAction(e) != "lost-reply" && e.Outcome != fakeserver.OutcomeDropped {
				continue
			}
			j.exercised = noteSession(j.exercised, s)
			t := answeredAt(e)
			if reaction(s, rangeOf(e), t) != nil || listedAfter(s, rangeOf(e), t) {
				continue
			}
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Step:     step(e),
				Detail:   fmt.Sprintf("%s: after %s the client neither sent those bytes again nor the probe, nor got a list that holds them", s, what(e)),
				Expected: "the segment or the probe sent again, to learn what the server holds",
				Got:      fmt.Sprintf("%d later requests of the session, none for bytes %d-%d", len(after(s, t)), e.Start, e.End),
			})
		}
	}
	return j
}

// listedAfter reports whether a 201 of s answered after t lists every byte of r.
func listedAfter(s *session, r ranges.Range, t time.Time) bool {
	for i := range s.segs {
		e := &s.segs[i]
		if l, ok := listOf(e); ok && answeredAt(e).After(t) && l.Contains(r) {
			return true
		}
	}
	return false
}

// completeAfter judges that every upload hit by a fault that fault selects completes.
func completeAfter(name string, fault func(*fakeserver.JournalEntry) bool) func(*Evidence, []*session) judgement {
	return func(_ *Evidence, ss []*session) judgement {
		j := judgement{skip: "no " + name + " fired: upload the files of the schedule"}
		for _, s := range ss {
			for i := range s.segs {
				e := &s.segs[i]
				if !fault(e) {
					continue
				}
				j.exercised = noteSession(j.exercised, s)
				done := false
				for _, n := range after(s, answeredAt(e)) {
					if isFinal(n) {
						done = true
					}
				}
				if !done {
					last, _ := lastList(s)
					got := "no final answer; no list"
					if last != nil {
						got = fmt.Sprintf("no final answer; the last list %s", last)
					}
					j.findings = append(j.findings, result.Finding{
						Session:  s.id,
						Step:     step(e),
						Detail:   fmt.Sprintf("%s: after %s the upload never completed", s, what(e)),
						Expected: "the segment retried until the server's final answer",
						Got:      got,
					})
				}
				break // one finding per upload
			}
		}
		return j
	}
}

func judgeRetryAfter(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no answer carried Retry-After: upload 03-retry-after.bin"}
	for _, s := range ss {
		for i := range s.segs {
			e := &s.segs[i]
			v, ok := faultValue(e, "retry-after")
			if !ok || e.Status == 0 {
				continue
			}
			secs, err := strconv.Atoi(v)
			if err != nil {
				continue
			}
			n := reaction(s, rangeOf(e), answeredAt(e))
			if n == nil {
				continue
			}
			j.exercised = noteSession(j.exercised, s)
			wait := time.Duration(secs) * time.Second
			if gap := n.Time.Sub(answeredAt(e)); gap < wait-RetryAfterTolerance {
				j.findings = append(j.findings, result.Finding{
					Session:  s.id,
					Step:     step(n),
					Detail:   fmt.Sprintf("%s: %s with Retry-After: %d", s, what(e), secs),
					Expected: fmt.Sprintf("the retry (or the probe) at least %ds after the answer", secs),
					Got:      fmt.Sprintf("%s came %s after it", what(n), gap.Round(time.Millisecond)),
				})
			}
		}
	}
	return j
}

func judgeStop(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no segment was answered with a 4xx that stops the upload: upload 08-client-error.bin"}
	for _, s := range ss {
		e := stoppedAt(s)
		if e == nil {
			continue
		}
		j.exercised = noteSession(j.exercised, s)
		var more []*fakeserver.JournalEntry
		for _, n := range after(s, answeredAt(e)) {
			if isProbe(n) || n.Start <= e.End && e.Start <= n.End {
				more = append(more, n)
			}
		}
		if len(more) > 0 {
			steps := make([]string, 0, len(more))
			for _, m := range more {
				steps = append(steps, step(m))
			}
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Step:     step(more[0]),
				Detail:   fmt.Sprintf("%s: after %s the client went on", s, what(e)),
				Expected: "neither the refused bytes nor the probe sent again: the upload stops with an error",
				Got:      fmt.Sprintf("%d more requests for them (%s)", len(more), clipList(steps, 10)),
			})
		}
	}
	return j
}

func clipList(ss []string, n int) string {
	if len(ss) <= n {
		return strings.Join(ss, ", ")
	}
	return strings.Join(ss[:n], ", ") + fmt.Sprintf(", ... %d more", len(ss)-n)
}

func judgeAbandoned(_ *Evidence, ss []*session) judgement {
	j := judgement{skip: "no upload"}
	for _, s := range ss {
		j.exercised = noteSession(j.exercised, s)
		if stoppedAt(s) != nil {
			continue
		}
		last, final := lastList(s)
		if final {
			continue
		}
		lastSeg := &s.segs[len(s.segs)-1]
		held := "nothing listed"
		if last != nil {
			held = fmt.Sprintf("%d of %d bytes listed (%s)", last.Covered(), s.total, last)
		}
		j.findings = append(j.findings, result.Finding{
			Session:  s.id,
			Step:     step(lastSeg),
			Detail:   fmt.Sprintf("abandoned upload: %s stopped with the file incomplete; its last request: %s", s, what(lastSeg)),
			Expected: "segments until the server's final answer (a 2xx other than 201)",
			Got:      held + "; no final answer",
		})
	}
	return j
}

func judgeTwins(ev *Evidence, ss []*session) judgement {
	j := judgement{skip: "the two twins (files of one name and size) were not both uploaded: upload twins/a/twin.bin and twins/b/twin.bin"}
	// The files of one name and size among the uploads.
	groups := map[string][]string{}
	for _, u := range ev.Uploads {
		k := fmt.Sprintf("%s\x00%d", u.Name, u.Size)
		groups[k] = append(groups[k], u.File)
	}
	seen := map[string][]string{} // file → sessions that carried it
	for _, s := range ss {
		for _, f := range ev.Carried[s.id] {
			seen[f] = append(seen[f], s.id)
		}
	}
	for _, s := range ss {
		var twins []string
		for _, f := range ev.Carried[s.id] {
			for _, g := range groups {
				if len(g) > 1 && slices.Contains(g, f) {
					twins = append(twins, f)
				}
			}
		}
		if len(twins) > 0 {
			j.exercised = noteSession(j.exercised, s)
		}
		if len(twins) > 1 {
			j.findings = append(j.findings, result.Finding{
				Session:  s.id,
				Detail:   fmt.Sprintf("%s carried the bytes of %d different files of one name and size: %s", s, len(twins), strings.Join(twins, ", ")),
				Expected: "a session ID of its own for each file",
				Got:      "one session ID, " + s.id + ", for " + strings.Join(twins, " and "),
			})
		}
	}
	// Both twins must have been seen for a PASS.
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, f := range g {
			if len(seen[f]) == 0 && len(j.findings) == 0 {
				j.exercised = nil
			}
		}
	}
	return j
}
