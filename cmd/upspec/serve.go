package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/bytesize"
	"github.com/upspec/upspec/internal/webui"
	"github.com/upspec/upspec/ranges"
)

// serveShutdownGrace bounds how long a SIGINT/SIGTERM waits for requests in flight. The
// server's own timeouts and limits are fakeserver.Server's.
const serveShutdownGrace = 5 * time.Second

// serveConfig holds the parsed flags of `upspec serve`.
type serveConfig struct {
	listen         string
	path           string
	dataDir        string
	fsync          bool
	uploadPass     string
	maxFileSize    bytesize.Value
	maxSegmentSize bytesize.Value
	rangeFormat    rangeFormatFlag
	completionTTL  time.Duration
	minBodyRate    rateFlag
	maxSessions    int
	sessionTTL     time.Duration
	verbose        bool
	static         string     // --static: the page's directory instead of the embedded demo
	noUI           bool       // --no-ui: no page at /
	cors           []string   // --cors: origins allowed cross-origin
	quirks         quirkFlags // --profile, --quirk, --no-quirk, --list-quirks (serve_quirks.go)
	profileName    string     // the profile (or quirk set) resolved from quirks
	mock           mockFlags  // --fault, --admin-prefix, --journal-entries (serve_faults.go)
	protocol       string     // --protocol: nginx (segments) or tus (serve_tus.go)
}

// serveUsageError is a usage or setup problem: printed as one line, exit status 2.
type serveUsageError struct {
	what string // what is wrong
	fix  string // what to do
}

func (e *serveUsageError) Error() string { return e.what + "; " + e.fix }

func serveUsagef(fix, format string, args ...any) *serveUsageError {
	return &serveUsageError{what: fmt.Sprintf(format, args...), fix: fix}
}

const serveHelpHint = "run 'upspec serve --help' for the flags"

// newServeFlagSet registers the flags of `upspec serve` on a new flag set. Flags that select
// deviations of the real module (profiles and quirks) are registered beside these by their own
// function, so that the two groups stay apart.
func newServeFlagSet(cfg *serveConfig) *pflag.FlagSet {
	fs := pflag.NewFlagSet("upspec serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false

	cfg.rangeFormat = rangeFormatFlag(ranges.FormatModule)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "`host:port` to listen on; port 0 picks a free one (the first line of output names it)")
	fs.StringVar(&cfg.path, "path", fakeserver.DefaultPath, "URL `path` of the segment endpoint")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "keep sessions and completed files in this `directory` (created if missing) so that they survive restarts; default: in memory")
	fs.BoolVar(&cfg.fsync, "fsync", false, "fsync data and state before every 201 (power-loss safe; needs --data-dir)")
	fs.StringVar(&cfg.uploadPass, "upload-pass", "", "hand each completed file to the backend at `URL` as the module's multipart form; default: the built-in backend (200 completed, files at /file/<name>)")
	fs.Var(&cfg.maxFileSize, "max-file-size", "largest total a session may announce, e.g. 10M, 1GiB (0 = no limit; larger → 413)")
	fs.Var(&cfg.maxSegmentSize, "max-segment-size", "largest segment, e.g. 1MiB (0 = no limit; larger → 413)")
	fs.Var(&cfg.rangeFormat, "range-format", "range list form in 201 answers: module (0-5/24,9-15/24) or compact (0-5,9-15/24)")
	fs.DurationVar(&cfg.completionTTL, "completion-ttl", fakeserver.DefaultCompletionTTL, "how long a retry after completion gets the completion answer again")
	cfg.minBodyRate = fakeserver.DefaultMinBodyRate
	fs.Var(&cfg.minBodyRate, "min-body-rate", "slowest average `rate` of a segment's body, e.g. 1KiB/s; a slower one is cut off (408) after max(30s, its length at this rate) and nothing of it is kept (0 = no whole-segment limit)")
	fs.IntVar(&cfg.maxSessions, "max-sessions", 0, "most incomplete sessions at once; past it a new session gets 503 with Retry-After (0 = no limit)")
	fs.DurationVar(&cfg.sessionTTL, "session-ttl", 0, "remove incomplete sessions untouched for this `duration`, data and state, e.g. 24h (0 = keep them)")
	fs.BoolVarP(&cfg.verbose, "verbose", "v", false, "log one line per request on stderr: method, path, session, range, status, bytes, duration, the reason of a refusal, the fault that fired, what shaped the answer")
	fs.StringVar(&cfg.static, "static", "", "serve the files of this `directory` at / instead of the embedded demo page")
	fs.BoolVar(&cfg.noUI, "no-ui", false, "serve no page at / (only the segment endpoint and the files)")
	fs.StringSliceVar(&cfg.cors, "cors", nil, "let pages of these `origins` (http://host:port, comma-separated or repeated; * for any) post segments: answer preflights, add Access-Control-* headers")
	registerQuirkFlags(fs, &cfg.quirks)
	registerMockFlags(fs, &cfg.mock)
	fs.StringVar(&cfg.protocol, "protocol", protocolNginx, "`protocol` to serve: nginx (nginx-upload-module's segments) or tus (tus 1.0.0 at --path, default "+tusDefaultPath+")")
	return fs
}

func serveUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `Usage: upspec serve [flags]

Run the reference server of the resumable-upload protocol of nginx-upload-module: segments are
POSTed to --path; 201 answers list the ranges received so far; the segment that completes a
file is handed to the backend (built in, or --upload-pass).

Flags:
`)
	fmt.Fprint(w, fs.FlagUsagesWrapped(100))
	fmt.Fprint(w, `
Sizes take the suffixes K, M, G, T or KiB, MiB, GiB, TiB (powers of 1024), KB, MB, GB, TB
(powers of 1000) or none (bytes).

Examples:
  upspec serve                                   # memory store on http://127.0.0.1:8080/upload
  upspec serve --listen 127.0.0.1:0 -v           # a free port, one log line per request
  upspec serve --data-dir /tmp/uploads --fsync   # sessions survive restarts and power loss
  upspec serve --upload-pass http://127.0.0.1:9000/done --max-file-size 1GiB
  upspec serve --range-format compact --max-segment-size 10M
  upspec serve --cors http://localhost:3000      # a page of another origin posts segments
  upspec serve --static ./my-page                # your own page at / against the mock
  upspec serve --profile nginx-upload-module     # the real module, bugs included (see --list-quirks)
  upspec serve --profile nginx-upload-module --no-quirk drop-on-malformed --quirk cleanup-on-disconnect
  upspec serve -v --fault status=503,retry-after=2,times=2 --fault lost-reply,match=last
  upspec serve --fault reset-after=256K,plan=flaky   # only for requests with Upspec-Fault-Plan: flaky
  curl http://127.0.0.1:8080/_upspec/journal     # what the server saw (also sessions, files, faults)

  curl -i -X POST http://127.0.0.1:8080/upload -H 'Content-Type: application/octet-stream' \
       -H 'Content-Disposition: attachment; filename="a.txt"' -H 'Session-ID: s1' \
       -H 'X-Content-Range: bytes 0-5/24' --data-binary 'abcdef'

Exit status: 0 after SIGINT or SIGTERM, 2 for a bad flag or a setup error (e.g. port in use).
`)
}

func serveMain(args []string, stdout, stderr io.Writer) int {
	var cfg serveConfig
	fs := newServeFlagSet(&cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			serveUsage(stdout, fs)
			return exitOK
		}
		return serveFail(stderr, &serveUsageError{what: oneLine(err.Error()), fix: serveHelpHint})
	}
	if cfg.quirks.list {
		listQuirks(stdout)
		return exitOK
	}
	if err := cfg.validate(fs); err != nil {
		return serveFail(stderr, err)
	}
	switch cfg.protocol {
	case protocolNginx:
	case protocolTus:
		return serveTus(&cfg, fs, stdout, stderr)
	default:
		return serveFail(stderr, serveUsagef("give --protocol nginx or --protocol tus", "unknown --protocol %q", cfg.protocol))
	}
	opts, err := cfg.options(stderr)
	if err != nil {
		return serveFail(stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The server closes the store (the data directory: every commit is already on disk).
	srv := fakeserver.NewUnstartedServer(opts)
	defer func() { _ = srv.Close() }()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return serveFail(stderr, listenError(cfg.listen, err))
	}
	srv.Listener = ln
	if err := srv.Start(); err != nil {
		return serveFail(stderr, err)
	}
	fmt.Fprintf(stdout, "upspec serve: listening on %s%s (storage: %s; backend: %s; profile: %s)\n",
		srv.URL, cfg.path, cfg.storageText(), cfg.backendText(srv.URL), cfg.profileName)
	if page := cfg.pageText(); page != "" {
		fmt.Fprintf(stdout, "upspec serve: %s at %s/\n", page, srv.URL)
	}
	fmt.Fprintf(stdout, "upspec serve: %s\n", cfg.mock.text(srv.URL))

	select {
	case <-srv.Done():
		// The server stops on its own only on a failure of the listener.
		fmt.Fprintf(stderr, "upspec serve: %v; restart the server\n", oneLine(fmt.Sprint(srv.Err())))
		return exitUsage
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way
	fmt.Fprintln(stderr, "upspec serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "upspec serve: requests still running after %v were cut off\n", serveShutdownGrace)
		_ = srv.Close()
	}
	return exitOK
}

func serveFail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "upspec serve: %s\n", oneLine(err.Error()))
	return exitUsage
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func (c *serveConfig) validate(fs *pflag.FlagSet) error {
	if fs.NArg() > 0 {
		return serveUsagef("upspec serve takes only flags; "+serveHelpHint, "unexpected argument %q", fs.Arg(0))
	}
	if host, port, err := net.SplitHostPort(c.listen); err != nil {
		return serveUsagef("give host:port, e.g. --listen 127.0.0.1:8080 (or :8080 for every interface)",
			"invalid --listen %q", c.listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return serveUsagef("give a port number from 0 to 65535, e.g. --listen 127.0.0.1:8080",
			"invalid port %q in --listen %q", port, c.listen)
	} else if strings.ContainsAny(host, " /") {
		return serveUsagef("give host:port, e.g. --listen 127.0.0.1:8080", "invalid host %q in --listen", host)
	}
	if !strings.HasPrefix(c.path, "/") || strings.ContainsAny(c.path, " ?#") {
		return serveUsagef("give an absolute URL path without query, e.g. --path /upload", "invalid --path %q", c.path)
	}
	if strings.HasPrefix(c.path, fakeserver.DefaultFilePrefix) {
		return serveUsagef("choose a path outside "+fakeserver.DefaultFilePrefix+", e.g. --path /upload",
			"invalid --path %q: the built-in backend serves files under %s", c.path, fakeserver.DefaultFilePrefix)
	}
	if c.fsync && c.dataDir == "" {
		return serveUsagef("add --data-dir DIR (the memory store has nothing to sync)", "--fsync needs --data-dir")
	}
	if fs.Changed("data-dir") && c.dataDir == "" {
		return serveUsagef("give a directory, e.g. --data-dir /tmp/uploads, or leave the flag out for the memory store", "--data-dir is empty")
	}
	if c.uploadPass != "" {
		u, err := url.Parse(c.uploadPass)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return serveUsagef("give an http:// or https:// URL, e.g. --upload-pass http://127.0.0.1:9000/done",
				"invalid --upload-pass %q", c.uploadPass)
		}
	}
	if c.noUI && c.static != "" {
		return serveUsagef("give one of them", "--static and --no-ui exclude each other")
	}
	if c.static != "" {
		if st, err := os.Stat(c.static); err != nil || !st.IsDir() {
			return serveUsagef("give an existing directory, e.g. --static ./public", "--static %q is not a directory", c.static)
		}
	}
	for _, o := range c.cors {
		if !validOrigin(o) {
			return serveUsagef("give origins as a browser sends them, e.g. --cors http://localhost:3000,https://app.example, or --cors '*'",
				"invalid --cors origin %q", o)
		}
	}
	if c.completionTTL <= 0 {
		return serveUsagef("give a positive duration, e.g. --completion-ttl 10m", "invalid --completion-ttl %v", c.completionTTL)
	}
	if c.maxSessions < 0 {
		return serveUsagef("give a number of sessions, e.g. --max-sessions 10000 (0 = no limit)", "invalid --max-sessions %d", c.maxSessions)
	}
	if c.sessionTTL < 0 {
		return serveUsagef("give a positive duration, e.g. --session-ttl 24h (0 = keep them)", "invalid --session-ttl %v", c.sessionTTL)
	}
	return nil
}

// options builds the server options; it opens the data directory.
func (c *serveConfig) options(stderr io.Writer) (fakeserver.Options, error) {
	opts := fakeserver.Options{
		Path:           c.path,
		UploadPass:     c.uploadPass,
		MaxFileSize:    int64(c.maxFileSize),
		MaxSegmentSize: int64(c.maxSegmentSize),
		RangeFormat:    ranges.Format(c.rangeFormat),
		CompletionTTL:  c.completionTTL,
		MinBodyRate:    c.minBodyRate.option(),
		MaxSessions:    c.maxSessions,
		SessionTTL:     c.sessionTTL,
		CORSOrigins:    c.cors,
		Fallback:       c.page(),
	}
	quirks, name, err := c.quirks.resolve()
	if err != nil {
		return opts, err
	}
	opts.Quirks, c.profileName = quirks, name
	if err := c.mock.apply(&opts, c.path); err != nil {
		return opts, err
	}
	if c.dataDir != "" {
		st, err := fakeserver.NewDirStore(c.dataDir, c.fsync)
		if err != nil {
			return opts, serveUsagef("check that the directory can be created and written, or choose another --data-dir",
				"cannot use data directory %q: %v", c.dataDir, err)
		}
		opts.Store = st
	}
	if c.verbose {
		opts.Logf = newLineLogger(stderr)
	}
	return opts, nil
}

// page is what upspec serve answers for the paths that the reference server does not use: the
// embedded demo page, the files of --static, or nil (404) with --no-ui. A path that names no
// file is a 404.
func (c *serveConfig) page() http.Handler {
	switch {
	case c.noUI:
		return nil
	case c.static != "":
		return webui.Handler(os.DirFS(c.static), nil)
	default:
		return webui.Handler(webui.FS(), nil)
	}
}

// validOrigin reports whether o is "*" or an origin: http(s)://host[:port], nothing after.
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(strings.TrimSuffix(o, "/"))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

func (c *serveConfig) pageText() string {
	switch {
	case c.noUI:
		return ""
	case c.static != "":
		return "the files of " + c.static
	default:
		return "demo page"
	}
}

func (c *serveConfig) storageText() string {
	switch {
	case c.dataDir == "":
		return "memory"
	case c.fsync:
		return "directory " + c.dataDir + ", fsync"
	default:
		return "directory " + c.dataDir
	}
}

func (c *serveConfig) backendText(base string) string {
	if c.uploadPass != "" {
		return "upload-pass " + c.uploadPass
	}
	return "built-in, files at " + base + fakeserver.DefaultFilePrefix
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return serveUsagef("stop the process that holds it or choose another port with --listen",
			"cannot listen on %s: address already in use", addr)
	case errors.Is(err, syscall.EACCES):
		return serveUsagef("choose a port above 1023 with --listen, e.g. 127.0.0.1:8080",
			"cannot listen on %s: permission denied", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return serveUsagef("give an address of this machine with --listen, e.g. 127.0.0.1:8080",
			"cannot listen on %s: address not available", addr)
	default:
		return serveUsagef("check --listen (host:port, e.g. 127.0.0.1:8080)", "cannot listen on %s: %v", addr, err)
	}
}

// newLineLogger returns a Logf that writes one time-stamped line per call; it is safe for
// concurrent use.
func newLineLogger(w io.Writer) func(format string, args ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		line := time.Now().Format("15:04:05.000") + " " + strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.WriteString(w, line)
	}
}

// byteSizeFlag is the flag value of a size (bytesize.Value) under the name the commands use.
type byteSizeFlag = bytesize.Value

// rateFlag is a pflag.Value for a rate in bytes per second, written as a size with an optional
// "/s": 1KiB/s, 1024, 10M/s. 0 means no limit.
type rateFlag int64

func (f *rateFlag) String() string { return strconv.FormatInt(int64(*f), 10) + "/s" }

// Type names the value kind in the flag usage.
func (f *rateFlag) Type() string { return "rate" }

// Set parses a rate.
func (f *rateFlag) Set(s string) error {
	n, err := bytesize.Parse(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
	if err != nil {
		return fmt.Errorf("rate %q: %w", s, err)
	}
	*f = rateFlag(n)
	return nil
}

// option returns the rate as fakeserver.Options.MinBodyRate: 0 (no limit) is a negative rate
// there, where 0 selects the default.
func (f rateFlag) option() int64 {
	if f == 0 {
		return -1
	}
	return int64(f)
}

// rangeFormatFlag is a pflag.Value for --range-format.
type rangeFormatFlag ranges.Format

func (f *rangeFormatFlag) String() string { return ranges.Format(*f).String() }

// Type names the value kind in the flag usage.
func (f *rangeFormatFlag) Type() string { return "module|compact" }

// Set parses "module" or "compact".
func (f *rangeFormatFlag) Set(s string) error {
	v, err := ranges.ParseFormat(s)
	if err != nil {
		return fmt.Errorf("want module or compact, not %q", s)
	}
	*f = rangeFormatFlag(v)
	return nil
}
