package schedule

import (
	"strings"
	"testing"
)

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	ops := map[Op]int{}
	for i := range 5000 {
		a, b := Generate(7, i), Generate(7, i)
		if a.String() != b.String() {
			t.Fatalf("schedule %d of seed 7 differs between two calls:\n%s\n%s", i, a, b)
		}
		if !a.valid() {
			t.Fatalf("invalid schedule:\n%s", a)
		}
		if a.Len() < 1 || a.Len() > MaxSteps || len(a.Sizes) > MaxFiles {
			t.Fatalf("out of bounds:\n%s", a)
		}
		for _, s := range a.Steps {
			ops[s.Op]++
		}
	}
	for _, op := range []Op{OpSend, OpProbe, OpInterrupt, OpParallel, OpSeries, OpOtherTotal} {
		if ops[op] == 0 {
			t.Errorf("no step of kind %d in 5000 schedules", op)
		}
	}
	if Generate(7, 0).String() == Generate(8, 0).String() {
		t.Error("seeds 7 and 8 give the same schedule 0")
	}
}

func TestCandidatesAreValidAndSmaller(t *testing.T) {
	for i := range 100 {
		sc := Generate(3, i)
		for _, c := range candidates(sc) {
			if !c.valid() {
				t.Fatalf("invalid candidate of\n%s:\n%s", sc, c)
			}
			if c.String() == sc.String() {
				t.Fatalf("a candidate equals its schedule:\n%s", sc)
			}
			if c.Len() > sc.Len() || c.Segments() > sc.Segments() && c.Len() == sc.Len() && !hasSeries(sc) {
				t.Fatalf("a candidate is larger than\n%s:\n%s", sc, c)
			}
		}
	}
}

func hasSeries(sc Schedule) bool {
	for _, s := range sc.Steps {
		if s.Op == OpSeries || s.Op == OpProbe {
			return true
		}
	}
	return false
}

func TestStepStrings(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Op: OpSend, Seg: Seg{0, 11}}, "f0 send 0-11"},
		{Step{Op: OpProbe, File: 1}, "f1 probe 0-1"},
		{Step{Op: OpInterrupt, Seg: Seg{4, 9}, Cut: 3}, "f0 interrupt 4-9 after 3 body bytes"},
		{Step{Op: OpParallel, Seg: Seg{5, 6}, Held: []Seg{{0, 3}, {8, 9}}}, "f0 hold 0-3 and 8-9 mid-body, send 5-6, release them"},
		{Step{Op: OpSeries, Seg: Seg{Start: 2}, Count: 3, Len: 1, Stride: 2, Descending: true},
			"f0 series of 3 segments of 1 bytes every 2 bytes from 2, descending"},
		{Step{Op: OpOtherTotal, Seg: Seg{0, 3}, OtherTotal: 25}, "f0 send 0-3 announcing the total 25"},
	}
	for _, tt := range tests {
		if got := tt.step.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	series := Step{Op: OpSeries, Seg: Seg{Start: 2}, Count: 3, Len: 1, Stride: 2, Descending: true}.segments()
	if len(series) != 3 || series[0] != (Seg{6, 6}) || series[2] != (Seg{2, 2}) {
		t.Errorf("descending series: %v", series)
	}
	sc := Schedule{Seed: 7, Index: 2, Sizes: []int64{24}, Steps: []Step{{Op: OpSend, Seg: Seg{0, 23}}}}
	if s := sc.String(); !strings.HasPrefix(s, "schedule 2 of seed 7: 1 step(s), 1 segment(s); files: f0 24 bytes\n  1. f0 send 0-23\n") {
		t.Errorf("schedule text:\n%s", s)
	}
}
