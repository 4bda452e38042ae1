package fakeserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMaxSessions: past MaxSessions a new session gets a 503 with Retry-After and a one-line
// reason, while the existing sessions continue; a session that completes frees its place.
func TestMaxSessions(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t), MaxSessions: 2, SessionTTL: 30 * time.Second})
			for i := range 2 {
				sid := fmt.Sprintf("lim%d", i)
				if got := send(t, srv, sid, i, 0, 9, 20, sid+".bin"); got.status != 201 {
					t.Fatalf("session %s: %d %q", sid, got.status, got.body)
				}
			}
			got := send(t, srv, "lim2", 2, 0, 9, 20, "lim2.bin")
			expectErrorReply(t, got, 503, "too many incomplete sessions (2, the limit is 2)")
			if ra := got.header.Get("Retry-After"); ra != "30" {
				t.Errorf("Retry-After %q, want 30 (the session TTL)", ra)
			}
			// The existing sessions continue; the refused one left nothing.
			if got := send(t, srv, "lim0", 0, 10, 19, 20, "lim0.bin"); got.status != 200 {
				t.Fatalf("completing lim0: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "lim1", 1, 10, 11, 20, "lim1.bin"); got.status != 201 || got.body != "0-11/20" {
				t.Fatalf("lim1 continues: %d %q", got.status, got.body)
			}
			// lim0 completed: one place is free again.
			if got := send(t, srv, "lim2", 2, 0, 9, 20, "lim2.bin"); got.status != 201 || got.body != "0-9/20" {
				t.Fatalf("lim2 once lim0 completed: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "lim3", 3, 0, 9, 20, "lim3.bin"); got.status != 503 {
				t.Fatalf("lim3 past the limit: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "lim2", 2, 10, 19, 20, "lim2.bin"); got.status != 200 {
				t.Fatalf("completing lim2: %d %q", got.status, got.body)
			}
		})
	}
}

// TestMaxSessionsRetryAfter: without a session TTL (or a longer one) clients are told to
// retry in a minute.
func TestMaxSessionsRetryAfter(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Hour} {
		srv := startServer(t, Options{MaxSessions: 1, SessionTTL: ttl})
		send(t, srv, "one", 0, 0, 0, 2, "one.bin")
		got := send(t, srv, "two", 0, 0, 0, 2, "two.bin")
		if got.status != 503 || got.header.Get("Retry-After") != "60" {
			t.Errorf("ttl %v: %d Retry-After %q, want 503 and 60", ttl, got.status, got.header.Get("Retry-After"))
		}
	}
}

// TestSessionTTL: an incomplete session untouched for SessionTTL is removed, data and state,
// by the sweep that a later request runs; its next segment starts it over. A session touched
// meanwhile stays, and so does a completed one (its completion has its own TTL).
func TestSessionTTL(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			dir := t.TempDir()
			st := NewMemoryStore()
			if sk.name != "memory" {
				var err error
				if st, err = NewDirStore(dir, sk.name == "dir-fsync"); err != nil {
					t.Fatal(err)
				}
			}
			srv, clock := startServerClock(t, Options{Store: st, SessionTTL: time.Hour, CompletionTTL: 10 * time.Hour})
			send(t, srv, "old", 0, 0, 9, 20, "old.bin")
			send(t, srv, "kept", 1, 0, 9, 20, "kept.bin")
			send(t, srv, "done", 2, 0, 19, 20, "done.bin")
			clock.advance(40 * time.Minute)
			if got := send(t, srv, "kept", 1, 10, 11, 20, "kept.bin"); got.body != "0-11/20" {
				t.Fatalf("kept touched: %d %q", got.status, got.body)
			}
			clock.advance(40 * time.Minute)
			// Any request runs the sweep: a new session of another ID.
			if got := send(t, srv, "new", 3, 0, 0, 20, "new.bin"); got.status != 201 {
				t.Fatalf("new session: %d %q", got.status, got.body)
			}
			if n := st.(SessionLister).SessionCount(); n != 2 {
				t.Errorf("store holds %d incomplete sessions after the sweep, want 2 (kept, new)", n)
			}
			if sk.name != "memory" {
				for _, suffix := range []string{suffixData, suffixState} {
					if _, err := os.Stat(filepath.Join(dir, dirSessions, "old"+suffix)); !os.IsNotExist(err) {
						t.Errorf("old%s after expiry: %v, want it removed", suffix, err)
					}
				}
			}
			// The expired session starts over; the kept one continues; the completed one
			// still answers its completion.
			if got := send(t, srv, "old", 0, 10, 19, 20, "old.bin"); got.status != 201 || got.body != "10-19/20" {
				t.Errorf("old after expiry: %d %q, want 201 10-19/20 (started over)", got.status, got.body)
			}
			if got := send(t, srv, "kept", 1, 12, 19, 20, "kept.bin"); got.status != 200 {
				t.Errorf("kept completes: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "done", 2, 0, 19, 20, "done.bin"); got.status != 200 || !strings.Contains(got.body, "completed") {
				t.Errorf("done retried: %d %q, want the completion again", got.status, got.body)
			}
		})
	}
}

// TestSessionTTLOnItsOwnSegment: a segment of a session idle for SessionTTL starts it over
// even when no sweep ran in between (the sweep interval has not passed).
func TestSessionTTLOnItsOwnSegment(t *testing.T) {
	srv, clock := startServerClock(t, Options{SessionTTL: time.Hour})
	send(t, srv, "s", 0, 0, 9, 20, "s.bin")
	clock.advance(59 * time.Minute)
	if got := send(t, srv, "s", 0, 10, 11, 20, "s.bin"); got.body != "0-11/20" {
		t.Fatalf("within the TTL: %d %q", got.status, got.body)
	}
	clock.advance(time.Hour)
	srv.handler.mu.Lock()
	srv.handler.lastSweep = clock.now() // no sweep before the next segment
	srv.handler.mu.Unlock()
	if got := send(t, srv, "s", 0, 12, 13, 20, "s.bin"); got.status != 201 || got.body != "12-13/20" {
		t.Fatalf("after the TTL: %d %q, want 201 12-13/20", got.status, got.body)
	}
}

// TestSessionTTLAfterRestart: the sessions a data directory kept from an earlier run, which
// the handler never saw, expire through the store's listing.
func TestSessionTTLAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st})
	send(t, srv, "left", 0, 0, 9, 20, "left.bin")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv2, clock := startServerClock(t, Options{Store: st, SessionTTL: time.Hour})
	clock.advance(2 * time.Hour) // the fake clock is years ahead of the files' times anyway
	if got := send(t, srv2, "other", 1, 0, 0, 2, "other.bin"); got.status != 201 {
		t.Fatalf("other: %d %q", got.status, got.body)
	}
	if n := st.(SessionLister).SessionCount(); n != 1 {
		t.Errorf("store holds %d sessions, want 1 (other)", n)
	}
	if got := send(t, srv2, "left", 0, 10, 19, 20, "left.bin"); got.status != 201 || got.body != "10-19/20" {
		t.Errorf("left after expiry: %d %q, want 201 10-19/20", got.status, got.body)
	}
}
