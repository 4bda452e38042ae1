package suite

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/internal/bytesize"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	expectations "github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/scenarios/tus"
)

// Defaults of the suite flags.
const (
	DefaultRequestTimeout = scenarios.DefaultRequestTimeout
	DefaultSpecTimeout    = 60 * time.Second
	DefaultSegmentSize    = scenarios.DefaultSegmentSize
	// MaxRunIDLen keeps session IDs (`<run-id>-<scenario-id>-<n>`) well under 200 characters.
	MaxRunIDLen = scenarios.MaxRunIDLen
)

// Config holds every suite flag, as given on a command line. Register the flags with
// RegisterFlags and turn the values into a scenarios.Config with Resolve. The zero value is
// not useful: start from NewConfig, which sets the defaults.
type Config struct {
	Target         string        // segment endpoint URL; "" = the embedded reference server
	Protocol       string        // the protocol checked: "nginx" ("" too) or "tus" (protocol.go)
	Headers        []string      // extra request headers, each "Name: value"
	Insecure       bool          // skip TLS certificate verification
	CAFile         string        // PEM file of extra trusted CA certificates
	RequestTimeout time.Duration // bound on each exchange
	SpecTimeout    time.Duration // bound on each scenario
	SegmentSize    int64         // bytes per segment for scenarios that cut a file
	FinalStatus    int           // expected status of a completion; 0 = any 2xx/3xx
	FinalBody      string        // expected body of a completion; "" = any body
	FileURL        string        // URL template with {name} of a completed file; "" = none
	RunID          string        // prefix of every session ID; "" = a fresh one (see Resolve)
	Strict         bool          // a failed SHOULD check fails the run
	BackendListen  string        // host:port of the harness backend; "" = none against a target
	BackendURL     string        // base URL of a running `upspec backend` whose forms are read; "" = none
	Random         int           // random upload schedules to run (scenarios/schedule); 0 = none
	Seed           int64         // seed of the random schedules (and of the order under upspec run); 0 = Ginkgo's seed
	NoPreflight    bool          // skip the preflight segment (Preflight) before the scenarios
	Timeout        time.Duration // bound on the whole run; 0 = fitted to the selection (FitTimeout)
	Expect         string        // expected deviations: a file or a built-in list; "" = none
	JSONReport     string        // upspec's JSON report; "" = none
	HTMLReport     string        // the HTML report; "" = none
	MarkdownReport string        // the Markdown summary (appended to $GITHUB_STEP_SUMMARY); "" = none
	ReproDir       string        // where the reproducers of failed scenarios go; "" = none
}

// NewConfig returns a Config holding the defaults of every flag.
func NewConfig() *Config {
	return &Config{
		RequestTimeout: DefaultRequestTimeout,
		SpecTimeout:    DefaultSpecTimeout,
		SegmentSize:    DefaultSegmentSize,
	}
}

// RegisterFlags defines every suite flag on fs, bound to the fields of c. It is the one
// definition of the flags: `upspec run` calls it on its own flag set and the test binary copies
// the flags onto flag.CommandLine (a pflag.Value is a flag.Value). Call it once per flag set.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	before := map[string]bool{}
	for _, name := range flagNames(fs) {
		before[name] = true
	}
	fs.StringVar(&c.Target, "target", c.Target,
		"segment endpoint URL, e.g. http://127.0.0.1:8080/upload (default: the embedded reference server)")
	fs.StringVar(&c.Protocol, "protocol", c.Protocol,
		"the `protocol` checked: nginx (nginx-upload-module's resumable uploads, the default) or tus (tus 1.0; --target is the creation URL)")
	fs.StringArrayVar(&c.Headers, "header", c.Headers,
		"extra request header `\"Name: value\"` on every request, e.g. \"Authorization: Bearer x\" (repeatable)")
	fs.BoolVar(&c.Insecure, "insecure", c.Insecure, "skip verification of the target's TLS certificate")
	fs.StringVar(&c.CAFile, "ca-file", c.CAFile, "PEM `file` of CA certificates to trust for an https target")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "bound on each request and its answer")
	fs.DurationVar(&c.SpecTimeout, "spec-timeout", c.SpecTimeout, "bound on each scenario")
	fs.Var((*bytesize.Value)(&c.SegmentSize), "segment-size", "segment `size` for scenarios that cut a file into segments, e.g. 65536, 64k, 1MiB")
	fs.IntVar(&c.FinalStatus, "final-status", c.FinalStatus,
		"expected HTTP `status` of the backend's answer to a completing segment (0: any 2xx/3xx)")
	fs.StringVar(&c.FinalBody, "final-body", c.FinalBody,
		"expected body of the backend's answer to a completing segment (default: any body)")
	fs.StringVar(&c.FileURL, "file-url", c.FileURL,
		"URL `template` of a completed file with {name} for its name, e.g. http://host/files/{name}; the file's bytes are compared with what was sent")
	fs.StringVar(&c.RunID, "run-id", c.RunID,
		"prefix of every session `ID`, [A-Za-z0-9_-] (default: a fresh ID per run, time + random)")
	fs.BoolVar(&c.Strict, "strict", c.Strict, "a failed SHOULD check (NON-STRICT) fails the run")
	fs.StringVar(&c.BackendListen, "backend-listen", c.BackendListen,
		"start the harness backend on `ADDR` (host:port) and point the deployment's upload_pass at http://ADDR/: "+
			"it answers every completed file with 200 completed and keeps the form, so that the backend scenarios can check "+
			"its size and digests (default: none against a target; the embedded reference server uses one on a free port)")
	fs.StringVar(&c.BackendURL, "backend-url", c.BackendURL,
		"base `URL` of the running 'upspec backend' behind the deployment's upload_pass, e.g. http://127.0.0.1:4567: "+
			"the backend scenarios read the forms it kept (instead of --backend-listen)")
	fs.IntVar(&c.Random, "random", c.Random,
		"also run `N` random upload schedules (spec RANDOM, label random), a failing one shrunk to a minimal reproducer (default 0: none)")
	fs.Int64Var(&c.Seed, "seed", c.Seed,
		"seed of the random schedules (upspec run: also of the scenario order); the same seed replays the same schedules (default: Ginkgo's seed)")
	fs.BoolVar(&c.NoPreflight, "no-preflight", c.NoPreflight,
		"skip the preflight: one segment of a fresh session sent before any scenario, which turns a target that is no resumable upload endpoint into one setup error (exit status 2)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout,
		fmt.Sprintf("bound on the whole run; scenarios that have not started by then are counted as not run (default 0: --spec-timeout per selected scenario, at most %s, plus the time of --random)", MaxFittedTimeout))
	fs.StringVar(&c.Expect, "expect", c.Expect, "expected deviations: an expectations `FILE` or a built-in list ("+
		strings.Join(expectations.Builtin(), ", ")+"; with --protocol tus: "+strings.Join(tus.BuiltinExpectations(), ", ")+"); a listed scenario that fails is KNOWN and does not fail "+
		"the run, a listed scenario that passes is STALE and does")
	fs.StringVar(&c.JSONReport, "json-report", c.JSONReport, "write upspec's JSON report to `FILE` (schema version "+strconv.Itoa(reports.SchemaVersion)+"; 'upspec report' renders it again)")
	fs.StringVar(&c.MarkdownReport, "markdown-report", c.MarkdownReport, "write a Markdown summary to `FILE` (appended when FILE is $GITHUB_STEP_SUMMARY)")
	fs.StringVar(&c.HTMLReport, "html-report", c.HTMLReport, "write a self-contained HTML report to `FILE`")
	fs.StringVar(&c.ReproDir, "repro-dir", c.ReproDir,
		"write a reproducer (curl script) of every failed scenario into `DIR`, only when something failed; '' for none")
	for _, name := range flagNames(fs) {
		if before[name] {
			continue
		}
		_ = fs.SetAnnotation(name, envAnnotation, []string{EnvName(name)})
	}
}

// Resolve validates every field and returns the configuration of the scenarios. Errors are one
// line each and name the flag. An empty Target is valid and leaves the returned Target nil:
// the caller then starts the embedded reference server. An empty RunID is replaced by
// scenarios.NewRunID() in c itself, so that every later call (and every caller holding c) uses the same
// run ID.
func (c *Config) Resolve() (scenarios.Config, error) {
	var sc scenarios.Config
	if err := c.checkProtocol(); err != nil {
		return sc, err
	}
	if c.Target != "" {
		u, err := ParseTarget(c.Target)
		if err != nil {
			return sc, err
		}
		sc.Target = u
		sc.Loopback = scenarios.IsLoopbackHost(u.Hostname())
	}
	for _, h := range c.Headers {
		hd, err := parseHeader(h)
		if err != nil {
			return sc, err
		}
		sc.Headers = append(sc.Headers, hd)
	}
	tlsConf, err := c.tlsConfig(sc.Target)
	if err != nil {
		return sc, err
	}
	sc.TLS = tlsConf
	if c.RequestTimeout <= 0 {
		return sc, fmt.Errorf("--request-timeout %s: must be positive", c.RequestTimeout)
	}
	if c.SpecTimeout <= 0 {
		return sc, fmt.Errorf("--spec-timeout %s: must be positive", c.SpecTimeout)
	}
	if c.SpecTimeout < c.RequestTimeout {
		return sc, fmt.Errorf("--spec-timeout %s is shorter than --request-timeout %s: a scenario makes several requests", c.SpecTimeout, c.RequestTimeout)
	}
	sc.RequestTimeout = c.RequestTimeout
	if c.SegmentSize <= 0 {
		return sc, fmt.Errorf("--segment-size %d: must be a positive number of bytes", c.SegmentSize)
	}
	sc.SegmentSize = c.SegmentSize
	if c.FinalStatus != 0 && (c.FinalStatus < 200 || c.FinalStatus > 399) {
		return sc, fmt.Errorf("--final-status %d: want a 2xx or 3xx status, or 0 for any", c.FinalStatus)
	}
	sc.FinalStatus = c.FinalStatus
	sc.FinalBody = c.FinalBody
	if c.FileURL != "" {
		if err := checkFileURL(c.FileURL); err != nil {
			return sc, err
		}
	}
	sc.FileURL = c.FileURL
	if c.RunID == "" {
		c.RunID = scenarios.NewRunID()
	}
	if err := checkRunID(c.RunID); err != nil {
		return sc, err
	}
	sc.RunID = c.RunID
	sc.Strict = c.Strict
	if c.Random < 0 {
		return sc, fmt.Errorf("--random %d: want a number of schedules, 0 for none", c.Random)
	}
	if c.BackendListen != "" {
		if err := checkListenAddr(c.BackendListen); err != nil {
			return sc, err
		}
	}
	if c.BackendURL != "" {
		if c.BackendListen != "" {
			return sc, fmt.Errorf("--backend-url and --backend-listen: give one (a running backend, or one started by the run)")
		}
		if u, err := url.Parse(c.BackendURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return sc, fmt.Errorf("--backend-url %q: want the backend's base URL, e.g. http://127.0.0.1:4567", c.BackendURL)
		}
	}
	if c.Timeout < 0 {
		return sc, fmt.Errorf("--timeout %s: must be positive, or 0 for a bound fitted to the selection", c.Timeout)
	}
	if err := c.checkOutputs(); err != nil {
		return sc, err
	}
	sc = sc.WithDefaults()
	if sc.Target != nil {
		if err := sc.Validate(); err != nil {
			return sc, fmt.Errorf("configuration: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
	}
	return sc, nil
}

// ParseTarget parses a target URL: http or https, a host, an optional port and path. A missing
// path means "/".
func ParseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--target %q: malformed URL: %w", raw, unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--target %q: want an http:// or https:// URL", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("--target %q: the URL has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("--target %q: port %q is not a number in 1-65535", raw, p)
		}
	}
	if u.User != nil {
		return nil, fmt.Errorf("--target %q: credentials in the URL are not sent; use --header \"Authorization: ...\"", raw)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("--target %q: a URL fragment (#...) has no meaning here", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseHeader reads a --header value, "Name: value".
func parseHeader(h string) (result.Header, error) {
	hd, err := scenarios.ParseHeader(strings.TrimLeft(h, " \t"))
	if err != nil || strings.ContainsRune(hd.Value, 0) {
		return result.Header{}, fmt.Errorf("--header %q: want \"Name: value\" with a token name and no line break in the value", h)
	}
	return hd, nil
}

// tlsConfig builds the TLS configuration for an https target (also returned for http targets,
// where it is unused).
func (c *Config) tlsConfig(target *url.URL) (*tls.Config, error) {
	// InsecureSkipVerify only when the user asked for it with --insecure.
	conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.Insecure}
	if target != nil {
		conf.ServerName = target.Hostname()
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: cannot read %s: %w", c.CAFile, unwrapPathError(err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file: %s holds no PEM certificate", c.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// unwrapPathError drops the *fs.PathError wrapper, whose text repeats the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func checkFileURL(tmpl string) error {
	if !strings.Contains(tmpl, "{name}") {
		return fmt.Errorf("--file-url %q: the template has no {name}", tmpl)
	}
	u, err := url.Parse(strings.ReplaceAll(tmpl, "{name}", "x"))
	if err != nil {
		return fmt.Errorf("--file-url %q: malformed URL: %w", tmpl, unwrapURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--file-url %q: want an http:// or https:// URL with a host", tmpl)
	}
	return nil
}

// checkListenAddr checks a --backend-listen address: host:port, the port a number in 0-65535
// (0 picks a free one), the host empty (every address), an IP address or a name.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--backend-listen %q: want host:port, e.g. 127.0.0.1:9000", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--backend-listen %q: port %q is not a number in 0-65535", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("--backend-listen %q: %q is not a host name or address", addr, host)
	}
	return nil
}

func checkRunID(id string) error {
	if len(id) > MaxRunIDLen {
		return fmt.Errorf("--run-id %q: longer than %d characters", id, MaxRunIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("--run-id %q: only letters, digits, '_' and '-' are allowed", id)
		}
	}
	return nil
}

// checkOutputs checks the report paths: each in a directory that exists and not itself a
// directory; the reproducer directory not a file.
func (c *Config) checkOutputs() error {
	for _, out := range []struct{ flag, path string }{{"--json-report", c.JSONReport}, {"--markdown-report", c.MarkdownReport},
		{"--html-report", c.HTMLReport}} {
		if err := CheckOutputPath(out.flag, out.path); err != nil {
			return err
		}
	}
	if c.ReproDir != "" {
		if fi, err := os.Stat(c.ReproDir); err == nil && !fi.IsDir() {
			return fmt.Errorf("--repro-dir %s: not a directory; choose another path, or --repro-dir '' for no reproducers", c.ReproDir)
		}
	}
	return nil
}

// CheckOutputPath checks the path of a report file given to flag: "" (none), or a file name
// in a directory that exists.
func CheckOutputPath(flag, path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s %s: the directory %s does not exist; create it or choose another path", flag, path, filepath.Dir(path))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s %s: is a directory; give a file name", flag, path)
	}
	return nil
}
