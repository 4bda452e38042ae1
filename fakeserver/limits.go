package fakeserver

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// defaultRetryAfter is the Retry-After of a 503 past MaxSessions when sessions do not expire
// (no SessionTTL) or expire later than that.
const defaultRetryAfter = time.Minute

// sessionCount returns the number of incomplete sessions: the store's count when it keeps one
// (SessionLister), else the sessions the handler knows (completed ones within their TTL
// included).
func (h *handler) sessionCount() int {
	if sl, ok := h.opts.Store.(SessionLister); ok {
		return sl.SessionCount()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// retryAfter is how long a client refused for MaxSessions is told to wait: until the next
// sweep may have expired idle sessions, at most defaultRetryAfter.
func (h *handler) retryAfter() time.Duration {
	if ttl := h.opts.SessionTTL; ttl > 0 && ttl < defaultRetryAfter {
		return ttl
	}
	return defaultRetryAfter
}

// createSession creates session s in the store for a file of total bytes, unless that would
// pass MaxSessions: then the answer is a 503 with Retry-After. s.mu is held.
func (h *handler) createSession(x *exchange, s *session, total int64) *failure {
	if h.opts.MaxSessions > 0 {
		// Serialised, so that creations at once cannot pass the limit together.
		h.createMu.Lock()
		defer h.createMu.Unlock()
		if n := h.sessionCount(); n >= h.opts.MaxSessions {
			wait := h.retryAfter()
			x.w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			return fail(kindSessionLimit, http.StatusServiceUnavailable, fmt.Sprintf(
				"too many incomplete sessions (%d, the limit is %d): finish or abandon one, or retry in %v", n, h.opts.MaxSessions, wait))
		}
	}
	h.b.starting(x, s.id)
	u, err := h.opts.Store.Create(s.id, total)
	if err != nil {
		return fail(kindStorage, http.StatusInternalServerError, oneLine(fmt.Sprintf("cannot create the session: %v", err)))
	}
	s.upload, s.total = u, total
	return nil
}

// idleLocked reports whether the incomplete session s has been untouched for SessionTTL at
// now, with nothing of it in flight. s.mu is held.
func (h *handler) idleLocked(s *session, now time.Time) bool {
	ttl := h.opts.SessionTTL
	return ttl > 0 && s.phase == phaseActive && s.upload != nil && len(s.inflight) == 0 &&
		!s.touched.IsZero() && now.Sub(s.touched) >= ttl
}

// expireLocked removes the data and state of the idle session s from the store and forgets
// what the handler kept of it, so that its next segment starts it over. s.mu is held.
func (h *handler) expireLocked(s *session) {
	if s.upload != nil {
		if err := s.upload.Discard(); err != nil && h.opts.Logf != nil {
			h.opts.Logf("session %s: idle for %v, not removed: %v", s.id, h.opts.SessionTTL, err)
		}
	}
	s.reset()
	s.touched = time.Time{}
}

// expireIdle removes the incomplete sessions untouched for SessionTTL at now: those the store
// lists as idle (SessionLister.IdleSessions), which the handler either does not hold (a
// session left by an earlier run) or holds idle too, and, with a store that lists none, the
// idle sessions the handler holds. A session busy at this moment waits for the next sweep.
// It never holds h.mu while it waits for a session or calls the store.
func (h *handler) expireIdle(now time.Time) {
	ttl := h.opts.SessionTTL
	var ids []string
	sl, fromStore := h.opts.Store.(SessionLister)
	if fromStore {
		ids = sl.IdleSessions(now.Add(-ttl))
	} else {
		h.mu.Lock()
		for id := range h.sessions {
			ids = append(ids, id)
		}
		h.mu.Unlock()
	}
	for _, id := range ids {
		h.mu.Lock()
		s := h.sessions[id]
		switch {
		case s == nil && fromStore:
			// Held by us while the store removes it: a request of this ID waits, then starts
			// over.
			s = &session{id: id}
			s.mu.Lock()
			h.sessions[id] = s
		case s == nil || !s.mu.TryLock():
			h.mu.Unlock()
			continue
		}
		h.mu.Unlock()
		if !s.dead && !s.loaded && fromStore {
			s.loaded = true
			u, ok, err := h.opts.Store.Load(id)
			if err == nil && ok {
				s.upload, s.phase = u, phaseActive
				s.touched = now.Add(-ttl) // untouched since the store's listing
			}
		}
		if !s.dead && h.idleLocked(s, now) {
			h.expireLocked(s)
			s.dead = true
			h.forget(s)
		} else if !s.dead && s.upload == nil && s.total == 0 && len(s.inflight) == 0 && s.phase == phaseActive && s.values == nil {
			// Nothing of it here (the store lost it meanwhile): forget the placeholder.
			s.dead = true
			h.forget(s)
		}
		s.mu.Unlock()
	}
}
