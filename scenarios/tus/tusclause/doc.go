// Package tusclause names the clauses of the tus catalogue (package scenarios/tus) by typed
// constants of type clause.ID, so that a check cannot name a clause that does not exist. The
// constants are generated from the catalogue (scenarios/tus/clauses.go) by
// `go generate ./scenarios/tus/tusclause`; a test fails when ids.go is not current.
package tusclause

//go:generate go run ../../../internal/clausegen/cmd/clausegen -catalogue ../clauses.go -out ids.go -package tusclause -source scenarios/tus/clauses.go -trim tus. -clause-import github.com/upspec/upspec/scenarios/clause
