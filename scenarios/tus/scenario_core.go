package tus

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
	tc "github.com/upspec/upspec/scenarios/tus/tusclause"
	"github.com/upspec/upspec/scenarios/wire"
)

// ids turns clause constants into a scenario's clause list.
func ids(list ...clause.ID) []string { return clause.Strings(list...) }

// uploading are the clauses of a scenario that creates an upload, sends it with PATCH, asks
// its offset with HEAD and reads it back.
var uploading = []clause.ID{tc.CreationCreated, tc.CorePatch204, tc.CoreOffsetMonotonic, tc.CoreHeadOffset, tc.RobStoredBytes}

// with is uploading plus more clauses.
func with(more ...clause.ID) []string { return ids(append(slices.Clone(uploading), more...)...) }

// chunkOf is the PATCH size of a scenario that uploads total bytes in three parts.
func chunkOf(total int64) int64 { return (total + 2) / 3 }

func optionsScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TO-01", Family: "tus-options", Title: "OPTIONS announces Tus-Version (with 1.0.0), and well-formed Tus-Extension and Tus-Max-Size",
			Clauses: ids(tc.CoreOptions, tc.CoreOptionsAnnounce), Run: runOptions},
		{ID: "TO-02", Family: "tus-options", Title: "Tus-Resumable: 1.0.0 on the answers to POST, HEAD, PATCH, an unknown upload and DELETE",
			Clauses: with(tc.CoreResumableHeader), Run: runResumableEverywhere},
		{ID: "TO-03", Family: "tus-options", Title: "An unsupported Tus-Resumable version: 412 with Tus-Version, and nothing created or stored",
			Clauses: ids(tc.CoreVersion412, tc.CoreVersion412TusVersion, tc.CreationCreated, tc.CoreHeadOffset, tc.CoreOffsetMonotonic), Run: runVersion412},
	}
}

func runOptions(t *scenarios.T) {
	an := discover(t)
	a := an.answer
	t.Require(tc.CoreOptions, a.Answered() && (a.Status == 200 || a.Status == 204), "200 OK or 204 No Content", a.Describe())
	versions, ok := header(a, "Tus-Version")
	t.Check(tc.CoreOptions, ok && slices.Contains(splitList(versions), Version),
		"Tus-Version listing "+Version, fmt.Sprintf("Tus-Version: %q (present: %v)", versions, ok))
	for _, e := range splitList(an.extList) {
		t.Check(tc.CoreOptions, isToken(e), "Tus-Extension: a comma-separated list of extension names", fmt.Sprintf("Tus-Extension: %q", an.extList))
	}
	if v, ok := header(a, "Tus-Max-Size"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		t.Check(tc.CoreOptions, err == nil && n >= 0, "Tus-Max-Size: a non-negative integer", fmt.Sprintf("Tus-Max-Size: %q", v))
	}
	maxSize := "none"
	if an.maxSize >= 0 {
		maxSize = strconv.FormatInt(an.maxSize, 10)
	}
	t.Observe(tc.CoreOptionsAnnounce, "%d; Tus-Version %q; Tus-Extension %q; Tus-Max-Size %s", a.Status, versions, an.extList, maxSize)
}

// isToken reports whether s is an extension name: letters, digits and '-'.
func isToken(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return s != ""
}

// checkResumable checks that an answer carries Tus-Resumable: 1.0.0.
func checkResumable(t *scenarios.T, a scenarios.Answer, what string) {
	v, ok := header(a, "Tus-Resumable")
	t.Check(tc.CoreResumableHeader, a.Answered() && ok && v == Version,
		"Tus-Resumable: "+Version+" on the answer to "+what, fmt.Sprintf("%s, Tus-Resumable %q (present: %v)", a.Describe(), v, ok))
}

func runResumableEverywhere(t *scenarios.T) {
	an := discover(t)
	const total = 30
	up, created := create(t, "the upload", total, 1)
	checkResumable(t, created, "the creating POST")
	_, ha := headOffset(t, up, "HEAD of the new upload")
	checkResumable(t, ha, "HEAD")
	pa := patch(t, up, "PATCH the whole upload", total)
	checkResumable(t, pa, "PATCH")
	ua := t.Do(wire.Request{Step: "HEAD of an unknown upload", Method: "HEAD", URL: unknownURL(t, up), Headers: tusHeaders(), Length: wire.LengthOmit})
	checkResumable(t, ua, "a HEAD of an unknown upload")
	checkStored(t, up, bytesOf(up))
	if an.extensions[ExtTermination] {
		da := t.Do(wire.Request{Step: "DELETE the upload", Method: "DELETE", URL: up.url, Headers: tusHeaders(), Length: wire.LengthOmit})
		checkResumable(t, da, "DELETE")
	} else {
		t.Note("DELETE not checked: the server does not announce termination")
	}
}

func runVersion412(t *scenarios.T) {
	const bad = "0.0.1"
	// A creating POST of an unsupported version.
	a := t.Do(wire.Request{Step: "POST with Tus-Resumable: " + bad, Method: "POST",
		Headers: []result.Header{h("Tus-Resumable", bad), h("Upload-Length", "10")}})
	check412(t, a, "the creating POST")
	if loc, ok := header(a, "Location"); ok && a.Success() {
		t.Fail(tc.CoreVersion412, "no upload created for an unsupported version", "created "+loc)
	}
	// A PATCH of an unsupported version to a real upload: nothing stored.
	up, _ := create(t, "the upload", 10, 2)
	req := patchRequest(up, "PATCH with Tus-Resumable: "+bad, 0, 0, 10)
	req.Headers[0].Value = bad
	pa := send(t, up, req)
	check412(t, pa, "the PATCH")
	up.sent = 0 // a refused PATCH must not count as sent
	a2 := head(t, up, "HEAD: the refused PATCH stored nothing")
	off, ok := offsetOf(a2)
	t.Check(tc.CoreHeadOffset, a2.Answered() && ok, "200 or 204 with Upload-Offset", describeOffset(a2))
	t.Check(tc.CoreVersion412, ok && off == 0, "Upload-Offset: 0 (the PATCH of an unsupported version was not processed)", describeOffset(a2))
}

func check412(t *scenarios.T, a scenarios.Answer, what string) {
	if !t.Check(tc.CoreVersion412, a.Answered() && a.Status == 412, "412 Precondition Failed for "+what, a.Describe()) {
		return
	}
	v, ok := header(a, "Tus-Version")
	t.Check(tc.CoreVersion412TusVersion, ok && v != "", "Tus-Version on the 412 answer to "+what, fmt.Sprintf("Tus-Version %q (present: %v)", v, ok))
}

func headScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TH-01", Family: "tus-head", Title: "HEAD gives Upload-Offset, Upload-Length and Cache-Control: no-store, new, partial and complete",
			Clauses: with(tc.CoreHeadLength, tc.CoreHeadNoStore), Run: runHead},
		{ID: "TH-02", Family: "tus-head", Title: "HEAD and PATCH of an unknown upload: 404, 410 or 403, without Upload-Offset",
			Clauses: ids(tc.CreationCreated, tc.CoreUnknownUpload), Run: runUnknown},
	}
}

func runHead(t *scenarios.T) {
	const total = 90
	up, _ := create(t, "the upload", total, 3)
	for _, step := range []struct {
		what string
		send int64
	}{{"a new upload", 0}, {"a partial upload", 40}, {"a complete upload", total - 40}} {
		if step.send > 0 {
			patch(t, up, fmt.Sprintf("PATCH %d bytes", step.send), step.send)
		}
		off, a := headOffset(t, up, "HEAD of "+step.what)
		t.Check(tc.CoreHeadOffset, off == up.acked, fmt.Sprintf("Upload-Offset: %d for %s", up.acked, step.what), describeOffset(a))
		l, ok := header(a, "Upload-Length")
		t.Check(tc.CoreHeadLength, ok && l == strconv.Itoa(total), fmt.Sprintf("Upload-Length: %d", total), fmt.Sprintf("Upload-Length %q (present: %v)", l, ok))
		cc, ok := header(a, "Cache-Control")
		t.Check(tc.CoreHeadNoStore, ok && hasDirective(cc, "no-store"), "Cache-Control: no-store", fmt.Sprintf("Cache-Control %q (present: %v)", cc, ok))
	}
	checkStored(t, up, bytesOf(up))
}

// hasDirective reports whether a Cache-Control value holds the directive d.
func hasDirective(v, d string) bool {
	for _, x := range splitList(v) {
		if strings.EqualFold(x, d) {
			return true
		}
	}
	return false
}

func runUnknown(t *scenarios.T) {
	up, _ := create(t, "an upload beside which the unknown URL lies", 10, 4)
	u := unknownURL(t, up)
	ha := t.Do(wire.Request{Step: "HEAD of an unknown upload", Method: "HEAD", URL: u, Headers: tusHeaders(), Length: wire.LengthOmit})
	checkGone(t, tc.CoreUnknownUpload, ha, []int{404, 410, 403})
	pa := t.Do(wire.Request{Step: "PATCH of an unknown upload", Method: "PATCH", URL: u,
		Headers: tusHeaders(h("Upload-Offset", "0"), h("Content-Type", OffsetOctetStream)), Body: []byte("0123456789")})
	checkGone(t, tc.CoreUnknownUpload, pa, []int{404, 410, 403})
}

// checkGone checks, under id, that a request to a URL without an upload is answered with one
// of statuses and no Upload-Offset.
func checkGone(t *scenarios.T, id clause.ID, a scenarios.Answer, statuses []int) {
	_, hasOffset := header(a, "Upload-Offset")
	want := make([]string, len(statuses))
	for i, s := range statuses {
		want[i] = strconv.Itoa(s)
	}
	t.Check(id, a.Answered() && slices.Contains(statuses, a.Status) && !hasOffset,
		strings.Join(want, " or ")+" without Upload-Offset ("+a.Step+")", describeOffset(a))
}

func patchScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TP-01", Family: "tus-patch", Title: "An upload in three PATCHes: 204 with each new offset; the file byte for byte",
			Clauses: with(), Run: runPatches},
		{ID: "TP-02", Family: "tus-patch", Title: "A PATCH with another Content-Type: refused (415), nothing stored",
			Clauses: with(tc.CorePatchContentType, tc.CorePatch415), Run: runContentType},
		{ID: "TP-03", Family: "tus-patch", Title: "A PATCH at another Upload-Offset (behind and ahead): 409, nothing stored",
			Clauses: with(tc.CoreOffsetMismatch409), Run: runOffsetMismatch},
		{ID: "TP-04", Family: "tus-patch", Title: "A PATCH cut off mid-body: HEAD gives what the server stored, and the upload resumes from there",
			Clauses: with(tc.CoreStorePartial), Run: runInterrupted},
		{ID: "TP-05", Family: "tus-patch", Title: "Two PATCHes at one offset, the second while the first is in flight: at most one applied, the file byte for byte",
			Clauses: with(tc.CoreConcurrentPatch), Run: runRace},
	}
}

func runPatches(t *scenarios.T) {
	const total = 3000
	up, _ := create(t, "the upload", total, 5)
	finish(t, up, chunkOf(total))
	off, a := headOffset(t, up, "HEAD of the complete upload")
	t.Check(tc.CoreHeadOffset, off == total, fmt.Sprintf("Upload-Offset: %d", total), describeOffset(a))
	checkStored(t, up, bytesOf(up))
}

func runContentType(t *scenarios.T) {
	const total = 40
	up, _ := create(t, "the upload", total, 6)
	for _, ct := range []string{"application/octet-stream", ""} {
		req := patchRequest(up, "PATCH with Content-Type "+quoteOrNone(ct), 0, 0, 20)
		if ct == "" {
			req.Headers = slices.DeleteFunc(req.Headers, func(x result.Header) bool { return x.Name == "Content-Type" })
		} else {
			req.Headers[2].Value = ct
		}
		req.Pattern = &wire.Pattern{Seed: 99} // bytes that must never be stored
		a := t.Do(req)
		t.Check(tc.CorePatchContentType, a.Answered() && a.Status >= 400, "a refusal (4xx)", describeOffset(a))
		t.Check(tc.CorePatch415, a.Answered() && a.Status == 415, "415 Unsupported Media Type", a.Describe())
		expectOffsetStays(t, up, 0, tc.CorePatchContentType, "the PATCH with another Content-Type stored nothing")
	}
	up.acked = 0
	finish(t, up, 20)
	checkStored(t, up, bytesOf(up))
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

func runOffsetMismatch(t *scenarios.T) {
	const total = 30
	up, _ := create(t, "the upload", total, 7)
	patch(t, up, "PATCH bytes 0-9", 10)
	for _, off := range []int64{5, 20} {
		req := patchRequest(up, fmt.Sprintf("PATCH with Upload-Offset: %d (the upload is at 10)", off), off, off, 10)
		req.Pattern = &wire.Pattern{Seed: 98} // other bytes: stored, they would show
		a := t.Do(req)
		t.Check(tc.CoreOffsetMismatch409, a.Answered() && a.Status == 409, "409 Conflict", describeOffset(a))
		expectOffsetStays(t, up, 10, tc.CoreOffsetMismatch409, fmt.Sprintf("the PATCH at %d was not applied", off))
	}
	up.acked = 10
	finish(t, up, 10)
	checkStored(t, up, bytesOf(up))
}

// cutSettleWindow bounds how long TP-04 asks for the offset of a cut PATCH to reach the bytes
// sent.
const cutSettleWindow = 3 * time.Second

func runInterrupted(t *scenarios.T) {
	const total, cut = 3000, 1000
	up, _ := create(t, "the upload", total, 8)
	req := patchRequest(up, fmt.Sprintf("PATCH of all %d bytes, cut off after %d", total, cut), 0, 0, total)
	req.Interrupt, req.InterruptAfter = true, cut
	a := send(t, up, req)
	sent := a.Request.BodySent
	off, ha := headOffset(t, up, "HEAD after the cut")
	// The server may still be storing what arrived when the first HEAD comes (its PATCH
	// handler sees the cut only when it reads on): ask again, within a bounded window,
	// until the offset reaches the bytes sent. Only the window's end makes a verdict.
	window := min(cutSettleWindow, t.Config().RequestTimeout)
	for wait, start := 10*time.Millisecond, time.Now(); off < sent && time.Since(start) < window && t.Context().Err() == nil; wait = min(2*wait, 200*time.Millisecond) {
		time.Sleep(wait)
		off, ha = headOffset(t, up, "HEAD after the cut, again")
	}
	t.Check(tc.CoreStorePartial, off == sent, fmt.Sprintf("Upload-Offset: %d (every byte that arrived is kept)", sent), describeOffset(ha))
	up.acked = off
	finish(t, up, total)
	checkStored(t, up, bytesOf(up))
}

func runRace(t *scenarios.T) {
	const total, pause = 2000, 500
	up, _ := create(t, "the upload", total, 9)
	gate := wire.NewGate()
	reqA := patchRequest(up, "PATCH A of all bytes at 0, held mid-body", 0, 0, total)
	reqA.Gate, reqA.PauseAfter = gate, pause
	doneA := make(chan scenarios.Answer, 1)
	go func() { doneA <- t.Do(reqA) }()
	select {
	case <-gate.Paused():
	case a := <-doneA:
		t.Fatal("PATCH A was answered before it was in flight: %s", a.Describe())
	case <-t.Context().Done():
		gate.Resume()
		t.Fatal("PATCH A never got in flight: %v", t.Context().Err())
	}
	if s := gate.Settle(); s > 0 {
		t.Note("the server sent no 100 Continue: PATCH A was held after a bounded wait of %v", s)
		time.Sleep(s)
	}
	reqB := patchRequest(up, "PATCH B of all bytes at 0, while A is in flight", 0, 0, total)
	doneB := make(chan scenarios.Answer, 1)
	go func() { doneB <- t.Do(reqB) }()
	var b scenarios.Answer
	bFirst := true
	select {
	case b = <-doneB:
	case <-time.After(wire.ContinueWait(t.Config().RequestTimeout)):
		bFirst = false // the server holds B until A is done: serialised, which is allowed
	case <-t.Context().Done():
	}
	gate.Resume()
	a := <-doneA
	if !bFirst {
		b = <-doneB
		t.Note("the server answered PATCH B only after A finished")
	}
	noteSent(up, a)
	noteSent(up, b)
	applied := 0
	for _, x := range []scenarios.Answer{a, b} {
		if x.Answered() && x.Status == 204 {
			applied++
			off, ok := offsetOf(x)
			t.Check(tc.CoreConcurrentPatch, ok && off <= total, fmt.Sprintf("204 with an Upload-Offset of at most %d", total), describeOffset(x))
		}
		t.Note("%s: %s", x.Step, describeOffset(x))
	}
	t.Check(tc.CoreConcurrentPatch, applied <= 1, "at most one of the two PATCHes applied (204)", fmt.Sprintf("%d answered 204: A %s; B %s", applied, describeOffset(a), describeOffset(b)))
	off, ha := headOffset(t, up, "HEAD after the race")
	t.Check(tc.CoreConcurrentPatch, off <= total, fmt.Sprintf("Upload-Offset of at most %d", total), describeOffset(ha))
	up.acked = off
	up.length = total
	finish(t, up, total)
	checkStored(t, up, bytesOf(up))
}
