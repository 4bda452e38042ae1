package scenarios

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Scenario is one executable check of the suite: the single source of truth for its ID,
// title, the clauses it checks, its labels and its steps. The Ginkgo spec, `upspec list`,
// the reports and the clause coverage table all read it.
type Scenario struct {
	ID     string // stable, e.g. "RS-03"; the prefix names the family
	Title  string // one line
	Family string // one of Families(), e.g. "range-strings"
	// Clauses are the IDs of every clause it checks (Catalogue), its own and those of the
	// session model that its answers go through; its findings never name another (the suite's
	// tests hold the list to the checks that run, against the reference and broken servers).
	Clauses []string
	// Observes marks a scenario whose point is to record what the server does where the
	// document leaves it open (an INFO clause): when no check fails, its verdict is INFO, not
	// PASS, even though the checks along the way are MUST.
	Observes bool
	Labels   []string // extra labels: "needs-loopback", "needs-file-access", "slow"
	Run      func(t *T)
	// Lookup finds the clauses of the protocol the scenario belongs to (its catalogue); nil
	// means the nginx-upload-module protocol's (ClauseByID). A scenario of another protocol
	// (e.g. package scenarios/tus) sets it, so that its level and findings name its own
	// clauses.
	Lookup func(id string) (Clause, bool)
}

// Clause returns the clause id of the scenario's catalogue (Lookup, else ClauseByID).
func (s Scenario) Clause(id string) (Clause, bool) {
	if s.Lookup != nil {
		return s.Lookup(id)
	}
	return ClauseByID(id)
}

// AllLabels returns the family followed by the extra labels.
func (s Scenario) AllLabels() []string {
	return append([]string{s.Family}, s.Labels...)
}

// Level returns the strongest level among the scenario's clauses (INFO when it names none
// that the catalogue knows).
func (s Scenario) Level() Level {
	lvl := INFO
	for _, id := range s.Clauses {
		if c, ok := s.Clause(id); ok && c.Level < lvl {
			lvl = c.Level
		}
	}
	return lvl
}

// Family is a group of scenarios that share a subject and an ID prefix.
type Family struct {
	Name   string // the label, e.g. "range-strings"
	Prefix string // the scenario ID prefix, e.g. "RS"
	Title  string // a few words for listings
}

// Families returns the fixed list of scenario families, in listing order.
func Families() []Family {
	return []Family{
		{Name: "range-strings", Prefix: "RS", Title: "Range status strings"},
		{Name: "completion", Prefix: "CP", Title: "201 versus the final answer"},
		{Name: "re-upload", Prefix: "RU", Title: "Identical re-uploads"},
		{Name: "probe", Prefix: "PR", Title: "The 2-byte probe and single-byte segments"},
		{Name: "collision", Prefix: "CO", Title: "Colliding session IDs"},
		{Name: "parallel", Prefix: "PA", Title: "Parallel segments"},
		{Name: "headers", Prefix: "HD", Title: "Header aliases, letter case, Content-Disposition, methods"},
		{Name: "body-length", Prefix: "BL", Title: "Body length versus range"},
		{Name: "malformed", Prefix: "MF", Title: "Malformed headers"},
		{Name: "sessions", Prefix: "SS", Title: "Sessions and client addresses"},
		{Name: "robustness", Prefix: "RB", Title: "Interrupted segments and retries after completion"},
		{Name: "backend", Prefix: "BK", Title: "The form handed to the backend"},
	}
}

// Extra labels with a meaning for the runtime and for label filters.
const (
	// LabelNeedsLoopback marks a scenario that binds a second loopback source address; it is
	// skipped when the target is not on loopback.
	LabelNeedsLoopback = "needs-loopback"
	// LabelNeedsFileAccess marks a scenario whose main point needs the completed file
	// (Config.FileURL); without it the byte checks are skipped with a note.
	LabelNeedsFileAccess = "needs-file-access"
	// LabelSlow marks a scenario that sends many requests.
	LabelSlow = "slow"
	// LabelNeedsBackendAccess marks a scenario that reads the form the deployment handed to
	// the harness backend (Config.Backend); it is skipped without one.
	LabelNeedsBackendAccess = "needs-backend-access"
)

// All returns every scenario, sorted by ID. The slice is a fresh copy on every call.
func All() []Scenario {
	var all []Scenario
	for _, part := range [][]Scenario{
		rangeStringScenarios(),
		completionScenarios(),
		reuploadScenarios(),
		probeScenarios(),
		collisionScenarios(),
		parallelScenarios(),
		headerScenarios(),
		contentTypeScenarios(),
		bodyLengthScenarios(),
		malformedScenarios(),
		sessionScenarios(),
		robustnessScenarios(),
		backendScenarios(),
	} {
		all = append(all, part...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}

// ScenarioByID returns the scenario with the given ID (exact match).
func ScenarioByID(id string) (Scenario, bool) {
	for _, s := range All() {
		if s.ID == id {
			return s, true
		}
	}
	return Scenario{}, false
}

// ScenariosForClause returns the IDs of the scenarios that check the clause, sorted.
func ScenariosForClause(clauseID string) []string {
	return scenariosFor(All(), clauseID)
}

// scenariosFor returns the IDs of the scenarios of all that check the clause, in order.
func scenariosFor(all []Scenario, clauseID string) []string {
	var ids []string
	for _, s := range all {
		if slices.Contains(s.Clauses, clauseID) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

var (
	clauseIDPattern   = regexp.MustCompile(`^[a-z]+(\.[a-z0-9]+(-[a-z0-9]+)*){1,2}$`)
	scenarioIDPattern = regexp.MustCompile(`^([A-Z]{2})-([0-9]{2})$`)
	labelPattern      = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
)

// Validate checks the catalogue and the scenario list against the rules every listing and
// report relies on: clause IDs well-formed and unique, with a known level, a section, a title
// and a text; scenario IDs well-formed, unique and prefixed by their family's prefix; a title
// and a Run for every scenario; every clause a scenario names exists; labels are lower-case
// words, not repeated and not a family name; every MUST clause is checked by at least one
// scenario. It returns every problem found, joined.
func Validate(clauses []Clause, scenarios []Scenario) error {
	return ValidateProtocol(Families(), clauses, scenarios)
}

// ValidateProtocol is Validate for the families, clauses and scenarios of any protocol (e.g.
// package scenarios/tus): the same rules; clause IDs are of the form area.words or
// protocol.area.words.
func ValidateProtocol(families []Family, clauses []Clause, scenarios []Scenario) error {
	var errs []error
	known := map[string]Clause{}
	for _, c := range clauses {
		if !clauseIDPattern.MatchString(c.ID) {
			errs = append(errs, fmt.Errorf("clause %q: ID is not of the form area.words", c.ID))
		}
		if _, dup := known[c.ID]; dup {
			errs = append(errs, fmt.Errorf("clause %q: ID appears twice", c.ID))
		}
		known[c.ID] = c
		if c.Level != MUST && c.Level != SHOULD && c.Level != INFO {
			errs = append(errs, fmt.Errorf("clause %q: unknown level %d", c.ID, int(c.Level)))
		}
		if c.Section == "" || c.Title == "" || c.Text == "" {
			errs = append(errs, fmt.Errorf("clause %q: section, title and text are required", c.ID))
		}
	}
	prefixes := map[string]string{}
	for _, f := range families {
		prefixes[f.Name] = f.Prefix
	}
	seen := map[string]bool{}
	covered := map[string]bool{}
	for _, s := range scenarios {
		m := scenarioIDPattern.FindStringSubmatch(s.ID)
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("scenario %q: ID is not of the form XX-NN", s.ID))
		case prefixes[s.Family] == "":
			errs = append(errs, fmt.Errorf("scenario %s: unknown family %q", s.ID, s.Family))
		case m[1] != prefixes[s.Family]:
			errs = append(errs, fmt.Errorf("scenario %s: family %q wants the prefix %s", s.ID, s.Family, prefixes[s.Family]))
		}
		if seen[s.ID] {
			errs = append(errs, fmt.Errorf("scenario %s: ID appears twice", s.ID))
		}
		seen[s.ID] = true
		if strings.TrimSpace(s.Title) == "" {
			errs = append(errs, fmt.Errorf("scenario %s: no title", s.ID))
		}
		if s.Run == nil {
			errs = append(errs, fmt.Errorf("scenario %s: no Run", s.ID))
		}
		if len(s.Clauses) == 0 {
			errs = append(errs, fmt.Errorf("scenario %s: names no clause", s.ID))
		}
		for _, id := range s.Clauses {
			if _, ok := known[id]; !ok {
				errs = append(errs, fmt.Errorf("scenario %s: unknown clause %q", s.ID, id))
			}
			covered[id] = true
		}
		labels := map[string]bool{}
		for _, l := range s.Labels {
			if !labelPattern.MatchString(l) {
				errs = append(errs, fmt.Errorf("scenario %s: label %q is not a lower-case word", s.ID, l))
			}
			if labels[l] || prefixes[l] != "" {
				errs = append(errs, fmt.Errorf("scenario %s: label %q repeats a label or names a family", s.ID, l))
			}
			labels[l] = true
		}
	}
	for _, c := range clauses {
		if c.Level == MUST && !covered[c.ID] {
			errs = append(errs, fmt.Errorf("clause %s (MUST): no scenario checks it", c.ID))
		}
	}
	return errors.Join(errs...)
}

// CatalogueMarkdown renders the clause catalogue and the scenario list as the Markdown
// document kept at docs/clauses.md.
func CatalogueMarkdown() string {
	return RenderCatalogue(CatalogueDoc{
		Title:      "Clause catalogue",
		Regenerate: "package `scenarios` (`go test ./scenarios -run TestCatalogueDoc -update`)",
		Families:   Families(),
		Clauses:    Catalogue(),
		Scenarios:  All(),
	})
}

// CatalogueDoc is what RenderCatalogue renders: one protocol's clauses and scenarios.
type CatalogueDoc struct {
	Title      string // the document's heading
	Regenerate string // where it is generated from and how, e.g. "package `scenarios` (`go test ...`)"
	Families   []Family
	Clauses    []Clause   // in document order
	Scenarios  []Scenario // sorted by ID
}

// RenderCatalogue renders a protocol's clause catalogue and scenario list as Markdown: the
// clauses section by section with the scenarios that check each, then the scenarios family by
// family.
func RenderCatalogue(d CatalogueDoc) string {
	var b strings.Builder
	clauses, all := d.Clauses, d.Scenarios
	counts := map[Level]int{}
	for _, c := range clauses {
		counts[c.Level]++
	}
	fmt.Fprintf(&b, "# %s\n\n", d.Title)
	fmt.Fprintf(&b, "Generated from %s;\n", d.Regenerate)
	b.WriteString("do not edit by hand. Clause IDs are stable: checks and reports key on them.\n\n")
	fmt.Fprintf(&b, "%d clauses (%d MUST, %d SHOULD, %d INFO) and %d scenarios.\n\n",
		len(clauses), counts[MUST], counts[SHOULD], counts[INFO], len(all))
	b.WriteString("Levels: **MUST** fails the run; **SHOULD** is reported as NON-STRICT and fails the run\n")
	b.WriteString("only with `--strict`; **INFO** records what the server does and never fails.\n\n")
	b.WriteString("## Clauses\n")
	section := ""
	for _, c := range clauses {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(&b, "\n### %s\n\n", section)
			b.WriteString("| ID | Level | Clause | Scenarios |\n|---|---|---|---|\n")
		}
		ids := scenariosFor(all, c.ID)
		sc := strings.Join(ids, ", ")
		if sc == "" {
			sc = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | **%s.** %s | %s |\n", c.ID, c.Level, mdCell(c.Title), mdCell(c.Text), sc)
	}
	b.WriteString("\n## Scenarios\n")
	for _, f := range d.Families {
		fmt.Fprintf(&b, "\n### %s (`%s`, %s-NN)\n\n", f.Title, f.Name, f.Prefix)
		b.WriteString("| ID | Level | Scenario | Clauses | Labels |\n|---|---|---|---|---|\n")
		for _, s := range all {
			if s.Family != f.Name {
				continue
			}
			cl := make([]string, len(s.Clauses))
			for i, id := range s.Clauses {
				cl[i] = "`" + id + "`"
			}
			labels := strings.Join(s.Labels, ", ")
			if labels == "" {
				labels = "—"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.ID, s.Level(), mdCell(s.Title), strings.Join(cl, ", "), labels)
		}
	}
	return b.String()
}

// mdCell makes a text safe inside a Markdown table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
