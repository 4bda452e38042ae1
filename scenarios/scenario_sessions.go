package scenarios

import (
	"fmt"
	"net"
	"strings"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// secondLoopback is the second client address of the multi-address scenario.
const secondLoopback = "127.0.0.2"

// sessionScenarios returns the session scenarios (SS): segments of one session from two
// client addresses, sessions that interleave, long session IDs and a segment without one.
func sessionScenarios() []Scenario {
	return []Scenario{
		{
			ID: "SS-01", Title: "Segments of one session from two client addresses (127.0.0.1 and 127.0.0.2)",
			Family: "sessions", Clauses: declare(listChecks(), clause.SesMultiAddress, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Labels: []string{LabelNeedsLoopback},
			Run: func(t *T) {
				t.RequireLoopback()
				host := t.Config().Target.Hostname()
				if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.To4() == nil {
					t.Skip(fmt.Sprintf("the target %s is an IPv6 address; the second client address %s is IPv4", host, secondLoopback))
				}
				if l, err := net.Listen("tcp", secondLoopback+":0"); err != nil {
					t.Skip(fmt.Sprintf("the address %s cannot be used on this machine: %v", secondLoopback, err))
				} else {
					_ = l.Close()
				}
				s := t.NewSession("ss01.bin", 24)
				a := sendAccepted(t, s, 0, 11, From("127.0.0.1"), Step("segment 0-11/24 from 127.0.0.1"))
				b := s.Send(12, 23, From(secondLoopback), Step("segment 12-23/24 from "+secondLoopback))
				t.Note("client addresses: %s and %s", a.LocalAddr, b.LocalAddr)
				t.ran(clause.SesMultiAddress)
				if !b.Completion {
					t.failStep(clause.SesMultiAddress, "the completion for the segment sent from "+secondLoopback, describe(b), "", &b)
					return
				}
				finishFile(t, s)
			},
		},
		{
			ID: "SS-02", Title: "Two sessions interleaved: each list holds only its own session's ranges",
			Family: "sessions", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				a := t.NewSession("ss02a.bin", 24)
				b := t.NewSession("ss02b.bin", 30)
				sendAccepted(t, a, 0, 5)
				sendAccepted(t, b, 6, 11)
				sendAccepted(t, a, 12, 17)
				sendAccepted(t, b, 0, 5)
				sendAccepted(t, a, 6, 11)
				sendAccepted(t, b, 12, 29)
				sendAccepted(t, a, 18, 23)
				finishFile(t, a)
				finishFile(t, b)
			},
		},
		{
			ID: "SS-03", Title: "A session ID of 200 characters",
			Family: "sessions", Clauses: declare(listChecks(), clause.SesLongID), Observes: true,
			Run: func(t *T) {
				// Padded with x and ended with a digit, like every session ID of the suite: a
				// module's hashed upload_store directories are named after the last characters.
				base := t.NewSession("unused", 1).ID + "-"
				id := base + strings.Repeat("x", max(199-len(base), 0)) + "0"
				s := t.SessionWithID(id, "ss03.bin", 24, wire.Pattern{Seed: 11})
				a := s.Send(0, 11, Step(fmt.Sprintf("segment 0-11/24 with a %d-character session ID", len(id))))
				if !a.Created() {
					t.Observe(clause.SesLongID, "a %d-character session ID got %s", len(id), describe(a))
					return
				}
				b := s.Send(12, 23)
				t.Observe(clause.SesLongID, "a %d-character session ID works: %s, then %s", len(id), describe(a), describe(b))
			},
		},
		{
			ID: "SS-04", Title: "A segment without a Session-ID is never a success",
			Family: "sessions", Clauses: declare(nil, clause.SesIDMissing, clause.AckFinalOnlyWhenComplete), Observes: true,
			Run: func(t *T) {
				s := t.NewSession("ss04.bin", 24)
				a := s.Send(0, 11, Omit(protocol.SessionID), Unchecked(), Step("segment 0-11/24 without a Session-ID"))
				t.Observe(clause.SesIDMissing, "a segment without a Session-ID got %s", describe(a))
				expectNoFalseSuccess(t, a, "the segment carries no Session-ID, and 12 of the file's 24 bytes")
			},
		},
		{
			ID: "SS-05", Title: "A session ID of 250 characters: never a false success",
			Family: "sessions", Clauses: declare(nil, clause.SesLongID, clause.AckFinalOnlyWhenComplete), Observes: true,
			Run: func(t *T) { longSessionID(t, 250) },
		},
		{
			ID: "SS-06", Title: "A session ID of 255 characters: never a false success",
			Family: "sessions", Clauses: declare(nil, clause.SesLongID, clause.AckFinalOnlyWhenComplete), Observes: true,
			Run: func(t *T) { longSessionID(t, 255) },
		},
	}
}

// longSessionID sends a file of 24 bytes in two segments under a session ID of n characters
// (padded with x, ended with a digit like every session ID of the suite). The document sets no
// length, so what the server does is recorded; a positive answer other than 201 to the first
// segment is a false success (the module's, from 250 characters: its state file name is too
// long, docs/module-behavior.md §1.5, §9). The segments stay out of the session model, so
// that a server that refuses the ID is judged by this check alone.
func longSessionID(t *T, n int) {
	base := t.NewSession("unused", 1).ID + "-"
	id := base + strings.Repeat("x", max(n-1-len(base), 0)) + "0"
	s := t.SessionWithID(id, fmt.Sprintf("%s.bin", strings.ToLower(t.Scenario().ID)), 24, wire.Pattern{Seed: 11})
	a := s.Send(0, 11, Unchecked(), Step(fmt.Sprintf("segment 0-11/24 with a %d-character session ID", len(id))))
	if !expectNoFalseSuccess(t, a, "12 of the file's 24 bytes were sent") || !a.Created() {
		t.Observe(clause.SesLongID, "a %d-character session ID got %s", len(id), describe(a))
		return
	}
	b := s.Send(12, 23, Unchecked(), Step(fmt.Sprintf("segment 12-23/24 with the %d-character session ID", len(id))))
	t.Observe(clause.SesLongID, "a %d-character session ID works: %s, then %s", len(id), describe(a), describe(b))
}

// expectNoFalseSuccess checks, under ack.final-only-when-complete, that the answer to a
// segment sent while the file is incomplete (why says how) is not a positive answer other
// than 201. It returns false when it was (a finding is recorded).
func expectNoFalseSuccess(t *T, a Answer, why string) bool {
	t.ran(clause.AckFinalOnlyWhenComplete)
	if a.Success() && !a.Created() {
		t.failStep(clause.AckFinalOnlyWhenComplete, "a 4xx that says why, or 201: never a success while bytes are missing",
			describe(a), "A false success (the module's class C): "+why+".", &a)
		return false
	}
	return true
}
