package grade

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports/result"
)

// tusUpload is the journal's view of one tus upload: every request of it, by sequence number.
type tusUpload struct {
	id    string
	file  string // the grade's file it carries (Upload.File); "" when unknown
	name  string
	total int64
	group string // key()
	reqs  []fakeserver.JournalEntry
}

func (u *tusUpload) String() string {
	switch {
	case u.file != "":
		return fmt.Sprintf("upload %s (%s, %d bytes)", u.id, u.file, u.total)
	case u.name != "":
		return fmt.Sprintf("upload %s (%s, %d bytes)", u.id, u.name, u.total)
	}
	return "upload " + u.id
}

// key is what groups the uploads of one file: the grade's file they carry, else their name
// and size (unless that is a twin's, which only the bytes tell apart), else the upload alone.
func (u *tusUpload) key() string { return u.group }

// began is when the upload's first request arrived.
func (u *tusUpload) began() time.Time { return u.reqs[0].Time }

// JudgeTus judges every tus client clause on ev (from TusGrader); strict makes a failed
// SHOULD a FAIL.
func JudgeTus(ev Evidence, strict bool) []Result {
	us := tusUploadsOf(ev)
	judges := map[ID]func(*Evidence, []*tusUpload) judgement{
		TusResumableHeader:            judgeTusResumable,
		TusPatchContentType:           judgeTusContentType,
		TusHeadBeforeResume:           judgeTusHead,
		TusResumeAtOffset:             judgeTusOffset,
		TusNoResendAcknowledged:       judgeTusResend,
		TusOnePatchInFlight:           judgeTusOnePatch,
		TusAfterLostAnswer:            judgeTusLostAnswer,
		TusCompleteAfter5xx:           tusCompleteAfter("5xx answer", is5xxFault),
		TusCompleteAfterReset:         tusCompleteAfter("reset", isTusResetFault),
		TusCompleteAfterPartialCommit: tusCompleteAfter("partial commit", isTusPartialFault),
		TusHonourRetryAfter:           judgeTusRetryAfter,
		TusStopOn4xx:                  judgeTusStop,
		TusNewUploadAfterGone:         judgeTusGone,
		TusNoStopIncomplete:           judgeTusAbandoned,
		TusDistinctUploads:            judgeTusTwins,
	}
	return decide(TusCatalogue(), func(c Clause) judgement { return judges[c.ID](&ev, us) }, strict)
}

// decide turns the judgement of each clause into its result.
func decide(clauses []Clause, judge func(Clause) judgement, strict bool) []Result {
	out := make([]Result, 0, len(clauses))
	for _, c := range clauses {
		j := judge(c)
		r := Result{Clause: c, Findings: j.findings, Notes: j.notes}
		for i := range r.Findings {
			r.Findings[i] = finish(c, r.Findings[i])
			if s := r.Findings[i].Session; s != "" && !slices.Contains(r.Sessions, s) {
				r.Sessions = append(r.Sessions, s)
			}
		}
		for _, s := range j.exercised {
			if !slices.Contains(r.Sessions, s) {
				r.Sessions = append(r.Sessions, s)
			}
		}
		skipped := len(j.exercised) == 0 && len(r.Findings) == 0
		if skipped {
			r.SkipReason = j.skip
		}
		r.Verdict = result.Decide(c.Level, r.Findings, skipped, strict)
		out = append(out, r)
	}
	return out
}

// tusUploadsOf groups the journal's requests of uploads by upload, in the order uploads
// first appear, each with the file it carries.
func tusUploadsOf(ev Evidence) []*tusUpload {
	base := ev.Path
	if base == "" {
		base = tus.DefaultPath
	}
	entries := slices.Clone(ev.Journal)
	slices.SortFunc(entries, func(a, b fakeserver.JournalEntry) int { return int(a.Seq - b.Seq) })
	var out []*tusUpload
	byID := map[string]*tusUpload{}
	for _, e := range entries {
		if e.Session == "" || !strings.HasPrefix(e.Path, strings.TrimSuffix(base, "/")) {
			continue
		}
		u := byID[e.Session]
		if u == nil {
			u = &tusUpload{id: e.Session, total: e.Total}
			byID[e.Session] = u
			out = append(out, u)
		}
		if e.FileName != "" {
			u.name = e.FileName
		}
		if e.Total >= 0 {
			u.total = e.Total
		}
		u.reqs = append(u.reqs, e)
	}
	for _, u := range out {
		i, named := planFor(ev.Uploads, u.name, u.total)
		twin := named && twinned(ev.Uploads, i)
		switch fs := ev.Carried[u.id]; {
		case len(fs) > 0:
			u.file = fs[0]
		case named && !twin:
			u.file = ev.Uploads[i].File // by name and size, when no other file has them
		}
		switch {
		case u.file != "":
			u.group = u.file
		case u.name != "" && !twin:
			u.group = fmt.Sprintf("%s, %d bytes", u.name, u.total)
		default:
			u.group = "upload " + u.id
		}
	}
	return out
}

// twinned reports whether another upload of uploads has the name and size of uploads[i].
func twinned(uploads []Upload, i int) bool {
	for k, u := range uploads {
		if k != i && u.Name == uploads[i].Name && u.Size == uploads[i].Size {
			return true
		}
	}
	return false
}

// ofFile returns the uploads of us that carry the file of key k, in order.
func ofFile(us []*tusUpload, k string) []*tusUpload {
	var out []*tusUpload
	for _, u := range us {
		if u.key() == k {
			out = append(out, u)
		}
	}
	return out
}

// fileKeys returns the keys of the files of us, in the order they first appear.
func fileKeys(us []*tusUpload) []string {
	var out []string
	for _, u := range us {
		if !slices.Contains(out, u.key()) {
			out = append(out, u.key())
		}
	}
	return out
}

// completedAfter reports whether one of the uploads answered, after t, that it is whole.
func completedAfter(us []*tusUpload, t time.Time) bool {
	for _, u := range us {
		for i := range u.reqs {
			if e := &u.reqs[i]; tusCompletes(e) && answeredAt(e).After(t) {
				return true
			}
		}
	}
	return false
}

// createdAfter returns the first upload of us whose first request came after t, or nil.
func createdAfter(us []*tusUpload, t time.Time) *tusUpload {
	for _, u := range us {
		if u.began().After(t) {
			return u
		}
	}
	return nil
}

// requestsAfter returns the requests of u whose heads arrived after t, in order.
func requestsAfter(u *tusUpload, t time.Time) []*fakeserver.JournalEntry {
	var out []*fakeserver.JournalEntry
	for i := range u.reqs {
		if u.reqs[i].Time.After(t) {
			out = append(out, &u.reqs[i])
		}
	}
	return out
}

// tusWhat describes e in a few words: its step, method, bytes and answer.
func tusWhat(e *fakeserver.JournalEntry) string {
	s := step(e) + " " + e.Method
	if carriesBytes(e) {
		s += fmt.Sprintf(" of bytes %d-%d/%d", e.Start, e.End, e.Total)
	} else if e.Range != "" {
		s += " at Upload-Offset " + e.Range
	}
	switch {
	case e.Status == 0:
		s += " " + e.Outcome + " without an answer"
	case e.Answer != "" && e.Status < 300:
		s += fmt.Sprintf(" answered %d (Upload-Offset %s)", e.Status, e.Answer)
	default:
		s += fmt.Sprintf(" answered %d", e.Status)
	}
	if e.Fault != "" {
		s += " (fault " + e.Fault + ")"
	}
	return s
}

func isTusInterrupted(e *fakeserver.JournalEntry) bool {
	return carriesBytes(e) && (e.Status == 0 || e.Status >= 500)
}

func isTusResetFault(e *fakeserver.JournalEntry) bool {
	then, _ := faultValue(e, "then")
	return faultAction(e) == "reset-after" || faultAction(e) == "keep" && strings.EqualFold(then, "reset")
}

func isTusPartialFault(e *fakeserver.JournalEntry) bool {
	then, _ := faultValue(e, "then")
	return faultAction(e) == "keep" && !strings.EqualFold(then, "reset")
}

// headAnswered returns the first HEAD of u answered with an offset after t and before u.
func headAnswered(up *tusUpload, t, before time.Time) *fakeserver.JournalEntry {
	for i := range up.reqs {
		e := &up.reqs[i]
		if _, ok := tusOffset(e); ok && e.Method == http.MethodHead && answeredAt(e).After(t) && answeredAt(e).Before(before) {
			return e
		}
	}
	return nil
}

// The judges.

func judgeTusResumable(ev *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no request reached the mock"}
	for _, u := range us {
		j.exercised = noteUpload(j.exercised, u)
	}
	byMethod := map[string][]*fakeserver.JournalEntry{}
	var methods []string
	for i := range ev.Journal {
		e := &ev.Journal[i]
		if e.Status != http.StatusPreconditionFailed || !strings.Contains(e.Reason, "Tus-Resumable") {
			continue
		}
		if byMethod[e.Method] == nil {
			methods = append(methods, e.Method)
		}
		byMethod[e.Method] = append(byMethod[e.Method], e)
	}
	for _, m := range methods {
		es := byMethod[m]
		slices.SortFunc(es, func(a, b *fakeserver.JournalEntry) int { return int(a.Seq - b.Seq) })
		e := es[0]
		j.findings = append(j.findings, result.Finding{
			Session:  e.Session,
			Step:     step(e),
			Detail:   fmt.Sprintf("%d %s requests without Tus-Resumable: %s (the first: %s %s)", len(es), m, tus.Version, tusWhat(e), e.Path),
			Expected: "Tus-Resumable: " + tus.Version + " on every request but OPTIONS",
			Got:      "412 Precondition Failed: " + e.Reason,
		})
	}
	return j
}

func noteUpload(ex []string, u *tusUpload) []string {
	if !slices.Contains(ex, u.id) {
		ex = append(ex, u.id)
	}
	return ex
}

func judgeTusContentType(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no PATCH reached the mock"}
	for _, u := range us {
		var bad []*fakeserver.JournalEntry
		for i := range u.reqs {
			e := &u.reqs[i]
			if e.Method != http.MethodPatch {
				continue
			}
			j.exercised = noteUpload(j.exercised, u)
			if e.ContentType != tus.OffsetOctetStream {
				bad = append(bad, e)
			}
		}
		if len(bad) > 0 {
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     step(bad[0]),
				Detail:   fmt.Sprintf("%s: %d PATCHes with another Content-Type; the first: %s", u, len(bad), tusWhat(bad[0])),
				Expected: "Content-Type: " + tus.OffsetOctetStream,
				Got:      fmt.Sprintf("Content-Type: %q", bad[0].ContentType),
			})
		}
	}
	return j
}

func judgeTusHead(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no PATCH was interrupted (no answer, a reset, a 5xx): upload the files of the schedule"}
	for _, u := range us {
		for i := range u.reqs {
			in := &u.reqs[i]
			if !isTusInterrupted(in) {
				continue
			}
			t := answeredAt(in)
			var next *fakeserver.JournalEntry
			for _, n := range requestsAfter(u, t) {
				if n.Method == http.MethodPatch {
					next = n
					break
				}
			}
			if next == nil {
				continue // never resumed (other clauses judge that)
			}
			j.exercised = noteUpload(j.exercised, u)
			if headAnswered(u, t, next.Time) != nil || next.Range == in.Range && in.Method == http.MethodPatch {
				continue // a HEAD first, or the interrupted PATCH sent again as it was
			}
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     step(next),
				Detail:   fmt.Sprintf("%s: after %s the client sent a PATCH at another offset without asking HEAD for it", u, tusWhat(in)),
				Expected: "a HEAD of the upload, then a PATCH at the offset it gives (or the interrupted PATCH again, at its offset)",
				Got:      tusWhat(next),
			})
		}
	}
	return j
}

// lastInterruption returns the latest interrupted request of u answered before t, or nil.
func lastInterruption(u *tusUpload, t time.Time) *fakeserver.JournalEntry {
	var last *fakeserver.JournalEntry
	for i := range u.reqs {
		if e := &u.reqs[i]; isTusInterrupted(e) && answeredAt(e).Before(t) {
			last = e
		}
	}
	return last
}

func judgeTusOffset(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no upload was resumed (a HEAD, then a PATCH)"}
	for _, u := range us {
		sawHead := false
		for i := range u.reqs {
			e := &u.reqs[i]
			if e.Method == http.MethodHead {
				sawHead = true
			}
			if e.Method == http.MethodPatch && sawHead {
				j.exercised = noteUpload(j.exercised, u)
			}
			if e.Method != http.MethodPatch || e.Status != http.StatusConflict || !strings.Contains(e.Reason, "is not the upload's offset") {
				continue
			}
			if in := lastInterruption(u, e.Time); in != nil && headAnswered(u, answeredAt(in), e.Time) == nil {
				continue // a PATCH after an interruption without a HEAD: tus.cli.head-before-resume
			}
			j.exercised = noteUpload(j.exercised, u)
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     step(e),
				Detail:   fmt.Sprintf("%s: %s", u, tusWhat(e)),
				Expected: "Upload-Offset equal to the offset the server's last answer gave",
				Got:      e.Reason,
			})
		}
	}
	return j
}

func judgeTusResend(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no upload"}
	for _, k := range fileKeys(us) {
		ups := ofFile(us, k)
		var sent int64
		for _, u := range ups {
			j.exercised = noteUpload(j.exercised, u)
			for i := range u.reqs {
				if carriesBytes(&u.reqs[i]) {
					sent += u.reqs[i].BodyRead
				}
			}
		}
		total := ups[0].total
		if total > 0 {
			in := "1 upload"
			if len(ups) > 1 {
				in = fmt.Sprintf("%d uploads", len(ups))
			}
			j.notes = append(j.notes, fmt.Sprintf("%s: %d body bytes sent for a file of %d in %s: efficiency %.3f (bytes sent / file size)",
				k, sent, total, in, float64(sent)/float64(total)))
		}
		if f, ok := resentIn(ups); ok {
			f.Got = fmt.Sprintf("%d body bytes sent for a file of %d (efficiency %.3f)", sent, total, float64(sent)/float64(total))
			j.findings = append(j.findings, f)
		}
	}
	return j
}

// resentIn finds the first upload of a file that re-sent bytes an earlier upload of the file
// held, and told the client so, while that earlier upload was still there.
func resentIn(ups []*tusUpload) (result.Finding, bool) {
	for k, u2 := range ups {
		t := u2.began()
		for _, u1 := range ups[:k] {
			var known int64
			var from *fakeserver.JournalEntry
			gone := false
			for i := range u1.reqs {
				e := &u1.reqs[i]
				if !answeredAt(e).Before(t) {
					continue
				}
				if isTusGone(e) {
					gone = true
				}
				if n, ok := tusOffset(e); ok && n > known {
					known, from = n, e
				}
			}
			if gone || known == 0 {
				continue
			}
			var dup int64
			var first *fakeserver.JournalEntry
			for i := range u2.reqs {
				e := &u2.reqs[i]
				if !carriesBytes(e) || e.BodyRead == 0 {
					continue
				}
				if hi := min(e.End, e.Start+e.BodyRead-1, known-1); hi >= e.Start {
					dup += hi - e.Start + 1
					if first == nil {
						first = e
					}
				}
			}
			if dup > 0 {
				return result.Finding{
					Session:  u2.id,
					Step:     step(first),
					Detail:   fmt.Sprintf("%s: %d bytes re-sent that %s held (Upload-Offset %d in the answer to %s), while it was still there; the first: %s", u2, dup, u1, known, step(from), tusWhat(first)),
					Expected: fmt.Sprintf("a HEAD of %s and the bytes from offset %d only", u1.id, known),
				}, true
			}
		}
	}
	return result.Finding{}, false
}

func judgeTusOnePatch(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no upload"}
	for _, u := range us {
		j.exercised = noteUpload(j.exercised, u)
		for i := range u.reqs {
			b := &u.reqs[i]
			if b.Method != http.MethodPatch || b.Status != http.StatusConflict || !strings.Contains(b.Reason, "another request is writing") {
				continue
			}
			detail := fmt.Sprintf("%s: the server refused %s: %s", u, tusWhat(b), b.Reason)
			for k := range u.reqs {
				a := &u.reqs[k]
				if a.Seq != b.Seq && a.Method == http.MethodPatch && a.Time.Before(b.Time) && answeredAt(a).After(b.Time) {
					detail += fmt.Sprintf("; %s was in flight from %s to %s", tusWhat(a), a.Time.Format("15:04:05.000000"), answeredAt(a).Format("15:04:05.000000"))
					break
				}
			}
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     step(b),
				Detail:   detail,
				Expected: "no PATCH sent while another PATCH of the upload is in flight",
				Got:      "two PATCHes of the upload in flight at once",
			})
		}
	}
	return j
}

func judgeTusLostAnswer(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no answer was lost: upload 02-lost-answer.bin"}
	for _, u := range us {
		for i := range u.reqs {
			e := &u.reqs[i]
			if !carriesBytes(e) || faultAction(e) != "lost-reply" && e.Outcome != fakeserver.OutcomeDropped {
				continue
			}
			j.exercised = noteUpload(j.exercised, u)
			t := answeredAt(e)
			if len(requestsAfter(u, t)) > 0 || createdAfter(ofFile(us, u.key()), t) != nil {
				continue
			}
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     step(e),
				Detail:   fmt.Sprintf("%s: after %s the client sent nothing more for the upload, nor a new upload of the file", u, tusWhat(e)),
				Expected: "a HEAD of the upload, to learn what the server holds",
				Got:      "no later request of the upload",
			})
		}
	}
	return j
}

// tusCompleteAfter judges that every file hit by a fault that fault selects is uploaded whole.
func tusCompleteAfter(name string, fault func(*fakeserver.JournalEntry) bool) func(*Evidence, []*tusUpload) judgement {
	return func(_ *Evidence, us []*tusUpload) judgement {
		j := judgement{skip: "no " + name + " fired: upload the files of the schedule"}
		judged := map[string]bool{}
		for _, u := range us {
			for i := range u.reqs {
				e := &u.reqs[i]
				if !fault(e) || judged[u.key()] {
					continue
				}
				judged[u.key()] = true
				j.exercised = noteUpload(j.exercised, u)
				if completedAfter(ofFile(us, u.key()), answeredAt(e)) {
					continue
				}
				j.findings = append(j.findings, result.Finding{
					Session:  u.id,
					Step:     step(e),
					Detail:   fmt.Sprintf("%s: after %s the file was never uploaded whole", u, tusWhat(e)),
					Expected: "a HEAD, then PATCHes until the offset is the upload's length",
					Got:      "no answer with Upload-Offset " + strconv.FormatInt(u.total, 10) + "; " + heldText(u),
				})
			}
		}
		return j
	}
}

// heldText says how far the server's answers took upload u.
func heldText(u *tusUpload) string {
	var best int64 = -1
	for i := range u.reqs {
		if n, ok := tusOffset(&u.reqs[i]); ok && n > best {
			best = n
		}
	}
	if best < 0 {
		return "no offset answered"
	}
	return fmt.Sprintf("the highest offset answered %d of %d", best, u.total)
}

func judgeTusRetryAfter(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no answer carried Retry-After: upload 03-retry-after.bin"}
	for _, u := range us {
		for i := range u.reqs {
			e := &u.reqs[i]
			v, ok := faultValue(e, "retry-after")
			if !ok || e.Status == 0 {
				continue
			}
			secs, err := strconv.Atoi(v)
			if err != nil {
				continue
			}
			t := answeredAt(e)
			var n *fakeserver.JournalEntry
			if rs := requestsAfter(u, t); len(rs) > 0 {
				n = rs[0]
			}
			if nu := createdAfter(ofFile(us, u.key()), t); nu != nil && (n == nil || nu.reqs[0].Time.Before(n.Time)) {
				n = &nu.reqs[0]
			}
			if n == nil {
				continue
			}
			j.exercised = noteUpload(j.exercised, u)
			wait := time.Duration(secs) * time.Second
			if gap := n.Time.Sub(t); gap < wait-RetryAfterTolerance {
				j.findings = append(j.findings, result.Finding{
					Session:  u.id,
					Step:     step(n),
					Detail:   fmt.Sprintf("%s: %s with Retry-After: %d", u, tusWhat(e), secs),
					Expected: fmt.Sprintf("the next request at least %ds after the answer", secs),
					Got:      fmt.Sprintf("%s came %s after it", tusWhat(n), gap.Round(time.Millisecond)),
				})
			}
		}
	}
	return j
}

func judgeTusStop(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no request was answered with a 4xx that stops the upload: upload 08-client-error.bin"}
	for _, u := range us {
		var e *fakeserver.JournalEntry
		for i := range u.reqs {
			if isTusStopping(&u.reqs[i]) {
				e = &u.reqs[i]
				break
			}
		}
		if e == nil {
			continue
		}
		j.exercised = noteUpload(j.exercised, u)
		t := answeredAt(e)
		var steps []string
		for _, n := range requestsAfter(u, t) {
			if n.Method != http.MethodDelete {
				steps = append(steps, step(n))
			}
		}
		if nu := createdAfter(ofFile(us, u.key()), t); nu != nil {
			steps = append(steps, step(&nu.reqs[0])+" (a new upload of the file, "+nu.id+")")
		}
		if len(steps) > 0 {
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     strings.Fields(steps[0])[0],
				Detail:   fmt.Sprintf("%s: after %s the client went on", u, tusWhat(e)),
				Expected: "nothing more sent for the file: the upload stops with an error",
				Got:      fmt.Sprintf("%d more requests (%s)", len(steps), clipList(steps, 10)),
			})
		}
	}
	return j
}

func judgeTusGone(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no upload was answered 404 or 410: upload 07-gone.bin"}
	for _, u := range us {
		var e *fakeserver.JournalEntry
		for i := range u.reqs {
			if isTusGone(&u.reqs[i]) {
				e = &u.reqs[i]
				break
			}
		}
		if e == nil {
			continue
		}
		j.exercised = noteUpload(j.exercised, u)
		t := answeredAt(e)
		var more []string
		for _, n := range requestsAfter(u, t) {
			if n.Method == http.MethodPatch || n.Method == http.MethodHead {
				more = append(more, step(n))
			}
		}
		if len(more) > 0 {
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Step:     more[0],
				Detail:   fmt.Sprintf("%s: after %s the client went on with the upload the server no longer has", u, tusWhat(e)),
				Expected: "nothing more sent to the upload's URL; a new upload of the file",
				Got:      fmt.Sprintf("%d more requests to it (%s)", len(more), clipList(more, 10)),
			})
			continue
		}
		file := ofFile(us, u.key())
		nu := createdAfter(file, t)
		if nu != nil && completedAfter(file, t) {
			continue
		}
		got := "no new upload of the file"
		if nu != nil {
			got = fmt.Sprintf("a new upload, %s, never completed (%s)", nu.id, heldText(nu))
		}
		j.findings = append(j.findings, result.Finding{
			Session:  u.id,
			Step:     step(e),
			Detail:   fmt.Sprintf("%s: after %s the file was not uploaded (if the client reported an error, it did what the document allows; if it reported the file done, that is a false success)", u, tusWhat(e)),
			Expected: "a new upload of the file (a POST to the creation URL), uploaded whole",
			Got:      got,
		})
	}
	return j
}

func judgeTusAbandoned(_ *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "no upload"}
	for _, k := range fileKeys(us) {
		ups := ofFile(us, k)
		done := false
		for _, u := range ups {
			j.exercised = noteUpload(j.exercised, u)
			for i := range u.reqs {
				if e := &u.reqs[i]; tusCompletes(e) || isTusStopping(e) {
					done = true
				}
			}
		}
		last := ups[len(ups)-1]
		for i := range last.reqs {
			if isTusGone(&last.reqs[i]) {
				done = true // tus.cli.new-upload-after-gone
			}
		}
		if done {
			continue
		}
		lastReq := &last.reqs[len(last.reqs)-1]
		j.findings = append(j.findings, result.Finding{
			Session:  last.id,
			Step:     step(lastReq),
			Detail:   fmt.Sprintf("abandoned upload: %s stopped with the file incomplete; its last request: %s", last, tusWhat(lastReq)),
			Expected: "PATCHes until an answer's Upload-Offset is the upload's length",
			Got:      heldText(last) + "; the file never whole",
		})
	}
	return j
}

func judgeTusTwins(ev *Evidence, us []*tusUpload) judgement {
	j := judgement{skip: "the two twins (files of one name and size) were not both uploaded: upload twins/a/twin.bin and twins/b/twin.bin"}
	groups := map[string][]string{}
	var order []string
	for _, u := range ev.Uploads {
		k := fmt.Sprintf("%s\x00%d", u.Name, u.Size)
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], u.File)
	}
	isTwin := func(f string) bool {
		for _, g := range groups {
			if len(g) > 1 && slices.Contains(g, f) {
				return true
			}
		}
		return false
	}
	seen := map[string][]*tusUpload{} // twin → uploads that carried it
	for _, u := range us {
		var twins []string
		for _, f := range ev.Carried[u.id] {
			if isTwin(f) {
				twins = append(twins, f)
				seen[f] = append(seen[f], u)
			}
		}
		if len(twins) > 0 {
			j.exercised = noteUpload(j.exercised, u)
		}
		if len(twins) > 1 {
			j.findings = append(j.findings, result.Finding{
				Session:  u.id,
				Detail:   fmt.Sprintf("%s carried the bytes of %d different files of one name and size: %s", u, len(twins), strings.Join(twins, ", ")),
				Expected: "an upload of its own for each file",
				Got:      "one upload, " + u.id + ", for " + strings.Join(twins, " and "),
			})
		}
	}
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		for _, f := range g {
			if len(seen[f]) > 0 {
				continue
			}
			// f was never sent: did the client take a twin's complete upload for it?
			for _, other := range g {
				for _, u := range seen[other] {
					if h := headAfterCompletion(u); h != nil {
						j.exercised = noteUpload(j.exercised, u)
						j.findings = append(j.findings, result.Finding{
							Session:  u.id,
							Step:     step(h),
							Detail:   fmt.Sprintf("none of the bytes of %s were sent: the client asked HEAD of %s after it was complete (%s), as if it were %s's", f, u, tusWhat(h), f),
							Expected: "a new upload for " + f,
							Got:      "the complete upload of " + other + " taken for it",
						})
					}
				}
			}
			if len(j.findings) == 0 {
				j.exercised = nil
			}
		}
	}
	return j
}

// headAfterCompletion returns a HEAD of u that came after an answer said u was whole.
func headAfterCompletion(u *tusUpload) *fakeserver.JournalEntry {
	for i := range u.reqs {
		if !tusCompletes(&u.reqs[i]) {
			continue
		}
		done := answeredAt(&u.reqs[i])
		for k := i + 1; k < len(u.reqs); k++ {
			if e := &u.reqs[k]; e.Method == http.MethodHead && e.Time.After(done) {
				return e
			}
		}
		return nil
	}
	return nil
}
