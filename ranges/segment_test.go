package ranges

import (
	"strings"
	"testing"
)

func TestParseSegment(t *testing.T) {
	tests := []struct {
		in   string
		want Segment
	}{
		{"bytes 0-1/4", Segment{0, 1, 4}},
		{"bytes 0-0/1", Segment{0, 0, 1}},
		{"bytes 3-3/4", Segment{3, 3, 4}},
		{"bytes 0-5/24", Segment{0, 5, 24}},
		{"bytes 9-15/24", Segment{9, 15, 24}},
		{"bytes 16-23/24", Segment{16, 23, 24}},
		{"BYTES 0-1/4", Segment{0, 1, 4}},
		{"Bytes 0-1/4", Segment{0, 1, 4}},
		{"bYtEs 0-1/4", Segment{0, 1, 4}},
		{"BYTES 0-1/4  ", Segment{0, 1, 4}},
		{"  bytes 0-1/4", Segment{0, 1, 4}},
		{"\t bytes 0-1/4 \t", Segment{0, 1, 4}},
		{"bytes 000-001/004", Segment{0, 1, 4}},
		{"bytes 5000000000-5000000009/5000000010", Segment{5000000000, 5000000009, 5000000010}},
		{"bytes 5000000000-5000000009/6000000000", Segment{5000000000, 5000000009, 6000000000}},
		{"bytes 0-9223372036854775806/9223372036854775807", Segment{0, 9223372036854775806, 9223372036854775807}},
		{"bytes 9223372036854775806-9223372036854775806/9223372036854775807", Segment{9223372036854775806, 9223372036854775806, 9223372036854775807}},
		{"bytes 0-0/0009223372036854775807", Segment{0, 0, 9223372036854775807}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSegment(tt.in)
			if err != nil {
				t.Fatalf("ParseSegment(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseSegment(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSegmentErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // the whole error message
	}{
		{"", `range "": empty value`},
		{"  \t", `range "  \t": value is only blanks`},
		{"0-1/4", `range "0-1/4": does not start with the unit "bytes"`},
		{"byte 0-1/4", `range "byte 0-1/4": does not start with the unit "bytes"`},
		{"bytes", `range "bytes": nothing after "bytes"`},
		{"bytes=0-1/4", `range "bytes=0-1/4": "bytes" must be followed by one space, not "="`},
		{"bytes0-1/4", `range "bytes0-1/4": "bytes" must be followed by one space, not "0"`},
		{"bytes\t0-1/4", `range "bytes\t0-1/4": "bytes" must be followed by one space, not "\t"`},
		{"bytes  0-1/4", `range "bytes  0-1/4": more than one blank after "bytes" (exactly one space is allowed)`},
		{"bytes \t0-1/4", `range "bytes \t0-1/4": more than one blank after "bytes" (exactly one space is allowed)`},
		{"bytes 0-1", `range "bytes 0-1": missing "/total"`},
		{"bytes 0/4", `range "bytes 0/4": missing "-" between start and end`},
		{"bytes 01", `range "bytes 01": missing "-" between start and end and "/total"`},
		{"bytes */4", `range "bytes */4": missing "-" between start and end`},
		{"bytes *-1/4", `range "bytes *-1/4": start "*" is not a number (digits only)`},
		{"bytes 0-1/*", `range "bytes 0-1/*": total "*" is not a number (digits only)`},
		{"bytes 0-*/4", `range "bytes 0-*/4": end "*" is not a number (digits only)`},
		{"bytes -1/4", `range "bytes -1/4": start is empty`},
		{"bytes 0-/10", `range "bytes 0-/10": end is empty`},
		{"bytes 0-1/", `range "bytes 0-1/": total is empty`},
		{"bytes +0-1/4", `range "bytes +0-1/4": start "+0" is not a number (digits only)`},
		{"bytes 0 -1/4", `range "bytes 0 -1/4": start "0 " is not a number (digits only)`},
		{"bytes 0-1 /4", `range "bytes 0-1 /4": end "1 " is not a number (digits only)`},
		{"bytes 0-1/4x", `range "bytes 0-1/4x": total "4x" is not a number (digits only)`},
		{"bytes 0-1-2/4", `range "bytes 0-1-2/4": end "1-2" is not a number (digits only)`},
		{"bytes 0-1/4/5", `range "bytes 0-1/4/5": total "4/5" is not a number (digits only)`},
		{"bytes 0x1-2/4", `range "bytes 0x1-2/4": start "0x1" is not a number (digits only)`},
		{"bytes ０-1/4", `range "bytes ０-1/4": start "０" is not a number (digits only)`},
		{"bytes 0-1/4\r", `range "bytes 0-1/4\r": total "4\r" is not a number (digits only)`},
		{"bytes 2-1/4", `range "bytes 2-1/4": start 2 is after end 1`},
		{"bytes 2-4/4", `range "bytes 2-4/4": end 4 is not below total 4 (bytes are numbered 0..total-1)`},
		{"bytes 0-0/0", `range "bytes 0-0/0": total is 0 (a file has at least one byte)`},
		{"bytes 5-1/0", `range "bytes 5-1/0": total is 0 (a file has at least one byte)`},
		{"bytes 5000000000-5000000010/5000000010", `range "bytes 5000000000-5000000010/5000000010": end 5000000010 is not below total 5000000010 (bytes are numbered 0..total-1)`},
		// Overflow: 2^63 and more are errors, never a wrap-around.
		{"bytes 0-1/9223372036854775808", `range "bytes 0-1/9223372036854775808": total 9223372036854775808 is too large (the largest is 9223372036854775807)`},
		{"bytes 18446744073709551615-0/4", `range "bytes 18446744073709551615-0/4": start 18446744073709551615 is too large (the largest is 9223372036854775807)`},
		{"bytes 0-18446744073709551616/4", `range "bytes 0-18446744073709551616/4": end 18446744073709551616 is too large (the largest is 9223372036854775807)`},
		{"bytes 0-1/99999999999999999999999", `range "bytes 0-1/99999999999999999999999": total 99999999999999999999999 is too large (the largest is 9223372036854775807)`},
		{"bytes 0-1/00009223372036854775808", `range "bytes 0-1/00009223372036854775808": total 00009223372036854775808 is too large (the largest is 9223372036854775807)`},
		{"bytes 0-1/9223372036854775808x", `range "bytes 0-1/9223372036854775808x": total "9223372036854775808x" is not a number (digits only)`},
		{"bytes 9223372036854775807-9223372036854775807/9223372036854775807", `range "bytes 9223372036854775807-9223372036854775807/9223372036854775807": end 9223372036854775807 is not below total 9223372036854775807 (bytes are numbered 0..total-1)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSegment(tt.in)
			if err == nil {
				t.Fatalf("ParseSegment(%q) = %+v, want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("ParseSegment(%q) error\n got: %s\nwant: %s", tt.in, err, tt.want)
			}
			if got != (Segment{}) {
				t.Fatalf("ParseSegment(%q) returned %+v with its error, want the zero Segment", tt.in, got)
			}
		})
	}
}

func TestParseSegmentLongValueIsClipped(t *testing.T) {
	in := "bytes 0-1/" + strings.Repeat("9", 500)
	_, err := ParseSegment(in)
	if err == nil {
		t.Fatal("want an error")
	}
	if len(err.Error()) > 400 || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("error not clipped or wrong: %d bytes: %s", len(err.Error()), err)
	}
}

func TestParseNumberBoundary(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"9", 9, false},
		{"922337203685477580", 922337203685477580, false},
		{"9223372036854775799", 9223372036854775799, false},
		{"9223372036854775806", 9223372036854775806, false},
		{"9223372036854775807", 9223372036854775807, false},
		{"09223372036854775807", 9223372036854775807, false},
		{"9223372036854775808", 0, true},
		{"9223372036854775809", 0, true},
		{"9223372036854775810", 0, true},
		{"18446744073709551615", 0, true},
		{"18446744073709551616", 0, true},
		{"92233720368547758070", 0, true},
		{"", 0, true},
		{"-1", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, reason := parseNumber("n", tt.in)
			if (reason != "") != tt.wantErr || got != tt.want {
				t.Fatalf("parseNumber(%q) = %d, %q; want %d, error %v", tt.in, got, reason, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSegmentMethods(t *testing.T) {
	tests := []struct {
		seg   Segment
		len   int64
		rng   Range
		str   string
		rngSt string
	}{
		{Segment{0, 0, 1}, 1, Range{0, 0}, "bytes 0-0/1", "0-0"},
		{Segment{0, 1, 4}, 2, Range{0, 1}, "bytes 0-1/4", "0-1"},
		{Segment{9, 15, 24}, 7, Range{9, 15}, "bytes 9-15/24", "9-15"},
		{Segment{5000000000, 5000000009, 5000000010}, 10, Range{5000000000, 5000000009}, "bytes 5000000000-5000000009/5000000010", "5000000000-5000000009"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.seg.Len(); got != tt.len {
				t.Errorf("Len() = %d, want %d", got, tt.len)
			}
			if got := tt.seg.Range(); got != tt.rng {
				t.Errorf("Range() = %+v, want %+v", got, tt.rng)
			}
			if got := tt.seg.Range().Len(); got != tt.len {
				t.Errorf("Range().Len() = %d, want %d", got, tt.len)
			}
			if got := tt.seg.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.seg.Range().String(); got != tt.rngSt {
				t.Errorf("Range().String() = %q, want %q", got, tt.rngSt)
			}
			back, err := ParseSegment(tt.seg.String())
			if err != nil || back != tt.seg {
				t.Errorf("ParseSegment(String()) = %+v, %v; want %+v", back, err, tt.seg)
			}
		})
	}
}
