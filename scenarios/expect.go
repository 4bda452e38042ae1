package scenarios

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/upspec/upspec/reports/result"
)

// Expected deviations.
//
// An expectations file lists the scenarios known to fail for an implementation, e.g. the real
// nginx-upload-module, which never rejects overlapping parallel segments. A listed scenario
// that fails is KNOWN and does not fail the run; a listed scenario that passes is STALE and
// fails the run, so that a fixed implementation turns the run red until the list is updated.
//
// The format is text, one entry per line:
//
//	# comment (a line whose first non-blank character is '#')
//	issues <URL>
//	<scenario ID> <issue> <reason>
//
// `issues URL` names the implementation's issue tracker (at most once): an issue `#N` is then
// URL/N, e.g. https://github.com/fdintino/nginx-upload-module/issues/10, and the reports link
// it.
// <issue> is the upstream issue, `#112` or `#10,#112` (an issue of the implementation's
// tracker), a URL, or `-` when there is none; <reason> is the rest of the line and must not be
// empty. Blank lines are ignored; an ID may be listed once.

// Expectations is a parsed expectations file.
type Expectations struct {
	Name string // the built-in name or the file path
	// Issues is the base URL of the implementation's issue tracker (the `issues` line), ""
	// when the list names none.
	Issues  string
	Entries []result.Expectation // in file order; Outcome is ExpectNone
}

//go:embed expectations/*.txt
var builtinExpectationFiles embed.FS

// BuiltinExpectations returns the names of the built-in expectation lists, sorted
// (nginx-upload-module, nginx-upload-module-2020).
func BuiltinExpectations() []string {
	entries, err := builtinExpectationFiles.ReadDir("expectations")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".txt"); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// LoadExpectations returns the built-in list named arg, or else parses the file at path arg.
// The entries are checked against All(): an unknown scenario ID is an error.
func LoadExpectations(arg string) (*Expectations, error) {
	var (
		e   *Expectations
		err error
	)
	if b, rerr := builtinExpectationFiles.ReadFile(path.Join("expectations", arg+".txt")); rerr == nil && !strings.ContainsAny(arg, `/\`) {
		e, err = ParseExpectations(arg, strings.NewReader(string(b)))
	} else {
		f, oerr := os.Open(arg)
		if oerr != nil {
			if errors.Is(oerr, os.ErrNotExist) {
				return nil, fmt.Errorf("expectations %q: no such file and no built-in list of that name (built in: %s)", arg, strings.Join(BuiltinExpectations(), ", "))
			}
			return nil, fmt.Errorf("expectations: %w", oerr)
		}
		defer f.Close()
		e, err = ParseExpectations(arg, f)
	}
	if err != nil {
		return nil, err
	}
	if err := e.Validate(All()); err != nil {
		return nil, err
	}
	return e, nil
}

var (
	expectIDPattern    = regexp.MustCompile(`^[A-Z]{2,}-[0-9]{2,}$`)
	expectIssuePattern = regexp.MustCompile(`^(-|#[0-9]+(,#[0-9]+)*|https?://\S+)$`)
)

// ParseExpectations reads an expectations file. name labels the errors, which are one line
// each: `expectations NAME:LINE: what is wrong`.
func ParseExpectations(name string, r io.Reader) (*Expectations, error) {
	e := &Expectations{Name: name}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		lineErr := func(format string, args ...any) error {
			return fmt.Errorf("expectations %s:%d: %s", name, n, fmt.Sprintf(format, args...))
		}
		if fields[0] == "issues" {
			if len(fields) != 2 || !strings.HasPrefix(fields[1], "https://") && !strings.HasPrefix(fields[1], "http://") {
				return nil, lineErr("want `issues URL`, the issue tracker, e.g. issues https://github.com/owner/repo/issues")
			}
			if e.Issues != "" {
				return nil, lineErr("a second issues line")
			}
			e.Issues = strings.TrimSuffix(fields[1], "/")
			continue
		}
		id := fields[0]
		if !expectIDPattern.MatchString(id) {
			return nil, lineErr("%q is not a scenario ID (like RS-03)", id)
		}
		if len(fields) < 2 {
			return nil, lineErr("%s: missing issue (#N, a URL, or -) and reason", id)
		}
		issue := fields[1]
		if !expectIssuePattern.MatchString(issue) {
			return nil, lineErr("%s: issue %q is not #N, #N,#M, a URL or -", id, issue)
		}
		if len(fields) < 3 {
			return nil, lineErr("%s: missing reason", id)
		}
		if prev, dup := seen[id]; dup {
			return nil, lineErr("%s is already listed on line %d", id, prev)
		}
		seen[id] = n
		// the reason is the rest of the line, with its inner spacing kept
		rest := strings.TrimSpace(line[len(id):])
		reason := strings.TrimSpace(rest[len(issue):])
		if issue == "-" {
			issue = ""
		}
		e.Entries = append(e.Entries, result.Expectation{ID: id, Issue: issue, Reason: reason, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("expectations %s:%d: %w", name, n+1, err)
	}
	return e, nil
}

// Validate checks every entry against the scenarios: an ID that names no scenario is an
// error (one line, naming the file and line).
func (e *Expectations) Validate(scenarios []Scenario) error {
	known := make(map[string]bool, len(scenarios))
	for _, s := range scenarios {
		known[s.ID] = true
	}
	for _, x := range e.Entries {
		if !known[x.ID] {
			return fmt.Errorf("expectations %s:%d: no scenario %s; run 'upspec list' for the IDs", e.Name, x.Line, x.ID)
		}
	}
	return nil
}

// Lookup returns the entry for a scenario ID.
func (e *Expectations) Lookup(id string) (result.Expectation, bool) {
	if e == nil {
		return result.Expectation{}, false
	}
	for _, x := range e.Entries {
		if x.ID == id {
			return x, true
		}
	}
	return result.Expectation{}, false
}

// IDs returns the listed scenario IDs, in file order.
func (e *Expectations) IDs() []string {
	if e == nil {
		return nil
	}
	ids := make([]string, len(e.Entries))
	for i, x := range e.Entries {
		ids[i] = x.ID
	}
	return ids
}

// Classify applies the list to one result (result.Classify): a listed scenario whose verdict
// is FAIL or NON-STRICT is KNOWN; a listed scenario that passed (PASS or INFO) is STALE; a
// skipped or unlisted one is ExpectNone. The entry comes back with its Outcome set. A nil
// *Expectations lists nothing.
func (e *Expectations) Classify(r Result) (result.ExpectOutcome, result.Expectation) {
	x, ok := e.Lookup(r.ScenarioID)
	if !ok {
		return result.ExpectNone, result.Expectation{}
	}
	x.Outcome = result.Classify(r.Verdict)
	return x.Outcome, x
}

// Gates reports whether a result fails the run once the expectations are applied: STALE
// always does; KNOWN never does; otherwise FAIL does, and NON-STRICT does when strict.
func (e *Expectations) Gates(r Result, strict bool) bool {
	switch out, _ := e.Classify(r); out {
	case result.Stale:
		return true
	case result.Known:
		return false
	}
	return r.Verdict == result.Fail || (strict && r.Verdict == result.NonStrict)
}
