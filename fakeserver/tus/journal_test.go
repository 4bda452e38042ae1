package tus

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/upspec/upspec/fakeserver"
)

// TestJournalByUpload: the admin API's journal filter session=ID selects the requests of one
// upload, by the ID at the end of its URL (the creation POST's Location): its creation POST,
// its HEADs and its PATCHes, refused, faulted or not, and nothing of another upload, of the
// OPTIONS or of an unknown upload; since= narrows it further.
func TestJournalByUpload(t *testing.T) {
	s := start(t, Options{})
	if a := do(t, http.MethodOptions, s.CreationURL(), nil, nil); a.status != http.StatusNoContent {
		t.Fatalf("OPTIONS: %d", a.status)
	}
	ua := create(t, s, 24, "Upload-Metadata", "filename "+b64("a.bin"))
	ub := create(t, s, 10, "Upload-Metadata", "filename "+b64("b.bin"))
	a, b := path.Base(ua), path.Base(ub)
	body := []byte("0123456789abcdefghijklmn")
	steps := []struct {
		method string
		u      string
		off    int64
		data   []byte
		want   int
	}{
		{http.MethodHead, ua, 0, nil, 200},
		{http.MethodPatch, ua, 0, body[:12], 204},
		{http.MethodPatch, ub, 5, body[:5], 409},
		{"fault", "status=503,session=" + a + ",times=1", 0, nil, 0},
		{http.MethodPatch, ua, 12, body[12:], 503},
		{http.MethodHead, ua, 0, nil, 200},
		{http.MethodPatch, ua, 12, body[12:], 204},
		{http.MethodHead, s.CreationURL() + strings.Repeat("0", 32), 0, nil, 404},
		{http.MethodPatch, ub, 0, body[:10], 204},
	}
	for _, st := range steps {
		var got int
		switch st.method {
		case "fault":
			s.Admin().AddFaults(fakeserver.MustParseFaultRules(st.u)...)
			continue
		case http.MethodHead:
			got = do(t, http.MethodHead, st.u, tusReq(), nil).status
		default:
			got = patch(t, st.u, st.off, st.data).status
		}
		if got != st.want {
			t.Fatalf("%s %s at %d: %d, want %d", st.method, st.u, st.off, got, st.want)
		}
	}
	journal := func(query string) fakeserver.JournalPage {
		t.Helper()
		r := do(t, http.MethodGet, s.URL+fakeserver.DefaultAdminPrefix+"journal?"+query, nil, nil)
		var p fakeserver.JournalPage
		if err := json.Unmarshal(r.body, &p); err != nil || r.status != 200 {
			t.Fatalf("GET journal?%s: %d %s: %v", query, r.status, r.body, err)
		}
		return p
	}
	// line is what the demo page shows of an entry: method, offset sent, bytes of the body in
	// the upload, status, whether a reason and a fault are given, and the offset answered.
	line := func(e fakeserver.JournalEntry) string {
		return fmt.Sprintf("%s off=%s bytes=%d-%d status=%d reason=%t fault=%q answer=%s",
			e.Method, e.Range, e.Start, e.End, e.Status, e.Reason != "", e.Fault, e.Answer)
	}
	tests := []struct {
		id   string
		want []string
	}{
		{a, []string{
			"POST off= bytes=-1--1 status=201 reason=false fault=\"\" answer=",
			"HEAD off= bytes=-1--1 status=200 reason=false fault=\"\" answer=0",
			"PATCH off=0 bytes=0-11 status=204 reason=false fault=\"\" answer=12",
			"PATCH off=12 bytes=12-23 status=503 reason=true fault=\"status=503,session=" + a + ",times=1\" answer=scripted fault status=503,session=" + a + ",times=1",
			"HEAD off= bytes=-1--1 status=200 reason=false fault=\"\" answer=12",
			"PATCH off=12 bytes=12-23 status=204 reason=false fault=\"\" answer=24",
		}},
		{b, []string{
			"POST off= bytes=-1--1 status=201 reason=false fault=\"\" answer=",
			"PATCH off=5 bytes=5-9 status=409 reason=true fault=\"\" answer=Upload-Offset 5 is not the upload's offset 0",
			"PATCH off=0 bytes=0-9 status=204 reason=false fault=\"\" answer=10",
		}},
		{strings.Repeat("0", 32), []string{"HEAD off= bytes=-1--1 status=404 reason=true fault=\"\" answer=no such upload"}},
	}
	var seqs []int64
	for _, tt := range tests {
		p := journal("session=" + url.QueryEscape(tt.id))
		var got []string
		for _, e := range p.Entries {
			if e.Session != tt.id {
				t.Errorf("journal?session=%s has an entry of %q: %+v", tt.id, e.Session, e)
			}
			got = append(got, line(e))
			seqs = append(seqs, e.Seq)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("journal?session=%s:\n%s\nwant\n%s", tt.id, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
		if len(p.Entries) > 2 {
			since := p.Entries[1].Seq
			rest := journal("session=" + url.QueryEscape(tt.id) + "&since=" + strconv.FormatInt(since, 10))
			if len(rest.Entries) != len(p.Entries)-2 || rest.Entries[0].Seq != p.Entries[2].Seq {
				t.Errorf("journal?session=%s&since=%d: %d entries, want the %d after it", tt.id, since, len(rest.Entries), len(p.Entries)-2)
			}
		}
	}
	// Everything else is the OPTIONS, which belongs to no upload.
	all := journal("")
	if len(all.Entries) != len(seqs)+1 || all.Entries[0].Method != http.MethodOptions || all.Entries[0].Session != "" {
		t.Errorf("the whole journal has %d entries, want the %d of the uploads and the OPTIONS: %+v", len(all.Entries), len(seqs), all.Entries)
	}
	if p := journal("session=" + strings.Repeat("f", 32)); len(p.Entries) != 0 || p.Last != all.Last {
		t.Errorf("journal of an upload never asked for: %+v", p)
	}
}
