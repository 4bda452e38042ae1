package main

import (
	"fmt"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/suite"
)

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
