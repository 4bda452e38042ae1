package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"full", nil, []string{"upspec  " + currentVersion().Short(), "source  " + currentVersion().Source(), "go      " + runtime.Version()}},
		{"short", []string{"--short"}, []string{currentVersion().Short() + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := callCmd(t, "version", tt.args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
		})
	}
}

func TestCurrentVersion(t *testing.T) {
	v := currentVersion()
	if v.Module == "" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version = %+v", v)
	}
}

func TestVersionSource(t *testing.T) {
	tests := []struct {
		name        string
		bi          debug.BuildInfo
		short, from string
	}{
		{"tagged module", debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}}, "v0.3.1", "module version recorded by the Go toolchain"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"devel+0123456789ab-dirty", "built from a VCS checkout at revision 0123456789abcdef0123 (2026-01-02T10:00:00Z), with local changes"},
		{"work tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel", "devel (built from a work tree, no VCS info)"},
		{"no main version", debug.BuildInfo{}, "devel", "devel (built from a work tree, no VCS info)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := versionFromBuildInfo(&tt.bi)
			if v.Short() != tt.short || !strings.HasPrefix(v.Source(), tt.from) {
				t.Errorf("Short() = %q, Source() = %q; want %q, %q...", v.Short(), v.Source(), tt.short, tt.from)
			}
		})
	}
}
