package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/scenarios"
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
