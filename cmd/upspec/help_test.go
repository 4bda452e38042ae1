package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestHelpCommand: `upspec help CMD` is `upspec CMD --help`; every help text is complete (prose
// lines of at most 100 characters, every paragraph of prose ends a sentence or introduces a
// list), and
// every flag that takes a size takes one with a suffix.
func TestHelpCommand(t *testing.T) {
	sizeFlag := regexp.MustCompile(`(?m)^\s+--([a-z-]*size[a-z-]*) (\S+)`)
	for _, c := range subcommands() {
		t.Run(c.name, func(t *testing.T) {
			var viaHelp, viaFlag, errb bytes.Buffer
			if code := dispatch([]string{"help", c.name}, &viaHelp, &errb); code != exitOK || errb.Len() > 0 {
				t.Fatalf("upspec help %s: exit %d, stderr %q", c.name, code, errb.String())
			}
			if code := dispatch([]string{c.name, "--help"}, &viaFlag, &errb); code != exitOK {
				t.Fatalf("upspec %s --help: exit %d", c.name, code)
			}
			if viaHelp.String() != viaFlag.String() {
				t.Errorf("upspec help %s differs from upspec %s --help", c.name, c.name)
			}
			text := viaHelp.String()
			head, _, _ := strings.Cut(text, "\nFlags:\n")
			for _, l := range strings.Split(head, "\n") {
				if len([]rune(l)) > 100 && !strings.HasPrefix(l, "  ") { // examples may run long
					t.Errorf("line of %d characters: %q", len([]rune(l)), l)
				}
			}
			for _, para := range strings.Split(head, "\n\n") {
				para = strings.TrimRight(para, "\n")
				last := para[strings.LastIndex(para, "\n")+1:]
				if strings.HasPrefix(para, "Usage:") || strings.HasPrefix(last, "  ") || para == "" {
					continue // the usage lines, examples and lists
				}
				if !strings.HasSuffix(para, ".") && !strings.HasSuffix(para, ":") && !strings.HasSuffix(para, ".)") {
					t.Errorf("a paragraph ends mid-sentence: %q", last)
				}
			}
			for _, m := range sizeFlag.FindAllStringSubmatch(text, -1) {
				if m[2] != "size" {
					t.Errorf("--%s takes %q, not a size with a suffix", m[1], m[2])
				}
			}
		})
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"help", "nope"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), `unknown command "nope"`) {
		t.Errorf("upspec help nope: exit %d, stderr %q", code, errb.String())
	}
}
