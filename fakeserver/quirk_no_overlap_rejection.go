package fakeserver

import "github.com/upspec/upspec/ranges"

// NoOverlapRejection: overlapping segments of one session are never rejected, and the
// bytes written last win, even over acknowledged bytes.
const NoOverlapRejection Quirk = "no-overlap-rejection"

func noOverlapRejectionQuirk() quirkDef {
	return quirkDef{NoOverlapRejection, "A",
		"overlapping segments of one session, in flight or acknowledged, are all accepted; the bytes written last win",
		"docs/module-behavior.md §3.2, §3.3, §4",
		installNoOverlapRejection}
}

// installNoOverlapRejection replaces the overlap policy: never a 409 (§4), and every byte of
// the segment is written again, over acknowledged bytes too (§3.2).
func installNoOverlapRejection(q Quirk, b *behavior, _ *handler) {
	b.overlap = func(x *exchange, s *session, r ranges.Range) ([]ranges.Range, *failure) {
		if _, inflight := s.inflightOverlap(r); inflight || s.acked != nil && s.acked.Overlaps(r) {
			x.by(string(q))
		}
		return []ranges.Range{r}, nil
	}
}
