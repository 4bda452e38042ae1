package tus

import (
	"net/http"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// Defaults of Options.
const (
	// DefaultPath is the creation URL's path; an upload's URL is DefaultPath + its ID.
	DefaultPath = "/files/"
	// DefaultExpiration is how long an incomplete upload lives after its last PATCH.
	DefaultExpiration = 24 * time.Hour
	// DefaultBodyReadTimeout is the longest pause allowed between two reads of a body.
	DefaultBodyReadTimeout = 30 * time.Second
)

// Options configures the reference tus server. The zero value is usable: an in-memory store,
// no size limit, uploads that expire DefaultExpiration after their last PATCH.
type Options struct {
	// Path is the creation URL's path (POST creates an upload there); the URL of an upload is
	// Path, with a trailing slash, followed by its ID. Default DefaultPath.
	Path string
	// Store keeps the uploads; nil: a new in-memory store.
	Store Store
	// MaxSize is the largest upload accepted, announced as Tus-Max-Size (413 above);
	// 0 = unlimited, and no Tus-Max-Size.
	MaxSize int64
	// Expiration is how long an incomplete upload lives after its creation or its last
	// PATCH (Upload-Expires); after it the upload is removed when next asked for and answered
	// 410 Gone (404 after a restart). Default DefaultExpiration; negative: uploads never
	// expire and the expiration extension is not announced.
	Expiration time.Duration
	// BodyReadTimeout is the longest pause between two reads of a body; a PATCH that stalls
	// longer ends, keeping what it stored. Default DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// CORSOrigins lets pages of these origins (scheme://host[:port], or "*" for any) speak tus
	// to the server: preflights are answered and answers expose the tus headers. Empty: no
	// CORS header.
	CORSOrigins []string
	// Fallback, when non-nil, answers the requests whose path is outside Path (e.g. a page
	// beside the server); nil: 404.
	Fallback http.Handler
	// Faults is the scripted fault plan (fakeserver.ParseFaultRules), consulted for each
	// PATCH and each creating POST with a body: the README's "Scripted faults" with an
	// upload as the session and the body's bytes at Upload-Offset as the segment.
	Faults []fakeserver.FaultRule
	// JournalSize is how many requests the journal keeps; default
	// fakeserver.DefaultJournalSize.
	JournalSize int
	// AdminPrefix is the URL prefix of the admin API (fakeserver.NewAdminHandler; the
	// sessions are the uploads); default fakeserver.DefaultAdminPrefix. Path is matched
	// before it.
	AdminPrefix string
	// Logf, when non-nil, receives one line per request (fakeserver.JournalLine): method,
	// path, upload, Upload-Offset, status, body bytes read and written, duration, the reason
	// of a refusal and the fault that fired. It is called from many goroutines at once.
	Logf func(format string, args ...any)
	// now is the clock (tests); nil: time.Now.
	now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.Store == nil {
		o.Store = NewMemoryStore()
	}
	if o.Expiration == 0 {
		o.Expiration = DefaultExpiration
	}
	if o.BodyReadTimeout <= 0 {
		o.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if o.AdminPrefix == "" {
		o.AdminPrefix = fakeserver.DefaultAdminPrefix
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}
