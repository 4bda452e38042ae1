package tus

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
	tc "github.com/upspec/upspec/scenarios/tus/tusclause"
	"github.com/upspec/upspec/scenarios/wire"
)

func extensionScenarios() []scenarios.Scenario {
	return []scenarios.Scenario{
		{ID: "TE-01", Family: "tus-expiration", Title: "Upload-Expires on the creating POST or the PATCH: an HTTP date not in the past",
			Clauses: with(tc.ExpirationUploadExpires), Run: runExpires},
		{ID: "TK-01", Family: "tus-checksum", Title: "Tus-Checksum-Algorithm lists sha1; a PATCH whose sha1 matches is applied",
			Clauses: with(tc.ChecksumAlgorithms, tc.ChecksumMatch), Run: runChecksumMatch},
		{ID: "TK-02", Family: "tus-checksum", Title: "A PATCH whose checksum does not match: 460, nothing stored",
			Clauses: with(tc.ChecksumMismatch460), Run: runChecksumMismatch},
		{ID: "TK-03", Family: "tus-checksum", Title: "A PATCH with an unsupported checksum algorithm: 400, nothing stored",
			Clauses: with(tc.ChecksumUnsupported400), Run: runChecksumUnsupported},
		{ID: "TT-01", Family: "tus-termination", Title: "DELETE: 204; then HEAD and PATCH of the upload: 404 or 410",
			Clauses: ids(tc.CreationCreated, tc.CorePatch204, tc.CoreOffsetMonotonic, tc.TerminationDelete204, tc.TerminationGone), Run: runTerminate},
	}
}

func runExpires(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtExpiration)
	const total = 30
	start := time.Now().Add(-time.Minute) // an HTTP date has whole seconds; allow a clock a little behind
	up, created := create(t, "the upload", total, 14)
	pa := patch(t, up, "PATCH the whole upload", total)
	seen := false
	for _, a := range []scenarios.Answer{created, pa} {
		v, ok := header(a, "Upload-Expires")
		if !ok {
			continue
		}
		seen = true
		when, err := http.ParseTime(v)
		t.Check(tc.ExpirationUploadExpires, err == nil && !when.Before(start), "Upload-Expires: an RFC 7231 date not in the past",
			fmt.Sprintf("Upload-Expires %q on the answer to %s", v, a.Step))
	}
	t.Check(tc.ExpirationUploadExpires, seen, "Upload-Expires on the answer to the creating POST or the PATCH", "none on either")
	checkStored(t, up, bytesOf(up))
}

// checksumHeader is an Upload-Checksum value.
func checksumHeader(alg, digest string) string { return alg + " " + digest }

func runChecksumMatch(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtChecksum)
	algs, ok := header(an.answer, "Tus-Checksum-Algorithm")
	t.Check(tc.ChecksumAlgorithms, ok && slices.ContainsFunc(splitList(algs), func(s string) bool { return strings.EqualFold(s, "sha1") }),
		"Tus-Checksum-Algorithm listing sha1", fmt.Sprintf("Tus-Checksum-Algorithm %q (present: %v)", algs, ok))
	const total = 40
	up, _ := create(t, "the upload", total, 15)
	body := up.pattern.Bytes(0, total)
	req := patchRequest(up, "PATCH with the right sha1", 0, 0, total, h("Upload-Checksum", checksumHeader("sha1", sha1Base64(body))))
	a := send(t, up, req)
	if !expectApplied(t, up, a, total, tc.ChecksumMatch) {
		t.FailNow()
	}
	checkStored(t, up, bytesOf(up))
}

func runChecksumMismatch(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtChecksum)
	checksumRefused(t, "sha1", func(body []byte) string {
		d := sha1.Sum(append([]byte("not "), body...))
		return base64.StdEncoding.EncodeToString(d[:])
	}, 460, tc.ChecksumMismatch460, "460 Checksum Mismatch")
}

func runChecksumUnsupported(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtChecksum)
	checksumRefused(t, "upspec-none", func(body []byte) string { return sha1Base64(body) }, 400, tc.ChecksumUnsupported400, "400 Bad Request")
}

// checksumRefused sends a PATCH whose Upload-Checksum the server must refuse with status
// (under id), checks that its bytes were not stored, then finishes the upload.
func checksumRefused(t *scenarios.T, alg string, digest func([]byte) string, status int, id clause.ID, want string) {
	const total = 40
	up, _ := create(t, "the upload", total, 16)
	patch(t, up, "PATCH bytes 0-9", 10)
	body := up.pattern.Bytes(10, 20)
	req := patchRequest(up, fmt.Sprintf("PATCH bytes 10-29 with Upload-Checksum %s", alg), 10, 10, 20,
		h("Upload-Checksum", checksumHeader(alg, digest(body))))
	a := t.Do(req)
	t.Check(id, a.Answered() && a.Status == status, want, describeOffset(a))
	expectOffsetStays(t, up, 10, id, "the refused PATCH stored nothing")
	up.acked = 10
	finish(t, up, total)
	checkStored(t, up, bytesOf(up))
}

func runTerminate(t *scenarios.T) {
	an := discover(t)
	requireExtension(t, an, ExtTermination)
	const total = 50
	up, _ := create(t, "the upload", total, 17)
	patch(t, up, "PATCH bytes 0-19", 20)
	da := t.Do(wire.Request{Step: "DELETE the upload", Method: "DELETE", URL: up.url, Headers: tusHeaders(), Length: wire.LengthOmit})
	t.Require(tc.TerminationDelete204, da.Answered() && da.Status == 204, "204 No Content", da.Describe())
	ha := head(t, up, "HEAD of the terminated upload")
	checkGone(t, tc.TerminationGone, ha, []int{404, 410})
	pa := t.Do(patchRequest(up, "PATCH of the terminated upload", 20, 20, 10))
	checkGone(t, tc.TerminationGone, pa, []int{404, 410})
}
