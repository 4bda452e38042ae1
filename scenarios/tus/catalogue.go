// Package tus is the suite's second protocol: the scenarios of tus 1.0.0 (the core protocol
// and its extensions creation, creation-defer-length, creation-with-upload, expiration,
// checksum, termination and concatenation), with their own catalogue of clauses, families and
// expectation lists. They run on the protocol-neutral runtime of package scenarios: its raw
// wire client (exact bytes, 100 Continue gates, interruptions), its T and Run, and the result
// model of package reports/result. A scenario of an extension the server does not announce in
// Tus-Extension is SKIPPED with that reason.
//
// The target is the creation URL (the URL a POST creates uploads at, e.g.
// http://127.0.0.1:8080/files/).
package tus

import (
	"embed"
	"io/fs"
	"sort"

	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/expect"
)

// Protocol is the protocol's name, as `upspec run --protocol` takes it.
const Protocol = "tus"

// Families returns the tus scenario families, in listing order. Their names and prefixes
// differ from the nginx protocol's.
func Families() []scenarios.Family {
	return []scenarios.Family{
		{Name: "tus-options", Prefix: "TO", Title: "tus: OPTIONS, Tus-Resumable and versions"},
		{Name: "tus-head", Prefix: "TH", Title: "tus: HEAD and unknown uploads"},
		{Name: "tus-patch", Prefix: "TP", Title: "tus: PATCH, offsets, interruptions and races"},
		{Name: "tus-creation", Prefix: "TC", Title: "tus: creation, deferred length, metadata, maximum size, creation with upload"},
		{Name: "tus-expiration", Prefix: "TE", Title: "tus: expiration"},
		{Name: "tus-checksum", Prefix: "TK", Title: "tus: checksum"},
		{Name: "tus-termination", Prefix: "TT", Title: "tus: termination"},
		{Name: "tus-concatenation", Prefix: "TN", Title: "tus: concatenation"},
	}
}

// LabelTus is the label every tus scenario carries besides its family.
const LabelTus = "tus"

// All returns every tus scenario, sorted by ID, each with Lookup set to the tus catalogue
// and the label LabelTus. The slice is a fresh copy on every call.
func All() []scenarios.Scenario {
	var all []scenarios.Scenario
	for _, part := range [][]scenarios.Scenario{
		optionsScenarios(),
		headScenarios(),
		patchScenarios(),
		creationScenarios(),
		extensionScenarios(),
		concatenationScenarios(),
	} {
		all = append(all, part...)
	}
	for i := range all {
		all[i].Lookup = ClauseByID
		all[i].Labels = append([]string{LabelTus}, all[i].Labels...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}

// ScenarioByID returns the tus scenario with the given ID.
func ScenarioByID(id string) (scenarios.Scenario, bool) {
	for _, s := range All() {
		if s.ID == id {
			return s, true
		}
	}
	return scenarios.Scenario{}, false
}

// Validate checks the tus catalogue and scenarios by the rules of scenarios.Validate.
func Validate() error { return scenarios.ValidateProtocol(Families(), Catalogue(), All()) }

// CatalogueMarkdown renders the tus clauses and scenarios as the document kept at
// docs/tus-clauses.md.
func CatalogueMarkdown() string {
	return scenarios.RenderCatalogue(scenarios.CatalogueDoc{
		Title:      "tus 1.0 clause catalogue",
		Regenerate: "package `scenarios/tus` (`go test ./scenarios/tus -run TestCatalogueDoc -update`)",
		Families:   Families(),
		Clauses:    Catalogue(),
		Scenarios:  All(),
	})
}

//go:embed expectations/*.txt
var builtinExpectationFiles embed.FS

// builtinLists is the directory of the built-in lists.
func builtinLists() fs.FS {
	sub, err := fs.Sub(builtinExpectationFiles, "expectations")
	if err != nil {
		panic(err) // a constant directory of the embedded files
	}
	return sub
}

// BuiltinExpectations returns the names of the built-in expectation lists of tus servers
// (tus-node-server-2, tusd-v2).
func BuiltinExpectations() []string { return expect.Names(builtinLists()) }

// LoadExpectations returns the built-in list named arg, or else parses the file at path arg,
// its entries checked against All().
func LoadExpectations(arg string) (*expect.List, error) {
	var ids []string
	for _, s := range All() {
		ids = append(ids, s.ID)
	}
	return expect.LoadFrom(builtinLists(), arg, ids)
}
