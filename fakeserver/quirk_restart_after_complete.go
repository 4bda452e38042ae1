package fakeserver

// RestartAfterComplete: completion deletes the session's state, so a later segment with
// the same session ID starts a new session.
const RestartAfterComplete Quirk = "restart-after-complete"

func restartAfterCompleteQuirk() quirkDef {
	return quirkDef{RestartAfterComplete, "A, B",
		"completion deletes the session's state before the backend answers: a later segment with the same " +
			"session ID starts a new session (201 with its range alone, or a second completion)",
		"docs/module-behavior.md §3.5, §2.4, §7.5; issue #46",
		installRestartAfterComplete}
}

// installRestartAfterComplete changes the completion: the module deletes the state file as
// soon as the file is complete, before the backend answers, so the next segment of the
// session ID starts a new session. The session leaves the map; the requests that hold it
// finish with it.
func installRestartAfterComplete(q Quirk, b *behavior, h *handler) {
	complete := b.complete
	b.complete = func(x *exchange, s *session) {
		complete(x, s)
		x.by(string(q))
		h.forget(s)
	}
}
