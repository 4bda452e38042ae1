package suite

import (
	"encoding/json"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/scenarios"
)

// ResultOf returns the scenarios.Result attached to a spec's report (the EntryName entry), as
// found in a live report or in one read back from Ginkgo's JSON report. ok is false for specs
// that did not run their scenario (filtered out, dry run, setup failed).
func ResultOf(spec types.SpecReport) (res scenarios.Result, ok bool) {
	for _, e := range spec.ReportEntries {
		if e.Name != EntryName {
			continue
		}
		if raw := e.GetRawValue(); raw != nil {
			if r, isEntry := raw.(resultEntry); isEntry {
				return r.Result, true
			}
		}
		if e.Value.AsJSON != "" && json.Unmarshal([]byte(e.Value.AsJSON), &res) == nil {
			return res, true
		}
	}
	return scenarios.Result{}, false
}

// RunInfoOf returns the RunInfo the suite setup attached to a suite's report (the
// SetupEntryName entry of its SynchronizedBeforeSuite).
func RunInfoOf(report types.Report) (info RunInfo, ok bool) {
	for _, spec := range report.SpecReports {
		if !spec.LeafNodeType.Is(types.NodeTypeSynchronizedBeforeSuite) {
			continue
		}
		for _, e := range spec.ReportEntries {
			if e.Name != SetupEntryName {
				continue
			}
			if raw, isInfo := e.GetRawValue().(RunInfo); isInfo {
				return raw, true
			}
			if e.Value.AsJSON != "" && json.Unmarshal([]byte(e.Value.AsJSON), &info) == nil {
				return info, true
			}
		}
	}
	return RunInfo{}, false
}
