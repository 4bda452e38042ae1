package result

// Finding is one failed check: which clause, how strong, what the clause requires, what was
// expected and what came back.
type Finding struct {
	// Clause is the ID of the clause the check enforces; "" for a failure of the scenario
	// itself (a transport error, a panic, a time-out).
	Clause string `json:"clause"`
	// Level is the clause's level (the scenario's for a failure of the scenario itself).
	Level Level `json:"level"`
	// Requirement is the clause in words.
	Requirement string `json:"requirement"`
	Expected    string `json:"expected"`
	Got         string `json:"got"`
	// Detail is what the finding says beyond its clause, requirement, expected, got and
	// step (may be empty).
	Detail string `json:"detail"`
	// Message is the whole finding as text, ready to print.
	Message string `json:"message"`
	// Step and Session name the exchange that showed the failure, when one did.
	Step    string `json:"step"`
	Session string `json:"session"`
	// Engine is true when the finding is a failure of the harness itself, not of the target
	// (a panic in the scenario's steps, a broken harness backend, an invalid configuration):
	// the scenario's verdict is then ERROR.
	Engine bool `json:"engine"`
}

// String returns the message.
func (f Finding) String() string { return f.Message }
