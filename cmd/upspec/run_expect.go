package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/suite"
)

// registerExpectFlag adds --expect to the flags of `upspec run`.
func registerExpectFlag(fs *pflag.FlagSet, arg *string) {
	fs.StringVar(arg, "expect", "", "expected deviations: an expectations `FILE` or a built-in list ("+
		strings.Join(scenarios.BuiltinExpectations(), ", ")+"); a listed scenario that fails is KNOWN and does not fail "+
		"the run, a listed scenario that passes is STALE and does")
}

// loadExpect reads --expect ("" = none).
func loadExpect(arg string) (*scenarios.Expectations, error) {
	if arg == "" {
		return nil, nil
	}
	e, err := scenarios.LoadExpectations(arg)
	if err != nil {
		return nil, fmt.Errorf("--expect: %w", err)
	}
	return e, nil
}

// expectLine is one listed scenario of the run and how it came out.
type expectLine struct {
	outcome scenarios.ExpectOutcome
	verdict scenarios.Verdict
	entry   scenarios.Expectation
}

// classifyExpected returns the listed scenarios that ran, KNOWN and STALE, sorted by ID.
func classifyExpected(reports []types.Report, exp *scenarios.Expectations) []expectLine {
	if exp == nil {
		return nil
	}
	var out []expectLine
	for _, r := range reports {
		for _, spec := range r.SpecReports {
			if spec.LeafNodeType != types.NodeTypeIt {
				continue
			}
			res, ok := suite.ResultOf(spec)
			if !ok {
				continue
			}
			if o, x := exp.Classify(res); o != scenarios.ExpectNone {
				out = append(out, expectLine{outcome: o, verdict: res.Verdict, entry: x})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].entry.ScenarioID < out[j].entry.ScenarioID })
	return out
}

// printExpected prints the KNOWN and STALE scenarios of the run, one line each.
func printExpected(w io.Writer, exp *scenarios.Expectations, lines []expectLine) {
	if exp == nil {
		return
	}
	known, stale := 0, 0
	for _, l := range lines {
		if l.outcome == scenarios.ExpectKnown {
			known++
		} else {
			stale++
		}
	}
	fmt.Fprintf(w, "\nexpected deviations (%s): %d known, %d stale\n", exp.Name, known, stale)
	for _, l := range lines {
		switch l.outcome {
		case scenarios.ExpectKnown:
			fmt.Fprintf(w, "  KNOWN  %-10s %s\n", l.verdict, l.entry.Describe())
		case scenarios.ExpectStale:
			fmt.Fprintf(w, "  STALE  %-10s %s: listed but passed; remove it from %s\n", l.verdict, l.entry.Describe(), exp.Name)
		}
	}
}
