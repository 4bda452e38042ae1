package suite

// Proof that the scenarios can fail: test-only broken servers, each the reference server with
// ONE thing broken, and for each a table of the scenarios that must catch it, with the verdict
// and exactly the clauses their findings name. The same scenarios against the plain reference
// server all pass. Against every one of these servers, no scenario checks or names a clause it
// does not declare. The scenarios run directly (scenarios.Run), not through Ginkgo.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/clause"
)

// brokenServer is one deliberate deviation from the reference.
type brokenServer struct {
	name  string
	wrap  func(ref http.Handler) http.Handler // the reference handler with one thing broken
	catch map[string]expectation              // scenario ID → what it must report
}

// expectation is how a scenario must report a broken server.
type expectation struct {
	verdict result.Verdict // FAIL or NON-STRICT
	clauses []clause.ID    // exactly the clauses its findings name, sorted
}

func must(ids ...clause.ID) expectation { return expectation{result.Fail, sortedIDs(ids)} }
func should(ids ...clause.ID) expectation {
	return expectation{result.NonStrict, sortedIDs(ids)}
}

func sortedIDs(ids []clause.ID) []clause.ID {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// expect gives every listed scenario the same expectation.
func expect(e expectation, ids ...string) map[string]expectation {
	m := make(map[string]expectation, len(ids))
	for _, id := range ids {
		m[id] = e
	}
	return m
}

// merge joins tables; a later table overrides an earlier one.
func merge(tables ...map[string]expectation) map[string]expectation {
	m := map[string]expectation{}
	for _, t := range tables {
		maps.Copy(m, t)
	}
	return m
}

// brokenServers is the matrix: which scenarios catch which deviation. A scenario missing from
// a table must not fail (FAIL or NON-STRICT) against that server.
func brokenServers() []brokenServer {
	return []brokenServer{
		{
			name: "200 before the file is complete",
			wrap: rewrite201(func(int, http.Header, []byte) (int, http.Header, []byte) {
				return http.StatusOK, http.Header{"Content-Type": {"text/plain"}}, []byte(scenarios.BackendBody)
			}),
			// A segment judged under the clause it exercises (seg.any-order, enc.header-aliases,
			// seg.numbering, seg.large-offsets) names that clause where the others name
			// ack.201-while-incomplete: the 200 ends the upload and the next segment is refused.
			// Eight disjoint segments at once (PA-05): the first 200 ends the upload, the seven
			// others are judged as disjoint segments that were not accepted.
			catch: merge(
				expect(must(clause.AckFinalOnlyWhenComplete, clause.SegAnyOrder),
					"BK-01", "CP-02", "RS-03"),
				expect(must(clause.Ack201WhileIncomplete, clause.AckFinalOnlyWhenComplete),
					"BL-01", "BL-02", "BL-03", "BL-04", "CO-01", "CO-02", "CO-03", "CO-04", "CP-01", "CP-03", "CP-06", "CP-07", "HD-06", "HD-07", "HD-08", "HD-13", "MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11", "MF-12", "PA-02", "PR-01", "PR-02", "RB-01", "RB-02", "RB-03", "RB-04", "RB-05", "RB-07", "RB-08", "RS-01", "RS-02", "RS-04", "RS-05", "RS-06", "RS-08", "RU-01", "RU-02", "RU-03", "RU-04", "RU-05", "SS-01", "SS-02"),
				expect(must(clause.Ack201WhileIncomplete, clause.AckFinalIsBackendAnswer, clause.AckFinalOnlyWhenComplete),
					"CP-05"),
				expect(must(clause.AckFinalOnlyWhenComplete, clause.EncHeaderAliases),
					"HD-01", "HD-02", "HD-03", "HD-04", "HD-05"),
				expect(must(clause.AckFinalOnlyWhenComplete),
					"HD-14", "PA-01", "RS-09", "SS-03"),
				expect(must(clause.AckFinalIsBackendAnswer, clause.AckFinalOnlyWhenComplete, clause.ParDisjointAllowed),
					"PA-03", "PA-04"),
				expect(must(clause.AckFinalOnlyWhenComplete, clause.ParDisjointAllowed),
					"PA-05"),
				expect(must(clause.AckFinalOnlyWhenComplete, clause.SegNumbering),
					"PR-03", "PR-04"),
				expect(must(clause.AckFinalOnlyWhenComplete, clause.SegLargeOffsets),
					"RS-07"),
			),
		},
		{
			name: "a list that forgets a range",
			wrap: rewrite201(func(status int, h http.Header, body []byte) (int, http.Header, []byte) {
				items := strings.Split(string(body), ",")
				if len(items) < 2 {
					return status, h, body
				}
				list := strings.Join(items[1:], ",")
				h.Set("Range", list)
				return status, h, []byte(list)
			}),
			catch: merge(
				expect(must(clause.AckDurable, clause.AckListExact),
					"BL-01", "BL-02", "BL-04", "CP-03", "CP-07", "MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11", "MF-12", "PA-05", "PR-01", "PR-03", "PR-04", "RB-01", "RB-02", "RS-02", "RS-03", "RS-04", "RS-06", "RS-07", "RS-08", "RU-02", "RU-04", "SS-02"),
				expect(must(clause.AckListExact),
					"PA-04", "RS-09"),
			),
		},
		{
			name: "a list in the wrong order",
			wrap: rewrite201(func(status int, h http.Header, body []byte) (int, http.Header, []byte) {
				items := strings.Split(string(body), ",")
				if len(items) < 2 {
					return status, h, body
				}
				slices.Reverse(items)
				list := strings.Join(items, ",")
				h.Set("Range", list)
				return status, h, []byte(list)
			}),
			catch: merge(
				expect(should(clause.AckListCanonical),
					"BL-01", "BL-02", "BL-04", "CP-03", "CP-07", "MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11", "MF-12", "PA-04", "PA-05", "PR-01", "PR-03", "PR-04", "RB-01", "RB-02", "RS-02", "RS-03", "RS-04", "RS-06", "RS-07", "RS-08", "RU-02", "RU-04", "SS-02"),
			),
		},
		{
			name: "a dropped connection on a malformed header",
			wrap: dropOn400,
			catch: merge(
				expect(should(clause.RobMalformed4xx),
					"MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11"),
			),
		},
		{
			name: "no 409 for an overlap",
			wrap: bufferBodies,
			catch: merge(
				expect(must(clause.ParOverlapRejected),
					"PA-01", "PA-02"),
			),
		},
		{
			name: "a final answer that is not the backend's",
			wrap: rewriteFinal(func(int, http.Header, []byte) (int, http.Header, []byte) {
				return http.StatusOK, http.Header{"Content-Type": {"text/plain"}}, []byte("upload ok")
			}),
			catch: merge(
				expect(must(clause.AckFinalIsBackendAnswer),
					"BK-01", "BL-01", "BL-02", "BL-03", "BL-04", "CO-01", "CO-02", "CO-03", "CO-04", "CP-01", "CP-02", "CP-03", "CP-04", "CP-05", "CP-06", "CP-07", "HD-01", "HD-02", "HD-03", "HD-04", "HD-05", "HD-06", "HD-07", "HD-08", "HD-13", "HD-14", "MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11", "MF-12", "PA-01", "PA-02", "PA-03", "PA-04", "PA-05", "PR-01", "PR-02", "PR-03", "PR-04", "PR-05", "RB-01", "RB-02", "RB-03", "RB-04", "RB-05", "RB-06", "RB-07", "RB-08", "RS-01", "RS-02", "RS-03", "RS-04", "RS-05", "RU-01", "RU-02", "RU-03", "RU-04", "RU-05", "SS-01", "SS-02", "SS-03"),
			),
		},
	}
}

// captureWriter records the answer of the wrapped handler. Unwrap gives http.ResponseController
// the connection's writer, so the handler's read deadlines still work.
type captureWriter struct {
	orig   http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func newCaptureWriter(w http.ResponseWriter) *captureWriter {
	return &captureWriter{orig: w, header: http.Header{}}
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.orig }

// send writes an answer to w, with an exact Content-Length.
func send(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// rewriteAnswers runs the reference handler on POST requests and lets edit change the answers
// for which match is true.
func rewriteAnswers(match func(status int) bool, edit func(status int, h http.Header, body []byte) (int, http.Header, []byte)) func(http.Handler) http.Handler {
	return func(ref http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				ref.ServeHTTP(w, r)
				return
			}
			c := newCaptureWriter(w)
			ref.ServeHTTP(c, r)
			status, h, body := c.status, c.header, c.body.Bytes()
			if match(status) {
				status, h, body = edit(status, h.Clone(), bytes.Clone(body))
			}
			send(w, status, h, body)
		})
	}
}

// rewrite201 edits every 201 of the reference.
func rewrite201(edit func(status int, h http.Header, body []byte) (int, http.Header, []byte)) func(http.Handler) http.Handler {
	return rewriteAnswers(func(status int) bool { return status == http.StatusCreated }, edit)
}

// rewriteFinal edits every completion (a 2xx other than 201) of the reference.
func rewriteFinal(edit func(status int, h http.Header, body []byte) (int, http.Header, []byte)) func(http.Handler) http.Handler {
	return rewriteAnswers(func(status int) bool { return status >= 200 && status < 300 && status != http.StatusCreated }, edit)
}

// dropOn400 closes the connection without a byte where the reference answers 400 (a malformed
// header), as the real module does.
func dropOn400(ref http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			ref.ServeHTTP(w, r)
			return
		}
		c := newCaptureWriter(w)
		ref.ServeHTTP(c, r)
		if c.status == http.StatusBadRequest {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
				return
			}
		}
		send(w, c.status, c.header, c.body.Bytes())
	})
}

// bufferBodies reads every segment's whole body before the reference sees the request, as a
// buffering proxy in front of a server does: the server then never has two segments in flight
// at once, so it never rejects an overlapping one.
func bufferBodies(ref http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			ref.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away mid-body: nothing reaches the server
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		ref.ServeHTTP(w, r)
	})
}

// startServer serves h on a free loopback port and returns the scenarios' configuration for
// it, with the harness backend behind it (h hands completed files to backend).
func startServer(t *testing.T, h http.Handler, backend *scenarios.BackendServer, runID string) scenarios.Config {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := NewConfig()
	c.Target = srv.URL + fakeserver.DefaultPath
	c.FileURL = srv.URL + fakeserver.DefaultFilePrefix + "{name}"
	c.FinalStatus, c.FinalBody = scenarios.BackendStatus, scenarios.BackendBody
	c.RequestTimeout = 3 * time.Second
	c.RunID = runID
	sc, err := c.Resolve()
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	sc.Backend = backend
	return sc
}

// startBackend starts a harness backend for one test and returns it with the reference
// server's options that hand completed files to it.
func startBackend(t *testing.T) (*scenarios.BackendServer, fakeserver.Options) {
	t.Helper()
	b, err := scenarios.StartBackend("")
	if err != nil {
		t.Fatalf("start the harness backend: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close the harness backend: %v", err)
		}
	})
	return b, fakeserver.Options{UploadPass: b.URL + "/"}
}

// runAll runs every scenario against sc, two at a time, each bounded.
func runAll(t *testing.T, sc scenarios.Config) map[string]scenarios.Result {
	t.Helper()
	all := scenarios.All()
	results := make([]scenarios.Result, len(all))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			results[i] = scenarios.Run(ctx, sc, s)
		}()
	}
	wg.Wait()
	byID := make(map[string]scenarios.Result, len(all))
	for _, r := range results {
		byID[r.ScenarioID] = r
	}
	return byID
}

// findingClauses returns the clauses the findings of r name, sorted, without repeats.
func findingClauses(r scenarios.Result) []clause.ID {
	var ids []clause.ID
	for _, f := range r.Findings {
		if id := clause.ID(f.Clause); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func clausesOf(r scenarios.Result) string {
	return strings.Join(clause.Strings(findingClauses(r)...), ",")
}

// undeclared returns what r shows that its scenario does not declare: a clause whose check
// ran, or that a finding names, missing from Scenario.Clauses. With ran, also a declared
// clause whose check did not run (for a run against the reference server, where every check
// of a scenario that is not skipped runs). It returns one line per problem.
func undeclared(r scenarios.Result, ran bool) []string {
	s, ok := scenarios.ScenarioByID(r.ScenarioID)
	if !ok {
		return []string{r.ScenarioID + ": no such scenario"}
	}
	var probs []string
	for _, id := range r.Checked {
		if !slices.Contains(s.Clauses, id) {
			probs = append(probs, fmt.Sprintf("%s checks %s, which it does not declare", s.ID, id))
		}
	}
	for _, f := range r.Findings {
		if f.Clause != "" && !slices.Contains(s.Clauses, f.Clause) && !slices.Contains(r.Checked, f.Clause) {
			probs = append(probs, fmt.Sprintf("%s has a finding of %s, which it does not declare", s.ID, f.Clause))
		}
	}
	if ran && r.Verdict != result.Skipped {
		for _, id := range s.Clauses {
			if !slices.Contains(r.Checked, id) {
				probs = append(probs, fmt.Sprintf("%s declares %s, but no check of it ran", s.ID, id))
			}
		}
	}
	return probs
}

// checkDeclared fails t for every problem undeclared finds in the results.
func checkDeclared(t *testing.T, results map[string]scenarios.Result, ran bool) {
	t.Helper()
	for _, id := range slices.Sorted(maps.Keys(results)) {
		for _, p := range undeclared(results[id], ran) {
			t.Error(p)
		}
	}
}

// selfTestOnly skips a test of the suite itself when the test binary runs as the conformance
// suite: against a target (--target or UPSPEC_TARGET), or as one of several parallel Ginkgo
// processes (each process runs every test function of the binary).
func selfTestOnly(t *testing.T) {
	t.Helper()
	if f := flag.Lookup("target"); (f != nil && f.Value.String() != "") || os.Getenv("UPSPEC_TARGET") != "" {
		t.Skip("the suite runs against a target: its own tests run without one")
	}
	if f := flag.Lookup("ginkgo.parallel.total"); f != nil && f.Value.String() != "1" {
		t.Skip("a parallel Ginkgo run: the suite's own tests run under go test")
	}
}

// TestReferencePassesEveryScenario: against the reference server every scenario passes; a
// skip is allowed only for a needs-* precondition and must say why.
func TestReferencePassesEveryScenario(t *testing.T) {
	selfTestOnly(t)
	backend, opts := startBackend(t)
	sc := startServer(t, fakeserver.New(opts), backend, "ref-"+scenarios.NewRunID())
	results := runAll(t, sc)
	checkDeclared(t, results, true)
	for id, r := range results {
		switch r.Verdict {
		case result.Pass, result.Info:
		case result.Skipped:
			s, _ := scenarios.ScenarioByID(id)
			needs := slices.ContainsFunc(s.Labels, func(l string) bool { return strings.HasPrefix(l, "needs-") })
			if !needs || r.SkipReason == "" {
				t.Errorf("%s skipped (%q) without a needs-* label", id, r.SkipReason)
			}
		default:
			t.Errorf("%s: %s against the reference server\n%s", id, r.Verdict, r.Message())
		}
	}
}

// TestProfilesCheckOnlyDeclaredClauses: against the reference server with each built-in
// profile of the real module's quirks, no scenario checks or names a clause it does not
// declare; against the reference profile, every declared clause's check runs (the verdicts
// are pinned by the expectation lists and TestMutation).
func TestProfilesCheckOnlyDeclaredClauses(t *testing.T) {
	selfTestOnly(t)
	for i, p := range fakeserver.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			backend, opts := startBackend(t)
			opts.Quirks = p.Quirks
			sc := startServer(t, fakeserver.New(opts), backend, fmt.Sprintf("profile%d-%s", i, scenarios.NewRunID()))
			checkDeclared(t, runAll(t, sc), p.Quirks.Len() == 0)
		})
	}
}

// TestUndeclaredIsCaught shows the check of declared clauses failing: a result that checks,
// or names in a finding, a clause its scenario does not declare, and a declared clause whose
// check did not run.
func TestUndeclaredIsCaught(t *testing.T) {
	const id = "HD-10" // declares enc.post only
	tests := []struct {
		name string
		r    scenarios.Result
		ran  bool
		want []string
	}{
		{"as declared", scenarios.Result{ScenarioID: id, Checked: []string{"enc.post"}}, true, nil},
		{"an undeclared check", scenarios.Result{ScenarioID: id, Checked: []string{"enc.post", "ack.list-exact"}}, false,
			[]string{"HD-10 checks ack.list-exact, which it does not declare"}},
		{"an undeclared finding", scenarios.Result{ScenarioID: id, Checked: []string{"enc.post"},
			Findings: []result.Finding{{Clause: "rob.error-reason"}}}, false,
			[]string{"HD-10 has a finding of rob.error-reason, which it does not declare"}},
		{"a declared clause unchecked", scenarios.Result{ScenarioID: id}, true,
			[]string{"HD-10 declares enc.post, but no check of it ran"}},
		{"skipped", scenarios.Result{ScenarioID: id, Verdict: result.Skipped}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := undeclared(tt.r, tt.ran); !slices.Equal(got, tt.want) {
				t.Errorf("undeclared = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBrokenServersAreCaught: each broken server is caught by exactly the scenarios of its
// table, with the verdict and the clause of the table; no other scenario fails.
func TestBrokenServersAreCaught(t *testing.T) {
	selfTestOnly(t)
	for i, b := range brokenServers() {
		t.Run(b.name, func(t *testing.T) {
			backend, opts := startBackend(t)
			sc := startServer(t, b.wrap(fakeserver.New(opts)), backend, fmt.Sprintf("broken%d-%s", i, scenarios.NewRunID()))
			results := runAll(t, sc)
			checkDeclared(t, results, false)
			if len(b.catch) == 0 {
				t.Errorf("no scenario is expected to catch %q", b.name)
			}
			for id, want := range b.catch {
				r, ok := results[id]
				if !ok {
					t.Errorf("%s: no such scenario", id)
					continue
				}
				if r.Verdict != want.verdict {
					t.Errorf("%s: verdict %s, want %s\n%s", id, r.Verdict, want.verdict, r.Message())
					continue
				}
				if got := findingClauses(r); !slices.Equal(got, want.clauses) {
					t.Errorf("%s: findings name %s, want exactly %s\n%s", id, clausesOf(r), strings.Join(clause.Strings(want.clauses...), ","), r.Message())
				}
			}
			ids := make([]string, 0, len(results))
			for id := range results {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				r := results[id]
				if _, listed := b.catch[id]; listed {
					continue
				}
				if r.Verdict == result.Fail || r.Verdict == result.NonStrict {
					t.Errorf("%s: %s (clauses %s), not in the table of %q\n%s", id, r.Verdict, clausesOf(r), b.name, r.Message())
				}
			}
		})
	}
}
