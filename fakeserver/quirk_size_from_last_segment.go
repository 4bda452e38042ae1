package fakeserver

// SizeFromLastSegment: the size field of the backend form is the final segment's end + 1,
// not the file's size.
const SizeFromLastSegment Quirk = "size-from-last-segment"

func sizeFromLastSegmentQuirk() quirkDef {
	return quirkDef{SizeFromLastSegment, "B",
		"the size field of the backend form is the final segment's end + 1, wrong when the file completes out of order",
		"docs/module-behavior.md §2.3; issue #106, aggregate_fields.t TEST 5",
		installSizeFromLastSegment}
}

// installSizeFromLastSegment changes the backend form's size field (§2.3).
func installSizeFromLastSegment(q Quirk, b *behavior, _ *handler) {
	form := b.form
	b.form = func(x *exchange, hd *segmentHeaders, ff formFields) formFields {
		ff = form(x, hd, ff)
		if !hd.hasRange {
			return ff // an ordinary upload: the size is the file's (§9)
		}
		if size := hd.seg.End + 1; size != ff.size {
			x.by(string(q))
			ff.size = size
		}
		return ff
	}
}
