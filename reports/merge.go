package reports

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Merge merges the reports of the shards of one run (the selection split across CI jobs, each
// with the same --run-id against the same target) into one report: the scenarios of every
// shard, the clause records derived again, the counts recomputed, the earliest start and the
// span to the latest end. It refuses shards of different targets, run IDs, expectations or
// strictness, and a scenario that two shards ran, each with an error that names both.
func Merge(shards ...*Run) (*Run, error) {
	if len(shards) == 0 {
		return nil, errors.New("merge: no report given")
	}
	first := shards[0]
	meta := first.Meta
	var ss []Scenario
	var suiteErrs []string
	var defs []Clause
	seenClause := map[string]bool{}
	from := map[string]int{}
	end := meta.Start.Add(meta.Duration)
	var filters []string
	for i, r := range shards {
		m := r.Meta
		for _, c := range []struct{ what, a, b string }{
			{"target", meta.Target, m.Target},
			{"run ID", meta.RunID, m.RunID},
			{"expectations", meta.Expectations, m.Expectations},
			{"profile", meta.Profile, m.Profile},
		} {
			if c.a != c.b {
				return nil, fmt.Errorf("merge: report %d has %s %q, report 1 has %q: not shards of one run (give every shard the same --target and --run-id)",
					i+1, c.what, c.b, c.a)
			}
		}
		if m.Strict != meta.Strict {
			return nil, fmt.Errorf("merge: report %d was run with strict=%t, report 1 with strict=%t: not shards of one run", i+1, m.Strict, meta.Strict)
		}
		if m.Embedded && len(shards) > 1 {
			return nil, fmt.Errorf("merge: report %d ran against an embedded reference server: each shard had its own server, not one target", i+1)
		}
		for _, s := range r.Scenarios {
			if j, dup := from[s.ID]; dup {
				return nil, fmt.Errorf("merge: scenario %s is in report %d and in report %d: shards must not overlap", s.ID, j+1, i+1)
			}
			from[s.ID] = i
			ss = append(ss, s)
		}
		for _, c := range r.Clauses {
			if !seenClause[c.ID] {
				seenClause[c.ID] = true
				defs = append(defs, c)
			}
		}
		suiteErrs = append(suiteErrs, r.SuiteErrors...)
		if !m.Start.IsZero() && (meta.Start.IsZero() || m.Start.Before(meta.Start)) {
			meta.Start = m.Start
		}
		if e := m.Start.Add(m.Duration); e.After(end) {
			end = e
		}
		if !slices.Contains(filters, m.LabelFilter) {
			filters = append(filters, m.LabelFilter)
		}
	}
	if len(filters) > 1 {
		meta.LabelFilter = joinFilters(filters)
	}
	meta.Duration = time.Duration(0)
	if !meta.Start.IsZero() && end.After(meta.Start) {
		meta.Duration = end.Sub(meta.Start)
	}
	slices.SortStableFunc(ss, func(a, b Scenario) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return normalized(assembleRun(meta, ss, suiteErrs, defs)), nil
}

// joinFilters is the label filter of merged shards: each shard's filter in parentheses
// ("(all)" for none), joined by ||.
func joinFilters(fs []string) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		if f == "" {
			f = "all"
		}
		parts[i] = "(" + f + ")"
	}
	return strings.Join(parts, " || ")
}
