package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/bytesize"
	"github.com/upspec/upspec/internal/grade"
	"github.com/upspec/upspec/internal/webui"
	"github.com/upspec/upspec/reports"
)

const gradeUsage = `Usage: upspec grade [flags]

Grades an upload client: runs the grading mock (the reference server with a scripted fault
for each file), writes the files to upload, and prints where to upload them. Drive your client
(a page, a CLI) to upload every file; the grade ends when --uploads uploads have ended (the
final answer, or a 4xx that stops them), at --timeout, or on Ctrl-C. It then judges what the
client did against the client clauses (docs/client-clauses.md) and reports like upspec run.

Exit status: 0 every MUST clause held, 1 one failed, 2 usage or setup error (or no upload).

Examples:
  upspec grade                                  # files in a new temporary directory
  upspec grade --files ./grade-files --listen 127.0.0.1:8090 --html-report grade.html
  upspec grade --size 64K --uploads 10 --json-report grade.json --junit-report grade.xml

Flags:
`

// gradeConfig is the flags of upspec grade.
type gradeConfig struct {
	listen     string
	files      string
	size       string
	retryAfter int
	uploads    int
	timeout    time.Duration
	settle     time.Duration
	strict     bool
	verbose    bool
	noColor    bool
	jsonOut    string
	htmlOut    string
	junitOut   string
	mdOut      string
	cors       []string
}

func gradeMain(args []string, stdout, stderr io.Writer) int {
	var cfg gradeConfig
	fs := newFlagSet("upspec grade")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "`host:port` of the grading mock; port 0 picks a free one")
	fs.StringVar(&cfg.files, "files", "", "`directory` to write the files to upload into (default: a new temporary directory)")
	fs.StringVar(&cfg.size, "size", fmt.Sprint(grade.DefaultSize), "`size` of each file, e.g. 64K, 5MiB (at least 16 bytes)")
	fs.IntVar(&cfg.retryAfter, "retry-after", grade.DefaultRetryAfter, "Retry-After `seconds` of the scheduled 503")
	fs.IntVar(&cfg.uploads, "uploads", 0, "end the grade once `N` uploads have ended (default: every file of the schedule)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "end the grade after this `duration`")
	fs.DurationVar(&cfg.settle, "settle", 2*time.Second, "after the last upload ended, wait this `duration` for the client's late requests")
	fs.BoolVar(&cfg.strict, "strict", false, "a failed SHOULD clause fails the grade")
	fs.StringSliceVar(&cfg.cors, "cors", nil, "let pages of these `origins` (http://host:port, comma-separated or repeated; * for any) post segments")
	fs.BoolVarP(&cfg.verbose, "verbose", "v", false, "print one line per request the mock answers")
	fs.BoolVar(&cfg.noColor, "no-color", false, "no colours on the console")
	fs.StringVar(&cfg.jsonOut, "json-report", "", "write the JSON report to `file`")
	fs.StringVar(&cfg.htmlOut, "html-report", "", "write the HTML report to `file`")
	fs.StringVar(&cfg.junitOut, "junit-report", "", "write the JUnit XML report to `file`")
	fs.StringVar(&cfg.mdOut, "markdown-report", "", "write the Markdown summary to `file`")
	if code, done := parseFlags(fs, args, gradeUsage, stdout, stderr); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "upspec grade: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	size, err := bytesize.Parse(cfg.size)
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q: upspec grade takes only flags", fs.Arg(0))
	case err != nil || size < 16:
		return fail("invalid --size %q: give a size of at least 16 bytes, e.g. 64K or 5MiB", cfg.size)
	case cfg.retryAfter < 1 || cfg.retryAfter > 3600:
		return fail("invalid --retry-after %d: give 1 to 3600 seconds", cfg.retryAfter)
	case cfg.uploads < 0 || cfg.timeout <= 0 || cfg.settle < 0:
		return fail("--uploads, --timeout and --settle must be positive")
	}
	for _, o := range cfg.cors {
		if !validOrigin(o) {
			return fail("invalid --cors origin %q: give origins as a browser sends them, e.g. --cors http://localhost:3000, or --cors '*'", o)
		}
	}
	uploads := grade.Schedule(size, cfg.retryAfter)
	if cfg.uploads == 0 {
		cfg.uploads = len(uploads)
	}
	dir := cfg.files
	if dir == "" {
		if dir, err = os.MkdirTemp("", "upspec-grade-"); err != nil {
			return fail("make a directory for the files: %v", err)
		}
	}
	if _, err := grade.WriteFiles(dir, uploads); err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fail("%v", listenError(cfg.listen, err))
	}
	// The demo page at / drives the project's JavaScript client, so a browser can take part.
	so := fakeserver.Options{CORSOrigins: cfg.cors, Fallback: webui.Handler(webui.FS(), nil)}
	if cfg.verbose {
		so.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	g, err := grade.Start(grade.Options{Uploads: uploads, Listener: ln, Server: so})
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = g.Close() }()

	fmt.Fprintf(stdout, "upspec grade: upload to %s (demo page: %s/; journal: %s%sjournal)\n", g.UploadURL(), g.URL(), g.URL(), fakeserver.DefaultAdminPrefix)
	for _, l := range grade.Describe(uploads, dir) {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "the grade ends after %d uploads, at %v, or on Ctrl-C\n", cfg.uploads, cfg.timeout)

	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	why := fmt.Sprintf("%d uploads ended", cfg.uploads)
	if err := g.Wait(wctx, cfg.uploads); err != nil {
		why = "interrupted"
		if errors.Is(err, context.DeadlineExceeded) {
			why = fmt.Sprintf("--timeout %v", cfg.timeout)
		}
	} else if cfg.settle > 0 {
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
		}
	}
	stop()
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer fcancel()
	ev, err := g.Finish(fctx)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "\nupspec grade: ended (%s) after %s; %d of %d uploads ended\n\n", why, reports.FormatDuration(time.Since(start)), g.Ended(), cfg.uploads)

	results := grade.Judge(ev, cfg.strict)
	run := grade.Run(grade.Meta(g.UploadURL(), cfg.strict, start, time.Since(start)), ev, results)
	console := reports.NewConsole(stdout, cfg.noColor)
	for _, s := range run.Scenarios {
		console.ScenarioLine(s)
	}
	if s, ok := run.Scenario(string(grade.NoResendAcknowledged)); ok && len(s.Notes) > 0 {
		fmt.Fprintln(stdout, "\nefficiency of each upload:")
		for _, n := range s.Notes {
			fmt.Fprintln(stdout, "  "+n)
		}
	}
	status := exitOK
	if !run.Conforming() {
		status = exitNotConform
	}
	var written []string
	for _, out := range []struct {
		name, path string
		write      func(string, *reports.Run) error
	}{
		{"JSON", cfg.jsonOut, reports.WriteJSONFile},
		{"HTML", cfg.htmlOut, reports.WriteHTMLFile},
		{"JUnit", cfg.junitOut, reports.WriteJUnitFile},
		{"Markdown", cfg.mdOut, reports.WriteMarkdownFile},
	} {
		if out.path == "" {
			continue
		}
		if err := out.write(out.path, run); err != nil {
			fmt.Fprintf(stderr, "upspec grade: %s\n", oneLine(err.Error()))
			status = exitUsage
			continue
		}
		written = append(written, out.name+" "+out.path)
	}
	console.Summary(run)
	if len(written) > 0 {
		fmt.Fprintf(stdout, "reports: %s\n\n", strings.Join(written, ", "))
	}
	if len(sessionsSeen(ev)) == 0 {
		fmt.Fprintln(stderr, "upspec grade: no segment reached the mock: nothing to grade (upload the files to "+g.UploadURL()+")")
		status = exitUsage
	}
	console.ClosingLine(run)
	return status
}

// sessionsSeen returns the session IDs of the journal's segments.
func sessionsSeen(ev grade.Evidence) map[string]bool {
	ids := map[string]bool{}
	for _, e := range ev.Journal {
		if e.Session != "" && e.Start >= 0 {
			ids[e.Session] = true
		}
	}
	return ids
}
