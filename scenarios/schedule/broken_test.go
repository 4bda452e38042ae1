package schedule_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
)

// forgetDescending wraps the reference server with a bug no fixed scenario provokes: in a run
// of three short segments (at most 8 bytes) of a session, each arriving below the one before
// it with a gap between them, the third is stored but then forgotten: left out of every later
// list, and the completion held back until it is sent again.
type forgetDescending struct {
	next http.Handler

	mu        sync.Mutex
	history   map[string][]ranges.Range // per session, the segments so far
	forgotten map[string]*ranges.Set
}

func newForgetDescending() *forgetDescending {
	return &forgetDescending{
		next:      fakeserver.New(fakeserver.Options{}),
		history:   map[string][]ranges.Range{},
		forgotten: map[string]*ranges.Set{},
	}
}

func (h *forgetDescending) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("Session-ID")
	seg, err := ranges.ParseSegment(r.Header.Get("X-Content-Range"))
	if r.Method != http.MethodPost || id == "" || err != nil {
		h.next.ServeHTTP(w, r)
		return
	}
	cur := seg.Range()
	h.mu.Lock()
	hist := h.history[id]
	n := len(hist)
	short := func(r ranges.Range) bool { return r.Len() <= 8 }
	forget := n >= 2 && short(cur) && short(hist[n-1]) && short(hist[n-2]) &&
		cur.End+1 < hist[n-1].Start && hist[n-1].End+1 < hist[n-2].Start
	h.history[id] = append(hist, cur)
	h.mu.Unlock()

	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	status, body := rec.Code, rec.Body.String()

	h.mu.Lock()
	lost := h.forgotten[id]
	accepted := status == http.StatusCreated || status == http.StatusOK
	switch {
	case forget && accepted:
		if lost == nil {
			lost = ranges.NewSet(seg.Total)
			h.forgotten[id] = lost
		}
		lost.Add(cur)
	case accepted && lost != nil:
		rest := ranges.NewSet(seg.Total)
		for _, x := range lost.Subtract(setOf(seg.Total, cur)) {
			rest.Add(x)
		}
		lost = rest
		h.forgotten[id] = lost
	}
	var list string
	if accepted && lost != nil && lost.Len() > 0 {
		known := ranges.NewSet(seg.Total)
		if status == http.StatusOK {
			known.Add(ranges.Range{Start: 0, End: seg.Total - 1})
		} else if l, err := ranges.ParseList(rec.Header().Get("Range")); err == nil {
			known = l.Set()
		}
		var kept []string
		for _, x := range known.Subtract(lost) {
			kept = append(kept, fmt.Sprintf("%d-%d/%d", x.Start, x.End, seg.Total))
		}
		list = strings.Join(kept, ",")
	}
	h.mu.Unlock()

	if list != "" || (accepted && lost != nil && lost.Len() > 0) {
		w.Header().Set("Range", list)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(list))
		return
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func setOf(total int64, r ranges.Range) *ranges.Set {
	s := ranges.NewSet(total)
	s.Add(r)
	return s
}
