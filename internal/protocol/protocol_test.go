package protocol

import (
	"strings"
	"testing"
)

func TestValidSessionID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-DEF_123", true},
		{"a", true},
		{strings.Repeat("x", MaxSessionIDLen), true},
		{strings.Repeat("x", MaxSessionIDLen+1), false},
		{"", false},
		{"abc.def", false},
		{"a b", false},
		{"a/b", false},
		{"a+b", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := ValidSessionID(tt.id); got != tt.want {
			t.Errorf("ValidSessionID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestBaseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"file.bin", "file.bin"},
		{`C:\dir\sub\file.bin`, "file.bin"},
		{"/etc/passwd", "passwd"},
		{"../../x", "x"},
		{"dir/", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := BaseName(tt.in); got != tt.want {
			t.Errorf("BaseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
