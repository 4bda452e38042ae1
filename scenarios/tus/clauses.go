package tus

import "github.com/upspec/upspec/scenarios"

// Levels of the catalogue (scenarios' levels).
const (
	MUST   = scenarios.MUST
	SHOULD = scenarios.SHOULD
	INFO   = scenarios.INFO
)

// Sections of the catalogue: those of the tus 1.0.0 protocol document (protocol.md,
// 2016-03-25), in document order, and what every user of an upload relies on.
const (
	secHeaders     = "Core protocol: headers"
	secOptions     = "Core protocol: OPTIONS"
	secHead        = "Core protocol: HEAD"
	secPatch       = "Core protocol: PATCH"
	secCreation    = "Creation"
	secWithUpload  = "Creation with upload"
	secExpiration  = "Expiration"
	secChecksum    = "Checksum"
	secTermination = "Termination"
	secConcat      = "Concatenation"
	secBeyond      = "Beyond the document"
)

// Catalogue returns every clause of the tus protocol, in document order. Each paraphrases
// the document's requirement and names its section. The slice is a fresh copy on every call.
func Catalogue() []scenarios.Clause {
	return []scenarios.Clause{
		// Core protocol: headers.
		{ID: "tus.core.resumable-header", Level: MUST, Section: secHeaders, Title: "Tus-Resumable on every answer but OPTIONS",
			Text: "Every request and every response carries `Tus-Resumable` with the protocol version in use (`1.0.0`), except OPTIONS requests and their answers. Checked on the answers to POST, HEAD, PATCH, DELETE and to a HEAD of an unknown upload."},
		{ID: "tus.core.version-412", Level: MUST, Section: secHeaders, Title: "412 for an unsupported version",
			Text: "A request whose `Tus-Resumable` names a version the server does not support is answered 412 Precondition Failed and is not processed (no upload is created, no byte is stored)."},
		{ID: "tus.core.version-412-tus-version", Level: MUST, Section: secHeaders, Title: "The 412 names the supported versions",
			Text: "The 412 Precondition Failed answer to an unsupported version carries `Tus-Version`, the versions the server supports."},

		// Core protocol: OPTIONS.
		{ID: "tus.core.options", Level: MUST, Section: secOptions, Title: "OPTIONS: 200 or 204 with Tus-Version",
			Text: "A successful OPTIONS answer is 204 No Content or 200 OK and carries `Tus-Version`, a comma-separated list of the versions the server supports (the suite speaks 1.0.0, which it must list); `Tus-Extension`, when present, is a comma-separated list of extension names and `Tus-Max-Size`, when present, a non-negative integer."},
		{ID: "tus.core.options-announce", Level: INFO, Section: secOptions, Title: "What the server announces",
			Text: "The versions, extensions and maximum size the OPTIONS answer announces are recorded; scenarios of an extension the server does not announce in `Tus-Extension` are skipped."},

		// Core protocol: HEAD.
		{ID: "tus.core.head-offset", Level: MUST, Section: secHead, Title: "HEAD gives Upload-Offset",
			Text: "The answer to a HEAD of an upload is a success (200 or 204) and always carries `Upload-Offset`, the number of bytes received, also when it is 0 and when the upload is complete."},
		{ID: "tus.core.head-length", Level: MUST, Section: secHead, Title: "HEAD gives Upload-Length",
			Text: "When the upload's length is known, the answer to a HEAD carries `Upload-Length`, the length given at creation."},
		{ID: "tus.core.head-no-store", Level: MUST, Section: secHead, Title: "HEAD answers are not cached",
			Text: "The server prevents clients and proxies from caching the answer to a HEAD: it carries `Cache-Control: no-store`."},
		{ID: "tus.core.unknown-upload", Level: SHOULD, Section: secHead, Title: "404 or 410 for an unknown upload",
			Text: "A HEAD or PATCH of an upload URL that does not exist is answered 404 Not Found, 410 Gone or 403 Forbidden, without `Upload-Offset`."},

		// Core protocol: PATCH.
		{ID: "tus.core.patch-content-type", Level: MUST, Section: secPatch, Title: "PATCH bodies are application/offset+octet-stream",
			Text: "Every PATCH carries `Content-Type: application/offset+octet-stream`; one with another Content-Type is refused and none of its bytes is applied (the offset stays where it was)."},
		{ID: "tus.core.patch-415", Level: SHOULD, Section: secPatch, Title: "415 for another Content-Type",
			Text: "The refusal of a PATCH with another Content-Type is 415 Unsupported Media Type."},
		{ID: "tus.core.offset-mismatch-409", Level: MUST, Section: secPatch, Title: "409 for an Upload-Offset that is not the upload's",
			Text: "A PATCH whose `Upload-Offset` differs from the upload's current offset is answered 409 Conflict, and the upload is not modified: the offset stays and none of the PATCH's bytes is stored."},
		{ID: "tus.core.patch-204", Level: MUST, Section: secPatch, Title: "204 with the new offset",
			Text: "A PATCH that was applied is acknowledged with 204 No Content and `Upload-Offset`, the new offset: the old one plus the bytes the PATCH carried."},
		{ID: "tus.core.store-partial", Level: SHOULD, Section: secPatch, Title: "An interrupted PATCH keeps what arrived",
			Text: "The server attempts to store as much of the received data as possible: after a PATCH cut off mid-body, HEAD gives the offset of every byte that arrived before the cut (asked again for up to 3 s while the server may still be storing them), and the upload resumes from there."},
		{ID: "tus.core.offset-monotonic", Level: MUST, Section: secPatch, Title: "The offset never goes down nor beyond what was sent",
			Text: "An upload's offset never decreases and never exceeds the bytes the client sent: every `Upload-Offset` a HEAD or PATCH answer gives lies between the last one acknowledged and the bytes sent so far (follows from the offset's meaning, the bytes received)."},
		{ID: "tus.core.concurrent-patch", Level: MUST, Section: secPatch, Title: "Two PATCHes at one offset: at most one applied",
			Text: "Two PATCHes of one upload at the same offset, the second sent while the first is in flight: at most one is applied (204); the other is refused (409, or another error) or stops where the first took over, and the stored bytes are exactly one copy of what was sent, at the right offsets. Tested deterministically: the first is held mid-body after the server's 100 Continue while the second is sent and answered."},

		// Creation.
		{ID: "tus.creation.created", Level: MUST, Section: secCreation, Title: "POST creates: 201 with Location",
			Text: "A POST to the creation URL with `Upload-Length` is answered 201 Created with `Location`, the URL of the new upload (absolute or relative to the creation URL), whose offset is 0."},
		{ID: "tus.creation.defer-length", Level: MUST, Section: secCreation, Title: "Upload-Defer-Length",
			Text: "With `creation-defer-length` announced: a POST with `Upload-Defer-Length: 1` and no `Upload-Length` creates the upload; while its length is unknown, HEAD answers carry `Upload-Defer-Length: 1`; a PATCH carrying `Upload-Length` sets the length, which HEAD then gives."},
		{ID: "tus.creation.metadata", Level: MUST, Section: secCreation, Title: "Upload-Metadata round trip",
			Text: "The `Upload-Metadata` given at creation (comma-separated pairs of a key and a base64 value, or a key alone) comes back in the answers to HEAD with the same pairs (compared pair by pair; the order of the pairs is recorded)."},
		{ID: "tus.creation.max-size-413", Level: MUST, Section: secCreation, Title: "413 above Tus-Max-Size",
			Text: "A POST whose `Upload-Length` exceeds the `Tus-Max-Size` the server announces is answered 413 Request Entity Too Large, and no upload is created."},

		// Creation with upload.
		{ID: "tus.with-upload.offset", Level: MUST, Section: secWithUpload, Title: "A creating POST may carry the first bytes",
			Text: "With `creation-with-upload` announced: a POST with `Content-Type: application/offset+octet-stream` and a body creates the upload (201 with `Location`), applies the body at offset 0 and gives the new offset in `Upload-Offset`, which HEAD confirms."},

		// Expiration.
		{ID: "tus.expiration.upload-expires", Level: MUST, Section: secExpiration, Title: "Upload-Expires",
			Text: "With `expiration` announced: the answer to the creating POST or to a PATCH of an upload that will expire carries `Upload-Expires`, a date in the HTTP date format of RFC 7231 that is not in the past."},

		// Checksum.
		{ID: "tus.checksum.algorithms", Level: MUST, Section: secChecksum, Title: "Tus-Checksum-Algorithm lists sha1",
			Text: "With `checksum` announced: the OPTIONS answer carries `Tus-Checksum-Algorithm`, a comma-separated list of the supported algorithms, which includes `sha1` (every such server supports it)."},
		{ID: "tus.checksum.match", Level: MUST, Section: secChecksum, Title: "A PATCH whose checksum matches is applied",
			Text: "A PATCH with `Upload-Checksum: <algorithm> <base64 digest>` whose digest is the body's is applied and answered 204 with the new offset."},
		{ID: "tus.checksum.mismatch-460", Level: MUST, Section: secChecksum, Title: "460 for a checksum mismatch, nothing stored",
			Text: "A PATCH whose `Upload-Checksum` does not match its body is answered 460 Checksum Mismatch; the body is discarded and the offset is not updated."},
		{ID: "tus.checksum.unsupported-400", Level: MUST, Section: secChecksum, Title: "400 for an unsupported algorithm, nothing stored",
			Text: "A PATCH whose `Upload-Checksum` names an algorithm the server does not support is answered 400 Bad Request; the body is discarded and the offset is not updated."},

		// Termination.
		{ID: "tus.termination.delete-204", Level: MUST, Section: secTermination, Title: "DELETE: 204",
			Text: "With `termination` announced: a DELETE of an upload is answered 204 No Content."},
		{ID: "tus.termination.gone", Level: SHOULD, Section: secTermination, Title: "A terminated upload is 404 or 410",
			Text: "Every later request to a terminated upload's URL is answered 404 Not Found or 410 Gone (checked with HEAD and PATCH)."},

		// Concatenation.
		{ID: "tus.concat.partial", Level: MUST, Section: secConcat, Title: "Partial uploads",
			Text: "With `concatenation` announced: a POST with `Upload-Concat: partial` and `Upload-Length` creates a partial upload (201 with `Location`), uploaded with PATCH like any other."},
		{ID: "tus.concat.final", Level: MUST, Section: secConcat, Title: "The final upload's length",
			Text: "A POST with `Upload-Concat: final;<URL> <URL>` and no `Upload-Length` creates the final upload (201 with `Location`); once its partials are complete, a HEAD of it gives `Upload-Offset` and `Upload-Length` equal to each other and to the sum of the partials' lengths, and its bytes are the partials' bytes in order."},
		{ID: "tus.concat.final-head-concat", Level: SHOULD, Section: secConcat, Title: "HEAD of a final upload names its partials",
			Text: "`Upload-Concat` is a request and response header: the answer to a HEAD of the final upload carries `Upload-Concat: final;` with its partials."},
		{ID: "tus.concat.final-patch-403", Level: MUST, Section: secConcat, Title: "PATCH of a final upload: 403",
			Text: "A PATCH of a final upload is answered 403 Forbidden, and neither the final upload nor its partials are modified."},

		// Beyond the document.
		{ID: "tus.rob.stored-bytes", Level: MUST, Section: secBeyond, Title: "The completed upload is the bytes sent",
			Text: "A completed upload, read back where the target lets the harness read it (`--file-url`, or the server's own GET of the upload URL), is byte for byte what the client sent, each byte at its offset."},
	}
}

// ClauseByID returns the tus clause with the given ID.
func ClauseByID(id string) (scenarios.Clause, bool) {
	for _, c := range Catalogue() {
		if c.ID == id {
			return c, true
		}
	}
	return scenarios.Clause{}, false
}
