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
	"github.com/upspec/upspec/fakeserver/tus"
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
With --protocol tus the client is a tus 1.0.0 client: the grading mock is the reference tus
server, the URL printed is the creation URL, and the clauses are the tus client clauses.

Exit status: 0 every MUST clause held, 1 one failed, 2 usage or setup error (or no upload).

Examples:
  upspec grade                                  # files in a new temporary directory
  upspec grade --files ./grade-files --listen 127.0.0.1:8090 --html-report grade.html
  upspec grade --size 64K --uploads 10 --json-report grade.json --junit-report grade.xml
  upspec grade --protocol tus --files ./grade-files --listen 127.0.0.1:1080

Flags:
`

// gradeConfig is the flags of upspec grade.
type gradeConfig struct {
	protocol   string
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
	fs.StringVar(&cfg.protocol, "protocol", protocolNginx, "`protocol` of the client: nginx (segments to /upload) or tus (tus 1.0.0 uploads created at "+tusDefaultPath+")")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "`host:port` of the grading mock; port 0 picks a free one")
	fs.StringVar(&cfg.files, "files", "", "`directory` to write the files to upload into (default: a new temporary directory)")
	fs.StringVar(&cfg.size, "size", fmt.Sprint(grade.DefaultSize), "`size` of each file, e.g. 64K, 5MiB (at least 16 bytes)")
	fs.IntVar(&cfg.retryAfter, "retry-after", grade.DefaultRetryAfter, "Retry-After `seconds` of the scheduled 503")
	fs.IntVar(&cfg.uploads, "uploads", 0, "end the grade once `N` uploads have ended (default: every file of the schedule)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "end the grade after this `duration`")
	fs.DurationVar(&cfg.settle, "settle", 2*time.Second, "after the last upload ended, wait this `duration` for the client's late requests")
	fs.BoolVar(&cfg.strict, "strict", false, "a failed SHOULD clause fails the grade")
	fs.StringSliceVar(&cfg.cors, "cors", nil, "let pages of these `origins` (http://host:port, comma-separated or repeated; * for any) upload to the mock")
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
	case cfg.protocol != protocolNginx && cfg.protocol != protocolTus:
		return fail("unknown --protocol %q: give --protocol nginx or --protocol tus", cfg.protocol)
	}
	for _, o := range cfg.cors {
		if !validOrigin(o) {
			return fail("invalid --cors origin %q: give origins as a browser sends them, e.g. --cors http://localhost:3000, or --cors '*'", o)
		}
	}
	uploads := grade.Schedule(size, cfg.retryAfter)
	if cfg.protocol == protocolTus {
		uploads = grade.TusSchedule(size, cfg.retryAfter)
	}
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
	var logf func(format string, a ...any)
	if cfg.verbose {
		logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	p, err := startGrading(cfg, uploads, ln, logf)
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = p.mock.Close() }()

	fmt.Fprintf(stdout, "upspec grade: upload to %s (%sdemo page: %s/; journal: %s%sjournal)\n", p.endpoint, p.what, p.base, p.base, fakeserver.DefaultAdminPrefix)
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
	for {
		if err := p.mock.Wait(wctx, cfg.uploads); err != nil {
			why = "interrupted"
			if errors.Is(err, context.DeadlineExceeded) {
				why = fmt.Sprintf("--timeout %v", cfg.timeout)
			}
			break
		}
		if cfg.settle == 0 {
			break
		}
		select {
		case <-time.After(cfg.settle):
		case <-wctx.Done():
		}
		// A file whose upload was lost may have got a new one meanwhile: wait for it.
		if p.mock.Ended() >= cfg.uploads || wctx.Err() != nil {
			break
		}
	}
	stop()
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer fcancel()
	ev, err := p.mock.Finish(fctx)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "\nupspec grade: ended (%s) after %s; %d of %d uploads ended\n\n", why, reports.FormatDuration(time.Since(start)), p.mock.Ended(), cfg.uploads)

	results := p.judge(ev, cfg.strict)
	run := p.report(grade.Meta(p.endpoint, cfg.strict, start, time.Since(start)), ev, results)
	console := reports.NewConsole(stdout, cfg.noColor)
	for _, s := range run.Scenarios {
		console.ScenarioLine(s)
	}
	if s, ok := run.Scenario(string(p.efficiency)); ok && len(s.Notes) > 0 {
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
	if len(sessionsSeen(ev, p.uploadsOnly)) == 0 {
		fmt.Fprintf(stderr, "upspec grade: no %s reached the mock: nothing to grade (upload the files to %s)\n", p.unit, p.endpoint)
		status = exitUsage
	}
	console.ClosingLine(run)
	return status
}

// sessionsSeen returns the session IDs of the journal's segments; uploadsOnly: the IDs of
// every request of a tus upload.
func sessionsSeen(ev grade.Evidence, uploadsOnly bool) map[string]bool {
	ids := map[string]bool{}
	for _, e := range ev.Journal {
		if e.Session != "" && (e.Start >= 0 || uploadsOnly) {
			ids[e.Session] = true
		}
	}
	return ids
}

// gradingMock is the running grading mock of either protocol (grade.Grader, grade.TusGrader).
type gradingMock interface {
	Wait(ctx context.Context, n int) error
	Ended() int
	Finish(ctx context.Context) (grade.Evidence, error)
	Close() error
}

// grading is a grade of one protocol's client: its mock, where the client uploads, and how
// its evidence is judged and reported.
type grading struct {
	mock        gradingMock
	base        string // http://HOST:PORT
	endpoint    string // the segment endpoint or the creation URL
	what        string // words on the endpoint for the first line
	unit        string // what reaches the mock: "segment" or "upload"
	uploadsOnly bool   // sessionsSeen's
	judge       func(grade.Evidence, bool) []grade.Result
	report      func(reports.Meta, grade.Evidence, []grade.Result) *reports.Run
	efficiency  grade.ID // the clause whose notes are the efficiency of each upload
}

// startGrading starts the grading mock of cfg.protocol on ln. The demo page at / drives the
// project's JavaScript client, so that a browser can take part.
func startGrading(cfg gradeConfig, uploads []grade.Upload, ln net.Listener, logf func(string, ...any)) (*grading, error) {
	page := webui.Handler(webui.FS(), nil)
	if cfg.protocol == protocolTus {
		so := tus.Options{CORSOrigins: cfg.cors, Logf: logf,
			Fallback: withPageConfig(page, pageConfig{Protocol: protocolTus, Endpoint: tusDefaultPath})}
		g, err := grade.StartTus(grade.TusOptions{Uploads: uploads, Listener: ln, Server: so})
		if err != nil {
			return nil, err
		}
		return &grading{mock: g, base: g.URL(), endpoint: g.CreationURL(), what: "the tus " + tus.Version + " creation URL; ",
			unit: "upload", uploadsOnly: true, judge: grade.JudgeTus, report: grade.TusRun, efficiency: grade.TusNoResendAcknowledged}, nil
	}
	so := fakeserver.Options{CORSOrigins: cfg.cors, Fallback: page, Logf: logf}
	g, err := grade.Start(grade.Options{Uploads: uploads, Listener: ln, Server: so})
	if err != nil {
		return nil, err
	}
	return &grading{mock: g, base: g.URL(), endpoint: g.UploadURL(), unit: "segment",
		judge: grade.Judge, report: grade.Run, efficiency: grade.NoResendAcknowledged}, nil
}
