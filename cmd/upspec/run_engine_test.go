package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
)

// TestFinishRunEngineError: a scenario in which the harness failed (a panic outside the
// target's answers) is an engine error: exit status 2, its own count, not a FAIL.
func TestFinishRunEngineError(t *testing.T) {
	spec := func(id string, state types.SpecState, msg string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: id, LeafNodeLabels: []string{result.IDLabel(id)},
			State: state, Failure: types.Failure{Message: msg, ForwardedPanic: msg}}
	}
	tests := []struct {
		name  string
		specs []types.SpecReport
		code  int
		last  string
	}{
		{"a panic in the harness", []types.SpecReport{spec("RS-01", types.SpecStatePanicked, "runtime error: nil map")},
			exitUsage, "0 passed, 0 failed, 1 engine error"},
		{"a failure of the target", []types.SpecReport{spec("RS-01", types.SpecStateFailed, "expected 201")},
			exitNotConform, "0 passed, 1 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			rep := types.Report{SuiteSucceeded: false, SpecReports: tt.specs}
			code := finishRun(&out, &errb, reports.Console{W: &out}, runMeta{Target: "http://127.0.0.1:9/upload"}, []types.Report{rep})
			if code != tt.code || lastLine(out.String()) != tt.last {
				t.Errorf("exit %d, last line %q; want %d, %q\n%s%s", code, lastLine(out.String()), tt.code, tt.last, out.String(), errb.String())
			}
			if tt.code == exitUsage && !strings.Contains(out.String(), "Engine errors (the harness failed, not the target): 1") {
				t.Errorf("the summary does not set the engine error apart:\n%s", out.String())
			}
		})
	}
}
