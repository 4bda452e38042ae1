package fakeserver

// EmptyDigests: the md5 and sha1 fields of the backend form are empty.
const EmptyDigests Quirk = "empty-digests"

func emptyDigestsQuirk() quirkDef {
	return quirkDef{EmptyDigests, "B",
		"the md5 and sha1 fields of the backend form are empty whenever a range header was present",
		"docs/module-behavior.md §2.3; issue #22, aggregate_fields.t TEST 4",
		installEmptyDigests}
}

// installEmptyDigests empties the backend form's digest fields (§2.3).
func installEmptyDigests(q Quirk, b *behavior, _ *handler) {
	form := b.form
	b.form = func(x *exchange, hd *segmentHeaders, ff formFields) formFields {
		ff = form(x, hd, ff)
		if !hd.hasRange {
			return ff // an ordinary upload: the module computes the digests (§1.7, §9)
		}
		x.by(string(q))
		ff.md5, ff.sha1 = "", ""
		return ff
	}
}
