package tus_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/internal/tusdtest"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/scenarios/tus"
)

// tusdMaxSize is the Tus-Max-Size of the tusd under test.
const tusdMaxSize = tusdtest.MaxSize

// tusdOptions change the in-process tusd of a test.
type tusdOptions struct {
	wrap func(http.Handler) http.Handler // middleware around tusd's handler (a mutation); nil = none
}

// startTusd starts tusd v2 in process (package tusdtest) and returns its creation URL.
func startTusd(t testing.TB, o tusdOptions) *url.URL { return tusdtest.Start(t, o.wrap) }

// runAll runs every tus scenario against target, strictly, and returns the results by ID.
func runAll(t *testing.T, target *url.URL) map[string]scenarios.Result {
	t.Helper()
	return runAllConfig(t, scenarios.Config{Target: target, Strict: true, RunID: "tus"})
}

// runAllConfig runs every tus scenario with cfg and returns the results by ID.
func runAllConfig(t *testing.T, cfg scenarios.Config) map[string]scenarios.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out := map[string]scenarios.Result{}
	for _, s := range tus.All() {
		sctx, scancel := context.WithTimeout(ctx, time.Minute)
		out[s.ID] = scenarios.Run(sctx, cfg, s)
		scancel()
	}
	return out
}

// TestTusdExpectations runs every tus scenario against tusd v2 in process and holds the
// verdicts to the built-in list tusd-v2: a listed scenario must fail (KNOWN: a fixed tusd is
// STALE and fails the test), and every other one must pass or be skipped for an extension tusd
// does not announce. The run is strict, so a SHOULD counts.
func TestTusdExpectations(t *testing.T) {
	exp, err := tus.LoadExpectations("tusd-v2")
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, "tusd", exp, runAll(t, startTusd(t, tusdOptions{})), nil)
}

// checkExpectations holds the verdicts res of the server named server to the expectation
// list exp: a listed scenario must fail (KNOWN; one that passes is STALE and fails the test),
// and every other one must pass or be skipped for an extension the server does not announce.
// Every scenario must check only the clauses it declares, and every completed upload must
// have been read back.
//
// varies names the listed scenarios whose verdict on that server depends on timing the
// harness does not control, with why: they may pass (logged, not STALE).
func checkExpectations(t *testing.T, server string, exp *expect.List, res map[string]scenarios.Result, varies map[string]string) {
	t.Helper()
	for _, s := range tus.All() {
		r := res[s.ID]
		checkDeclared(t, s, r)
		switch out, x := exp.Classify(r.ScenarioID, r.Verdict); {
		case out == result.Stale && varies[s.ID] != "":
			t.Logf("%s listed in %s passed this time: %s", s.ID, exp.Name, varies[s.ID])
		case out == result.Stale:
			t.Errorf("%s is listed in %s (%s) but %s now passes it: STALE, update the list", s.ID, exp.Name, x.Reason, server)
		case out == result.Known:
			t.Logf("%s KNOWN: %s", s.ID, x.Reason)
		case r.Verdict == result.Skipped:
			if !strings.Contains(r.SkipReason, "does not announce") {
				t.Errorf("%s skipped against %s: %s", s.ID, server, r.SkipReason)
			}
			t.Logf("%s SKIPPED: %s", s.ID, r.SkipReason)
		case r.Verdict != result.Pass:
			t.Errorf("%s against %s: %s, not in %s:\n%s", s.ID, server, r.Verdict, exp.Name, r.Message())
		}
		for _, n := range r.Notes {
			if strings.Contains(n, "was not compared") {
				t.Errorf("%s: %s serves its uploads, yet %s", s.ID, server, n)
			}
		}
	}
}

// checkDeclared fails the test when a scenario's checks named a clause it does not declare.
func checkDeclared(t *testing.T, s scenarios.Scenario, r scenarios.Result) {
	t.Helper()
	for _, id := range r.Checked {
		if !slices.Contains(s.Clauses, id) {
			t.Errorf("%s checked %s, which it does not declare", s.ID, id)
		}
	}
	for _, f := range r.Findings {
		if f.Clause != "" && !slices.Contains(s.Clauses, f.Clause) {
			t.Errorf("%s: a finding of %s, which it does not declare", s.ID, f.Clause)
		}
	}
}

// TestReadBack: a completed upload is read back through --file-url when it is given (a
// wrong one fails tus.rob.stored-bytes), else with the server's own GET; a server that
// answers no GET has its bytes noted as not compared, not judged.
func TestReadBack(t *testing.T) {
	tp01, _ := tus.ScenarioByID("TP-01")
	noGet := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				http.Error(w, "no downloads", http.StatusMethodNotAllowed)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name    string
		wrap    func(http.Handler) http.Handler
		fileURL func(target *url.URL) string
		verdict result.Verdict
		note    string
	}{
		{"the server's GET", nil, nil, result.Pass, ""},
		{"--file-url that does not serve the file", noGet, func(u *url.URL) string { return "http://" + u.Host + "/files/{name}" }, result.Fail, ""},
		{"--file-url to the files", nil, func(u *url.URL) string { return "http://" + u.Host + "/files/{name}" }, result.Pass, ""},
		{"no GET, no --file-url", noGet, nil, result.Pass, "was not compared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := startTusd(t, tusdOptions{wrap: tt.wrap})
			cfg := scenarios.Config{Target: target, RunID: "readback"}
			if tt.fileURL != nil {
				cfg.FileURL = tt.fileURL(target)
			}
			r := scenarios.Run(t.Context(), cfg, tp01)
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s:\n%s", r.Verdict, tt.verdict, r.Message())
			}
			if tt.verdict == result.Fail && !strings.Contains(r.Message(), "tus.rob.stored-bytes") {
				t.Errorf("the failure does not name tus.rob.stored-bytes:\n%s", r.Message())
			}
			if tt.note != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
				t.Errorf("no note %q: %q", tt.note, r.Notes)
			}
		})
	}
}
