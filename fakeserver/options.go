package fakeserver

import (
	"net/http"
	"time"

	"github.com/upspec/upspec/ranges"
)

// Defaults of Options.
const (
	// DefaultPath is the segment endpoint.
	DefaultPath = "/upload"
	// DefaultFilePrefix is the URL prefix under which the built-in backend serves completed
	// files.
	DefaultFilePrefix = "/file/"
	// DefaultCompletionTTL is how long a completed session answers retries with its
	// completion.
	DefaultCompletionTTL = 10 * time.Minute
	// DefaultBodyReadTimeout is the longest pause allowed between two reads of a body.
	DefaultBodyReadTimeout = 30 * time.Second
	// DefaultAdminPrefix is the URL prefix of the admin API.
	DefaultAdminPrefix = "/_upspec/"
	// DefaultMinBodyRate is the slowest a segment's body may arrive on average, in bytes per
	// second, before the segment is abandoned.
	DefaultMinBodyRate = 1 << 10
	// DefaultBodyDeadlineFloor is the least time any segment's body gets, however short the
	// segment: as long as one stalled read may take (DefaultBodyReadTimeout).
	DefaultBodyDeadlineFloor = DefaultBodyReadTimeout
	// DefaultBackendTimeout bounds a hand-off to an external backend when Options has no
	// BackendClient.
	DefaultBackendTimeout = 30 * time.Second
)

// Options configures the reference server. The zero value is usable: an in-memory store, the
// built-in backend, no size limits, the module's range-list form.
type Options struct {
	// Path is the segment endpoint; default DefaultPath.
	Path string
	// FilePrefix is the URL prefix of completed files, `GET <FilePrefix><name>`; default
	// DefaultFilePrefix.
	FilePrefix string
	// Store keeps the sessions and the completed files; nil: a new in-memory store.
	Store Store
	// UploadPass is the URL of an external backend. When it is set, the completing segment is
	// handed to it as the module's multipart form and its answer is relayed; "" selects the
	// built-in backend (200 `completed`).
	UploadPass string
	// BackendClient performs the hand-off to UploadPass; nil: a client with a
	// DefaultBackendTimeout timeout.
	BackendClient *http.Client
	// MaxFileSize is the largest total accepted (413 above); 0 = unlimited.
	MaxFileSize int64
	// MaxSegmentSize is the largest segment (E-S+1) accepted (413 above); 0 = unlimited.
	MaxSegmentSize int64
	// RangeFormat is the form of the range list of a 201; default ranges.FormatModule.
	RangeFormat ranges.Format
	// CompletionTTL is how long a completed session answers a retry of any of its segments
	// with the completion answer again; default DefaultCompletionTTL. After it, once no
	// segment of the session is still streaming, the session is forgotten.
	CompletionTTL time.Duration
	// BodyReadTimeout is the longest pause between two reads of a request body; a client that
	// stalls longer gets a 408 and nothing of its segment is acknowledged. Default
	// DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at which a segment's body
	// may arrive: a segment of n bytes must arrive within max(BodyDeadlineFloor,
	// n/MinBodyRate) of its first byte being asked for. A body that takes longer is abandoned
	// (408, the connection closed): its claim on the range is released and nothing of it is
	// acknowledged, so that an honest retry of the range succeeds. 0 selects
	// DefaultMinBodyRate; a negative rate sets no whole-segment deadline (BodyReadTimeout
	// still bounds each read).
	MinBodyRate int64
	// BodyDeadlineFloor is the least time a segment's body gets under MinBodyRate; default
	// DefaultBodyDeadlineFloor.
	BodyDeadlineFloor time.Duration
	// MaxSessions bounds the incomplete sessions: past it, a segment that would start a new
	// session gets 503 with Retry-After and a one-line reason, while the existing sessions
	// continue. 0 = unlimited. The count is the store's (SessionLister) when it keeps one,
	// else the handler's.
	MaxSessions int
	// SessionTTL removes the incomplete sessions untouched for that long, their data and
	// state (SessionLister.IdleSessions, then Upload.Discard); a later segment of such a
	// session starts it over, as the module does after its cleanup. 0 = never.
	SessionTTL time.Duration
	// CORSOrigins lets pages of these origins (scheme://host[:port], or "*" for any) post
	// segments and read the answers: preflights are answered, and answers carry
	// Access-Control-Allow-Origin (the request's origin), -Allow-Credentials and
	// -Expose-Headers Range. Empty: no CORS header, like the module.
	CORSOrigins []string
	// Fallback, when non-nil, answers the requests whose path is neither Path nor under
	// FilePrefix (e.g. a page beside the mock, as `upspec serve` serves its demo page);
	// nil: 404.
	Fallback http.Handler
	// Quirks selects deviations of the real module; the zero value selects none.
	Quirks QuirkSet
	// Faults is the scripted fault plan (ParseFaultRules): rules consulted in order for each
	// segment, each firing as many times as it says. A rule with a plan name (plan=NAME) is
	// used only by requests that carry the FaultPlanHeader with that name.
	Faults []FaultRule
	// JournalSize is how many requests the journal keeps (the oldest are dropped and
	// counted); default DefaultJournalSize.
	JournalSize int
	// AdminPrefix is the URL prefix of the admin API (journal, sessions, files, faults,
	// reset); default DefaultAdminPrefix. The segment endpoint and the files are matched
	// before it, so it never shadows them.
	AdminPrefix string
	// OnComplete, when non-nil, is called once per completed file, after the store finished
	// it and before the backend is asked. It is called from many goroutines at once and
	// holds up the completing request while it runs.
	OnComplete func(CompletedFile)
	// Logf, when non-nil, receives one line per request: method, path, session, range,
	// status, body bytes read and written, duration, the reason of a refusal, the fault that
	// fired and the deviations that shaped the answer (last, after "by="). It is called from
	// many goroutines at once.
	Logf func(format string, args ...any)
}

// withDefaults returns o with every zero field that has a default set to it.
func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.FilePrefix == "" {
		o.FilePrefix = DefaultFilePrefix
	}
	if o.AdminPrefix == "" {
		o.AdminPrefix = DefaultAdminPrefix
	}
	if o.Store == nil {
		o.Store = NewMemoryStore()
	}
	if o.BackendClient == nil {
		o.BackendClient = &http.Client{Timeout: DefaultBackendTimeout}
	}
	if o.CompletionTTL <= 0 {
		o.CompletionTTL = DefaultCompletionTTL
	}
	if o.BodyReadTimeout <= 0 {
		o.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if o.MinBodyRate == 0 {
		o.MinBodyRate = DefaultMinBodyRate
	}
	if o.BodyDeadlineFloor <= 0 {
		o.BodyDeadlineFloor = DefaultBodyDeadlineFloor
	}
	return o
}

// deviations returns the deviations from the reference behaviour that o selects, in the order
// they are installed: the quirks, in registry order. The scripted faults come after them
// (handler.deviations).
func (o Options) deviations() []deviation { return o.Quirks.deviations() }
