package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// tusJournalEntry is the part of a journal entry of the tus server that the demo page shows.
type tusJournalEntry struct {
	Seq           int64  `json:"seq"`
	Session       string `json:"session"`
	Method        string `json:"method"`
	Range         string `json:"range"`
	Status        int    `json:"status"`
	Outcome       string `json:"outcome"`
	Answer        string `json:"answer"`
	Reason        string `json:"reason"`
	Fault         string `json:"fault"`
	ContentLength int64  `json:"content_length"`
	BodyRead      int64  `json:"body_read"`
}

// panelLine is what the panel must show of e: seq, method, the offset sent and the one
// answered, the body's length, the status, the reason and the fault, separated by |.
func (e tusJournalEntry) panelLine() string {
	var offset []string
	if e.Range != "" {
		offset = append(offset, e.Range)
	}
	if e.Status >= 200 && e.Status < 300 && e.Answer != "" {
		offset = append(offset, "→ "+e.Answer)
	}
	length := fmt.Sprint(e.BodyRead)
	if e.ContentLength >= 0 && e.ContentLength != e.BodyRead {
		length = fmt.Sprintf("%d of %d", e.BodyRead, e.ContentLength)
	}
	status := e.Outcome
	if e.Status != 0 {
		status = fmt.Sprint(e.Status)
	}
	return strings.Join([]string{fmt.Sprint(e.Seq), e.Method, strings.Join(offset, " "), length, status, e.Reason, e.Fault}, "|")
}

// tusJournal reads the journal of `upspec serve --protocol tus` at base, of one upload ("":
// all of it).
func tusJournal(t *testing.T, base, upload string) []tusJournalEntry {
	t.Helper()
	q := ""
	if upload != "" {
		q = "?session=" + url.QueryEscape(upload)
	}
	c := &http.Client{Timeout: browserWait}
	res, err := c.Get(base + "/_upspec/journal" + q)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Entries []tusJournalEntry `json:"entries"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET journal%s: %d %v", q, res.StatusCode, err)
	}
	return page.Entries
}

// tusPanel is what a row's "What the server saw" panel shows after its last poll.
type tusPanel struct {
	Lines []string // the journal's lines: the cells of panelLine
	State string   // the panel's data-state: the upload's state on the server
	Note  string
	Held  string // what the server holds of the upload
	Head  string // the column headings
}

// readTusPanel waits until the panel of the row of file name has made its last poll and
// returns what it shows.
func readTusPanel(t *testing.T, ctx context.Context, name string) tusPanel {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const row = [...document.querySelectorAll('#list .file')].find((r) => r.dataset.name === %q);
		const saw = row.querySelector('.saw');
		if (saw.dataset.watch !== 'ended') return false;
		const cols = ['seq', 'method', 'offset', 'length', 'status', 'reason', 'fault'];
		const lines = [...saw.querySelectorAll('.saw-journal tbody tr')].map((tr) => cols.map((c) => tr.querySelector('.' + c).textContent).join('|'));
		return { lines, state: saw.dataset.state, note: saw.querySelector('.saw-note').textContent, held: saw.querySelector('.saw-ranges').textContent,
			head: [...saw.querySelectorAll('.saw-journal thead th')].map((th) => th.textContent).join('|') };
	})()`, name)
	got, err := chromedp.Run(ctx, chromedp.Poll[tusPanel](expr, chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		t.Fatalf("%s: the panel never made its last poll: %v; page: %s", name, err, pageRows(ctx))
	}
	return got
}

// TestBrowserServerSawPanelTus uploads two files through the demo page of `upspec serve
// --protocol tus`, one PATCH of the two refused by a scripted 503, and checks each file's
// "What the server saw" panel: it follows the upload the client created (the ID at the end
// of the row's upload URL) and lists exactly the journal's entries of that upload, as the
// admin API has them (the creation POST, the PATCHes, the refused one with its reason and
// fault, the HEAD after it), none of the other file's and not the OPTIONS, and the upload's
// offset.
func TestBrowserServerSawPanelTus(t *testing.T) {
	ctx := newBrowser(t)
	const fault = "status=503,match=middle,times=1"
	p := startServe(t, "--protocol", "tus", "--fault", fault)
	names := []string{"saw-a.bin", "saw-b.bin"}
	sizes := []int{5000, 3000}
	paths := writeFiles(t, names, sizes)
	openPage(t, ctx, p.base+"/?segment=1024&retryDelay=20")
	pickFiles(t, ctx, paths)
	waitRows(t, ctx, len(names))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#list .file .saw').forEach((d) => (d.open = true))`)); err != nil {
		t.Fatalf("open the panels: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[map[string][2]string](`Object.fromEntries([...document.querySelectorAll('#list .file')].map((r) => [r.dataset.name, [r.dataset.upload ?? '', r.querySelector('a.link').href]]))`))
	if err != nil || len(rows) != len(names) {
		t.Fatalf("rows %v: %v", rows, err)
	}

	seen := map[int64]string{} // seq -> the file whose panel lists it
	faulted := 0
	for i, name := range names {
		upload, link := rows[name][0], rows[name][1]
		if upload == "" || !strings.HasPrefix(link, p.upload) || !strings.HasSuffix(link, "/"+upload) {
			t.Fatalf("%s: upload %q, link %q: want the ID at the end of an upload URL under %s", name, upload, link, p.upload)
		}
		var want []string
		entries := tusJournal(t, p.base, upload)
		for _, e := range entries {
			want = append(want, e.panelLine())
		}
		if len(entries) < 2 || entries[0].Method != http.MethodPost || entries[0].Status != http.StatusCreated {
			t.Fatalf("%s: the journal of upload %s: %v, want its creation POST first", name, upload, want)
		}
		if last := entries[len(entries)-1]; last.Method != http.MethodPatch || last.Answer != fmt.Sprint(sizes[i]) {
			t.Fatalf("%s: the journal of upload %s ends with %s, want the PATCH to offset %d", name, upload, last.panelLine(), sizes[i])
		}
		for j, e := range entries {
			if e.Fault == "" {
				continue
			}
			faulted++
			if e.Status != http.StatusServiceUnavailable || e.Fault != fault || e.Reason == "" ||
				j+1 >= len(entries) || entries[j+1].Method != http.MethodHead || entries[j+1].Status != http.StatusOK {
				t.Errorf("%s: the faulted PATCH %s, then %v: want a 503 with its reason and fault, then a HEAD", name, e.panelLine(), want[j+1:])
			}
		}

		got := readTusPanel(t, ctx, name)
		if got.State != "complete" {
			t.Errorf("%s: the panel's state is %q, want complete", name, got.State)
		}
		if strings.Join(got.Lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: the panel lists\n%s\nthe journal of upload %s has\n%s", name, strings.Join(got.Lines, "\n"), upload, strings.Join(want, "\n"))
		}
		if got.Head != "#|method|offset|length|status|reason|fault|time" {
			t.Errorf("%s: the panel's columns are %q", name, got.Head)
		}
		if !strings.HasPrefix(got.Note, "upload "+upload) {
			t.Errorf("%s: the panel's note %q, want it to name upload %s", name, got.Note, upload)
		}
		if wantHeld := fmt.Sprintf("complete: offset %d of %d bytes", sizes[i], sizes[i]); got.Held != wantHeld {
			t.Errorf("%s: the panel says %q, want %q", name, got.Held, wantHeld)
		}
		for _, e := range entries {
			if other, ok := seen[e.Seq]; ok {
				t.Errorf("entry %d is in the panels of %s and %s", e.Seq, other, name)
			}
			seen[e.Seq] = name
		}
	}
	if faulted != 1 {
		t.Errorf("%d faulted PATCHes in the panels, want the one the fault rule made", faulted)
	}
	// The rest of the journal belongs to no upload: the page's files and each row's OPTIONS.
	options := 0
	for _, e := range tusJournal(t, p.base, "") {
		if _, ok := seen[e.Seq]; ok {
			continue
		}
		if e.Session != "" || e.Method != http.MethodGet && e.Method != http.MethodOptions {
			t.Errorf("the journal's entry %s of upload %q is in no panel", e.panelLine(), e.Session)
		}
		if e.Method == http.MethodOptions {
			options++
		}
	}
	if options != len(names) {
		t.Errorf("%d OPTIONS in the journal, want one per row, in no panel", options)
	}
	screenshot(t, ctx, "server-saw-tus")
}

// TestBrowserServerSawPanelTusForgotten: the server forgets the upload at its last PATCH
// (404), the client creates another, and the panel follows the new one: its journal lines
// only, a note that names the upload left; the one left keeps its lines in the journal.
func TestBrowserServerSawPanelTusForgotten(t *testing.T) {
	ctx := newBrowser(t)
	p := startServe(t, "--protocol", "tus", "--fault", "forget,match=last,times=1")
	const name, size = "forgotten.bin", 3000
	openPage(t, ctx, p.base+"/?segment=1024&retryDelay=20")
	pickFiles(t, ctx, writeFiles(t, []string{name}, []int{size}))
	waitRows(t, ctx, 1)
	upload, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#list .file').dataset.upload`))
	if err != nil || upload == "" {
		t.Fatalf("the row's upload %q: %v", upload, err)
	}
	var left string
	var leftLines []string
	for _, e := range tusJournal(t, p.base, "") {
		if e.Session != "" && e.Session != upload {
			left = e.Session
			leftLines = append(leftLines, e.panelLine())
		}
	}
	if left == "" || !strings.HasSuffix(leftLines[len(leftLines)-1], "|404|no such upload|forget,match=last,times=1") {
		t.Fatalf("the journal holds no upload forgotten at its last PATCH: %v", leftLines)
	}
	var want []string
	for _, e := range tusJournal(t, p.base, upload) {
		want = append(want, e.panelLine())
	}
	got := readTusPanel(t, ctx, name)
	if strings.Join(got.Lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("the panel lists\n%s\nthe journal of upload %s has\n%s", strings.Join(got.Lines, "\n"), upload, strings.Join(want, "\n"))
	}
	if len(want) < 2 || !strings.Contains(want[0], "|POST|") || got.State != "complete" {
		t.Errorf("the new upload's journal %v, panel state %q: want its creation POST first, then complete", want, got.State)
	}
	if wantNote := "upload " + upload + "; the client left upload " + left + " before it"; got.Note != wantNote {
		t.Errorf("the panel's note %q, want %q", got.Note, wantNote)
	}
}
