package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"10M", 10 << 20, true},
		{"10m", 10 << 20, true},
		{"1GiB", 1 << 30, true},
		{"1gib", 1 << 30, true},
		{"64KiB", 64 << 10, true},
		{"2T", 2 << 40, true},
		{"1.5G", 3 << 29, true},
		{"10MB", 10_000_000, true},
		{"100B", 100, true},
		{" 7K ", 7 << 10, true},
		{"8191P", 0, false},
		{"", 0, false},
		{"M", 0, false},
		{"-1", 0, false},
		{"1e6", 0, false},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false},
		{"8589934592G", 0, false},
		{"1..5M", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestValue(t *testing.T) {
	var v Value
	if err := v.Set("64k"); err != nil || v.String() != "65536" || v.Type() != "size" {
		t.Errorf("Set(64k): %v, %s %s", err, v.String(), v.Type())
	}
	if err := v.Set("x"); err == nil {
		t.Error("Set(x): no error")
	}
}
