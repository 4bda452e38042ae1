package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"full", nil, []string{"upspec ", "go      " + runtime.Version()}},
		{"short", []string{"--short"}, []string{currentVersion().Module + "\n"}},
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
