package tus

import (
	"errors"
	"io"
	"time"
)

// ErrNotFound is what Store.Load returns, wrapped, for an upload the store does not hold.
var ErrNotFound = errors.New("no such upload")

// Info is what the server keeps of an upload besides its bytes.
type Info struct {
	// ID names the upload in its URL: 32 lower-case hex digits.
	ID string `json:"id"`
	// Length is the upload's length; -1 while it is deferred (Upload-Defer-Length) or, for a
	// final upload, while a partial's length is unknown.
	Length int64 `json:"length"`
	// Offset is the number of bytes received: the bytes [0, Offset) are stored.
	Offset int64 `json:"offset"`
	// Metadata is the Upload-Metadata given at creation, as it was sent.
	Metadata string `json:"metadata,omitempty"`
	// Partial marks a partial upload (Upload-Concat: partial).
	Partial bool `json:"partial,omitempty"`
	// Final marks a final upload (Upload-Concat: final;...); Parts are its partials' IDs, in
	// order.
	Final bool     `json:"final,omitempty"`
	Parts []string `json:"parts,omitempty"`
	// Expires is when the upload expires while it is incomplete; zero: never.
	Expires time.Time `json:"expires,omitzero"`
}

// Complete reports whether every byte of the upload was received.
func (i Info) Complete() bool { return i.Length >= 0 && i.Offset == i.Length }

// Store keeps the uploads of a server: their bytes and their Info. The handler keeps the
// protocol (header checks, the claim of an upload by one PATCH at a time, offsets, expiry and
// concatenation); a Store only stores, the way tusd's handler and data stores are kept apart.
// A tus upload is one contiguous range from 0, which the Info's Offset describes, so its store
// needs neither range lists nor a total fixed at creation (Upload-Defer-Length).
//
// A Store is safe for concurrent use. The handler serialises the calls of one upload.
type Store interface {
	// Create stores a new upload with info, nothing of it received. It fails if the ID exists.
	Create(info Info) (Upload, error)
	// Load returns the upload id; an error wrapping ErrNotFound when the store holds none.
	Load(id string) (Upload, error)
	// Close releases what the store holds open. Stored data stays where it is.
	Close() error
}

// Upload is the stored side of one upload.
type Upload interface {
	// Info returns the upload's Info as last committed.
	Info() Info
	// WriteAt stores p at offset off. Bytes at or past the committed Offset are not the
	// upload's until Commit says so.
	WriteAt(p []byte, off int64) (int, error)
	// ReadAt reads stored bytes; the caller reads below the committed Offset only.
	io.ReaderAt
	// Flush makes the bytes written so far durable as far as the store promises (a data
	// directory with fsync: fsync of the data file). It is called before Commit.
	Flush() error
	// Commit replaces the upload's Info (its offset, length and expiry). It is atomic: after
	// a crash at any moment the store holds either the previous Info or this one.
	Commit(info Info) error
	// Remove removes the upload and its bytes from the store.
	Remove() error
}
