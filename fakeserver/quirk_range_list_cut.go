package fakeserver

// RangeListCut: the 201 range list stops after the item that crosses 256 bytes.
const RangeListCut Quirk = "range-list-cut"

func rangeListCutQuirk() quirkDef {
	return quirkDef{RangeListCut, "A",
		"the range list of a 201 gets items while it is shorter than 256 bytes; the item that crosses the " +
			"limit is written whole and every later item is left out",
		"docs/module-behavior.md §2.2, §7.8; issue #112",
		func(q Quirk, b *behavior, _ *handler) { useModuleState(q, b).merger.Cut = true }}
}
