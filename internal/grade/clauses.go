// Package grade grades an upload client: it runs the reference server (package fakeserver)
// with a schedule of scripted faults, one plan per file the client is asked to upload, and
// judges what the client did, from the server's journal, against a catalogue of client
// clauses. The verdicts are the result model's (package reports/result), so that a grade is
// written by the same writers as a run of the server suite (package reports).
package grade

import (
	"fmt"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// ID is the stable identifier of a client clause, e.g. "cli.probe-before-resume". It never
// changes when the clause's title, level or place in the catalogue changes; judges and
// reports key on it.
type ID string

// String returns the ID as text.
func (id ID) String() string { return string(id) }

// The client clauses, in catalogue order.
const (
	// ProbeBeforeResume is cli.probe-before-resume (MUST): Probe or read the list before resuming.
	ProbeBeforeResume ID = "cli.probe-before-resume"
	// NoResendAcknowledged is cli.no-resend-acknowledged (MUST): Never re-send acknowledged bytes.
	NoResendAcknowledged ID = "cli.no-resend-acknowledged"
	// NoOverlapInFlight is cli.no-overlap-in-flight (MUST): No overlapping segments in flight.
	NoOverlapInFlight ID = "cli.no-overlap-in-flight"
	// FillEveryGap is cli.fill-every-gap (MUST): Fill every gap, not only the tail.
	FillEveryGap ID = "cli.fill-every-gap"
	// ResendAfterLostAnswer is cli.resend-after-lost-answer (MUST): Send again after a lost answer.
	ResendAfterLostAnswer ID = "cli.resend-after-lost-answer"
	// CompleteAfter5xx is cli.complete-after-5xx (MUST): Complete after a 503 or another 5xx.
	CompleteAfter5xx ID = "cli.complete-after-5xx"
	// CompleteAfterReset is cli.complete-after-reset (MUST): Complete after a connection reset.
	CompleteAfterReset ID = "cli.complete-after-reset"
	// CompleteAfterPartialCommit is cli.complete-after-partial-commit (MUST): Complete after a partial commit.
	CompleteAfterPartialCommit ID = "cli.complete-after-partial-commit"
	// HonourRetryAfter is cli.honour-retry-after (SHOULD): Honour Retry-After.
	HonourRetryAfter ID = "cli.honour-retry-after"
	// StopOn4xx is cli.stop-on-4xx (MUST): Stop with an error on a 4xx.
	StopOn4xx ID = "cli.stop-on-4xx"
	// NoStopIncomplete is cli.no-stop-incomplete (MUST): Never stop while the file is incomplete.
	NoStopIncomplete ID = "cli.no-stop-incomplete"
	// DistinctSessionIDs is cli.distinct-session-ids (MUST): Different files, different session IDs.
	DistinctSessionIDs ID = "cli.distinct-session-ids"
)

// Clause is one requirement on a client, judged from what the server saw.
type Clause struct {
	ID      ID           `json:"id"`
	Level   result.Level `json:"level"`   // MUST, SHOULD or INFO
	Section string       `json:"section"` // the group it belongs to
	Title   string       `json:"title"`   // a few words
	Text    string       `json:"text"`    // the requirement in full
}

// Sections of the catalogue, in order.
const (
	secResume   = "Resuming"
	secParallel = "Parallel segments"
	secFaults   = "Faults"
	secStop     = "Stopping"
	secSessions = "Sessions"
)

// Catalogue returns every client clause, in order (a fresh slice on every call).
func Catalogue() []Clause {
	return []Clause{
		{ID: ProbeBeforeResume, Level: result.MUST, Section: secResume, Title: "Probe or read the list before resuming",
			Text: "After an interruption (a connection closed or reset without an answer, a 5xx), the client's next request for the interrupted bytes (the first request after it that is the probe or overlaps them) is the probe (a segment of at most 2 bytes), a retransmission within the interrupted segment, or comes after a 201 answered since the interruption, whose list the client could read: never a new cut of those bytes made on a guess of what the server holds. (Other segments, which a client with several in flight may send before it can know of the interruption, are judged by the other clauses.)"},
		{ID: NoResendAcknowledged, Level: result.MUST, Section: secResume, Title: "Never re-send acknowledged bytes",
			Text: "No segment carries bytes that the latest list the client had read already holds, apart from the probe (at most 2 bytes). A list the client had read is that of the latest 201 on the same connection before the segment (an HTTP/1.1 client sends on a connection only once it has read the answer before); an answer on another connection may still be unread, and bytes that a later list lacks (the server lost them) may go again. The efficiency of every upload, bytes sent / file size, is measured and reported."},
		{ID: FillEveryGap, Level: result.MUST, Section: secResume, Title: "Fill every gap, not only the tail",
			Text: "The client sends every byte missing from the server's list, including gaps before its highest listed byte (after a lost session, a partial commit or a failed segment among parallel ones), not only the bytes after the last range."},
		{ID: NoOverlapInFlight, Level: result.MUST, Section: secParallel, Title: "No overlapping segments in flight",
			Text: "Two segments of one session whose ranges overlap are never in flight at once (the document forbids it). The grading mock records the segments in flight and answers the second one 409; the journal's times show the two requests."},
		{ID: ResendAfterLostAnswer, Level: result.MUST, Section: secFaults, Title: "Send again after a lost answer",
			Text: "When the answer to a segment is lost (the server stored it and closed the connection without answering), the client sends the segment or the probe again, or gets a later 201 that lists the segment, and so learns what the server holds; it neither hangs nor takes the silence for success."},
		{ID: CompleteAfter5xx, Level: result.MUST, Section: secFaults, Title: "Complete after a 503 or another 5xx",
			Text: "An upload whose segment was answered 503, 500 or 502 is retried until the server gives its final answer."},
		{ID: CompleteAfterReset, Level: result.MUST, Section: secFaults, Title: "Complete after a connection reset",
			Text: "An upload whose segment's connection was reset while the body was read is retried until the server gives its final answer."},
		{ID: CompleteAfterPartialCommit, Level: result.MUST, Section: secFaults, Title: "Complete after a partial commit",
			Text: "An upload whose segment was kept only in part (the first bytes stored, then an error) is retried until the server gives its final answer."},
		{ID: HonourRetryAfter, Level: result.SHOULD, Section: secFaults, Title: "Honour Retry-After",
			Text: "After an answer with `Retry-After: S` (seconds), the client's next request for the refused bytes (the retry, or the probe) comes no sooner than S seconds after the answer (250 ms of tolerance)."},
		{ID: StopOn4xx, Level: result.MUST, Section: secStop, Title: "Stop with an error on a 4xx",
			Text: "After a 4xx other than 408, 409 and 429 the client sends neither the refused bytes nor the probe again, and reports an error: no retry storm. (409 is the answer to a segment that overlaps one in flight, and may be retried once the other is answered.)"},
		{ID: NoStopIncomplete, Level: result.MUST, Section: secStop, Title: "Never stop while the file is incomplete",
			Text: "An upload ends only with the server's final answer (a 2xx or 3xx other than 201) or a 4xx that stops it. A client that stops after a 201, or takes a 201 for the completion, abandons a file that the server does not hold whole; the grade names the upload it abandoned."},
		{ID: DistinctSessionIDs, Level: result.MUST, Section: secSessions, Title: "Different files, different session IDs",
			Text: "Two different files of one name and size get different session IDs. An ID made of the name and size alone makes the second file look complete at once (the server holds the first one) or mixes the bytes of the two."},
	}
}

// ClauseByID returns the clause with that ID, of either catalogue (Catalogue, TusCatalogue).
func ClauseByID(id ID) (Clause, bool) {
	for _, c := range append(Catalogue(), TusCatalogue()...) {
		if c.ID == id {
			return c, true
		}
	}
	return Clause{}, false
}

// CatalogueMarkdown renders the client clauses as the Markdown document kept at
// docs/client-clauses.md.
func CatalogueMarkdown() string {
	var b strings.Builder
	clauses := Catalogue()
	counts := map[result.Level]int{}
	for _, c := range clauses {
		counts[c.Level]++
	}
	b.WriteString("# Client clause catalogue\n\n")
	b.WriteString("Generated from package `internal/grade` (`go test ./internal/grade -run TestCatalogueDoc -update`);\n")
	b.WriteString("do not edit by hand. Clause IDs are stable: judges and reports key on them.\n\n")
	fmt.Fprintf(&b, "%d clauses (%d MUST, %d SHOULD, %d INFO), judged by `upspec grade` from the grading mock's\n",
		len(clauses), counts[result.MUST], counts[result.SHOULD], counts[result.INFO])
	b.WriteString("journal. In the reports each clause is one scenario, with the clause's ID.\n\n")
	b.WriteString("Levels: **MUST** fails the grade; **SHOULD** is reported as NON-STRICT and fails the grade\n")
	b.WriteString("only with `--strict`. A clause whose fault did not fire (the file that carries it was not\n")
	b.WriteString("uploaded) is SKIPPED with the reason.\n\n")
	b.WriteString("## Clauses\n")
	section := ""
	for _, c := range clauses {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(&b, "\n### %s\n\n", section)
			b.WriteString("| ID | Level | Clause | Exercised by |\n|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| `%s` | %s | **%s.** %s | %s |\n", c.ID, c.Level, mdCell(c.Title), mdCell(c.Text), mdCell(exercisedIn(Schedule(DefaultSize, DefaultRetryAfter), c.ID)))
	}
	b.WriteString("\n## The schedule\n\n")
	b.WriteString("The files `upspec grade` asks for, and the fault the mock injects into each (MID is the\n")
	b.WriteString("file's middle byte: the segment that holds it gets the fault, whatever the client's segment\n")
	b.WriteString("size):\n\n")
	writeSchedule(&b, Schedule(DefaultSize, DefaultRetryAfter))
	b.WriteString(TusCatalogueMarkdown())
	return b.String()
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
