package suite

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"target": "UPSPEC_TARGET", "label-filter": "UPSPEC_LABEL_FILTER", "no-preflight": "UPSPEC_NO_PREFLIGHT"} {
		if got := EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

// TestApplyEnv: under `upspec run`, every flag of the table takes its variable when the flag
// is not given; a flag beats its variable; a repeatable flag takes a value per line.
func TestApplyEnv(t *testing.T) {
	c := NewConfig()
	sc, rc := types.NewDefaultSuiteConfig(), types.NewDefaultReporterConfig()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.RegisterFlags(fs)
	RegisterGinkgoFlags(fs, &sc, &rc)
	if err := fs.Parse([]string{"--target", "http://127.0.0.1:1/flag"}); err != nil {
		t.Fatal(err)
	}
	err := ApplyEnv(fs, env(map[string]string{
		"UPSPEC_TARGET":          "http://127.0.0.1:1/env",
		"UPSPEC_EXPECT":          "nginx-upload-module",
		"UPSPEC_HEADER":          "A: 1\nB: 2\n",
		"UPSPEC_STRICT":          "true",
		"UPSPEC_SPEC_TIMEOUT":    "20s",
		"UPSPEC_LABEL_FILTER":    "probe",
		"UPSPEC_FOCUS":           "RS-01\nRS-02",
		"UPSPEC_JUNIT_REPORT":    "j.xml",
		"UPSPEC_JSON_REPORT":     "",
		"UPSPEC_NOT_A_FLAG":      "x",
		"UPSPEC_NO_PREFLIGHT":    "1",
		"UPSPEC_MARKDOWN_REPORT": "m.md",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Target != "http://127.0.0.1:1/flag" {
		t.Errorf("--target given, and UPSPEC_TARGET won: %q", c.Target)
	}
	if c.Expect != "nginx-upload-module" || !c.Strict || c.SpecTimeout != 20*time.Second || !c.NoPreflight || c.MarkdownReport != "m.md" || c.JSONReport != "" {
		t.Errorf("config from the environment: %+v", c)
	}
	if strings.Join(c.Headers, "|") != "A: 1|B: 2" {
		t.Errorf("UPSPEC_HEADER with two lines: %q", c.Headers)
	}
	if sc.LabelFilter != "probe" || strings.Join(sc.FocusStrings, "|") != "RS-01|RS-02" || rc.JUnitReport != "j.xml" {
		t.Errorf("Ginkgo's flags from the environment: label %q, focus %q, junit %q", sc.LabelFilter, sc.FocusStrings, rc.JUnitReport)
	}

	err = ApplyEnv(fs, env(map[string]string{"UPSPEC_SEGMENT_SIZE": "big"}))
	if err == nil || !strings.HasPrefix(err.Error(), `UPSPEC_SEGMENT_SIZE="big" (for --segment-size): `) || strings.Contains(err.Error(), "\n") {
		t.Errorf("a bad variable: %v", err)
	}
}

// TestRegisterTestFlags: the test binary takes the same names, Ginkgo's among them as aliases of
// its -ginkgo.* flags, and the same variables.
func TestRegisterTestFlags(t *testing.T) {
	fs := flag.NewFlagSet("suite.test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flags Ginkgo registers on the test binary's flag set.
	var label, junit string
	var focus stringsValue
	var dry bool
	fs.StringVar(&label, "ginkgo.label-filter", "", "")
	fs.Var(&focus, "ginkgo.focus", "")
	fs.StringVar(&junit, "ginkgo.junit-report", "", "")
	fs.BoolVar(&dry, "ginkgo.dry-run", false, "")
	c := NewConfig()
	names := c.RegisterTestFlags(fs)
	for _, want := range []string{"target", "expect", "json-report", "html-report", "markdown-report", "repro-dir", "strict",
		"header", "insecure", "ca-file", "final-status", "final-body", "file-url", "backend-listen", "backend-url",
		"no-preflight", "timeout", "label-filter", "focus", "junit-report", "dry-run"} {
		if fs.Lookup(want) == nil || !contains(names, want) {
			t.Errorf("the test binary has no --%s", want)
		}
	}
	if contains(names, "skip") || fs.Lookup("skip") != nil {
		t.Errorf("an alias of a flag Ginkgo does not have is defined")
	}
	err := fs.Parse([]string{"--expect=nginx-upload-module", "--label-filter=probe", "--focus", "RS-01", "--dry-run", "--json-report", "r.json"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Expect != "nginx-upload-module" || c.JSONReport != "r.json" || label != "probe" || !dry || strings.Join(focus, "|") != "RS-01" {
		t.Errorf("parsed: expect %q, json %q, label %q, dry %v, focus %q", c.Expect, c.JSONReport, label, dry, focus)
	}
	err = ApplyEnvGo(fs, names, env(map[string]string{
		"UPSPEC_EXPECT": "other", "UPSPEC_TARGET": "http://127.0.0.1:1/env", "UPSPEC_JUNIT_REPORT": "j.xml", "UPSPEC_FOCUS": "RS-02\nRS-03",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Expect != "nginx-upload-module" || c.Target != "http://127.0.0.1:1/env" || junit != "j.xml" || strings.Join(focus, "|") != "RS-01" {
		t.Errorf("after the environment: expect %q, target %q, junit %q, focus %q", c.Expect, c.Target, junit, focus)
	}
}

type stringsValue []string

func (s *stringsValue) String() string     { return strings.Join(*s, ",") }
func (s *stringsValue) Set(v string) error { *s = append(*s, v); return nil }

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestFitTimeout(t *testing.T) {
	tests := []struct {
		n    int
		spec time.Duration
		want time.Duration
	}{
		{0, time.Minute, time.Minute},
		{1, time.Minute, time.Minute},
		{5, time.Minute, 5 * time.Minute},
		{71, time.Minute, MaxFittedTimeout},
		{71, time.Second, 71 * time.Second},
		{1, 20 * time.Minute, 20 * time.Minute}, // never shorter than one scenario
	}
	for _, tt := range tests {
		if got := FitTimeout(tt.n, tt.spec); got != tt.want {
			t.Errorf("FitTimeout(%d, %s) = %s, want %s", tt.n, tt.spec, got, tt.want)
		}
	}
}
