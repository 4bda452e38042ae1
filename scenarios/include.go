package scenarios

import "github.com/upspec/upspec/scenarios/clause"

// Include adds what another run recorded (a Result of Run) to t: its findings, the clauses
// it checked, its notes and its exchanges, as if t had recorded them. A scenario that runs
// sub-scenarios of its own (the random schedules) reports the evidence of the one that
// matters this way; it declares the clauses the sub-scenarios check.
func (t *T) Include(r Result) {
	for _, id := range r.Checked {
		t.ran(clause.ID(id))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.findings = append(t.findings, r.Findings...)
	t.notes = append(t.notes, r.Notes...)
	t.exchanges = append(t.exchanges, r.Exchanges...)
}
