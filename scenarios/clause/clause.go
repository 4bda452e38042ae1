// Package clause names the clauses of the catalogue (package scenarios) by typed constants, so
// that a check, a scenario's clause list or a matcher cannot name a clause that does not exist:
// a misspelt name does not compile. The constants are generated from the catalogue
// (scenarios/clauses.go) by `go generate ./scenarios/clause`; a test fails when ids.go is not
// current.
package clause

//go:generate go run ../../internal/clausegen/cmd/clausegen -catalogue ../clauses.go -out ids.go

// ID is the stable identifier of a clause, e.g. "ack.list-exact". It never changes when the
// clause's title, level or place in the catalogue changes; checks and reports key on it.
type ID string

// String returns the ID as text.
func (id ID) String() string { return string(id) }

// Strings returns the IDs as text, in order (for the string-keyed result model).
func Strings(ids ...ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// Known reports whether id is a clause of the catalogue.
func Known(id ID) bool {
	for _, k := range All() {
		if k == id {
			return true
		}
	}
	return false
}
