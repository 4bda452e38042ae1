package grade

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
)

var update = flag.Bool("update", false, "rewrite docs/client-clauses.md from the catalogue")

const docPath = "../../docs/client-clauses.md"

// TestCatalogueDoc keeps docs/client-clauses.md equal to the catalogue; run with -update to
// rewrite it.
func TestCatalogueDoc(t *testing.T) {
	want := CatalogueMarkdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatalf("write %s: %v", docPath, err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./internal/grade -run TestCatalogueDoc -update)", docPath, err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the catalogue; run go test ./internal/grade -run TestCatalogueDoc -update", docPath)
	}
	for _, c := range Catalogue() {
		if !strings.Contains(want, "`"+string(c.ID)+"`") {
			t.Errorf("the document does not list clause %s", c.ID)
		}
	}
}

func TestCatalogueIDs(t *testing.T) {
	seen := map[ID]bool{}
	for _, c := range Catalogue() {
		if !strings.HasPrefix(string(c.ID), "cli.") || seen[c.ID] || c.Title == "" || c.Text == "" {
			t.Errorf("clause %+v: want a unique cli. ID, a title and a text", c)
		}
		seen[c.ID] = true
	}
	if _, ok := ClauseByID("cli.nothing"); ok {
		t.Error("ClauseByID found an unknown clause")
	}
}

// TestRun checks that a grade reports like a run of the server suite: a scenario per clause,
// its findings, and the exchanges of the sessions it judged, built from the journal.
func TestRun(t *testing.T) {
	j := newJournal().seg("s", 0, 9, 30, 201, "0-9/30", name("a.bin")).
		seg("s", 10, 19, 30, 0, "", outcome("dropped"), fault("lost-reply"))
	ev := j.evidence()
	run := Run(Meta("http://127.0.0.1:1/upload", false, j.t, time.Second), ev, Judge(ev, false))
	if len(run.Scenarios) != len(Catalogue()) || len(run.Clauses) != len(Catalogue()) {
		t.Fatalf("%d scenarios, %d clauses; want %d", len(run.Scenarios), len(run.Clauses), len(Catalogue()))
	}
	s, ok := run.Scenario(string(NoStopIncomplete))
	if !ok || s.Verdict != result.Fail || s.Family != Family || s.Level != result.MUST || len(s.Exchanges) != 2 {
		t.Fatalf("scenario %+v", s)
	}
	x := s.Exchanges[1]
	if x.Step != "#2" || x.Outcome != result.OutcomeClosed || !strings.Contains(x.Error, "fault lost-reply") {
		t.Errorf("exchange %+v", x)
	}
	if v, _ := s.Exchanges[0].Response.Header("Range"); v != "0-9/30" {
		t.Errorf("201 Range %q", v)
	}
	if h, _ := x.Request.Header("X-Content-Range"); h != "bytes 10-19/30" {
		t.Errorf("request range %q", h)
	}
	if run.Conforming() {
		t.Error("a grade with a FAIL conforms")
	}
	var b bytes.Buffer
	if err := reports.WriteJSON(&b, run); err != nil || !strings.Contains(b.String(), `"cli.no-stop-incomplete"`) {
		t.Errorf("JSON: %v", err)
	}
	b.Reset()
	if err := reports.WriteHTML(&b, run); err != nil || !strings.Contains(b.String(), "cli.no-stop-incomplete") {
		t.Errorf("HTML: %v", err)
	}
	b.Reset()
	reports.Console{W: &b}.Summary(run)
	if sum := b.String(); !strings.Contains(sum, "target http://127.0.0.1:1/upload, profile grade") || strings.Contains(sum, "embedded reference server") {
		t.Errorf("the summary of a grade speaks of its target as:\n%s", sum)
	}
}

func TestTusCatalogueIDs(t *testing.T) {
	seen := map[ID]bool{}
	for _, c := range Catalogue() {
		seen[c.ID] = true
	}
	for _, c := range TusCatalogue() {
		if !strings.HasPrefix(string(c.ID), "tus.cli.") || seen[c.ID] || c.Title == "" || c.Text == "" {
			t.Errorf("clause %+v: want a unique tus.cli. ID, a title and a text", c)
		}
		seen[c.ID] = true
		if got, ok := ClauseByID(c.ID); !ok || got.Title != c.Title {
			t.Errorf("ClauseByID(%s) = %+v, %v", c.ID, got, ok)
		}
	}
	for _, u := range TusSchedule(DefaultSize, DefaultRetryAfter) {
		for _, id := range u.Plan.Exercises {
			if !seen[id] {
				t.Errorf("%s exercises %s, not a clause", u.File, id)
			}
		}
	}
}

// TestTusRun checks that a tus grade reports like the nginx-protocol grade: a scenario per
// tus clause with the requests of the uploads it judged, with their tus headers.
func TestTusRun(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := Evidence{Path: "/files/", Journal: []fakeserver.JournalEntry{
		{Seq: 1, Time: at, Method: "POST", Path: "/files/", Session: "u1", FileName: "a.bin", Total: 30, Start: -1, End: -1, ContentLength: 0, Status: 201, Outcome: "answered", Duration: time.Millisecond},
		{Seq: 2, Time: at.Add(time.Second), Method: "PATCH", Path: "/files/u1", Session: "u1", FileName: "a.bin", Total: 30, RangeHeader: "Upload-Offset", Range: "0",
			Start: 0, End: 9, ContentType: "application/offset+octet-stream", ContentLength: 10, BodyRead: 10, Status: 204, Outcome: "answered", Answer: "10", Duration: time.Millisecond},
	}}
	run := TusRun(Meta("http://127.0.0.1:1/files/", false, at, time.Second), ev, JudgeTus(ev, false))
	if len(run.Scenarios) != len(TusCatalogue()) {
		t.Fatalf("%d scenarios, want %d", len(run.Scenarios), len(TusCatalogue()))
	}
	s, ok := run.Scenario(string(TusNoStopIncomplete))
	if !ok || s.Verdict != result.Fail || s.Family != Family || len(s.Exchanges) != 2 {
		t.Fatalf("scenario %+v", s)
	}
	x := s.Exchanges[1]
	if h, _ := x.Request.Header("Upload-Offset"); h != "0" || x.Request.Method != "PATCH" {
		t.Errorf("request %+v", x.Request)
	}
	if v, _ := x.Response.Header("Upload-Offset"); v != "10" || x.Status() != 204 {
		t.Errorf("response %+v", x.Response)
	}
	if !strings.Contains(s.Findings[0].Message, "abandoned upload: upload u1 (a.bin, 30 bytes)") {
		t.Errorf("finding %q", s.Findings[0].Message)
	}
	if r, _ := run.Scenario(string(TusNoResendAcknowledged)); len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "efficiency 0.333") {
		t.Errorf("notes %v", r.Notes)
	}
}
