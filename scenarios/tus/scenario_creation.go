package tus

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/upspec/upspec/scenarios"
	tc "github.com/upspec/upspec/scenarios/tus/tusclause"
	"github.com/upspec/upspec/scenarios/wire"
)

func creationScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TC-01", Family: "tus-creation", Title: "POST with Upload-Length: 201 with Location; HEAD gives offset 0 and the length (also for an empty upload)",
			Clauses: ids(tc.CreationCreated, tc.CoreHeadOffset, tc.CoreHeadLength, tc.CoreOffsetMonotonic), Run: runCreate},
		{ID: "TC-02", Family: "tus-creation", Title: "Upload-Defer-Length: 1, then the length in a PATCH; HEAD says so before and after",
			Clauses: with(tc.CreationDeferLength), Run: runDeferLength},
		{ID: "TC-03", Family: "tus-creation", Title: "Upload-Metadata comes back in HEAD, pair for pair",
			Clauses: ids(tc.CreationCreated, tc.CoreHeadOffset, tc.CoreOffsetMonotonic, tc.CreationMetadata), Run: runMetadata},
		{ID: "TC-04", Family: "tus-creation", Title: "Upload-Length above Tus-Max-Size: 413, no upload created",
			Clauses: ids(tc.CreationMaxSize413), Run: runMaxSize},
		{ID: "TC-05", Family: "tus-creation", Title: "Creation with upload: the POST's body is applied and Upload-Offset says so",
			Clauses: with(tc.WithUploadOffset), Run: runWithUpload},
	}
}

func runCreate(t *scenarios.T) {
	for _, length := range []int64{25, 0} {
		up, _ := create(t, fmt.Sprintf("an upload of %d bytes", length), length, 10)
		off, a := headOffset(t, up, "HEAD of the new upload")
		t.Check(tc.CoreHeadOffset, off == 0, "Upload-Offset: 0", describeOffset(a))
		l, ok := header(a, "Upload-Length")
		t.Check(tc.CoreHeadLength, ok && l == strconv.FormatInt(length, 10), fmt.Sprintf("Upload-Length: %d", length),
			fmt.Sprintf("Upload-Length %q (present: %v)", l, ok))
	}
}

func runDeferLength(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtDeferLength)
	const total = 60
	up, _ := create(t, "an upload of deferred length", -1, 11, h("Upload-Defer-Length", "1"))
	up.length = total
	_, a := headOffset(t, up, "HEAD while the length is unknown")
	d, ok := header(a, "Upload-Defer-Length")
	t.Check(tc.CreationDeferLength, ok && d == "1", "Upload-Defer-Length: 1 while the length is unknown", fmt.Sprintf("Upload-Defer-Length %q (present: %v)", d, ok))
	if l, ok := header(a, "Upload-Length"); ok {
		t.Fail(tc.CreationDeferLength, "no Upload-Length while it is deferred", "Upload-Length: "+l)
	}
	req := patchRequest(up, "PATCH bytes 0-19 with Upload-Length: 60", 0, 0, 20, h("Upload-Length", strconv.Itoa(total)))
	pa := send(t, up, req)
	if !expectApplied(t, up, pa, 20, tc.CreationDeferLength) {
		t.FailNow()
	}
	_, a = headOffset(t, up, "HEAD once the length is known")
	l, ok := header(a, "Upload-Length")
	t.Check(tc.CreationDeferLength, ok && l == strconv.Itoa(total), fmt.Sprintf("Upload-Length: %d once a PATCH gave it", total), fmt.Sprintf("Upload-Length %q (present: %v)", l, ok))
	finish(t, up, total)
	checkStored(t, up, bytesOf(up))
}

// parseMetadata reads an Upload-Metadata value into its pairs (key → decoded value).
func parseMetadata(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range splitList(v) {
		key, val, _ := strings.Cut(pair, " ")
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("pair %q: the value is not base64: %w", pair, err)
		}
		m[key] = string(dec)
	}
	return m, nil
}

func runMetadata(t *scenarios.T) {
	want := map[string]string{"filename": "report 2026 ü.pdf", "filetype": "application/pdf", "upspec": "a,b c"}
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(want[k])))
	}
	sent := strings.Join(pairs, ",")
	up, _ := create(t, "an upload with metadata", 10, 12, h("Upload-Metadata", sent))
	_, a := headOffset(t, up, "HEAD of the upload")
	v, ok := header(a, "Upload-Metadata")
	got, err := parseMetadata(v)
	switch {
	case !ok:
		t.Fail(tc.CreationMetadata, "Upload-Metadata: "+sent, "no Upload-Metadata")
	case err != nil:
		t.Fail(tc.CreationMetadata, "Upload-Metadata: "+sent, fmt.Sprintf("Upload-Metadata %q: %v", v, err))
	default:
		t.Check(tc.CreationMetadata, maps.Equal(got, want), "the pairs "+sent, fmt.Sprintf("Upload-Metadata %q", v))
		if v != sent {
			t.Note("%s: the server wrote the pairs as %q (sent %q)", tc.CreationMetadata, v, sent)
		}
	}
}

func runMaxSize(t *scenarios.T) {
	an := discover(t)
	if an.maxSize < 0 {
		t.Skip("the server announces no Tus-Max-Size in its OPTIONS answer")
	}
	over := an.maxSize + 1
	a := t.Do(wire.Request{Step: fmt.Sprintf("POST with Upload-Length: %d (Tus-Max-Size %d)", over, an.maxSize), Method: "POST",
		Headers: tusHeaders(h("Upload-Length", strconv.FormatInt(over, 10)))})
	t.Check(tc.CreationMaxSize413, a.Answered() && a.Status == 413, "413 Request Entity Too Large", a.Describe())
	if loc, ok := header(a, "Location"); ok && a.Success() {
		t.Fail(tc.CreationMaxSize413, "no upload created above Tus-Max-Size", "created "+loc)
	}
}

func runWithUpload(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtCreationWithBody)
	const total, first = 300, 120
	p := wire.Pattern{Seed: 13}
	a := t.Do(wire.Request{Step: fmt.Sprintf("POST creating the upload with its first %d bytes", first), Method: "POST",
		Headers: tusHeaders(h("Upload-Length", strconv.Itoa(total)), h("Content-Type", OffsetOctetStream)),
		Pattern: &p, BodyLen: first})
	up := requireCreated(t, "the upload", a)
	up.length, up.pattern, up.sent = total, p, a.Request.BodySent
	off, ok := offsetOf(a)
	t.Check(tc.WithUploadOffset, ok && off == first, fmt.Sprintf("Upload-Offset: %d on the 201", first), describeOffset(a))
	hoff, ha := headOffset(t, up, "HEAD after the creating POST")
	t.Check(tc.WithUploadOffset, hoff == first, fmt.Sprintf("Upload-Offset: %d (the POST's body applied)", first), describeOffset(ha))
	up.acked = hoff
	finish(t, up, total)
	checkStored(t, up, bytesOf(up))
}
