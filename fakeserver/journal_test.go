package fakeserver

import (
	"fmt"
	"strings"
	"testing"
)

// TestJournalRing: the ring keeps the latest entries in sequence order, counts what it
// dropped, and filters by session and sequence.
func TestJournalRing(t *testing.T) {
	j := NewJournal(3)
	for i := range 5 {
		seq := j.Next()
		sess := "a"
		if i%2 == 1 {
			sess = "b"
		}
		j.Add(JournalEntry{Seq: seq, Session: sess})
	}
	tests := []struct {
		name string
		f    JournalFilter
		want []int64
	}{
		{"all", JournalFilter{}, []int64{3, 4, 5}},
		{"session", JournalFilter{Session: "a"}, []int64{3, 5}},
		{"since", JournalFilter{Since: 3}, []int64{4, 5}},
		{"both", JournalFilter{Session: "b", Since: 4}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := j.Read(tt.f)
			if p.Dropped != 2 || p.Last != 5 {
				t.Errorf("dropped %d last %d, want 2 and 5", p.Dropped, p.Last)
			}
			var got []int64
			for _, e := range p.Entries {
				got = append(got, e.Seq)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("seqs %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("seqs %v, want %v", got, tt.want)
				}
			}
		})
	}
	// A request numbered before others and answered after them holds Last back.
	late := j.Next()
	j.Add(JournalEntry{Seq: j.Next()})
	if p := j.Read(JournalFilter{}); p.Last != late-1 {
		t.Errorf("with request %d unanswered: last %d, want %d", late, p.Last, late-1)
	}
	j.Add(JournalEntry{Seq: late})
	if p := j.Read(JournalFilter{}); p.Last != late+1 || p.Entries[len(p.Entries)-1].Seq != late+1 {
		t.Errorf("all answered: last %d, want %d", p.Last, late+1)
	}
	j.Clear()
	if p := j.Read(JournalFilter{}); len(p.Entries) != 0 || p.Dropped != 0 || p.Last != 7 {
		t.Errorf("after clear: %+v", p)
	}
}

// TestJournalEntries: each kind of request is one entry with the headers as sent, the
// bounds as parsed, the answer and the reason; admin calls are not journalled.
func TestJournalEntries(t *testing.T) {
	srv := startServer(t, Options{Quirks: NewQuirkSet(FalseSuccess)})
	steps := []segReq{
		segment("j1", 0, 5, 12, "a.txt", pattern(0, 0, 5)),
		{headers: []string{"Content-Type: application/octet-stream", `Content-Disposition: attachment; filename="a.txt"`,
			"Content-Range: bytes 6-11/12", "X-Session-ID: j1", "Content-Length: 6"}, body: string(pattern(0, 6, 11))},
		segment("j2", 0, 5, 12, "b.txt", pattern(0, 0, 5)).without("Content-Length").withBody(""),
		segment("j1", 0, 3, 99, "a.txt", pattern(0, 0, 3)), // a mismatch: false-success answers it
		{method: "OPTIONS"},
		{method: "GET", target: "/file/a.txt"},
		{method: "GET", target: "/elsewhere"},
		{method: "GET", target: DefaultAdminPrefix + "journal"},
	}
	for _, q := range steps {
		do(t, srv, q)
	}
	es := srv.Journal(JournalFilter{})
	type view struct {
		Method, Path, RangeHeader, Range string
		Start, End, Total                int64
		SessionHeader, Session, FileName string
		ContentLength, BodyRead          int64
		Status                           int
		Outcome, Answer                  string
		ShapedBy                         string
	}
	want := []view{
		{"POST", "/upload", "X-Content-Range", "bytes 0-5/12", 0, 5, 12, "Session-ID", "j1", "a.txt", 6, 6, 201, "answered", "0-5/12", ""},
		{"POST", "/upload", "Content-Range", "bytes 6-11/12", 6, 11, 12, "X-Session-ID", "j1", "a.txt", 6, 6, 200, "answered", "completed", ""},
		{"POST", "/upload", "X-Content-Range", "bytes 0-5/12", 0, 5, 12, "Session-ID", "j2", "b.txt", -1, 0, 416, "answered", "missing Content-Length: the range needs 6\n", ""},
		{"POST", "/upload", "X-Content-Range", "bytes 0-3/99", 0, 3, 99, "Session-ID", "j1", "a.txt", 4, 4, 200, "answered", "completed", "false-success"},
		{"OPTIONS", "/upload", "", "", -1, -1, -1, "", "", "", -1, 0, 200, "answered", "", ""},
		{"GET", "/file/a.txt", "", "", -1, -1, -1, "", "", "", -1, 0, 200, "answered", "", ""},
		{"GET", "/elsewhere", "", "", -1, -1, -1, "", "", "", -1, 0, 404, "answered", "not found\n", ""},
	}
	if len(es) != len(want) {
		t.Fatalf("journal: %d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, e := range es {
		got := view{e.Method, e.Path, e.RangeHeader, e.Range, e.Start, e.End, e.Total, e.SessionHeader, e.Session, e.FileName,
			e.ContentLength, e.BodyRead, e.Status, e.Outcome, e.Answer, strings.Join(e.ShapedBy, ",")}
		if got != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got, want[i])
		}
		if e.Seq != int64(i+1) || e.Time.IsZero() || e.Remote == "" || e.Duration <= 0 {
			t.Errorf("entry %d: seq %d time %v remote %q duration %v", i, e.Seq, e.Time, e.Remote, e.Duration)
		}
	}
	if r := es[2].Reason; r != "missing Content-Length: the range needs 6" {
		t.Errorf("reason %q", r)
	}
	if r := es[3].Reason; r != "total 99 differs from the session's total 12" {
		t.Errorf("reason of the class C answer %q, want the refusal it stands for", r)
	}
}

// TestJournalBounded: a journal of N entries keeps the latest N and counts the others.
func TestJournalBounded(t *testing.T) {
	srv := startServer(t, Options{JournalSize: 3})
	for i := range 5 {
		get(t, srv, fmt.Sprintf("/nothing/%d", i))
	}
	p := srv.Admin().JournalPage(JournalFilter{})
	if len(p.Entries) != 3 || p.Entries[0].Path != "/nothing/2" || p.Dropped != 2 || p.Last != 5 {
		t.Errorf("page: %d entries from %q, dropped %d, last %d; want 3 from /nothing/2, 2, 5", len(p.Entries), p.Entries[0].Path, p.Dropped, p.Last)
	}
}

// TestLogLine: -v's line says the reason, the fault and, last, what shaped the answer.
func TestLogLine(t *testing.T) {
	lines := make(chan string, 10)
	srv := startServer(t, Options{
		Faults: MustParseFaultRules("status=503,retry-after=1"),
		Logf:   func(format string, args ...any) { lines <- fmt.Sprintf(format, args...) },
	})
	send(t, srv, "lg", 0, 0, 5, 24, "l.bin")
	send(t, srv, "lg", 0, 0, 5, 99, "l.bin")
	do(t, srv, segment("lg", 0, 5, 24, "l.bin", nil).without("Content-Length").withBody(""))
	for i, want := range []string{
		`POST /upload session=lg range=bytes 0-5/24 status=503 in=6 out=`,
		`POST /upload session=lg range=bytes 0-5/99 status=201 in=6 out=6 `,
		`POST /upload session=lg range=bytes 0-5/24 status=416 in=0 out=`,
	} {
		line := <-lines
		if !strings.HasPrefix(line, want) {
			t.Errorf("line %d %q, want it to start with %q", i, line, want)
		}
		switch i {
		case 0:
			if !strings.HasSuffix(line, ` reason="scripted fault status=503,retry-after=1" fault="status=503,retry-after=1" by=fault`) {
				t.Errorf("line %q lacks the reason, fault and by=", line)
			}
		case 2:
			if !strings.HasSuffix(line, ` reason="missing Content-Length: the range needs 6"`) {
				t.Errorf("line %q lacks the reason", line)
			}
		}
	}
}
