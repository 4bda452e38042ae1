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
	"github.com/upspec/upspec/scenarios/wire"
)

// ReproducerName is the file name of the reproducer of a scenario in a run:
// repro-<run ID>-<scenario ID>.sh, or repro-<scenario ID>.sh for a run without an ID, so that
// the reproducers of several runs can share a directory.
func ReproducerName(run *Run, scenarioID string) string {
	if run != nil && run.Meta.RunID != "" {
		return "repro-" + anchor("", run.Meta.RunID) + "-" + anchor("", scenarioID) + ".sh"
	}
	return "repro-" + anchor("", scenarioID) + ".sh"
}

// WriteReproducers writes a reproducer (see Reproducer) for every scenario whose checks
// failed (Run.Reproducible: FAIL and NON-STRICT, KNOWN ones included) into dir (created if
// needed), sets each scenario's Reproducer field to the script's path, and returns the paths.
// Write them before the reports, so that the reports name them.
func WriteReproducers(dir string, run *Run) ([]string, error) {
	todo := run.Reproducible()
	if len(todo) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write reproducers: %w", err)
	}
	var paths []string
	for _, s := range todo {
		p := filepath.Join(dir, ReproducerName(run, s.ID))
		if err := os.WriteFile(p, []byte(Reproducer(run, s)), 0o755); err != nil {
			return paths, fmt.Errorf("write reproducer of %s: %w", s.ID, err)
		}
		s.Reproducer = p
		paths = append(paths, p)
	}
	return paths, nil
}

// NoReproducersReason says why a run has no reproducer to write (Run.Reproducible is
// empty), in words for a person.
func NoReproducersReason(run *Run) string {
	switch {
	case len(run.Scenarios) == 0:
		return "the report holds no scenario"
	case run.Counts.Error > 0:
		return "no check of the target failed (the failures are engine errors, with nothing to replay)"
	}
	return "no check failed: every scenario passed, was skipped or is STALE (a STALE entry passed)"
}

// Reproducer exit statuses: the failure reproduces, it does not, or the script cannot tell.
const (
	ReproExitNotReproduced = 0
	ReproExitReproduced    = 1
	ReproExitCannotTell    = 2
)

// Reproducer returns a POSIX shell script that replays the scenario's requests with curl: the
// exact headers (curl's own Accept, User-Agent, Content-Type, Expect and Transfer-Encoding
// suppressed), the exact body bytes made inside the script from the test pattern, session IDs
// and file names of the same scheme under a fresh run ID (RUN, unique to each execution), in
// the order the requests started (one still in flight while the next was answered runs in
// the background, as in the run). After the last request it prints every answer in request
// order, each under its label with what it should be (the clause) and what the target
// answered in the run, and then checks: when the answers of the failed steps are again the
// ones the run judged failing (status, and Range header where there was one), the failure
// reproduces and the script exits 1; when they differ it exits 0; when the target cannot be
// reached it exits 2. TARGET (scheme://host:port) points it at another server.
func Reproducer(run *Run, s *Scenario) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	runID := reproRunID(run, s)
	base := reproBase(run, s)
	names := fileNames(s)

	p("#!/bin/sh\n")
	p("# upspec reproducer of %s: %s\n", s.ID, commentText(s.Title))
	p("# %s in run %s against %s", s.Outcome(), commentText(orDash(run.Meta.RunID)), commentText(orDash(run.Meta.Target)))
	if !run.Meta.Start.IsZero() {
		p(" (%s)", run.Meta.Start.UTC().Format(time.RFC3339))
	}
	p("\n")
	if x := s.Expectation; x != nil {
		p("# %s: listed in %s as an expected deviation%s: %s\n", x.Outcome, commentText(orDash(run.Meta.Expectations)),
			commentText(issueSuffix(x.Issue)), commentText(x.Reason))
	}
	p("#\n")
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
	p("# Run:   sh %s              (curl needed)\n", ReproducerName(run, s.ID))
	p("# TARGET is the server (scheme://host:port); RUN prefixes the session IDs and file names and\n")
	p("# is new on every execution. Exit status: %d the failure reproduces, %d it does not, %d the\n",
		ReproExitReproduced, ReproExitNotReproduced, ReproExitCannotTell)
	p("# target cannot be reached.\n")
	p("set -u\n\n")
	p("TARGET=${TARGET:-%s}\n", shQuote(base))
	p("RUN=${RUN:-%s-repro-$(date +%%s)-$$}\n", shWord(orText(runID, "upspec")))
	p("ALPHABET=%s\n", wire.Alphabet)
	p("OUT=$(mktemp -d \"${TMPDIR:-/tmp}/upspec-repro.XXXXXX\") || exit %d\n", ReproExitCannotTell)
	p("trap 'rm -rf \"$OUT\"' EXIT\n\n")
	p("# body OFFSET SEED LEN: LEN bytes of the test file with pattern SEED, from file offset OFFSET\n")
	p("# (byte i of the file is ALPHABET[(i+SEED) mod 62]).\n")
	p("body() {\n")
	p("  yes \"$ALPHABET\" 2>/dev/null | tr -d '\\n' | tail -c +$(( (($1 + $2) %% 62 + 62) %% 62 + 1 )) | head -c \"$3\"\n")
	p("}\n")
	p("# show N: print answer N (status line, headers, body), or curl's error when none came.\n")
	p("show() {\n")
	p("  if [ -s \"$OUT/$1\" ]; then tr -d '\\r' < \"$OUT/$1\"; echo; else echo \"    (no answer: $(cat \"$OUT/$1.err\" 2>/dev/null))\"; fi\n")
	p("}\n")
	p("# same N STATUS RANGE: answer N has STATUS (000: none) and, when RANGE is given, that Range.\n")
	p("same() {\n")
	p("  [ \"$(cat \"$OUT/$1.status\" 2>/dev/null)\" = \"$2\" ] || return 1\n")
	p("  [ -z \"$3\" ] && return 0\n")
	p("  [ \"$(tr -d '\\r' < \"$OUT/$1\" | sed -n 's/^[Rr][Aa][Nn][Gg][Ee]:[[:space:]]*//p' | head -n 1 | tr -d ' ')\" = \"$3\" ]\n")
	p("}\n")
	if len(s.Exchanges) == 0 {
		p("\necho 'the run recorded no exchange for this scenario: nothing to replay'\nexit %d\n", ReproExitCannotTell)
		return b.String()
	}
	// Replay in the order the requests started: the run records them in the order their
	// answers came, so a request held mid-body comes after the one sent while it waited.
	xs := slices.Clone(s.Exchanges)
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].Start.Before(xs[j].Start) })
	for i, x := range xs {
		overlapping := i+1 < len(xs) && overlaps(x, xs[i+1])
		p("\n")
		writeRequest(&b, run, s, i, len(xs), x, runID, names, overlapping)
	}
	p("\nwait\n")

	p("\n# The answers, in request order.\n")
	for i, x := range xs {
		head := fmt.Sprintf("[%d/%d] %s", i+1, len(xs), orText(x.Step, "request"))
		p("echo %s\n", shQuote(">>> "+oneLine(head)))
		for _, f := range findingsOf(s, x) {
			p("echo %s\n", shQuote(fmt.Sprintf("    should answer: %s (%s, %s)", oneLine(orDash(f.Expected)), orDash(f.Clause), f.Level)))
		}
		p("echo %s\n", shQuote("    answered in the run: "+oneLine(x.Describe())))
		p("show %d\n", i+1)
	}

	p("\n# Could the target be reached at all?\n")
	p("for f in \"$OUT\"/*.rc; do\n")
	p("  case $(cat \"$f\") in 6|7) echo \"cannot reach $TARGET (curl exit $(cat \"$f\")): check TARGET\"; exit %d;; esac\n", ReproExitCannotTell)
	p("done\n")
	p("\n# The failure reproduces when the failed steps get the answers the run judged failing.\n")
	var conds []string
	for i, x := range xs {
		if !checkedExchange(s, x) {
			continue
		}
		conds = append(conds, fmt.Sprintf("same %d %s %s", i+1, shQuote(answerStatus(x)), shQuote(answerRange(x))))
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	what := s.ID
	if len(s.Findings) > 0 {
		f := s.Findings[0]
		what += " " + orDash(f.Clause) + ": expected " + oneLine(orDash(f.Expected))
	}
	p("if %s; then\n", strings.Join(conds, " && \\\n   "))
	p("  echo %s\n", shQuote("REPRODUCED: "+what+"; the target answered as in the failing run"))
	p("  exit %d\n", ReproExitReproduced)
	p("fi\n")
	p("echo %s\n", shQuote("NOT REPRODUCED: "+s.ID+": the target answered otherwise than in the failing run (see the answers above)"))
	p("exit %d\n", ReproExitNotReproduced)
	return b.String()
}

// checkedExchange reports whether the reproducer's check compares exchange x: the exchanges
// tied to a finding (same step and session); every exchange when no finding names a step.
func checkedExchange(s *Scenario, x result.Exchange) bool {
	for _, f := range s.Findings {
		if f.Step != "" {
			return len(findingsOf(s, x)) > 0
		}
	}
	return true
}

// answerStatus is the status curl reports for the answer x got in the run: its status code,
// or 000 when no answer came.
func answerStatus(x result.Exchange) string {
	if x.Response == nil || x.Outcome != result.OutcomeAnswered {
		return "000"
	}
	return fmt.Sprintf("%03d", x.Response.Status)
}

// answerRange is the Range header of the answer x got in the run, without spaces ("" when it
// had none).
func answerRange(x result.Exchange) string {
	v, ok := x.Response.Header("Range")
	if !ok || x.Outcome != result.OutcomeAnswered {
		return ""
	}
	return strings.ReplaceAll(v, " ", "")
}

// fileNames are the file names the scenario's requests name in Content-Disposition (at least
// 3 bytes long, made of [A-Za-z0-9._-]), longest first: the reproducer prefixes them with
// ${RUN} so that its files are not those of an earlier run.
func fileNames(s *Scenario) []string {
	var names []string
	for _, x := range s.Exchanges {
		v, ok := x.Request.Header("Content-Disposition")
		if !ok {
			continue
		}
		_, after, found := strings.Cut(v, "filename=")
		if !found {
			continue
		}
		name := strings.Trim(strings.TrimSpace(strings.Split(after, ";")[0]), `"`)
		if len(name) >= 3 && plainName(name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	return names
}

func plainName(s string) bool {
	for _, r := range s {
		if !(r == '.' || r == '-' || r == '_' || ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z')) {
			return false
		}
	}
	return true
}

// writeRequest writes the comments and the curl command of request i of n. Its answer goes
// to $OUT/<i+1> (status in .status, curl's exit status in .rc, its error in .err).
func writeRequest(b *strings.Builder, run *Run, s *Scenario, i, n int, x result.Exchange, runID string, names []string, background bool) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	head := fmt.Sprintf("[%d/%d] %s", i+1, n, orText(x.Step, "request"))
	p("# %s\n", commentText(head))
	if x.Session != "" {
		p("#   session %s\n", commentText(x.Session))
	}
	for _, f := range findingsOf(s, x) {
		p("#   should answer: %s (%s, %s)\n", commentText(orDash(f.Expected)), commentText(orDash(f.Clause)), f.Level)
	}
	p("#   answered in the run: %s\n", commentText(x.Describe()))

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
		fmt.Fprintf(&cmd, " \\\n  -H %s", withRun(h.Name+": "+h.Value, runID, names))
	}
	if hasBody {
		if _, sent := r.Header("Content-Length"); !sent && r.BodyLen < 0 {
			// The run sent no Content-Length: let curl stream the body chunked.
			cmd.WriteString(" \\\n  -H 'Transfer-Encoding: chunked'")
		}
		cmd.WriteString(" \\\n  -T -")
	}
	k := i + 1
	fmt.Fprintf(&cmd, " \\\n  -o \"$OUT/%d\" -w '%%{http_code}' \\\n  \"$TARGET\"%s >\"$OUT/%d.status\" 2>\"$OUT/%d.err\"", k, withRun(requestPath(r), runID, names), k, k)
	if background {
		p("( %s\n  echo $? >\"$OUT/%d.rc\" ) &\nsleep 1\n", cmd.String(), k)
		return
	}
	p("%s\necho $? >\"$OUT/%d.rc\"\n", cmd.String(), k)
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

// withRun quotes s for the shell, with every occurrence of runID replaced by "${RUN}" and
// every file name of names by "${RUN}-<name>".
func withRun(s, runID string, names []string) string {
	type cut struct {
		at, n int
		repl  string
	}
	var b strings.Builder
	for len(s) > 0 {
		best := cut{at: -1}
		try := func(needle, repl string) {
			if needle == "" {
				return
			}
			if i := strings.Index(s, needle); i >= 0 && (best.at < 0 || i < best.at || (i == best.at && len(needle) > best.n)) {
				best = cut{i, len(needle), repl}
			}
		}
		try(runID, `"${RUN}"`)
		for _, n := range names {
			try(n, `"${RUN}-"`+shQuote(n))
		}
		if best.at < 0 {
			b.WriteString(shQuote(s))
			break
		}
		if best.at > 0 {
			b.WriteString(shQuote(s[:best.at]))
		}
		b.WriteString(best.repl)
		s = s[best.at+best.n:]
	}
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// shWord makes s safe as an unquoted word inside ${VAR:-...}: [A-Za-z0-9_-] kept, every other
// byte dropped.
func shWord(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '-' || r == '_' || ('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') {
			b.WriteRune(r)
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
