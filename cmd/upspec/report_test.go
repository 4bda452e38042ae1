package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// sampleResults are two scenarios: RS-01 passes with the given Range list, CP-01 has the
// given verdict.
func sampleResults(rangeList string, cp result.Verdict) []scenarios.Result {
	ex := func(step string, status int, rng string) result.Exchange {
		r := &result.Response{Status: status, StatusLine: "HTTP/1.1 " + map[int]string{201: "201 Created", 200: "200 OK"}[status]}
		if rng != "" {
			r.Headers = []result.Header{{Name: "Range", Value: rng}}
			r.Body = rng
		}
		return result.Exchange{Step: step, Session: "r1-X-1", Outcome: result.OutcomeAnswered, Response: r,
			Request: result.Request{Method: "POST", Target: "/upload", Proto: "HTTP/1.1", BodyLen: 6, BodySent: 6, PatternBody: true,
				Headers: []result.Header{{Name: "X-Content-Range", Value: "bytes 0-5/24"}, {Name: "X-Session-ID", Value: "r1-X-1"}}}}
	}
	cpRes := scenarios.Result{ScenarioID: "CP-01", Verdict: cp, Duration: time.Millisecond,
		Exchanges: []result.Exchange{ex("first half", 201, "0-11/24"), ex("second half", 200, "")}}
	if cp == result.Fail {
		cpRes.Findings = []result.Finding{{Clause: "ack.201-while-incomplete", Level: scenarios.MUST, Expected: "201", Got: "200", Step: "first half", Session: "r1-X-1"}}
		cpRes.Exchanges[0] = ex("first half", 200, "")
	}
	return []scenarios.Result{
		{ScenarioID: "RS-01", Verdict: result.Pass, Duration: time.Millisecond,
			Exchanges: []result.Exchange{ex("segment A", 201, rangeList)}},
		cpRes,
	}
}

func writeRun(t *testing.T, dir, name string, results []scenarios.Result) string {
	t.Helper()
	run := reports.FromResults(reports.Meta{Target: "http://127.0.0.1:8080/upload", RunID: "r1"}, results)
	p := filepath.Join(dir, name)
	if err := reports.WriteJSONFile(p, run); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReportRender(t *testing.T) {
	dir := t.TempDir()
	failing := writeRun(t, dir, "failing.json", sampleResults("0-5/24", result.Fail))
	passing := writeRun(t, dir, "passing.json", sampleResults("0-5/24", result.Pass))
	junit := filepath.Join(dir, "junit.xml")
	html := filepath.Join(dir, "out.html")
	md := filepath.Join(dir, "out.md")
	repro := filepath.Join(dir, "repro")

	tests := []struct {
		name       string
		args       []string
		stdout     []string
		files      map[string]string // path: text it must hold
		lastStdout string
	}{
		{name: "html", args: []string{"--html", html, failing}, files: map[string]string{html: "1 passed, 1 failed"}},
		{name: "markdown file", args: []string{"--markdown", md, failing}, files: map[string]string{md: "### Failures"}},
		{name: "markdown stdout", args: []string{"--markdown", "-", failing}, stdout: []string{"## upspec: ❌ not conforming", "ack.201-while-incomplete"}},
		{name: "reproducers", args: []string{"--reproducers", repro, failing}, stdout: []string{"reproducers: 1 written to " + repro,
			"reproducer: " + filepath.Join(repro, "repro-r1-CP-01.sh")},
			files: map[string]string{filepath.Join(repro, "repro-r1-CP-01.sh"): "#!/bin/sh"}},
		{name: "no reproducers", args: []string{"--reproducers", repro, passing}, stdout: []string{"reproducers: none written to " + repro +
			": no check failed"}},
		{name: "junit", args: []string{"--junit", junit, failing}, files: map[string]string{junit: `failures="1"`}},
		{name: "summary", args: []string{"--no-color", failing}, stdout: []string{"Failures: 1 FAIL", "by family"}, lastStdout: "1 passed, 1 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := callCmd(t, "report", tt.args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for p, w := range tt.files {
				data, err := os.ReadFile(p)
				if err != nil || !strings.Contains(string(data), w) {
					t.Errorf("%s: %v, lacks %q", p, err, w)
				}
			}
			if tt.lastStdout != "" {
				lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
				if last := lines[len(lines)-1]; last != tt.lastStdout {
					t.Errorf("last line %q, want %q", last, tt.lastStdout)
				}
			}
		})
	}
}

func TestReportReadsGinkgoJSON(t *testing.T) {
	dir := t.TempDir()
	var specs types.SpecReports
	for _, r := range sampleResults("0-5/24", result.Fail) {
		specs = append(specs, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: r.ScenarioID, LeafNodeLabels: []string{result.IDLabel(r.ScenarioID)}, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{{Name: result.EntryName, Value: types.WrapEntryValue(r)}}})
	}
	data, err := json.Marshal([]types.Report{{SpecReports: specs, SuiteSucceeded: false}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ginkgo.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := callCmd(t, "report", "--markdown", "-", p)
	if code != exitOK || !strings.Contains(out, "CP-01") || !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
}

func TestReportDiff(t *testing.T) {
	dir := t.TempDir()
	ref := writeRun(t, dir, "reference.json", sampleResults("0-5/24", result.Pass))
	same := writeRun(t, dir, "same.json", sampleResults("0-5/24", result.Pass))
	compact := writeRun(t, dir, "compact.json", sampleResults("0-5,6-6/24", result.Pass))
	broken := writeRun(t, dir, "broken.json", sampleResults("0-5/24", result.Fail))

	tests := []struct {
		name string
		a, b string
		code int
		want []string
	}{
		{"no difference", ref, same, exitOK, []string{"No differences"}},
		{"both pass, answers differ", ref, compact, exitNotConform, []string{
			"RS-01", "[PASS -> PASS]", "1. segment A", "A: 201 Created, Range: 0-5/24", "B: 201 Created, Range: 0-5,6-6/24",
			"0 verdict(s) changed, 0 with the same verdict but other findings, 1 with the same verdict and findings but other answers"}},
		{"verdict changed", ref, broken, exitNotConform, []string{
			"Verdicts changed (1):", "CP-01  PASS       -> FAIL", "A: 201 Created, Range: 0-11/24", "B: 200 OK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := callCmd(t, "report", "--diff", tt.a, tt.b)
			if code != tt.code || errOut != "" {
				t.Errorf("exit %d (want %d), stderr %q", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestReportRejectsOtherJSON(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"other version", `{"schema_version": 99}`, "schema version 99"},
		{"not a report", `{"hello": 1}`, "no schema_version"},
		{"garbage", `<html>`, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := callCmd(t, "report", p)
			if code != exitUsage || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errOut, tt.want)
			}
		})
	}
}

func TestReportMerge(t *testing.T) {
	dir := t.TempDir()
	all := sampleResults("0-5/24", result.Fail)
	a := writeRun(t, dir, "a.json", all[:1])
	b := writeRun(t, dir, "b.json", all[1:])
	merged := filepath.Join(dir, "merged.json")
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"report", "--merge", merged, a, b}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "merged 2 reports (2 scenarios) into "+merged+": 1 passed, 1 failed") {
		t.Errorf("stdout: %s", stdout.String())
	}
	run, err := reports.ReadJSONFile(merged)
	if err != nil || run.Counts.Total != 2 || run.Counts.Failed != 1 || run.Meta.RunID != "r1" {
		t.Fatalf("merged: %+v, %v", run, err)
	}

	other := filepath.Join(dir, "other.json")
	r := reports.FromResults(reports.Meta{Target: "http://127.0.0.1:9999/upload", RunID: "r1"}, all[:1])
	if err := reports.WriteJSONFile(other, r); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"other target", []string{a, other}, `has target "http://127.0.0.1:9999/upload", report 1 has "http://127.0.0.1:8080/upload": not shards of one run`},
		{"overlap", []string{a, a}, "scenario RS-01 is in report 1 and in report 2"},
		{"one report", []string{a}, "--merge needs the reports of at least two shards"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout.Reset()
			stderr.Reset()
			code := dispatch(append([]string{"report", "--merge", filepath.Join(dir, "x.json")}, tt.args...), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}
