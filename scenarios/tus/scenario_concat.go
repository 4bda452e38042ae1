package tus

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/upspec/upspec/scenarios"
	tc "github.com/upspec/upspec/scenarios/tus/tusclause"
	"github.com/upspec/upspec/scenarios/wire"
)

func concatenationScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TN-01", Family: "tus-concatenation", Title: "Two partial uploads and a final one: its length is their sum, its bytes theirs in order",
			Clauses: with(tc.ConcatPartial, tc.ConcatFinal, tc.ConcatFinalHeadConcat), Run: runConcat},
		{ID: "TN-02", Family: "tus-concatenation", Title: "A PATCH of a final upload: 403, neither it nor its partials modified",
			Clauses: with(tc.ConcatPartial, tc.ConcatFinal, tc.ConcatFinalPatch403), Run: runConcatPatch},
	}
}

// partialsAndFinal creates two partial uploads, uploads them and creates the final upload
// of both. It returns the partials and the final upload (its length the sum).
func partialsAndFinal(t *scenarios.T) (a, b, final *upload) {
	an := discover(t)
	requireExtension(t, an, ExtConcatenation)
	parts := make([]*upload, 2)
	for i, n := range []int64{70, 45} {
		name := fmt.Sprintf("partial upload %d", i+1)
		ca := t.Do(wire.Request{Step: "create " + name, Method: "POST",
			Headers: tusHeaders(h("Upload-Length", strconv.FormatInt(n, 10)), h("Upload-Concat", "partial"))})
		loc, ok := header(ca, "Location")
		t.Require(tc.ConcatPartial, ca.Answered() && ca.Status == 201 && ok && loc != "",
			"201 Created with Location for Upload-Concat: partial", ca.Describe()+locationText(loc, ok))
		up := requireCreated(t, name, ca)
		up.length, up.pattern = n, wire.Pattern{Seed: 20 + i}
		finish(t, up, n)
		parts[i] = up
	}
	concat := "final;" + parts[0].loc + " " + parts[1].loc
	fa := t.Do(wire.Request{Step: "create the final upload", Method: "POST", Headers: tusHeaders(h("Upload-Concat", concat))})
	loc, ok := header(fa, "Location")
	t.Require(tc.ConcatFinal, fa.Answered() && fa.Status == 201 && ok && loc != "",
		"201 Created with Location for Upload-Concat: "+concat, fa.Describe()+locationText(loc, ok))
	final = requireCreated(t, "the final upload", fa)
	final.length = parts[0].length + parts[1].length
	return parts[0], parts[1], final
}

// concatenated is what the final upload of a and b holds.
func concatenated(a, b *upload) []byte { return append(bytesOf(a), bytesOf(b)...) }

func runConcat(t *scenarios.T) {
	a, b, final := partialsAndFinal(t)
	ha := head(t, final, "HEAD of the final upload")
	want := strconv.FormatInt(final.length, 10)
	off, _ := header(ha, "Upload-Offset")
	l, _ := header(ha, "Upload-Length")
	t.Check(tc.ConcatFinal, ha.Answered() && (ha.Status == 200 || ha.Status == 204) && off == want && l == want,
		fmt.Sprintf("Upload-Offset and Upload-Length %s (%d + %d)", want, a.length, b.length),
		fmt.Sprintf("%s, Upload-Offset %q, Upload-Length %q", ha.Describe(), off, l))
	c, ok := header(ha, "Upload-Concat")
	t.Check(tc.ConcatFinalHeadConcat, ok && strings.HasPrefix(c, "final;") && len(strings.Fields(strings.TrimPrefix(c, "final;"))) == 2,
		"Upload-Concat: final; with the two partials", fmt.Sprintf("Upload-Concat %q (present: %v)", c, ok))
	checkStored(t, final, concatenated(a, b))
}

func runConcatPatch(t *scenarios.T) {
	a, b, final := partialsAndFinal(t)
	req := patchRequest(final, "PATCH of the final upload", final.length, 0, 10)
	req.Pattern = &wire.Pattern{Seed: 97}
	pa := t.Do(req)
	t.Check(tc.ConcatFinalPatch403, pa.Answered() && pa.Status == 403, "403 Forbidden", describeOffset(pa))
	for _, up := range []*upload{a, b} {
		req := patchRequest(up, "PATCH of "+up.name+" after the final upload", up.length, 0, 5)
		req.Pattern = &wire.Pattern{Seed: 96}
		t.Do(req) // a complete upload: whatever the answer, its bytes must stay
	}
	checkStored(t, a, bytesOf(a))
	checkStored(t, b, bytesOf(b))
	checkStored(t, final, concatenated(a, b))
}
