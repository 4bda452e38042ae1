package scenarios

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/wire"
)

// Defaults of Config.
const (
	// DefaultRequestTimeout bounds each exchange.
	DefaultRequestTimeout = wire.DefaultTimeout
	// DefaultSegmentSize is the segment size of scenarios that upload a whole file.
	DefaultSegmentSize = 64 * 1024
	// MaxRunIDLen is the longest run ID accepted, so that session IDs stay well under the
	// 249 characters a state file name allows.
	MaxRunIDLen = 64
)

// Config is what a run of scenarios is pointed at and how strict it is.
type Config struct {
	Target         *url.URL        // the segment endpoint, e.g. http://127.0.0.1:8080/upload
	Headers        []result.Header // extra request headers put on every request (e.g. Authorization)
	TLS            *tls.Config     // used for https targets (nil: system roots)
	RequestTimeout time.Duration   // bound on each exchange (default 10 s)
	SegmentSize    int64           // default 65536
	FinalStatus    int             // status of the backend's answer to a completion; 0 = any 2xx/3xx
	FinalBody      string          // body of the backend's answer to a completion; "" = any body
	FileURL        string          // template with {name} to fetch a completed file; "" = no file fetch
	RunID          string          // prefix of every session ID; [A-Za-z0-9_-]
	Strict         bool            // failed SHOULD checks fail the scenario
	Loopback       bool            // derived by WithDefaults: the target host is a loopback address
	// Backend gives the forms the deployment handed to the harness backend (its upload_pass
	// points at a Backend); nil = no harness backend: the backend scenarios are skipped.
	Backend BackendForms
}

// NewRunID returns a fresh run ID: UTC time to the second and 6 random hex digits, e.g.
// "20261124T141444-3fa9c1". Two runs never share one, so session IDs of a run never collide
// with those of an earlier run against a persistent server.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program instead (Go 1.24+)
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// WithDefaults returns a copy of c with zero fields given their defaults: RequestTimeout,
// SegmentSize, RunID (NewRunID), and Loopback derived from the target host.
func (c Config) WithDefaults() Config {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.RunID == "" {
		c.RunID = NewRunID()
	}
	if c.Target != nil {
		c.Loopback = IsLoopbackHost(c.Target.Hostname())
	}
	c.Headers = append([]result.Header(nil), c.Headers...)
	return c
}

// Validate reports what is wrong with the configuration, one error per problem, joined.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Target == nil:
		errs = append(errs, errors.New("no target URL"))
	case c.Target.Scheme != "http" && c.Target.Scheme != "https":
		errs = append(errs, fmt.Errorf("target %q: scheme must be http or https", c.Target.String()))
	case c.Target.Host == "":
		errs = append(errs, fmt.Errorf("target %q: no host", c.Target.String()))
	}
	if c.RunID != "" && (len(c.RunID) > MaxRunIDLen || !protocol.ValidSessionID(c.RunID)) {
		errs = append(errs, fmt.Errorf("run ID %q: want 1-%d characters of [A-Za-z0-9_-]", c.RunID, MaxRunIDLen))
	}
	for _, h := range c.Headers {
		if !validHeaderName(h.Name) || strings.ContainsAny(h.Value, "\r\n") {
			errs = append(errs, fmt.Errorf("header %q: want `Name: value` with a token name and no line breaks", h.Name+": "+h.Value))
		}
	}
	if c.FinalStatus != 0 && (c.FinalStatus < 200 || c.FinalStatus > 399) {
		errs = append(errs, fmt.Errorf("final status %d: want a 2xx or 3xx status, or 0 for any", c.FinalStatus))
	}
	if c.FileURL != "" {
		u, err := url.Parse(strings.ReplaceAll(c.FileURL, "{name}", "x"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("file URL %q: want an http(s) URL with {name}", c.FileURL))
		} else if !strings.Contains(c.FileURL, "{name}") {
			errs = append(errs, fmt.Errorf("file URL %q: no {name} in it", c.FileURL))
		}
	}
	if c.SegmentSize < 0 {
		errs = append(errs, fmt.Errorf("segment size %d: want a positive size", c.SegmentSize))
	}
	return errors.Join(errs...)
}

// ParseHeader reads "Name: value" (as given to --header).
func ParseHeader(s string) (result.Header, error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok || !validHeaderName(name) {
		return result.Header{}, fmt.Errorf("parse header %q: want `Name: value`", s)
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n") {
		return result.Header{}, fmt.Errorf("parse header %q: line break in the value", s)
	}
	return result.Header{Name: name, Value: value}, nil
}

// validHeaderName reports whether s is a non-empty HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// IsLoopbackHost reports whether host (a name or an address, without port) is a loopback
// address: 127.0.0.0/8, ::1 or "localhost".
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client returns the raw client of the configuration: its target, extra headers, TLS
// configuration and request timeout.
func (c Config) Client() wire.Client {
	return wire.Client{Target: c.Target, Headers: c.Headers, TLS: c.TLS, Timeout: c.RequestTimeout}
}

// FileURLFor returns the file URL of a completed file named name, or "" when no template
// is configured.
func (c Config) FileURLFor(name string) string {
	if c.FileURL == "" {
		return ""
	}
	return strings.ReplaceAll(c.FileURL, "{name}", url.PathEscape(name))
}
