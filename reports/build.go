package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// Catalogue is what the builders know about scenarios and clauses beyond the results: titles,
// families, clause lists, levels, labels. DefaultCatalogue is the suite's own.
type Catalogue struct {
	Scenarios []scenarios.Scenario
	Clauses   []scenarios.Clause
}

// DefaultCatalogue returns the suite's scenarios (scenarios.All) and clauses
// (scenarios.Catalogue).
func DefaultCatalogue() Catalogue {
	return Catalogue{Scenarios: scenarios.All(), Clauses: scenarios.Catalogue()}
}

// FromResults builds a run from results of scenarios.Run with the default catalogue.
func FromResults(meta Meta, results []scenarios.Result) *Run {
	return DefaultCatalogue().FromResults(meta, results)
}

// FromGinkgo builds a run from Ginkgo's reports with the default catalogue.
func FromGinkgo(meta Meta, reports []types.Report) (*Run, error) {
	return DefaultCatalogue().FromGinkgo(meta, reports)
}

// ScenarioFromResult converts one result with the default catalogue, e.g. for a console
// line as soon as the scenario has finished.
func ScenarioFromResult(r scenarios.Result) Scenario {
	return DefaultCatalogue().Scenario(r)
}

// ScenarioFromSpec converts one finished Ginkgo spec with the default catalogue, e.g. in a
// ReportAfterEach node. ok is false for nodes that are not scenarios (setup nodes).
func ScenarioFromSpec(spec types.SpecReport) (s Scenario, ok bool, err error) {
	return DefaultCatalogue().SpecScenario(spec)
}

// FromResults builds a run from results (e.g. of scenarios.Run called directly).
func (c Catalogue) FromResults(meta Meta, results []scenarios.Result) *Run {
	ss := make([]Scenario, 0, len(results))
	for _, r := range results {
		ss = append(ss, c.Scenario(r))
	}
	if meta.Duration == 0 {
		for _, s := range ss {
			meta.Duration += s.Duration
		}
	}
	return c.assemble(meta, ss, nil)
}

// FromGinkgo builds a run from Ginkgo's reports: the return value of ginkgo's JSON report
// (ReadGinkgoJSON) or the reports a ReportAfterSuite node receives. Every It that carries a
// result.EntryName entry becomes a scenario; an It without one (it panicked or timed out
// before the scenario could report) but with a result.IDLabel becomes a scenario whose
// verdict follows Ginkgo's state; failed
// setup nodes and special failure reasons become SuiteErrors. Fields of meta left zero are
// taken from the reports (start, duration, seed, label filter).
func (c Catalogue) FromGinkgo(meta Meta, reports []types.Report) (*Run, error) {
	var ss []Scenario
	var suiteErrs []string
	var start, end time.Time
	for _, rep := range reports {
		if start.IsZero() || (!rep.StartTime.IsZero() && rep.StartTime.Before(start)) {
			start = rep.StartTime
		}
		if rep.EndTime.After(end) {
			end = rep.EndTime
		}
		if meta.Seed == 0 {
			meta.Seed = rep.SuiteConfig.RandomSeed
		}
		if meta.LabelFilter == "" {
			meta.LabelFilter = rep.SuiteConfig.LabelFilter
		}
		for _, spec := range rep.SpecReports {
			s, ok, err := c.SpecScenario(spec)
			if err != nil {
				return nil, err
			}
			if ok {
				ss = append(ss, s)
				continue
			}
			if info, found := setupOf(spec); found {
				if meta.Target == "" {
					meta.Target, meta.Embedded = info.Target, info.Embedded
				}
				if meta.RunID == "" {
					meta.RunID = info.RunID
				}
				meta.Strict = meta.Strict || info.Strict
			}
			if spec.State.Is(types.SpecStateFailureStates) {
				suiteErrs = append(suiteErrs, fmt.Sprintf("%s: %s", spec.LeafNodeType, oneLine(spec.Failure.Message)))
			}
		}
		suiteErrs = append(suiteErrs, rep.SpecialSuiteFailureReasons...)
		if !rep.SuiteSucceeded && len(suiteErrs) == 0 && !anyFailed(ss) {
			suiteErrs = append(suiteErrs, "the suite failed outside any scenario")
		}
	}
	if meta.Start.IsZero() {
		meta.Start = start
	}
	if meta.Duration == 0 && !start.IsZero() && end.After(start) {
		meta.Duration = end.Sub(start)
	}
	return c.assemble(meta, ss, suiteErrs), nil
}

func anyFailed(ss []Scenario) bool {
	for _, s := range ss {
		if s.Verdict == result.Fail || s.Verdict == result.Error {
			return true
		}
	}
	return false
}

// SpecScenario converts one Ginkgo spec. ok is false for nodes that are not scenarios (setup
// and teardown nodes, and Its that are not upspec scenarios) and for specs that did not run
// their scenario and did not fail (filtered out, dry run).
func (c Catalogue) SpecScenario(spec types.SpecReport) (s Scenario, ok bool, err error) {
	if spec.LeafNodeType != types.NodeTypeIt {
		return Scenario{}, false, nil
	}
	res, found, err := resultOf(spec)
	if err != nil {
		return Scenario{}, false, err
	}
	if found {
		s = c.Scenario(res)
		if spec.RunTime > 0 && s.Duration == 0 {
			s.Duration = spec.RunTime
		}
		// Ginkgo may have failed the spec after the scenario reported (a timeout in a
		// cleanup node, say): the run must not say PASS for it.
		if spec.State.Is(types.SpecStateFailureStates) && s.Verdict != result.Fail && s.Verdict != result.Error && s.Verdict != result.NotRun {
			s.Verdict = result.Fail
			msg := ginkgoFailure(spec)
			s.Findings = append(s.Findings, result.Finding{Level: s.Level, Detail: msg, Message: msg})
		}
		return s, true, nil
	}
	id, ok := result.IDFromLabels(spec.Labels())
	if !ok {
		return Scenario{}, false, nil
	}
	// Without a result, a spec that passed did not run its scenario (a dry run), and one
	// skipped without a message was filtered out (label filter, focus): not part of the run.
	if spec.State.Is(types.SpecStatePassed) ||
		(spec.State.Is(types.SpecStateSkipped|types.SpecStatePending) && strings.TrimSpace(spec.Failure.Message) == "") {
		return Scenario{}, false, nil
	}
	s = c.Scenario(scenarios.Result{ScenarioID: id, Duration: spec.RunTime})
	if len(s.Labels) == 0 {
		s.Labels = scenarioLabels(spec.Labels())
	}
	switch {
	case spec.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		s.Verdict = result.Skipped
		s.SkipReason = oneLine(spec.Failure.Message)
	default:
		// The spec failed before its scenario could report: a panic outside the scenario's
		// steps is the harness's; a timeout or an interrupt counts against the target.
		s.Verdict = result.Fail
		msg := ginkgoFailure(spec)
		f := result.Finding{Level: s.Level, Detail: msg, Message: msg}
		if spec.State.Is(types.SpecStatePanicked) {
			s.Verdict, f.Engine = result.Error, true
		}
		s.Findings = append(s.Findings, f)
	}
	return s, true, nil
}

// PlannedScenario returns the catalogue's record of a scenario that a dry run selected: an It
// that passed without running its scenario (no result.EntryName entry). ok is false for every other
// spec.
func (c Catalogue) PlannedScenario(spec types.SpecReport) (s Scenario, ok bool) {
	if spec.LeafNodeType != types.NodeTypeIt || !spec.State.Is(types.SpecStatePassed) {
		return Scenario{}, false
	}
	if _, found, _ := resultOf(spec); found {
		return Scenario{}, false
	}
	id, ok := result.IDFromLabels(spec.Labels())
	if !ok {
		return Scenario{}, false
	}
	return c.Scenario(scenarios.Result{ScenarioID: id}), true
}

// scenarioLabels is a spec's labels without its ID label.
func scenarioLabels(labels []string) []string {
	return slices.DeleteFunc(slices.Clone(labels), func(l string) bool { return strings.HasPrefix(l, result.IDLabelPrefix) })
}

func ginkgoFailure(spec types.SpecReport) string {
	msg := oneLine(spec.Failure.Message)
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("ginkgo: spec %s: %s", spec.State, msg)
}

// resultOf finds the result.EntryName entry of a spec and decodes its value: in-process the raw value
// is the Result itself; from a JSON report it is the JSON text in Value.AsJSON.
func resultOf(spec types.SpecReport) (scenarios.Result, bool, error) {
	for _, e := range spec.ReportEntries {
		if e.Name != result.EntryName {
			continue
		}
		switch v := e.Value.GetRawValue().(type) {
		case scenarios.Result:
			return v, true, nil
		case *scenarios.Result:
			if v != nil {
				return *v, true, nil
			}
		}
		data := []byte(e.Value.AsJSON)
		if len(data) == 0 {
			var err error
			if data, err = json.Marshal(e.Value.GetRawValue()); err != nil {
				return scenarios.Result{}, false, fmt.Errorf("report entry %q of %q: encode: %w", result.EntryName, spec.LeafNodeText, err)
			}
		}
		var r scenarios.Result
		if err := json.Unmarshal(data, &r); err != nil {
			return scenarios.Result{}, false, fmt.Errorf("report entry %q of %q: decode: %w", result.EntryName, spec.LeafNodeText, err)
		}
		return r, true, nil
	}
	return scenarios.Result{}, false, nil
}

// Scenario converts one result, with the title, family, clauses, level and labels from the
// catalogue.
func (c Catalogue) Scenario(r scenarios.Result) Scenario {
	s := Scenario{
		ID:         r.ScenarioID,
		Verdict:    r.Verdict,
		Duration:   r.Duration,
		Notes:      slices.Clone(r.Notes),
		SkipReason: r.SkipReason,
		Clauses:    []string{},
		Labels:     []string{},
		Findings:   []result.Finding{},
		Exchanges:  []result.Exchange{},
		Level:      result.INFO,
	}
	if s.Notes == nil {
		s.Notes = []string{}
	}
	if def, ok := c.scenarioDef(r.ScenarioID); ok {
		s.Title = def.Title
		s.Family = def.Family
		s.Clauses = append(s.Clauses, def.Clauses...)
		s.Labels = append(s.Labels, def.AllLabels()...)
		s.Level = c.levelOf(def.Clauses)
	} else {
		// Not in this catalogue (a report of another version): what the result says.
		s.Title, s.Family = r.Title, r.Family
		s.Clauses = append(s.Clauses, r.Clauses...)
		if len(r.Clauses) > 0 || r.Title != "" {
			s.Level = r.Level
		}
	}
	for _, f := range r.Findings {
		if f.Detail == "" {
			f.Detail = findingDetail(f)
		}
		s.Findings = append(s.Findings, f)
	}
	s.Exchanges = append(s.Exchanges, r.Exchanges...)
	s.Checked = append([]string{}, r.Checked...)
	return s
}

func (c Catalogue) scenarioDef(id string) (scenarios.Scenario, bool) {
	for _, s := range c.Scenarios {
		if s.ID == id {
			return s, true
		}
	}
	return scenarios.Scenario{}, false
}

func (c Catalogue) clauseDef(id string) (scenarios.Clause, bool) {
	for _, cl := range c.Clauses {
		if cl.ID == id {
			return cl, true
		}
	}
	return scenarios.Clause{}, false
}

// levelOf is the strongest level among clause IDs (INFO when none is known).
func (c Catalogue) levelOf(ids []string) result.Level {
	lvl := result.INFO
	for _, id := range ids {
		if cl, ok := c.clauseDef(id); ok && cl.Level < lvl {
			lvl = cl.Level
		}
	}
	return lvl
}

// assemble sorts the scenarios, counts verdicts and derives the clause records.
func (c Catalogue) assemble(meta Meta, ss []Scenario, suiteErrs []string) *Run {
	defs := make([]Clause, 0, len(c.Clauses))
	for _, cl := range c.Clauses {
		defs = append(defs, Clause{ID: cl.ID, Level: cl.Level, Section: cl.Section, Title: cl.Title, Text: cl.Text})
	}
	return assembleRun(meta, ss, suiteErrs, defs)
}

// assembleRun sorts the scenarios, counts them and derives a clause record per definition
// in defs (their verdicts and scenarios are ignored), and one per clause that only findings
// name.
func assembleRun(meta Meta, ss []Scenario, suiteErrs []string, defs []Clause) *Run {
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
	run := &Run{
		SchemaVersion: SchemaVersion,
		Meta:          meta,
		Scenarios:     ss,
		Clauses:       []Clause{},
		SuiteErrors:   suiteErrs,
	}
	if run.Scenarios == nil {
		run.Scenarios = []Scenario{}
	}
	if run.SuiteErrors == nil {
		run.SuiteErrors = []string{}
	}
	run.recount()
	byID := map[string]int{}
	addClause := func(cl Clause) int {
		if i, ok := byID[cl.ID]; ok {
			return i
		}
		cl.Scenarios = []ClauseResult{}
		run.Clauses = append(run.Clauses, cl)
		byID[cl.ID] = len(run.Clauses) - 1
		return byID[cl.ID]
	}
	for _, cl := range defs {
		addClause(Clause{ID: cl.ID, Level: cl.Level, Section: cl.Section, Title: cl.Title, Text: cl.Text})
	}
	for _, s := range ss {
		for _, id := range clausesOf(s) {
			i, ok := byID[id]
			if !ok {
				i = addClause(Clause{ID: id, Level: levelOfFindings(s, id), Title: "(not in the catalogue)"})
			}
			run.Clauses[i].Scenarios = append(run.Clauses[i].Scenarios, ClauseResult{
				Scenario: s.ID,
				Verdict:  clauseVerdict(s, id, run.Clauses[i].Level, meta.Strict),
			})
		}
	}
	for i := range run.Clauses {
		run.Clauses[i].Verdict = worst(run.Clauses[i].Scenarios)
	}
	return run
}

// clausesOf lists the clauses a scenario declares, then the ones only its findings name.
func clausesOf(s Scenario) []string {
	ids := slices.Clone(s.Clauses)
	for _, f := range s.Findings {
		if f.Clause != "" && !slices.Contains(ids, f.Clause) {
			ids = append(ids, f.Clause)
		}
	}
	return ids
}

func levelOfFindings(s Scenario, clause string) result.Level {
	for _, f := range s.Findings {
		if f.Clause == clause {
			return f.Level
		}
	}
	return result.MUST
}

// clauseVerdict is the verdict of scenario s for one clause: findings that name the clause
// decide it; a failure that names no clause at all (a transport error, a Ginkgo failure)
// counts against every clause of the scenario; an ERROR scenario says nothing of its clauses
// (ERROR); a clause that the scenario records as not checked (Scenario.Checked) is NOT-RUN;
// otherwise the clause held (PASS, or INFO for an INFO clause): a check that ran is never
// NOT-RUN.
func clauseVerdict(s Scenario, clause string, level result.Level, strict bool) result.Verdict {
	switch s.Verdict {
	case result.Skipped, result.Error, result.NotRun:
		return s.Verdict
	}
	named, unnamed := false, false
	v := result.Verdict("")
	for _, f := range s.Findings {
		switch f.Clause {
		case clause:
			named = true
			fv := result.NonStrict
			if f.Level != result.SHOULD || strict {
				fv = result.Fail
			}
			if v == "" || fv.Rank() < v.Rank() {
				v = fv
			}
		case "":
			unnamed = true
		}
	}
	if named {
		return v
	}
	if unnamed && (s.Verdict == result.Fail || s.Verdict == result.NonStrict) {
		return s.Verdict
	}
	if len(s.Checked) > 0 && !slices.Contains(s.Checked, clause) {
		// The scenario stopped (or was written) so that no check of this clause ran.
		return result.NotRun
	}
	if level == result.INFO {
		return result.Info
	}
	return result.Pass
}

// worst is the worst verdict among rs, or NOT-RUN when rs is empty. Skips count only when
// nothing else ran.
func worst(rs []ClauseResult) result.Verdict {
	v := result.NotRun
	for _, r := range rs {
		if r.Verdict.Rank() < v.Rank() {
			v = r.Verdict
		}
	}
	return v
}

// ReadGinkgoJSON reads a report written by Ginkgo's --json-report.
func ReadGinkgoJSON(path string) ([]types.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ginkgo report: %w", err)
	}
	var reps []types.Report
	if err := json.Unmarshal(data, &reps); err != nil {
		return nil, fmt.Errorf("read ginkgo report %s: %w", path, err)
	}
	return reps, nil
}

// oneLine joins the lines of s with "; " and trims it.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), "; ")
}

// findingDetail is the part of a finding's message that says more than its clause, its
// requirement, Expected, Got and Step: the message the check gave, if any.
func findingDetail(f result.Finding) string {
	lines := strings.Split(f.Message, "\n")
	if f.Clause != "" && len(lines) > 0 && strings.HasPrefix(lines[0], f.Clause) {
		lines = lines[1:]
	}
	var keep []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "", t == strings.TrimSpace(f.Requirement),
			strings.HasPrefix(t, "Expected: "), strings.HasPrefix(t, "Got: "), strings.HasPrefix(t, "Step: "):
			continue
		}
		keep = append(keep, t)
	}
	return strings.Join(keep, "\n")
}

// setupOf decodes the setup entry of a suite setup node.
func setupOf(spec types.SpecReport) (result.RunInfo, bool) {
	for _, e := range spec.ReportEntries {
		if e.Name != result.SetupEntryName {
			continue
		}
		data := []byte(e.Value.AsJSON)
		if len(data) == 0 {
			var err error
			if data, err = json.Marshal(e.Value.GetRawValue()); err != nil {
				continue
			}
		}
		var info result.RunInfo
		if json.Unmarshal(data, &info) == nil {
			return info, true
		}
	}
	return result.RunInfo{}, false
}
