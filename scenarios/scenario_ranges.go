package scenarios

import (
	"fmt"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/scenarios/clause"
)

// rangeStringScenarios returns the range status string scenarios (RS): the Range header and
// body of every 201 against the harness's model.
func rangeStringScenarios() []Scenario {
	return []Scenario{
		{
			ID: "RS-01", Title: "Segments in order: each 201 lists the growing prefix",
			Family: "range-strings", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rs01.bin", 24)
				uploadPlan(t, s, seg{0, 5}, seg{6, 11}, seg{12, 17}, seg{18, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "RS-02", Title: "Segments out of order: 0-5, 9-15, 16-23 give 0-5/24,9-15/24 then 0-5/24,9-23/24; 6-8 completes",
			Family: "range-strings", Clauses: declare(listChecks(), clause.SegAnyOrder, clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rs02.bin", 24)
				uploadPlan(t, s, seg{0, 5})
				uploadPlanAs(t, s, clause.SegAnyOrder, seg{9, 15}, seg{16, 23}, seg{6, 8})
				finishFile(t, s)
			},
		},
		{
			ID: "RS-03", Title: "Last segment first, gaps filled at the end",
			Family: "range-strings", Clauses: declare(listChecks(), clause.SegAnyOrder, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rs03.bin", 24)
				uploadPlanAs(t, s, clause.SegAnyOrder, seg{20, 23}, seg{0, 3}, seg{8, 11}, seg{16, 19}, seg{4, 7}, seg{12, 15})
				finishFile(t, s)
			},
		},
		{
			ID: "RS-04", Title: "Adjacent ranges are merged: 0-5 and 6-11 list as 0-11",
			Family: "range-strings", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rs04.bin", 30)
				uploadPlan(t, s, seg{0, 5}, seg{6, 11}, seg{20, 24}, seg{15, 19}, seg{12, 14}, seg{25, 29})
				finishFile(t, s)
			},
		},
		{
			ID: "RS-05", Title: "Overlapping ranges are merged: 9-15 and 14-20 list as 9-20",
			Family: "range-strings", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete, clause.RobStoredBytes),
			Run: func(t *T) {
				s := t.NewSession("rs05.bin", 24)
				uploadPlan(t, s, seg{9, 15}, seg{14, 20}, seg{0, 10}, seg{18, 23})
				finishFile(t, s)
			},
		},
		{
			ID: "RS-06", Title: "100 disjoint ranges in one session: the list stays exact and whole",
			Family: "range-strings", Clauses: declare(listChecks(), clause.Ack201WhileIncomplete),
			Run: func(t *T) {
				const n = 100
				s := t.NewSession("rs06.bin", 4*n)
				// Segments 4i..4i+1 from both ends inwards, so that the server must sort too.
				for k := 0; k < n; k++ {
					i := int64(k / 2)
					if k%2 == 1 {
						i = n - 1 - i
					}
					a := s.Send(4*i, 4*i+1, Step(fmt.Sprintf("range %d of %d: %d-%d", k+1, n, 4*i, 4*i+1)))
					if !s.ExpectAccepted(a, "") || t.Failed() {
						t.Note("stopped after %d of %d disjoint ranges", k+1, n)
						t.FailNow()
					}
				}
				got := s.Acked().Len()
				t.Check(clause.AckListExact, got == n, fmt.Sprintf("%d disjoint ranges acknowledged", n), fmt.Sprintf("%d", got))
			},
		},
		{
			ID: "RS-09", Title: "100 disjoint ranges, on past the first failure: where the list is cut and where the server stops answering",
			Family: "range-strings", Clauses: declare(nil, clause.AckListExact, clause.Ack201WhileIncomplete, clause.AckFinalOnlyWhenComplete),
			Labels: []string{LabelNeedsLoopback, LabelSlow},
			Run:    manyRanges,
		},
		{
			ID: "RS-07", Title: "Offsets above 4 GiB: a 5 000 000 010-byte file, small segments only",
			Family: "range-strings", Clauses: declare(listChecks(), clause.SegLargeOffsets),
			Run: func(t *T) {
				s := t.NewSession("rs07.bin", 5_000_000_010)
				uploadPlanAs(t, s, clause.SegLargeOffsets,
					seg{5_000_000_000, 5_000_000_009},
					seg{4_294_967_290, 4_294_967_305}, // across 2^32
					seg{0, 9},
					seg{2_147_483_640, 2_147_483_655}, // across 2^31
				)
			},
		},
		{
			ID: "RS-08", Title: "Textual form of the list (module 0-5/24,9-15/24 or README 0-5,9-15/24)",
			Family: "range-strings", Clauses: declare(listChecks(), clause.AckListFormat, clause.Ack201WhileIncomplete), Observes: true,
			Run: func(t *T) {
				s := t.NewSession("rs08.bin", 24)
				a := uploadPlan(t, s, seg{0, 5}, seg{9, 15})
				last := a[len(a)-1]
				if last.List != nil {
					t.Observe(clause.AckListFormat, "two ranges listed as %q: the %s form", last.RangeValue, last.List.Format)
				}
				if last.Body != last.RangeValue {
					t.Observe(clause.AckListFormat, "the 201 body is %q, the Range header %q", last.Body, last.RangeValue)
				}
			},
		},
	}
}

// manyRanges sends 100 disjoint two-byte segments (4i..4i+1 of a 400-byte file, in order) in a
// session of its own and goes on past a cut list, to find the two limits of the real module
// (docs/module-behavior.md §9: the list freezes at 267 bytes from the 27th range; the worker
// crashes at the 86th, and every later segment of that session crashes another one). Each 201
// must list exactly the ranges sent so far (ack.list-exact: the first cut list is the finding,
// later ones are counted); the first answer that is not a 201 ends the scenario, so that a
// crashing session is never sent to again. It runs on loopback targets only: against a
// deployment it costs worker processes.
func manyRanges(t *T) {
	t.RequireLoopback()
	const n = 100
	s := t.NewSession("rs09.bin", 4*n)
	sent := ranges.NewSet(s.Total)
	cutAt, cutLen, cuts, sentN, stopped := 0, 0, 0, 0, ""
	defer func() {
		msg := fmt.Sprintf("sent %d of %d disjoint segments in session %s", sentN, n, s.ID)
		if cutAt > 0 {
			msg += fmt.Sprintf("; the list was first cut at range %d (a list of %d bytes) and was short in %d answer(s)", cutAt, cutLen, cuts)
		} else {
			msg += "; no list was cut"
		}
		if stopped != "" {
			msg += fmt.Sprintf("; the server stopped answering 201 at range %d: %s", sentN, stopped)
		}
		t.Note("%s; no later scenario sends to this session", msg)
	}()
	for k := 1; k <= n; k++ {
		i := int64(k - 1)
		r := ranges.Range{Start: 4 * i, End: 4*i + 1}
		a := s.Send(r.Start, r.End, Unchecked(), Step(fmt.Sprintf("range %d of %d: %d-%d", k, n, r.Start, r.End)))
		sentN = k
		if a.Answered() {
			t.ran(clause.AckFinalOnlyWhenComplete)
		}
		t.ran(clause.Ack201WhileIncomplete)
		if !a.Created() {
			stopped = describe(a)
		}
		switch {
		case a.Success() && !a.Created():
			t.failStep(clause.AckFinalOnlyWhenComplete, fmt.Sprintf("201 Created: %d of the file's %d bytes were sent", sent.Covered()+2, s.Total),
				describe(a), fmt.Sprintf("A false success at range %d.", k), &a)
			return
		case !a.Created():
			t.failStep(clause.Ack201WhileIncomplete, "201 Created with the range list", describe(a),
				fmt.Sprintf("The server stopped answering 201 at range %d of %d disjoint ranges; the session is not sent to again.", k, n), &a)
			return
		}
		sent.Add(r)
		t.ran(clause.AckListExact)
		listed := ranges.NewSet(s.Total)
		if a.List != nil && a.List.Total == s.Total {
			listed = a.List.Set()
		}
		if listed.Equal(sent) {
			continue
		}
		cuts++
		if cutAt == 0 {
			cutAt, cutLen = k, len(a.RangeValue)
			t.failStep(clause.AckListExact, fmt.Sprintf("the %d ranges sent so far: %s", k, clipText(sent.String(), 300)),
				fmt.Sprintf("%d bytes listing %d range(s): %s", len(a.RangeValue), len(listed.Ranges()), clipText(a.RangeValue, 300)),
				fmt.Sprintf("The list is not exact from range %d on; the scenario goes on to find where the server stops answering.", k), &a)
		}
	}
}
