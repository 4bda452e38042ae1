package main

import (
	"fmt"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
)

// loadExpect reads --expect ("" = none).
func loadExpect(arg string) (*expect.List, error) {
	if arg == "" {
		return nil, nil
	}
	e, err := expect.Load(arg, scenarioIDs())
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
