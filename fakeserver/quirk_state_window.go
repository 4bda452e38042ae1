package fakeserver

// StateWindow: the state file is read through a 961-byte window, which misreads and drops
// ranges once it grows past the window.
const StateWindow Quirk = "state-window"

func stateWindowQuirk() quirkDef {
	return quirkDef{StateWindow, "C, E",
		"the state file is read through a 961-byte window: a number split by the window is misread, and past " +
			"1922 bytes lines are skipped; a failed merge is a silent failure, or a dropped connection once " +
			"more than 256 bytes of ranges were listed (the worker crash)",
		"docs/module-behavior.md §7.7, §7.8; issue #112",
		func(q Quirk, b *behavior, _ *handler) { useModuleState(q, b).merger.Window = true }}
}
