// Package expect parses and supplies lists of expected deviations: the scenarios an
// implementation is known to fail, with the upstream issue and the reason. It knows no
// protocol: a list names scenario IDs, whatever suite defines them.
package expect

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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

// List is a parsed expectations file.
type List struct {
	Name string // the built-in name or the file path
	// Issues is the base URL of the implementation's issue tracker (the `issues` line), ""
	// when the list names none.
	Issues  string
	Entries []result.Expectation // in file order; Outcome is ExpectNone
}

//go:embed lists/*.txt
var builtinFiles embed.FS

// Builtin returns the names of the built-in lists, sorted (nginx-upload-module,
// nginx-upload-module-2020).
func Builtin() []string { return Names(builtinLists()) }

// builtinLists is the directory of the built-in lists.
func builtinLists() fs.FS {
	sub, err := fs.Sub(builtinFiles, "lists")
	if err != nil {
		panic(err) // a constant directory of the embedded files
	}
	return sub
}

// Names returns the names of the lists (NAME.txt) in the directory lists, sorted: the
// built-in lists of a protocol that keeps its own (e.g. package scenarios/tus).
func Names(lists fs.FS) []string {
	entries, err := fs.ReadDir(lists, ".")
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

// Load returns the built-in list named arg, or else parses the file at path arg. The entries
// are checked against the scenario IDs ids (Validate): an unknown scenario ID is an error.
func Load(arg string, ids []string) (*List, error) { return LoadFrom(builtinLists(), arg, ids) }

// LoadFrom is Load with the built-in lists of the directory lists (NAME.txt): those of
// another protocol.
func LoadFrom(lists fs.FS, arg string, ids []string) (*List, error) {
	var (
		e   *List
		err error
	)
	if b, rerr := fs.ReadFile(lists, arg+".txt"); rerr == nil && !strings.ContainsAny(arg, `/\`) {
		e, err = Parse(arg, strings.NewReader(string(b)))
	} else {
		f, oerr := os.Open(arg)
		if oerr != nil {
			if errors.Is(oerr, os.ErrNotExist) {
				return nil, fmt.Errorf("expectations %q: no such file and no built-in list of that name (built in: %s)", arg, strings.Join(Names(lists), ", "))
			}
			return nil, fmt.Errorf("expectations: %w", oerr)
		}
		defer f.Close()
		e, err = Parse(arg, f)
	}
	if err != nil {
		return nil, err
	}
	if err := e.Validate(ids); err != nil {
		return nil, err
	}
	return e, nil
}

var (
	expectIDPattern    = regexp.MustCompile(`^[A-Z]{2,}-[0-9]{2,}$`)
	expectIssuePattern = regexp.MustCompile(`^(-|#[0-9]+(,#[0-9]+)*|https?://\S+)$`)
)

// Parse reads an expectations file. name labels the errors, which are one line each:
// `expectations NAME:LINE: what is wrong`.
func Parse(name string, r io.Reader) (*List, error) {
	e := &List{Name: name}
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

// Validate checks every entry against the scenario IDs ids: an ID that names no scenario is
// an error (one line, naming the file and line).
func (e *List) Validate(ids []string) error {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	for _, x := range e.Entries {
		if !known[x.ID] {
			return fmt.Errorf("expectations %s:%d: no scenario %s; run 'upspec list' for the IDs", e.Name, x.Line, x.ID)
		}
	}
	return nil
}

// Lookup returns the entry for a scenario ID.
func (e *List) Lookup(id string) (result.Expectation, bool) {
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
func (e *List) IDs() []string {
	if e == nil {
		return nil
	}
	ids := make([]string, len(e.Entries))
	for i, x := range e.Entries {
		ids[i] = x.ID
	}
	return ids
}

// Classify applies the list to the verdict v of scenario id (result.Classify): a listed
// scenario whose verdict is FAIL or NON-STRICT is KNOWN; a listed scenario that passed (PASS
// or INFO) is STALE; a skipped or unlisted one is ExpectNone. The entry comes back with its
// Outcome set. A nil *List lists nothing.
func (e *List) Classify(id string, v result.Verdict) (result.ExpectOutcome, result.Expectation) {
	x, ok := e.Lookup(id)
	if !ok {
		return result.ExpectNone, result.Expectation{}
	}
	x.Outcome = result.Classify(v)
	return x.Outcome, x
}

// Gates reports whether the verdict v of scenario id fails the run once the list is applied:
// STALE always does; KNOWN never does; otherwise FAIL does, and NON-STRICT does when strict.
func (e *List) Gates(id string, v result.Verdict, strict bool) bool {
	switch out, _ := e.Classify(id, v); out {
	case result.Stale:
		return true
	case result.Known:
		return false
	}
	return v == result.Fail || (strict && v == result.NonStrict)
}
