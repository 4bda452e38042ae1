package scenarios_test

import (
	"testing"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
)

// TestBuiltinExpectations: every built-in list of expected deviations names scenarios of the
// catalogue, and none whose level is INFO (an INFO scenario can never fail).
func TestBuiltinExpectations(t *testing.T) {
	var ids []string
	for _, s := range scenarios.All() {
		ids = append(ids, s.ID)
	}
	for _, name := range expect.Builtin() {
		e, err := expect.Load(name, ids)
		if err != nil {
			t.Fatalf("expect.Load(%s): %v", name, err)
		}
		for _, x := range e.Entries {
			s, _ := scenarios.ScenarioByID(x.ID)
			if s.Level() == scenarios.INFO {
				t.Errorf("%s lists INFO scenario %s, which can never fail", name, x.ID)
			}
		}
	}
}
