package scenarios

import (
	"fmt"
	"net"
	"strings"

	"github.com/upspec/upspec/scenarios/clause"
)

// secondLoopback is the second client address of the multi-address scenario.
const secondLoopback = "127.0.0.2"

// sessionScenarios returns the session scenarios (SS): segments of one session from two
// client addresses, sessions that interleave, and a long session ID.
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
				s := t.SessionWithID(id, "ss03.bin", 24, Pattern{Seed: 11})
				a := s.Send(0, 11, Step(fmt.Sprintf("segment 0-11/24 with a %d-character session ID", len(id))))
				if !a.Created() {
					t.Observe(clause.SesLongID, "a %d-character session ID got %s", len(id), describe(a))
					return
				}
				b := s.Send(12, 23)
				t.Observe(clause.SesLongID, "a %d-character session ID works: %s, then %s", len(id), describe(a), describe(b))
			},
		},
	}
}
