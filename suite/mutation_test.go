package suite_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/suite"
)

// mutation is one row of the mutation test: a quirk switched on in the reference server and
// the scenarios that must fail because of it. A quirk that shows only together with another
// (needs) runs with it, and must fail at least one scenario more than that other quirk alone.
// Every quirk must be caught: a row whose quirk no scenario catches fails the test.
type mutation struct {
	quirk fakeserver.Quirk
	needs []fakeserver.Quirk
	fail  []string // scenario IDs that fail (FAIL, or NON-STRICT: the run is strict)
}

// mutations is the table of the mutation test (issue 5 item 2), one row per quirk.
func mutations() []mutation {
	return []mutation{
		{quirk: fakeserver.DropOnMalformed,
			fail: []string{"MF-01", "MF-02", "MF-03", "MF-04", "MF-05", "MF-06", "MF-07", "MF-08", "MF-09", "MF-10", "MF-11", "MF-12"}},
		// CO-04: alone, the quirk answers the reused session ID's 12-byte file with a false
		// completion; no file of that name is stored. CO-02: the second file's bytes past the
		// session's total follow the completed file (rob.stored-bytes).
		{quirk: fakeserver.FalseSuccess, fail: []string{"CO-01", "CO-02", "CO-04", "SS-04", "SS-05", "SS-06"}},
		{quirk: fakeserver.NoOverlapRejection, fail: []string{"PA-01", "PA-02"}},
		{quirk: fakeserver.RangeListCut, fail: []string{"RS-06", "RS-09"}},
		{quirk: fakeserver.StateWindow, fail: []string{"RS-06", "RS-09"}},
		{quirk: fakeserver.RestartAfterComplete, fail: []string{"RB-04", "RB-05"}},
		{quirk: fakeserver.NoTruncateOnReuse, needs: []fakeserver.Quirk{fakeserver.RestartAfterComplete},
			fail: []string{"CO-04", "RB-04", "RB-05"}},
		{quirk: fakeserver.SingleByteStateBug, fail: []string{"PR-03", "PR-04"}},
		{quirk: fakeserver.SizeFromLastSegment, fail: []string{"BK-01"}},
		{quirk: fakeserver.EmptyDigests, fail: []string{"BK-01"}},
		// RB-01..RB-03 cut their segments after a few bytes, below the module's threshold.
		{quirk: fakeserver.CleanupOnDisconnect, fail: []string{"RB-07", "RB-08"}},
	}
}

// mutationTimeout bounds the whole mutation test.
const mutationTimeout = 8 * time.Minute

// runAgainst runs every scenario against a reference server with quirks and returns the IDs
// of the scenarios that failed, with their first message. A scenario that checks or names a
// clause it does not declare fails the test. The server hands completed files
// to backend, whose forms the backend scenarios read.
func runAgainst(ctx context.Context, t *testing.T, backend *scenarios.BackendServer, quirks fakeserver.QuirkSet) map[string]string {
	t.Helper()
	srv, err := fakeserver.NewServer(fakeserver.Options{Quirks: quirks, UploadPass: backend.URL + "/"})
	if err != nil {
		t.Fatalf("start the reference server with %s: %v", quirks, err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close the reference server: %v", err)
		}
	}()
	target, err := url.Parse(srv.UploadURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := scenarios.Config{
		Target:         target,
		FileURL:        srv.URL + fakeserver.DefaultFilePrefix + "{name}",
		FinalStatus:    scenarios.BackendStatus,
		FinalBody:      scenarios.BackendBody,
		Strict:         true,
		RequestTimeout: 5 * time.Second,
		Backend:        backend,
	}.WithDefaults()
	failed := map[string]string{}
	for _, s := range scenarios.All() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res := scenarios.Run(sctx, cfg, s)
		cancel()
		for _, p := range suite.Undeclared(res, false) {
			t.Errorf("with %s: %s", quirks, p)
		}
		if res.Verdict == result.Fail || res.Verdict == result.NonStrict {
			msg := res.Message()
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
			failed[s.ID] = msg
		}
	}
	return failed
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestMutation switches each quirk on alone in the reference server and runs the whole
// suite against it: every quirk must be caught by the scenarios its row names, and by no
// other. It prints the matrix and the mutation score.
func TestMutation(t *testing.T) {
	suite.SelfTestOnly(t)
	if testing.Short() {
		t.Skip("the mutation test runs the suite once per quirk")
	}
	ctx, cancel := context.WithTimeout(context.Background(), mutationTimeout)
	defer cancel()
	backend, err := scenarios.StartBackend("")
	if err != nil {
		t.Fatalf("start the harness backend: %v", err)
	}
	defer func() {
		if err := backend.Close(); err != nil {
			t.Errorf("close the harness backend: %v", err)
		}
	}()

	base := runAgainst(ctx, t, backend, fakeserver.QuirkSet{})
	if len(base) > 0 {
		t.Fatalf("the reference server fails %v; fix it before the mutation test means anything", sortedKeys(base))
	}
	rows := mutations()
	if got, want := len(rows), len(fakeserver.Quirks()); got != want {
		t.Errorf("the table has %d rows for %d quirks", got, want)
	}
	var matrix strings.Builder
	caught := 0
	for _, m := range rows {
		set := fakeserver.NewQuirkSet(m.needs...).With(m.quirk)
		failed := runAgainst(ctx, t, backend, set)
		own := failed
		if len(m.needs) > 0 {
			pre := runAgainst(ctx, t, backend, fakeserver.NewQuirkSet(m.needs...))
			own = map[string]string{}
			for id, msg := range failed {
				if _, ok := pre[id]; !ok {
					own[id] = msg
				}
			}
		}
		ids := sortedKeys(failed)
		label := string(m.quirk)
		if len(m.needs) > 0 {
			label += fmt.Sprintf(" (with %s; its own: %s)", fakeserver.NewQuirkSet(m.needs...), strings.Join(sortedKeys(own), " "))
		}
		fmt.Fprintf(&matrix, "  %-24s %2d  %s\n", label, len(ids), strings.Join(ids, " "))
		if len(own) > 0 {
			caught++
		} else {
			t.Errorf("quirk %s: no scenario catches it", m.quirk)
		}
		want := slices.Clone(m.fail)
		sort.Strings(want)
		for _, id := range want {
			if _, ok := failed[id]; !ok {
				t.Errorf("quirk %s: scenario %s is listed but passed", m.quirk, id)
			}
		}
		for _, id := range ids {
			if !slices.Contains(want, id) {
				t.Errorf("quirk %s: scenario %s failed without being listed: %s", m.quirk, id, failed[id])
			}
		}
	}
	score := float64(caught) / float64(len(rows)) * 100
	report := fmt.Sprintf("mutation matrix (quirk, number of failing scenarios, their IDs):\n%smutation score: %d/%d quirks caught (%.0f%%)", matrix.String(), caught, len(rows), score)
	t.Log(report) // shown with -v, and whenever the test fails
}
