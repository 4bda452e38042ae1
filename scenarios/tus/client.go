package tus

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
	tc "github.com/upspec/upspec/scenarios/tus/tusclause"
	"github.com/upspec/upspec/scenarios/wire"
)

// Protocol words and header names.
const (
	// Version is the protocol version the suite speaks (Tus-Resumable).
	Version = "1.0.0"
	// OffsetOctetStream is the Content-Type of every PATCH body.
	OffsetOctetStream = "application/offset+octet-stream"
)

// Extensions of tus 1.0.0, as Tus-Extension names them.
const (
	ExtCreation         = "creation"
	ExtDeferLength      = "creation-defer-length"
	ExtCreationWithBody = "creation-with-upload"
	ExtExpiration       = "expiration"
	ExtChecksum         = "checksum"
	ExtTermination      = "termination"
	ExtConcatenation    = "concatenation"
)

// announced is what the server's OPTIONS answer says.
type announced struct {
	answer     scenarios.Answer
	extList    string
	extensions map[string]bool
	maxSize    int64 // -1 when not announced
}

// discover asks the creation URL with OPTIONS what the server supports. It checks nothing:
// TO-01 judges the answer.
func discover(t *scenarios.T) announced {
	a := t.Do(wire.Request{Step: "OPTIONS: what does the server announce", Method: "OPTIONS", Length: wire.LengthOmit})
	an := announced{answer: a, extensions: map[string]bool{}, maxSize: -1}
	an.extList, _ = header(a, "Tus-Extension")
	for _, e := range splitList(an.extList) {
		an.extensions[e] = true
	}
	if v, ok := header(a, "Tus-Max-Size"); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
			an.maxSize = n
		}
	}
	return an
}

// requireExtension skips the scenario unless the server announces extension ext.
func requireExtension(t *scenarios.T, an announced, ext string) {
	if !an.extensions[ext] {
		list := an.extList
		if list == "" {
			list = "none"
		}
		t.Skip(fmt.Sprintf("the server does not announce the %s extension in Tus-Extension (it announces: %s)", ext, list))
	}
}

// splitList splits a comma-separated header value into its trimmed, non-empty elements.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// header returns a response header of an answer.
func header(a scenarios.Answer, name string) (string, bool) {
	if !a.Answered() {
		return "", false
	}
	v, ok := a.Response.Header(name)
	return strings.TrimSpace(v), ok
}

// upload is one upload of a scenario: its URL, what was sent and what was acknowledged.
type upload struct {
	name    string // for steps and messages
	url     *url.URL
	loc     string // the Location header as the server wrote it
	length  int64  // -1 while deferred
	pattern wire.Pattern
	acked   int64 // the last offset the server acknowledged (PATCH 204 or HEAD)
	sent    int64 // the highest offset any body sent to it reached
}

// tusHeaders are the headers of every tus request but OPTIONS: Tus-Resumable first.
func tusHeaders(hs ...result.Header) []result.Header {
	return append([]result.Header{{Name: "Tus-Resumable", Value: Version}}, hs...)
}

// h is a header.
func h(name, value string) result.Header { return result.Header{Name: name, Value: value} }

// create sends a creating POST with Upload-Length (length >= 0) and requires 201 with a
// Location (tus.creation.created); a failure stops the scenario. seed is the upload's
// Pattern.
func create(t *scenarios.T, name string, length int64, seed int, extra ...result.Header) (*upload, scenarios.Answer) {
	hs := extra
	if length >= 0 {
		hs = append([]result.Header{h("Upload-Length", strconv.FormatInt(length, 10))}, extra...)
	}
	a := t.Do(wire.Request{Step: "create " + name, Method: "POST", Headers: tusHeaders(hs...)})
	up := requireCreated(t, name, a)
	up.length, up.pattern = length, wire.Pattern{Seed: seed}
	return up, a
}

// requireCreated checks the answer to a creating POST (201 with Location) and returns the
// upload; a failure stops the scenario.
func requireCreated(t *scenarios.T, name string, a scenarios.Answer) *upload {
	loc, hasLoc := header(a, "Location")
	t.Require(tc.CreationCreated, a.Answered() && a.Status == 201 && hasLoc && loc != "",
		"201 Created with a Location header", a.Describe()+locationText(loc, hasLoc))
	base := t.Config().Target
	ref, err := url.Parse(loc)
	if err != nil || (ref.Scheme != "" && ref.Scheme != "http" && ref.Scheme != "https") {
		t.Fail(tc.CreationCreated, "a Location that is an http(s) URL or a reference relative to the creation URL", fmt.Sprintf("Location: %q", loc))
		t.FailNow()
	}
	return &upload{name: name, url: base.ResolveReference(ref), loc: loc}
}

func locationText(loc string, ok bool) string {
	if !ok {
		return " without Location"
	}
	return fmt.Sprintf(" with Location %q", loc)
}

// patchRequest is a PATCH of up at Upload-Offset offset carrying n bytes of up's pattern
// from start: the caller may change it (headers, gate, interruption) before sending it.
func patchRequest(up *upload, step string, offset, start, n int64, extra ...result.Header) wire.Request {
	hs := tusHeaders(h("Upload-Offset", strconv.FormatInt(offset, 10)), h("Content-Type", OffsetOctetStream))
	return wire.Request{Step: step, Method: "PATCH", URL: up.url, Headers: append(hs, extra...),
		Pattern: &up.pattern, BodyOffset: start, BodyLen: n}
}

// send sends a request of up and counts the bytes it carried at Upload-Offset (up.sent).
func send(t *scenarios.T, up *upload, req wire.Request) scenarios.Answer {
	a := t.Do(req)
	noteSent(up, a)
	return a
}

// noteSent counts the body bytes a request of up carried, from its Upload-Offset.
func noteSent(up *upload, a scenarios.Answer) {
	off := int64(0)
	if v, ok := a.Request.Header("Upload-Offset"); ok {
		off, _ = strconv.ParseInt(v, 10, 64)
	}
	if end := off + a.Request.BodySent; end > up.sent {
		up.sent = end
	}
}

// offsetOf returns the Upload-Offset of an answer: a non-negative integer, or ok false.
func offsetOf(a scenarios.Answer) (int64, bool) {
	v, ok := header(a, "Upload-Offset")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// expectApplied checks the answer to a PATCH that carried bytes up to end: 204 with
// Upload-Offset end (under id; "" = tus.core.patch-204) and an offset that went neither down
// nor beyond what was sent. It returns whether it held and records the offset.
func expectApplied(t *scenarios.T, up *upload, a scenarios.Answer, end int64, id clause.ID) bool {
	if id == "" {
		id = tc.CorePatch204
	}
	off, ok := offsetOf(a)
	if !t.Check(id, a.Answered() && a.Status == 204 && ok && off == end,
		fmt.Sprintf("204 No Content with Upload-Offset: %d", end), describeOffset(a)) {
		return false
	}
	checkMonotonic(t, up, off, a.Step)
	return true
}

// patch sends n bytes of up from its acknowledged offset and requires them applied.
func patch(t *scenarios.T, up *upload, step string, n int64, extra ...result.Header) scenarios.Answer {
	start := up.acked
	a := send(t, up, patchRequest(up, step, start, start, n, extra...))
	if !expectApplied(t, up, a, start+n, "") {
		t.FailNow()
	}
	return a
}

// finish sends the rest of up from its acknowledged offset, in PATCHes of at most chunk
// bytes, each required to be applied.
func finish(t *scenarios.T, up *upload, chunk int64) {
	for up.acked < up.length {
		n := min(chunk, up.length-up.acked)
		patch(t, up, fmt.Sprintf("PATCH bytes %d-%d of %s", up.acked, up.acked+n-1, up.name), n)
	}
}

// checkMonotonic checks an acknowledged offset against the last one and what was sent
// (tus.core.offset-monotonic) and records it.
func checkMonotonic(t *scenarios.T, up *upload, off int64, step string) {
	t.Check(tc.CoreOffsetMonotonic, off >= up.acked && off <= max(up.sent, up.acked),
		fmt.Sprintf("an offset between %d (the last acknowledged) and %d (the bytes sent)", up.acked, max(up.sent, up.acked)),
		fmt.Sprintf("Upload-Offset: %d (%s)", off, step))
	if off > up.acked {
		up.acked = off
	}
}

// describeOffset describes an answer with its Upload-Offset.
func describeOffset(a scenarios.Answer) string {
	s := a.Describe()
	if v, ok := header(a, "Upload-Offset"); ok {
		s += fmt.Sprintf(" with Upload-Offset: %s", v)
	} else if a.Answered() {
		s += " without Upload-Offset"
	}
	return s
}

// head sends a HEAD of up.
func head(t *scenarios.T, up *upload, step string) scenarios.Answer {
	return t.Do(wire.Request{Step: step, Method: "HEAD", URL: up.url, Headers: tusHeaders(), Length: wire.LengthOmit})
}

// headOffset sends a HEAD of up and requires a success with Upload-Offset
// (tus.core.head-offset), checked against what was acknowledged and sent; a failure stops the
// scenario. It returns the offset and the answer.
func headOffset(t *scenarios.T, up *upload, step string) (int64, scenarios.Answer) {
	a := head(t, up, step)
	off, ok := offsetOf(a)
	t.Require(tc.CoreHeadOffset, a.Answered() && (a.Status == 200 || a.Status == 204) && ok,
		"200 or 204 with Upload-Offset, a non-negative integer", describeOffset(a))
	checkMonotonic(t, up, off, step)
	return off, a
}

// expectOffsetStays sends a HEAD of up and checks, under id, that its offset is still want
// (a refused request changed nothing).
func expectOffsetStays(t *scenarios.T, up *upload, want int64, id clause.ID, why string) {
	a := head(t, up, "HEAD: "+why)
	off, ok := offsetOf(a)
	t.Check(id, a.Answered() && ok && off == want,
		fmt.Sprintf("Upload-Offset: %d still (%s)", want, why), describeOffset(a))
	if ok && off > up.acked {
		up.acked = off
	}
}

// checkStored reads a completed upload back and compares it with want byte for byte
// (tus.rob.stored-bytes): through --file-url ({name} = the upload's last path element) when
// it is given, else with a GET of the upload URL, the server's own download. Without
// --file-url a server that does not answer the GET with 200 is noted, not judged.
func checkStored(t *scenarios.T, up *upload, want []byte) {
	fileURL := t.Config().FileURLFor(path.Base(up.url.Path))
	u := up.url
	if fileURL != "" {
		var err error
		if u, err = url.Parse(fileURL); err != nil {
			t.Note("%s: file URL %q: %v", tc.RobStoredBytes, fileURL, err)
			return
		}
	}
	var body bytes.Buffer
	a := t.Do(wire.Request{Step: "read back " + up.name, Method: "GET", URL: u, Headers: tusHeaders(),
		Length: wire.LengthOmit, BodySink: &body, MaxBody: int64(len(want)) + 1})
	if fileURL == "" && (!a.Answered() || a.Status != 200) {
		t.Note("%s: %s was not compared: the GET of its URL answered %s (give --file-url to read completed uploads)",
			tc.RobStoredBytes, up.name, a.Describe())
		return
	}
	exp := fmt.Sprintf("200 with the %d bytes sent", len(want))
	if !t.Check(tc.RobStoredBytes, a.Answered() && a.Status == 200, exp, a.Describe()) {
		return
	}
	got := body.Bytes()
	if bytes.Equal(got, want) {
		t.Check(tc.RobStoredBytes, true, "", "")
		return
	}
	t.Fail(tc.RobStoredBytes, exp, diffText(got, want))
}

// diffText says how got differs from want.
func diffText(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("%d bytes; first difference at byte %d: expected %q, got %q", len(got), i,
				want[i:min(i+16, len(want))], got[i:min(i+16, len(got))])
		}
	}
	return fmt.Sprintf("%d bytes instead of %d (equal up to byte %d)", len(got), len(want), n)
}

// bytesOf is what up's whole file is.
func bytesOf(up *upload) []byte { return up.pattern.Bytes(0, up.length) }

// sha1Base64 is the Upload-Checksum digest of b with sha1.
func sha1Base64(b []byte) string {
	d := sha1.Sum(b)
	return base64.StdEncoding.EncodeToString(d[:])
}

// unknownURL is a URL beside up's that names no upload: its last path element replaced.
func unknownURL(t *scenarios.T, up *upload) *url.URL {
	u := *up.url
	u.Path = path.Join(path.Dir(u.Path), "upspec"+strings.ReplaceAll(t.Config().RunID, "-", "")+"nonexistent")
	u.RawPath = ""
	return &u
}
