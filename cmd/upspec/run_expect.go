package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/scenarios/tus"
	"github.com/upspec/upspec/suite"
)

// registerExpectFlag adds --expect to the flags of `upspec run`.
func registerExpectFlag(fs *pflag.FlagSet, arg *string) {
	fs.StringVar(arg, "expect", "", "expected deviations: an expectations `FILE` or a built-in list ("+
		strings.Join(expect.Builtin(), ", ")+"; with --protocol tus: "+strings.Join(tus.BuiltinExpectations(), ", ")+"); a listed scenario that fails is KNOWN and does not fail "+
		"the run, a listed scenario that passes is STALE and does")
}

// loadExpect reads --expect ("" = none) for the protocol of cfg.
func loadExpect(arg string, cfg *suite.Config) (*expect.List, error) {
	if arg == "" {
		return nil, nil
	}
	e, err := cfg.LoadExpectations(arg)
	if err != nil {
		return nil, fmt.Errorf("--expect: %w", err)
	}
	return e, nil
}

// scenarioIDs returns the IDs of the scenarios of the catalogue, which a list of expected
// deviations may name.
func scenarioIDs() []string {
	var ids []string
	for _, s := range scenarios.All() {
		ids = append(ids, s.ID)
	}
	return ids
}
