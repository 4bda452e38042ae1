package fakeserver

import (
	"fmt"
	"net/http"
	"time"

	"github.com/upspec/upspec/ranges"
)

// loadCompletion restores, from the store, a session that was completed before the handler
// knew it (a restart on a data directory): the whole file acknowledged, its stored name, and
// the completion answer with its expiry once the backend had answered. Without an answer the
// session is complete and a retry hands the stored file to the backend again. s.mu is held;
// nothing is changed when the store is no CompletionStore or holds no record, or under restart-after-complete, where
// the module forgets a completed session at once (quirks_handler.go, detachCompleted).
func (h *handler) loadCompletion(s *session) *failure {
	cs, isCS := h.opts.Store.(CompletionStore)
	if !isCS || h.opts.Quirks.Has(RestartAfterComplete) {
		return nil
	}
	c, ok, err := cs.LoadCompletion(s.id)
	if err != nil {
		return fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot load the session's completion: %v", err)))
	}
	if !ok || c.Total <= 0 {
		return nil
	}
	s.total, s.stored = c.Total, c.Name
	s.acked = ranges.NewSet(c.Total)
	s.acked.Add(ranges.Range{Start: 0, End: c.Total - 1})
	s.phase = phaseComplete
	if c.Status != 0 {
		s.phase = phaseDone
		s.answer = &answer{status: c.Status, header: c.Header, body: c.Body}
		s.expires.Store(c.Expires.UnixNano())
	}
	return nil
}

// saveCompletion stores the session's completion answer and expiry with its completion
// record, so that a retry after a restart gets the same answer. s.mu is held. A failure
// costs only that durability: the answer is given and kept in memory all the same.
func (h *handler) saveCompletion(s *session) {
	cs, ok := h.opts.Store.(CompletionStore)
	if !ok || s.stored == "" || s.answer == nil {
		return
	}
	c := Completion{
		Name: s.stored, Total: s.total,
		Status: s.answer.status, Header: s.answer.header, Body: s.answer.body,
		Expires: time.Unix(0, s.expires.Load()),
	}
	if err := cs.SaveCompletion(s.id, c); err != nil && h.opts.Logf != nil {
		h.opts.Logf("session %s: the completion answer is not stored: %v", s.id, err)
	}
}

// expireCompletions removes the store's completion records whose time is up. A record the
// store cannot remove now is removed by a later sweep.
func (h *handler) expireCompletions(now time.Time) {
	if cs, ok := h.opts.Store.(CompletionStore); ok {
		_, _ = cs.ExpireCompletions(now)
	}
}
