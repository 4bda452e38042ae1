package reports

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// ReproducerName is the file name of the reproducer of a scenario: repro-<ID>.sh.
func ReproducerName(scenarioID string) string {
	return "repro-" + anchor("", scenarioID) + ".sh"
}

// WriteReproducers writes a reproducer (see Reproducer) for every failing and NON-STRICT
// scenario of the run into dir (created if needed), sets each scenario's Reproducer field to
// the script's path, and returns the paths. Write them before the reports, so that the
// reports name them.
func WriteReproducers(dir string, run *Run) ([]string, error) {
	problems := run.Problems()
	if len(problems) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write reproducers: %w", err)
	}
	var paths []string
	for _, s := range problems {
		p := filepath.Join(dir, ReproducerName(s.ID))
		if err := os.WriteFile(p, []byte(Reproducer(run, s)), 0o755); err != nil {
			return paths, fmt.Errorf("write reproducer of %s: %w", s.ID, err)
		}
		s.Reproducer = p
		paths = append(paths, p)
	}
	return paths, nil
}

// Reproducer returns a POSIX shell script that replays the scenario's requests with curl:
// the exact headers (curl's own Accept, User-Agent, Content-Type, Expect and
// Transfer-Encoding suppressed), the exact body bytes made inside the script from the test
// pattern, session IDs of the same scheme under a fresh run ID (RUN, so the script can be
// re-run), and before each command a comment and an echo saying what the answer should be
// (the clause) and what the target answered in the run. The target can be changed with the
// TARGET environment variable (scheme://host:port).
func Reproducer(run *Run, s *Scenario) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	runID := reproRunID(run, s)
	base := reproBase(run, s)

	p("#!/bin/sh\n")
	p("# upspec reproducer of %s: %s\n", s.ID, commentText(s.Title))
	p("# %s in run %s against %s", s.Verdict, commentText(orDash(run.Meta.RunID)), commentText(orDash(run.Meta.Target)))
	if !run.Meta.Start.IsZero() {
		p(" (%s)", run.Meta.Start.UTC().Format(time.RFC3339))
	}
	p("\n#\n")
	if len(s.Findings) > 0 {
		p("# What failed:\n")
		for _, f := range s.Findings {
			p("#   %s (%s): %s\n", commentText(orDash(f.Clause)), commentText(orDash(f.Level.String())), commentText(f.Requirement))
			if f.Expected != "" || f.Got != "" {
				p("#     expected: %s\n#     got:      %s\n", commentText(f.Expected), commentText(f.Got))
			}
			if f.Detail != "" {
				p("#     %s\n", commentText(f.Detail))
			}
			if f.Step != "" {
				p("#     at step: %s\n", commentText(f.Step))
			}
		}
		p("#\n")
	}
	p("# Run:   sh %s              (curl needed)\n", ReproducerName(s.ID))
	p("# TARGET is the server (scheme://host:port); RUN prefixes the session IDs and is new on every\n")
	p("# run, so the script can be run again. Each answer is printed after the line saying what\n")
	p("# it should be.\n")
	p("set -u\n\n")
	p("TARGET=${TARGET:-%s}\n", shQuote(base))
	p("RUN=${RUN:-repro-$(date +%%s)}\n")
	p("ALPHABET=%s\n\n", scenarios.Alphabet)
	p("# body OFFSET SEED LEN: LEN bytes of the test file with pattern SEED, from file offset OFFSET\n")
	p("# (byte i of the file is ALPHABET[(i+SEED) mod 62]).\n")
	p("body() {\n")
	p("  yes \"$ALPHABET\" 2>/dev/null | tr -d '\\n' | tail -c +$(( (($1 + $2) %% 62 + 62) %% 62 + 1 )) | head -c \"$3\"\n")
	p("}\n")
	if len(s.Exchanges) == 0 {
		p("\necho 'the run recorded no exchange for this scenario: nothing to replay'\n")
		return b.String()
	}
	// Replay in the order the requests started: the run records them in the order their
	// answers came, so a request held mid-body comes after the one sent while it waited.
	xs := slices.Clone(s.Exchanges)
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].Start.Before(xs[j].Start) })
	for i, x := range xs {
		overlapping := i+1 < len(xs) && overlaps(x, xs[i+1])
		p("\n")
		writeRequest(&b, run, s, i, x, runID, overlapping)
	}
	if hasBackground(xs) {
		p("\nwait\n")
	}
	return b.String()
}

// writeRequest writes the comments, the echo and the curl command of one exchange.
func writeRequest(b *strings.Builder, run *Run, s *Scenario, i int, x result.Exchange, runID string, background bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	step := x.Step
	if step == "" {
		step = "request"
	}
	head := fmt.Sprintf("[%d/%d] %s", i+1, len(s.Exchanges), step)
	p("# %s\n", commentText(head))
	if x.Session != "" {
		p("#   session %s\n", commentText(x.Session))
	}
	var should []string
	for _, f := range findingsOf(s, x) {
		should = append(should, fmt.Sprintf("should answer: %s (%s, %s)", orDash(f.Expected), orDash(f.Clause), orDash(f.Level.String())))
	}
	answered := "answered in the run: " + x.Describe()
	if len(should) > 0 {
		answered += "  <-- the failure"
	}
	for _, l := range should {
		p("#   %s\n", commentText(l))
	}
	p("#   %s\n", commentText(answered))
	p("echo %s\n", shQuote(">>> "+oneLine(head)))
	for _, l := range should {
		p("echo %s\n", shQuote("    "+oneLine(l)))
	}
	p("echo %s\n", shQuote("    "+oneLine(answered)))

	r := x.Request
	maxTime := 10
	var producer string
	hasBody := r.BodySent > 0 || r.BodyLen > 0
	if hasBody {
		producer = bodyProducer(r, background)
		if r.BodyLen > r.BodySent {
			p("# The request announces %d bytes and sends %d: curl waits for an answer for a few\n", r.BodyLen, r.BodySent)
			p("# seconds and then closes the connection, as the run did.\n")
			maxTime = 3
		}
		if background {
			p("# In the run this request was still in flight while the next one was answered: it\n")
			p("# runs in the background, pausing half-way through its body.\n")
		}
	}
	var cmd strings.Builder
	if hasBody {
		cmd.WriteString(producer + " |\n  ")
	}
	fmt.Fprintf(&cmd, "curl -sS -i --max-time %d", maxTime)
	if strings.EqualFold(r.Proto, "HTTP/1.0") {
		cmd.WriteString(" --http1.0")
	} else {
		cmd.WriteString(" --http1.1")
	}
	method := r.Method
	if method == "" {
		method = "POST"
	}
	fmt.Fprintf(&cmd, " -X %s", shQuote(method))
	// Suppress the headers curl adds on its own, unless the run sent them.
	for _, h := range []string{"Expect", "Accept", "User-Agent", "Content-Type", "Transfer-Encoding"} {
		if _, sent := r.Header(h); !sent {
			fmt.Fprintf(&cmd, " \\\n  -H %s", shQuote(h+":"))
		}
	}
	host := requestHost(r, run)
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "Host") && h.Value == host {
			continue // curl writes the Host of $TARGET
		}
		fmt.Fprintf(&cmd, " \\\n  -H %s", withRun(h.Name+": "+h.Value, runID))
	}
	if hasBody {
		if _, sent := r.Header("Content-Length"); !sent && r.BodyLen < 0 {
			// The run sent no Content-Length: let curl stream the body chunked.
			cmd.WriteString(" \\\n  -H 'Transfer-Encoding: chunked'")
		}
		cmd.WriteString(" \\\n  -T -")
	}
	fmt.Fprintf(&cmd, " \\\n  \"$TARGET\"%s", withRun(requestPath(r), runID))
	if background {
		p("( %s\n  echo ) &\nsleep 1\n", cmd.String())
		return
	}
	p("%s\necho\n", cmd.String())
}

// bodyProducer is the shell command that writes the body the run sent.
func bodyProducer(r result.Request, pause bool) string {
	switch {
	case r.PatternBody && pause && r.BodySent > 1:
		half := r.BodySent / 2
		return fmt.Sprintf("{ body %d %d %d; sleep 2; body %d %d %d; }", r.BodyOffset, r.Seed, half, r.BodyOffset+half, r.Seed, r.BodySent-half)
	case r.PatternBody:
		return fmt.Sprintf("body %d %d %d", r.BodyOffset, r.Seed, r.BodySent)
	case r.BodyRaw != "" || r.BodySent == 0:
		return "printf " + printfBytes(r.BodyRaw)
	}
	// Raw bytes too many to keep: the first ones are all the run recorded.
	return "printf " + printfBytes(r.BodyHead) + " # the run kept only the first bytes of this body"
}

// printfBytes quotes s as a printf format that writes exactly s: letters and digits as they
// are, every other byte as an octal escape.
func printfBytes(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == ' ' || c == '-' || c == '/' || c == ',' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// findingsOf returns the findings tied to exchange x (same step and session).
func findingsOf(s *Scenario, x result.Exchange) []result.Finding {
	var out []result.Finding
	for _, f := range s.Findings {
		if f.Step != "" && f.Step == x.Step && (f.Session == "" || f.Session == x.Session) {
			out = append(out, f)
		}
	}
	return out
}

// overlaps reports whether b started before a had finished.
func overlaps(a, b result.Exchange) bool {
	if a.Start.IsZero() || b.Start.IsZero() || a.Duration <= 0 {
		return false
	}
	return b.Start.Before(a.Start.Add(a.Duration))
}

func hasBackground(xs []result.Exchange) bool {
	for i := 0; i+1 < len(xs); i++ {
		if overlaps(xs[i], xs[i+1]) {
			return true
		}
	}
	return false
}

// reproRunID is the run ID to replace by $RUN: the run's, or the prefix of the scenario's
// first session ID before "-<scenario ID>-".
func reproRunID(run *Run, s *Scenario) string {
	if run.Meta.RunID != "" {
		return run.Meta.RunID
	}
	for _, x := range s.Exchanges {
		if i := strings.Index(x.Session, "-"+s.ID+"-"); i > 0 {
			return x.Session[:i]
		}
	}
	return ""
}

// reproBase is scheme://host:port of the target.
func reproBase(run *Run, s *Scenario) string {
	for _, raw := range []string{run.Meta.Target, firstURL(s)} {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return "http://127.0.0.1:8080"
}

func firstURL(s *Scenario) string {
	for _, x := range s.Exchanges {
		if x.Request.URL != "" {
			return x.Request.URL
		}
	}
	return ""
}

// requestHost is the host:port the request went to.
func requestHost(r result.Request, run *Run) string {
	for _, raw := range []string{r.URL, run.Meta.Target} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return ""
}

// requestPath is the path and query of the request.
func requestPath(r result.Request) string {
	if strings.HasPrefix(r.Target, "/") {
		return r.Target
	}
	if u, err := url.Parse(r.URL); err == nil && u.Path != "" {
		return u.RequestURI()
	}
	return "/"
}

// withRun quotes s for the shell, with every occurrence of runID replaced by "${RUN}".
func withRun(s, runID string) string {
	if runID == "" || !strings.Contains(s, runID) {
		return shQuote(s)
	}
	parts := strings.Split(s, runID)
	var b strings.Builder
	for i, part := range parts {
		if i > 0 {
			b.WriteString(`"${RUN}"`)
		}
		if part != "" {
			b.WriteString(shQuote(part))
		}
	}
	return b.String()
}

// shQuote quotes s as one single-quoted shell word.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commentText makes s safe on one comment line.
func commentText(s string) string {
	s = oneLine(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			b.WriteString(strconv.QuoteRune(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
