package scenarios

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

// headerScenarios returns the header scenarios (HD): both spellings of the range and session
// headers in any letter case, the forms of Content-Disposition, and what other methods,
// multipart bodies, conflicting aliases, a missing Content-Disposition and a missing range
// header get.
func headerScenarios() []Scenario {
	aliases := declare(listChecks(), clause.EncHeaderAliases, clause.RobStoredBytes)
	withNames := func(id, title, rangeName, sessionName string) Scenario {
		return Scenario{
			ID: id, Title: title, Family: "headers", Clauses: aliases,
			Run: func(t *T) {
				s := t.NewSession(strings.ToLower(id)+".bin", 24)
				opts := []SendOption{RangeHeader(rangeName), SessionHeader(sessionName)}
				sendAcceptedAs(t, s, clause.EncHeaderAliases, 0, 11, opts...)
				sendAcceptedAs(t, s, clause.EncHeaderAliases, 12, 23, opts...)
				finishFile(t, s)
			},
		}
	}
	disposition := func(id, title, format string) Scenario {
		return Scenario{
			ID: id, Title: title, Family: "headers", Clauses: declare(listChecks(), clause.EncDisposition, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession(strings.ToLower(id)+".bin", 24)
				d := Disposition(fmt.Sprintf(format, s.Name))
				sendAccepted(t, s, 0, 11, d)
				// the completing segment is taken under the name: judged under enc.disposition
				sendAcceptedAs(t, s, clause.EncDisposition, 12, 23, d)
				if !s.ExpectCompleted("") {
					return
				}
				if t.Config().FileURL == "" {
					t.Note("%s: whether the name %q reached the backend was not checked: no file URL configured", clause.EncDisposition, s.Name)
					return
				}
				t.ran(clause.EncDisposition)
				if !s.CheckStoredBytes() {
					t.Fail(clause.EncDisposition, fmt.Sprintf("the completed file under the name %q", s.Name),
						"no such file, or other bytes (see rob.stored-bytes)")
				}
			},
		}
	}
	return []Scenario{
		withNames("HD-01", "X-Content-Range and X-Session-ID (the document's names)", "X-Content-Range", "X-Session-ID"),
		withNames("HD-02", "Content-Range and Session-ID (the aliases)", "Content-Range", "Session-ID"),
		withNames("HD-03", "Header names in lower case", "x-content-range", "x-session-id"),
		withNames("HD-04", "Header names in upper case", "CONTENT-RANGE", "SESSION-ID"),
		{
			ID: "HD-05", Title: "The spellings mixed across the segments of one session",
			Family: "headers", Clauses: aliases,
			Run: func(t *T) {
				s := t.NewSession("hd05.bin", 24)
				sendAcceptedAs(t, s, clause.EncHeaderAliases, 0, 7, RangeHeader("X-Content-Range"), SessionHeader("Session-ID"))
				sendAcceptedAs(t, s, clause.EncHeaderAliases, 8, 15, RangeHeader("content-range"), SessionHeader("X-SESSION-ID"))
				sendAcceptedAs(t, s, clause.EncHeaderAliases, 16, 23, RangeHeader("X-CONTENT-RANGE"), SessionHeader("session-id"))
				finishFile(t, s)
			},
		},
		disposition("HD-06", `Content-Disposition: attachment; filename="name" (quoted)`, `attachment; filename="%s"`),
		disposition("HD-07", `Content-Disposition: attachment; filename=name (unquoted)`, `attachment; filename=%s`),
		disposition("HD-08", `Content-Disposition: attachment, filename="name" (the document's table)`, `attachment, filename="%s"`),
		{
			ID: "HD-09", Title: "Both spellings of the range header with different values",
			Family: "headers", Clauses: declare(nil, clause.EncAliasConflict),
			Run: func(t *T) {
				s := t.NewSession("hd09.bin", 24)
				a := s.Send(0, 5, Unchecked(), Extra("Content-Range", s.Segment(6, 11)),
					Step("X-Content-Range: bytes 0-5/24 and Content-Range: bytes 6-11/24, body of 0-5"))
				t.Observe(clause.EncAliasConflict, "conflicting range headers got %s", describe(a))
				s2 := t.NewSession("hd09b.bin", 24)
				// The other ID ends in a digit too (the module's hashed store directories).
				b := s2.Send(0, 5, Unchecked(), Extra("X-Session-ID", s2.ID+"-other-1"),
					Step("Session-ID and X-Session-ID with different values"))
				t.Observe(clause.EncAliasConflict, "conflicting session headers got %s", describe(b))
			},
		},
		{
			ID: "HD-10", Title: "Other methods on the segment endpoint (GET, PUT, OPTIONS)",
			Family: "headers", Clauses: declare(nil, clause.EncPost),
			Run: func(t *T) {
				for _, m := range []string{http.MethodGet, http.MethodOptions} {
					a := t.Do(wire.Request{Step: m + " on the segment endpoint", Method: m, Length: wire.LengthOmit})
					t.Observe(clause.EncPost, "%s got %s", m, describe(a))
				}
				s := t.NewSession("hd10.bin", 24)
				a := s.Send(0, 23, Method(http.MethodPut), Unchecked(), Step("the whole file as a PUT"))
				t.Observe(clause.EncPost, "a segment sent with PUT got %s", describe(a))
			},
		},
		{
			ID: "HD-11", Title: "A segment sent as multipart/form-data",
			Family: "headers", Clauses: declare(nil, clause.EncNotMultipart),
			Run: func(t *T) {
				s := t.NewSession("hd11.bin", 24)
				const boundary = "upspec-boundary"
				body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + s.Name +
					"\"\r\nContent-Type: application/octet-stream\r\n\r\n" + string(s.Pattern.Bytes(0, 24)) +
					"\r\n--" + boundary + "--\r\n"
				a := s.Send(0, 23, Unchecked(), ContentType("multipart/form-data; boundary="+boundary), Body([]byte(body)),
					Step("the whole file as a multipart/form-data body"))
				t.Observe(clause.EncNotMultipart, "a multipart/form-data segment got %s", describe(a))
			},
		},
		{
			ID: "HD-12", Title: "A segment without Content-Disposition is never a completion",
			Family: "headers", Clauses: declare(nil, clause.EncDispositionMissing, clause.AckFinalOnlyWhenComplete),
			Run: func(t *T) {
				s := t.NewSession("hd12.bin", 24)
				a := s.Send(0, 11, Omit("Content-Disposition"), Step("segment 0-11/24 without Content-Disposition"))
				t.Observe(clause.EncDispositionMissing, "a segment without Content-Disposition got %s", describe(a))
			},
		},
		{
			ID: "HD-13", Title: "A request without a range header: what the server does; the session goes on untouched",
			Family: "headers", Clauses: declare(listChecks(), clause.EncRangeMissing, clause.Ack201WhileIncomplete, clause.RobStoredBytes), Observes: true,
			Run: func(t *T) {
				s := t.NewSession("hd13.bin", 24)
				a := s.Send(0, 23, Omit(protocol.XContentRange), Unchecked(),
					Step("the whole file (24 bytes) with a Session-ID and a Content-Disposition, without a range header"))
				t.Observe(clause.EncRangeMissing, "a request without a range header got %s", describe(a))
				// The request is no segment: the session's segments go on as if it had not been sent.
				later := uploadPlan(t, s, seg{0, 11})[0]
				expectNotListed(t, later, rng(12, 23), clause.AckListExact, "the request without a range header")
				completeFile(t, s)
			},
		},
	}
}
