package ranges

import (
	"slices"
	"testing"
)

func TestFormatString(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{
		{FormatModule, "module"},
		{FormatCompact, "compact"},
		{Format(7), "Format(7)"},
		{Format(-1), "Format(-1)"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Format(%d).String() = %q, want %q", int(tt.f), got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr string
	}{
		{"module", FormatModule, ""},
		{"Module", FormatModule, ""},
		{"compact", FormatCompact, ""},
		{"COMPACT", FormatCompact, ""},
		{"", 0, `range format "": unknown (want module or compact)`},
		{"seed", 0, `range format "seed": unknown (want module or compact)`},
		{" module", 0, `range format " module": unknown (want module or compact)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseFormat(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFormat(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, err := ParseFormat(got.String()); err != nil || back != got {
				t.Fatalf("ParseFormat(%q.String()) = %v, %v", got, back, err)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in     string
		want   List
		str    string // List.String(); "" means the input
		merged string // Set().String()
	}{
		{"0-5/24", List{[]Range{{0, 5}}, 24, FormatModule}, "", "0-5/24"},
		{"0-23/24", List{[]Range{{0, 23}}, 24, FormatModule}, "", "0-23/24"},
		{"0-0/1", List{[]Range{{0, 0}}, 1, FormatModule}, "", "0-0/1"},
		{"0-5/24,9-15/24", List{[]Range{{0, 5}, {9, 15}}, 24, FormatModule}, "", "0-5/24,9-15/24"},
		{"0-5,9-15/24", List{[]Range{{0, 5}, {9, 15}}, 24, FormatCompact}, "", "0-5/24,9-15/24"},
		{"0-5/24,9-23/24", List{[]Range{{0, 5}, {9, 23}}, 24, FormatModule}, "", "0-5/24,9-23/24"},
		{"0-5,9-23/24", List{[]Range{{0, 5}, {9, 23}}, 24, FormatCompact}, "", "0-5/24,9-23/24"},
		// Kept as written: unsorted, overlapping and adjacent items are not merged.
		{"9-15/24,0-5/24", List{[]Range{{9, 15}, {0, 5}}, 24, FormatModule}, "", "0-5/24,9-15/24"},
		{"9-15/24,14-20/24", List{[]Range{{9, 15}, {14, 20}}, 24, FormatModule}, "", "9-20/24"},
		{"0-5/24,6-8/24,9-15/24", List{[]Range{{0, 5}, {6, 8}, {9, 15}}, 24, FormatModule}, "", "0-15/24"},
		{"16-23,0-5,0-5/24", List{[]Range{{16, 23}, {0, 5}, {0, 5}}, 24, FormatCompact}, "", "0-5/24,16-23/24"},
		{"0-5/024,9-15/24", List{[]Range{{0, 5}, {9, 15}}, 24, FormatModule}, "0-5/24,9-15/24", "0-5/24,9-15/24"},
		{"000-005/024", List{[]Range{{0, 5}}, 24, FormatModule}, "0-5/24", "0-5/24"},
		{"5000000000-5000000009/5000000010", List{[]Range{{5000000000, 5000000009}}, 5000000010, FormatModule}, "", "5000000000-5000000009/5000000010"},
		{"0-1,5000000000-5000000009/5000000010", List{[]Range{{0, 1}, {5000000000, 5000000009}}, 5000000010, FormatCompact}, "", "0-1/5000000010,5000000000-5000000009/5000000010"},
		{"0-9223372036854775806/9223372036854775807", List{[]Range{{0, 9223372036854775806}}, 9223372036854775807, FormatModule}, "", "0-9223372036854775806/9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseList(tt.in)
			if err != nil {
				t.Fatalf("ParseList(%q): %v", tt.in, err)
			}
			if !slices.Equal(got.Ranges, tt.want.Ranges) || got.Total != tt.want.Total || got.Format != tt.want.Format {
				t.Fatalf("ParseList(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			wantStr := tt.str
			if wantStr == "" {
				wantStr = tt.in
			}
			if s := got.String(); s != wantStr {
				t.Errorf("String() = %q, want %q", s, wantStr)
			}
			set := got.Set()
			if s := set.String(); s != tt.merged {
				t.Errorf("Set().String() = %q, want %q", s, tt.merged)
			}
			if set.Total() != tt.want.Total {
				t.Errorf("Set().Total() = %d, want %d", set.Total(), tt.want.Total)
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `range list "": empty value`},
		{" 0-5/24", `range list " 0-5/24": blank " " at offset 0 (a list has no blanks)`},
		{"0-5/24 ", `range list "0-5/24 ": blank " " at offset 6 (a list has no blanks)`},
		{"0-5/24, 9-15/24", `range list "0-5/24, 9-15/24": blank " " at offset 7 (a list has no blanks)`},
		{"0-5/24\n", `range list "0-5/24\n": blank "\n" at offset 6 (a list has no blanks)`},
		{"0-5/24\t", `range list "0-5/24\t": blank "\t" at offset 6 (a list has no blanks)`},
		{",", `range list ",": item 1 is empty`},
		{"0-5/24,", `range list "0-5/24,": item 2 is empty`},
		{",0-5/24", `range list ",0-5/24": item 1 is empty`},
		{"0-5/24,,9-15/24", `range list "0-5/24,,9-15/24": item 2 is empty`},
		{"0-5", `range list "0-5": item 1 "0-5": missing "/total" (the last item carries it)`},
		{"0-5,9-15", `range list "0-5,9-15": item 2 "9-15": missing "/total" (the last item carries it)`},
		{"0-5/24,9-15", `range list "0-5/24,9-15": item 2 "9-15": missing "/total" (the first item has one, so every item must)`},
		{"0-5,9-15/24,16-20/24", `range list "0-5,9-15/24,16-20/24": item 2 "9-15/24": only the last item carries "/total" in the compact form`},
		{"0-5/24,9-15/20", `range list "0-5/24,9-15/20": item 2 "9-15/20": total 20 differs from total 24 of item 1`},
		{"0-5/24,9-15/24,16-23/25", `range list "0-5/24,9-15/24,16-23/25": item 3 "16-23/25": total 25 differs from total 24 of item 1`},
		{"bytes 0-5/24", `range list "bytes 0-5/24": blank " " at offset 5 (a list has no blanks)`},
		{"0-5;9-15/24", `range list "0-5;9-15/24": item 1 "0-5;9-15/24": end "5;9-15" is not a number (digits only)`},
		{"0/24", `range list "0/24": item 1 "0/24": missing "-" between start and end`},
		{"5", `range list "5": item 1 "5": missing "-" between start and end and "/total"`},
		{"-5/24", `range list "-5/24": item 1 "-5/24": start is empty`},
		{"0-/24", `range list "0-/24": item 1 "0-/24": end is empty`},
		{"0-5/", `range list "0-5/": item 1 "0-5/": total is empty`},
		{"0-5/*", `range list "0-5/*": item 1 "0-5/*": total "*" is not a number (digits only)`},
		{"6-5/24", `range list "6-5/24": item 1 "6-5/24": start 6 is after end 5`},
		{"0-24/24", `range list "0-24/24": item 1 "0-24/24": end 24 is not below total 24 (bytes are numbered 0..total-1)`},
		{"0-0/0", `range list "0-0/0": item 1 "0-0/0": total is 0 (a file has at least one byte)`},
		{"0-5,6-5/24", `range list "0-5,6-5/24": item 2 "6-5/24": start 6 is after end 5`},
		{"9-8,0-5/24", `range list "9-8,0-5/24": item 1 "9-8": start 9 is after end 8`},
		{"0-30,0-5/24", `range list "0-30,0-5/24": item 1 "0-30": end 30 is not below total 24 (bytes are numbered 0..total-1)`},
		{"0-5,0-0/0", `range list "0-5,0-0/0": item 2 "0-0/0": total is 0 (a file has at least one byte)`},
		{"0-1/9223372036854775808", `range list "0-1/9223372036854775808": item 1 "0-1/9223372036854775808": total 9223372036854775808 is too large (the largest is 9223372036854775807)`},
		{"18446744073709551615-0,0-1/4", `range list "18446744073709551615-0,0-1/4": item 1 "18446744073709551615-0": start 18446744073709551615 is too large (the largest is 9223372036854775807)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseList(tt.in)
			if err == nil {
				t.Fatalf("ParseList(%q) = %+v, want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("ParseList(%q) error\n got: %s\nwant: %s", tt.in, err, tt.want)
			}
			if got.Ranges != nil || got.Total != 0 || got.Format != 0 {
				t.Fatalf("ParseList(%q) returned %+v with its error, want the zero List", tt.in, got)
			}
		})
	}
}

func TestListString(t *testing.T) {
	tests := []struct {
		l    List
		want string
	}{
		{List{}, ""},
		{List{[]Range{{0, 5}}, 24, FormatModule}, "0-5/24"},
		{List{[]Range{{0, 5}}, 24, FormatCompact}, "0-5/24"},
		{List{[]Range{{9, 15}, {0, 5}}, 24, FormatModule}, "9-15/24,0-5/24"},
		{List{[]Range{{9, 15}, {0, 5}}, 24, FormatCompact}, "9-15,0-5/24"},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.l, got, tt.want)
		}
	}
}
