package fakeserver

import (
	"io"
	"net/http"
	"time"

	"github.com/upspec/upspec/ranges"
)

// Store keeps what must outlive a request: each session's bytes and acknowledged ranges, and
// the completed files. The handler keeps the protocol (header checks, locking, in-flight
// claims, range arithmetic, completion and hand-off); a Store only stores, the way tusd's
// handler and data stores are kept apart.
//
// A Store is safe for concurrent use by many sessions. The handler serialises the state
// changes of one session (Create, Commit, Finish, Discard) but calls WriteAt of one session
// from several requests at once, on disjoint ranges.
type Store interface {
	// Load returns the stored session id, or ok false when the store holds none.
	Load(id string) (u Upload, ok bool, err error)
	// Create starts session id for a file of total bytes, with nothing acknowledged. Any
	// earlier data of the same id is dropped.
	Create(id string, total int64) (Upload, error)
	// OpenFile opens the completed file called name (a bare name, already checked by the
	// caller). It returns an error wrapping fs.ErrNotExist when there is none.
	OpenFile(name string) (File, error)
	// Close releases what the store holds open. Stored data stays where it is.
	Close() error
}

// Completion is what a store keeps of a completed session: the completed file and, once the
// backend answered, the answer that a retry of any of the session's segments gets again until
// Expires.
type Completion struct {
	// Name is the name of the completed file (OpenFile opens it).
	Name string
	// Total is the size of the file.
	Total int64
	// Status is the status of the completion answer; 0 while the backend has not answered (a
	// retry then hands the stored file to the backend again).
	Status int
	// Header and Body are the rest of the completion answer.
	Header http.Header
	Body   []byte
	// Expires is when the record may be forgotten; zero while not answered.
	Expires time.Time
}

// CompletionStore is a Store that keeps the completion record of every session it finished
// (both stores of this package do): Finish records the completion, not yet answered, and Create
// removes the record of its ID. The handler keeps the completion answer there, so that a retry
// of a completed session gets it again even after a restart; with a Store that is no
// CompletionStore, completions live in the handler's memory only.
type CompletionStore interface {
	Store
	// LoadCompletion returns the completion record of session id (written by Finish, answered
	// by SaveCompletion), or ok false when the store holds none. A data directory keeps it
	// across restarts, so that a retry of a completed session gets its completion again.
	LoadCompletion(id string) (c Completion, ok bool, err error)
	// SaveCompletion replaces the completion record of session id, finished before: the
	// handler stores the answer and its expiry once the backend answered. It is atomic.
	SaveCompletion(id string, c Completion) error
	// ExpireCompletions removes the answered completion records whose Expires is before now,
	// and returns how many it removed. Create also removes the record of its ID.
	ExpireCompletions(now time.Time) (int, error)
}

// SessionLister is a Store that counts and lists its incomplete sessions (both stores of this
// package do), for a limit on sessions and for the expiry of idle ones.
type SessionLister interface {
	Store
	// SessionCount returns the number of incomplete sessions the store holds (created or
	// loaded, neither finished nor discarded).
	SessionCount() int
	// IdleSessions returns the IDs of the incomplete sessions that no write, commit or
	// creation touched since before (after a restart of a data directory: the modification
	// time of their files). A session with a write in progress is never idle. The caller
	// expires one by Load and Discard, which remove its data and state.
	IdleSessions(before time.Time) []string
}

// Upload is the stored side of one session.
type Upload interface {
	// Total is the size of the session's file.
	Total() int64
	// Ranges returns the acknowledged ranges as last committed, sorted and merged.
	Ranges() []ranges.Range
	// WriteAt stores p at offset off of the file. Calls on disjoint ranges may run at once.
	WriteAt(p []byte, off int64) (int, error)
	// Flush makes the bytes written so far durable as far as the store promises (a data
	// directory with fsync: fsync of the data file). It is called before Commit.
	Flush() error
	// Commit records that added is acknowledged, acked being the whole list after it. It is
	// atomic: after a crash at any moment the store holds either the previous list or this
	// one. The bytes of added were written (and flushed) before.
	Commit(added ranges.Range, acked []ranges.Range) error
	// Finish turns the complete session into the completed file called name (a bare,
	// checked name; an earlier file of that name is replaced) and removes the session from
	// the store (a CompletionStore records its completion). The returned File is open for
	// reading; the caller closes it.
	Finish(name string) (File, error)
	// Discard removes the session and its bytes from the store.
	Discard() error
}

// File is a completed file in a Store.
type File interface {
	io.ReaderAt
	io.Closer
	// Size is the length of the file in bytes.
	Size() int64
	// Path is where the file lives on disk; "" for a store in memory.
	Path() string
}

// Both stores of this package keep completion records and list their sessions.
var (
	_ CompletionStore = (*memStore)(nil)
	_ CompletionStore = (*dirStore)(nil)
	_ SessionLister   = (*memStore)(nil)
	_ SessionLister   = (*dirStore)(nil)
)
