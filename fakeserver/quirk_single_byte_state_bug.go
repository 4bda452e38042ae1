package fakeserver

// SingleByteStateBug: a stored one-byte range makes every later segment of the session a
// silent failure (module releases before June 2020).
const SingleByteStateBug Quirk = "single-byte-state-bug"

func singleByteStateBugQuirk() quirkDef {
	return quirkDef{SingleByteStateBug, "C",
		"a stored one-byte range (N-N/T) fails the state-file check: every later segment of the session is a " +
			"silent failure and the session is stuck (releases before June 2020)",
		"docs/module-behavior.md §5; PR #115, issue #14, fixed in 643b4c1",
		func(q Quirk, b *behavior, _ *handler) { useModuleState(q, b).merger.SingleByteBug = true }}
}
