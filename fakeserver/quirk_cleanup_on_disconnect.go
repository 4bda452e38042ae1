package fakeserver

import (
	"errors"
	"io"
)

// CleanupOnDisconnect: a segment cut off mid-body, once more than cleanupThreshold bytes of
// it arrived, deletes the session's data file but keeps its state (`upload_cleanup 400`).
const CleanupOnDisconnect Quirk = "cleanup-on-disconnect"

func cleanupOnDisconnectQuirk() quirkDef {
	return quirkDef{CleanupOnDisconnect, "A",
		"a segment cut off after more than 8.5 KiB of its body deletes the session's data file but keeps its " +
			"state, so the completed file has zero-filled holes (a configuration choice: `upload_cleanup 400`)",
		"docs/module-behavior.md §7.5, §3.8, §6, §9; issues #111, #123",
		installCleanupOnDisconnect}
}

// cleanupThreshold is how much of a cut segment's body must have arrived before the module
// deletes the data file: upload_cleanup applies only to a request that opened the data file,
// which the module does when it writes the first buffer of the body, one write buffer plus
// what came with the headers (docs/module-behavior.md §9: a cut after 8 500 bytes keeps the
// file, a cut after 9 000 bytes deletes it).
const cleanupThreshold = 8704

// installCleanupOnDisconnect changes what a body that broke off after more than
// cleanupThreshold bytes does: the module deletes the session's data file while the state
// keeps listing the ranges, so the acknowledged bytes read back as zeros from then on (§7.5,
// §9). A cut after fewer bytes leaves the file as it was.
func installCleanupOnDisconnect(q Quirk, b *behavior, _ *handler) {
	disconnect := b.disconnect
	b.disconnect = func(x *exchange, s *session, err error) {
		disconnect(x, s, err)
		if !errors.Is(err, io.ErrUnexpectedEOF) || x.in <= cleanupThreshold || s.upload == nil || s.acked == nil {
			return
		}
		x.by(string(q))
		zero := make([]byte, 64<<10)
		for _, r := range s.acked.Ranges() {
			for off := r.Start; off <= r.End; {
				n := min(int64(len(zero)), r.End-off+1)
				if _, err := s.upload.WriteAt(zero[:n], off); err != nil {
					return // the emulated deletion is best effort
				}
				off += n
			}
		}
	}
}
