package grade

import (
	"fmt"
	"path/filepath"
)

// TusSchedule returns the uploads of a tus grade, each file of size bytes (at least 16) with
// its fault plan; retryAfter is the Retry-After of the 503, in seconds. A plan's rules hit
// the PATCH (or the creating POST with a body) that holds the file's middle byte.
func TusSchedule(size int64, retryAfter int) []Upload {
	mid := size / 2
	at := fmt.Sprintf("offset=%d", mid)
	keep := min(int64(faultBytes), size/4)
	plans := []struct {
		file string
		plan Plan
	}{
		{"01-clean.bin", Plan{Name: "clean", Inject: "no fault (the baseline)"}},
		{"02-lost-answer.bin", Plan{Name: "lost-answer",
			Inject: fmt.Sprintf("the answer to the PATCH holding byte %d is lost (its bytes stored, the connection closed), and so is the first answer to a PATCH that ends the file", mid),
			Rules:  []string{"lost-reply," + at, "lost-reply,match=last"}, Exercises: []ID{TusAfterLostAnswer, TusHeadBeforeResume, TusResumeAtOffset}}},
		{"03-retry-after.bin", Plan{Name: "retry-after",
			Inject: fmt.Sprintf("503 with Retry-After: %d to the PATCH holding byte %d", retryAfter, mid),
			Rules:  []string{fmt.Sprintf("status=503,retry-after=%d,%s", retryAfter, at)}, Exercises: []ID{TusCompleteAfter5xx, TusHonourRetryAfter, TusHeadBeforeResume}}},
		{"04-server-errors.bin", Plan{Name: "server-errors",
			Inject: fmt.Sprintf("500, then 502, to the PATCH holding byte %d", mid),
			Rules:  []string{"status=500," + at, "status=502," + at}, Exercises: []ID{TusCompleteAfter5xx, TusHeadBeforeResume}}},
		{"05-reset.bin", Plan{Name: "reset",
			Inject: fmt.Sprintf("the connection is reset after %d body bytes of the PATCH holding byte %d; the bytes that arrived are kept", keep, mid),
			Rules:  []string{fmt.Sprintf("keep=%d,then=reset,%s", keep, at)}, Exercises: []ID{TusCompleteAfterReset, TusHeadBeforeResume, TusResumeAtOffset}}},
		{"06-partial-commit.bin", Plan{Name: "partial-commit",
			Inject: fmt.Sprintf("the PATCH holding byte %d is kept for its first %d bytes only, then answered 500", mid, keep),
			Rules:  []string{fmt.Sprintf("keep=%d,then=500,%s", keep, at)}, Exercises: []ID{TusCompleteAfterPartialCommit, TusHeadBeforeResume, TusResumeAtOffset, TusNoResendAcknowledged}}},
		{"07-gone.bin", Plan{Name: "gone",
			Inject: fmt.Sprintf("the server forgets the upload before the PATCH holding byte %d, which gets 404 (as every request of it from then on): the client must create a new upload", mid),
			Rules:  []string{"forget," + at}, Exercises: []ID{TusNewUploadAfterGone, TusNoStopIncomplete}}},
		{"08-client-error.bin", Plan{Name: "client-error",
			Inject: fmt.Sprintf("403 to the PATCH holding byte %d: the client must stop with an error", mid),
			Rules:  []string{"status=403,body=the%20grade%20refuses%20this%20PATCH%3A%20stop," + at}, Stops: true, Exercises: []ID{TusStopOn4xx}}},
		{"twins/a/twin.bin", Plan{Name: "twin", Inject: "no fault; a different file of the same name and size as twins/b/twin.bin", Exercises: []ID{TusDistinctUploads}}},
		{"twins/b/twin.bin", Plan{Name: "twin", Inject: "no fault; a different file of the same name and size as twins/a/twin.bin", Exercises: []ID{TusDistinctUploads}}},
	}
	out := make([]Upload, len(plans))
	for i, p := range plans {
		out[i] = Upload{File: p.file, Name: filepath.Base(p.file), Size: size, Plan: p.plan}
	}
	return out
}
