// Package protocol holds the header names and the small rules of the resumable-upload protocol
// that both the reference server and the conformance scenarios need.
package protocol

import "strings"

// Header names of the protocol. Each request header has two accepted spellings; a server
// accepts them in any letter case.
const (
	// ContentRange names the segment's byte range, `bytes S-E/T`.
	ContentRange = "Content-Range"
	// XContentRange is the alias of ContentRange.
	XContentRange = "X-Content-Range"
	// SessionID names the upload session.
	SessionID = "Session-ID"
	// XSessionID is the alias of SessionID.
	XSessionID = "X-Session-ID"
	// ContentDisposition carries the file name: `attachment; filename="name"`.
	ContentDisposition = "Content-Disposition"
	// Range is the response header of a 201 that lists the ranges received so far.
	Range = "Range"
)

// MaxSessionIDLen is the longest session ID the reference accepts. The real module has no
// limit of its own, but its state file `<id>.state` cannot be created past 249 characters on
// a filesystem whose names end at 255 bytes.
const MaxSessionIDLen = 249

// ValidSessionID reports whether id matches [A-Za-z0-9_-]{1,249}.
func ValidSessionID(id string) bool {
	if len(id) == 0 || len(id) > MaxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// BaseName strips a client-supplied file name to its last path element the way the module
// does: everything up to the last '/' or '\' is dropped.
func BaseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}
