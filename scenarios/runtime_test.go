package scenarios

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
)

// runConfig is a configuration whose target is never contacted.
func runConfig() Config {
	return Config{Target: &url.URL{Scheme: "http", Host: "127.0.0.1:9", Path: "/upload"}, RunID: "test"}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		clauses   []string
		strict    bool
		steps     func(t *T)
		want      result.Verdict
		findings  int
		notes     int
		msgHas    string
		skipWhy   string
		noteHas   string
		unreached bool // a step after a stop must not run
	}{
		{name: "pass", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			t.Check("ack.list-exact", true, "x", "x")
		}, want: result.Pass},
		{name: "MUST check fails", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			t.Check("ack.list-exact", false, "0-5/24", "0-4/24")
		}, want: result.Fail, findings: 1, msgHas: "ack.list-exact (MUST)"},
		{name: "SHOULD check fails", clauses: []string{"ack.list-canonical"}, steps: func(t *T) {
			t.Check("ack.list-canonical", false, "0-15/24", "0-5/24,6-15/24")
		}, want: result.NonStrict, findings: 1, msgHas: "Expected: 0-15/24\n  Got: 0-5/24,6-15/24"},
		{name: "SHOULD check fails, strict", clauses: []string{"ack.list-canonical"}, strict: true, steps: func(t *T) {
			t.Fail("ack.list-canonical", "a", "b")
		}, want: result.Fail, findings: 1},
		{name: "INFO check becomes a note", clauses: []string{"ack.list-format"}, steps: func(t *T) {
			t.Check("ack.list-format", false, "module form", "compact form")
			t.Note("observed %d", 1)
		}, want: result.Info, notes: 2, noteHas: "compact form"},
		{name: "panic is recovered", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			var s []int
			_ = s[len(t.Scenario().ID)]
		}, want: result.Error, findings: 1, msgHas: "scenario panicked: runtime error: index out of range"},
		{name: "an engine error is ERROR, not FAIL", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			t.EngineError("the harness backend answered %d", 500)
			panic("unreached")
		}, want: result.Error, findings: 1, msgHas: "harness error: the harness backend answered 500"},
		{name: "Fatal stops", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			t.Fatal("cannot go on: %s", "no target")
			panic("unreached")
		}, want: result.Fail, findings: 1, msgHas: "cannot go on: no target"},
		{name: "Fatal in an INFO scenario is a note", clauses: []string{"ack.list-format"}, steps: func(t *T) {
			t.Fatal("nothing to observe")
		}, want: result.Info, notes: 1, noteHas: "nothing to observe"},
		{name: "Require stops", clauses: []string{"ack.list-exact"}, steps: func(t *T) {
			t.Require("ack.list-exact", false, "a", "b")
			panic("unreached")
		}, want: result.Fail, findings: 1},
		{name: "Skip", clauses: []string{"ses.multi-address"}, steps: func(t *T) {
			t.Skip("target not on loopback")
			panic("unreached")
		}, want: result.Skipped, skipWhy: "target not on loopback"},
		{name: "no steps", clauses: []string{"ack.list-exact"}, want: result.Error, findings: 1, msgHas: "has no steps"},
		{name: "unknown clause counts as MUST", clauses: []string{"ack.list-canonical"}, steps: func(t *T) {
			t.Fail("zz.unknown", "a", "b")
		}, want: result.Fail, findings: 1, msgHas: "not in the catalogue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := runConfig()
			cfg.Strict = tc.strict
			s := Scenario{ID: "XX-01", Title: tc.name, Family: "test", Clauses: tc.clauses, Run: tc.steps}
			r := Run(context.Background(), cfg, s)
			if r.Verdict != tc.want || len(r.Findings) != tc.findings || len(r.Notes) != tc.notes {
				t.Fatalf("verdict %s, %d findings, %d notes; want %s, %d, %d\n%s\nnotes: %q",
					r.Verdict, len(r.Findings), len(r.Notes), tc.want, tc.findings, tc.notes, r.Message(), r.Notes)
			}
			if tc.msgHas != "" && !strings.Contains(r.Message(), tc.msgHas) {
				t.Errorf("message %q does not contain %q", r.Message(), tc.msgHas)
			}
			if tc.noteHas != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tc.noteHas) {
				t.Errorf("notes %q do not contain %q", r.Notes, tc.noteHas)
			}
			if r.SkipReason != tc.skipWhy {
				t.Errorf("skip reason %q, want %q", r.SkipReason, tc.skipWhy)
			}
			if r.ScenarioID != "XX-01" || r.Title != tc.name || r.Duration <= 0 {
				t.Errorf("result header %+v", r)
			}
		})
	}
}

func TestRunIsBoundedByContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := Scenario{ID: "XX-02", Clauses: []string{"ack.list-exact"}, Run: func(t *T) {
		<-release // ignores its context: Run must still return
		t.Note("late note")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Run(ctx, runConfig(), s)
	// Run must return after its grace period although the steps never do; the bound here only
	// keeps a broken Run from hanging the test.
	if d := time.Since(start); d > runGrace+time.Minute {
		t.Errorf("Run took %v", d)
	}
	if r.Verdict != result.Fail || !strings.Contains(r.Message(), "did not finish in time") {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Message())
	}
}

func TestRunStopsAtContextEnd(t *testing.T) {
	s := Scenario{ID: "XX-03", Clauses: []string{"ack.list-exact"}, Run: func(t *T) {
		<-t.Context().Done()
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Run(ctx, runConfig(), s)
	if time.Since(start) > time.Minute || r.Verdict != result.Fail {
		t.Fatalf("verdict %s after %v", r.Verdict, time.Since(start))
	}
	if r := Run(ctx, runConfig(), s); !strings.Contains(r.Message(), "scenario not run") {
		t.Errorf("ended context: %s", r.Message())
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	r := Run(context.Background(), Config{RunID: "bad id"}, Scenario{ID: "XX-04", Run: func(*T) {}})
	if r.Verdict != result.Error || !strings.Contains(r.Message(), "no target URL") || !strings.Contains(r.Message(), "run ID") {
		t.Fatalf("verdict %s: %s", r.Verdict, r.Message())
	}
}

func TestResultJSON(t *testing.T) {
	r := Run(context.Background(), runConfig(), Scenario{ID: "XX-05", Clauses: []string{"ack.list-canonical"}, Run: func(t *T) {
		t.Fail("ack.list-canonical", "a", "b")
	}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"scenario_id":"XX-05"`, `"verdict":"NON-STRICT"`, `"level":"SHOULD"`, `"clause":"ack.list-canonical"`, `"skip_reason"`} {
		if want == `"skip_reason"` {
			if strings.Contains(string(b), want) {
				t.Errorf("empty skip reason written: %s", b)
			}
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || back.Findings[0].Level != SHOULD {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestConfig(t *testing.T) {
	u, _ := url.Parse("http://localhost:8080/upload")
	c := Config{Target: u}.WithDefaults()
	if c.RequestTimeout != DefaultRequestTimeout || c.SegmentSize != DefaultSegmentSize || c.RunID == "" || !c.Loopback {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for _, host := range []string{"127.0.0.1", "127.3.2.1", "::1", "[::1]", "LOCALHOST"} {
		if !IsLoopbackHost(host) {
			t.Errorf("%s not loopback", host)
		}
	}
	for _, host := range []string{"example.com", "10.0.0.1", ""} {
		if IsLoopbackHost(host) {
			t.Errorf("%s loopback", host)
		}
	}
	bad := Config{Target: &url.URL{Scheme: "ftp", Host: "x"}, RunID: "a.b", FinalStatus: 404, FileURL: "http://x/file",
		Headers: []result.Header{{Name: "Bad Name", Value: "v"}}}
	err := bad.Validate()
	for _, want := range []string{"scheme", "run ID", "final status", "no {name}", "Bad Name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want %q", err, want)
		}
	}
	if got := c.FileURLFor("a b.txt"); got != "" {
		t.Errorf("no template: %q", got)
	}
	c.FileURL = "http://127.0.0.1:1/file/{name}"
	if got := c.FileURLFor("a b.txt"); got != "http://127.0.0.1:1/file/a%20b.txt" {
		t.Errorf("FileURLFor = %q", got)
	}
	h, err := ParseHeader("Authorization:  Bearer t ")
	if err != nil || h != (result.Header{Name: "Authorization", Value: "Bearer t"}) {
		t.Errorf("ParseHeader = %+v, %v", h, err)
	}
	if _, err := ParseHeader("no colon"); err == nil {
		t.Error("ParseHeader accepted a line without a colon")
	}
}
