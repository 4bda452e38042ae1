// Package schedule generates random upload schedules from a seed, runs them against a target
// with the range model of package scenarios as the oracle, and shrinks a failing schedule to a
// minimal one that still fails.
//
// A Schedule is a printable, replayable list of steps over one or more files: segments of
// random bounds in random order, duplicates, sequential overlaps, parallel segments held in
// flight mid-body, interrupted segments, probes, series of small disjoint segments and
// segments that announce another total. Every answer is checked by the session model
// (scenarios.Session): every 201 list exact, the completion exactly when every byte was
// received, the stored file byte-exact where it can be fetched (scenarios.Config.FileURL),
// overlapping segments in flight refused.
//
// Schedule i of seed S is always the same (Generate); the shrinker is deterministic too, so
// `--random N --seed S` replays a run and its shrunk failure against a server that behaves
// the same.
package schedule

import (
	"fmt"
	"strings"
)

// Op is the kind of a step.
type Op int

// The kinds of step.
const (
	// OpSend sends one segment and waits for its answer.
	OpSend Op = iota
	// OpProbe sends the 2-byte probe, bytes 0-1 of the file.
	OpProbe
	// OpInterrupt sends a segment and cuts the connection after Cut body bytes.
	OpInterrupt
	// OpParallel starts the Held segments, each paused after half its body, sends the segment
	// Seg while they are in flight, then lets the held ones finish in order.
	OpParallel
	// OpSeries sends Count segments of Len bytes, Stride bytes apart from Seg.Start, one after
	// the other, in ascending or (Descending) descending order.
	OpSeries
	// OpOtherTotal sends the segment Seg announcing OtherTotal as the file's total.
	OpOtherTotal
)

// Seg is the byte range Start..End (inclusive) of a file.
type Seg struct {
	Start, End int64
}

// Len returns the number of bytes of the segment.
func (g Seg) Len() int64 { return g.End - g.Start + 1 }

// String writes the segment as "S-E".
func (g Seg) String() string { return fmt.Sprintf("%d-%d", g.Start, g.End) }

// overlaps reports whether two segments share a byte.
func (g Seg) overlaps(o Seg) bool { return g.Start <= o.End && o.Start <= g.End }

// Step is one step of a schedule.
type Step struct {
	Op   Op
	File int // index into Schedule.Files
	// Seg is the segment sent (OpSend, OpInterrupt, OpParallel, OpOtherTotal) or, for
	// OpSeries, Seg.Start is the first segment's start.
	Seg Seg
	// Cut is how many body bytes an interrupted segment sends (OpInterrupt).
	Cut int64
	// Held are the segments paused mid-body while Seg is sent (OpParallel).
	Held []Seg
	// Count, Len, Stride and Descending describe a series (OpSeries).
	Count, Len, Stride int64
	Descending         bool
	// OtherTotal is the total announced by OpOtherTotal.
	OtherTotal int64
}

// segments returns the segments the step sends, in the order it starts them.
func (s Step) segments() []Seg {
	switch s.Op {
	case OpProbe:
		return []Seg{{0, 1}}
	case OpParallel:
		return append(append([]Seg(nil), s.Held...), s.Seg)
	case OpSeries:
		out := make([]Seg, 0, s.Count)
		for i := range s.Count {
			k := i
			if s.Descending {
				k = s.Count - 1 - i
			}
			start := s.Seg.Start + k*s.Stride
			out = append(out, Seg{start, start + s.Len - 1})
		}
		return out
	}
	return []Seg{s.Seg}
}

// String describes the step in a line, e.g. "f0 send 0-11".
func (s Step) String() string {
	f := fmt.Sprintf("f%d ", s.File)
	switch s.Op {
	case OpSend:
		return f + "send " + s.Seg.String()
	case OpProbe:
		return f + "probe 0-1"
	case OpInterrupt:
		return fmt.Sprintf("%sinterrupt %s after %d body bytes", f, s.Seg, s.Cut)
	case OpParallel:
		held := make([]string, len(s.Held))
		for i, h := range s.Held {
			held[i] = h.String()
		}
		return fmt.Sprintf("%shold %s mid-body, send %s, release them", f, strings.Join(held, " and "), s.Seg)
	case OpSeries:
		order := "ascending"
		if s.Descending {
			order = "descending"
		}
		return fmt.Sprintf("%sseries of %d segments of %d bytes every %d bytes from %d, %s", f, s.Count, s.Len, s.Stride, s.Seg.Start, order)
	case OpOtherTotal:
		return fmt.Sprintf("%ssend %s announcing the total %d", f, s.Seg, s.OtherTotal)
	}
	return f + "unknown step"
}

// Schedule is a list of steps over a set of files, each file one session. After the steps
// every file that is not complete is completed gap by gap (when at most FinishLimit bytes are
// missing), its completion expected, and its stored bytes compared with what was sent.
type Schedule struct {
	// Seed and Index say which generated schedule this is (or was shrunk from).
	Seed  int64
	Index int
	// Sizes are the totals of the files, f0, f1, ...
	Sizes []int64
	Steps []Step
}

// FinishLimit is the most bytes a schedule sends to complete a file after its steps; a file
// with more missing bytes (a sparse file of a large total) is left incomplete.
const FinishLimit = 1 << 20

// Len is the number of steps.
func (sc Schedule) Len() int { return len(sc.Steps) }

// Segments is the number of segments the steps send.
func (sc Schedule) Segments() int {
	n := 0
	for _, s := range sc.Steps {
		n += len(s.segments())
	}
	return n
}

// Name says which schedule it is: "schedule 17 of seed 7".
func (sc Schedule) Name() string { return fmt.Sprintf("schedule %d of seed %d", sc.Index, sc.Seed) }

// String writes the schedule as a numbered step list.
func (sc Schedule) String() string {
	var b strings.Builder
	files := make([]string, len(sc.Sizes))
	for i, n := range sc.Sizes {
		files[i] = fmt.Sprintf("f%d %d bytes", i, n)
	}
	fmt.Fprintf(&b, "%s: %d step(s), %d segment(s); files: %s", sc.Name(), sc.Len(), sc.Segments(), strings.Join(files, ", "))
	for i, s := range sc.Steps {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, s)
	}
	b.WriteString("\n  then: fill the gaps of every file, expect its completion, compare the stored bytes")
	return b.String()
}

// clone returns a deep copy.
func (sc Schedule) clone() Schedule {
	c := sc
	c.Sizes = append([]int64(nil), sc.Sizes...)
	c.Steps = make([]Step, len(sc.Steps))
	for i, s := range sc.Steps {
		s.Held = append([]Seg(nil), s.Held...)
		c.Steps[i] = s
	}
	return c
}

// valid reports whether every step fits its file: segments within the file, a probe on a
// file of at least 2 bytes, a cut shorter than its segment, another total that differs.
func (sc Schedule) valid() bool {
	if len(sc.Sizes) == 0 {
		return false
	}
	for _, n := range sc.Sizes {
		if n < 1 {
			return false
		}
	}
	for _, s := range sc.Steps {
		if s.File < 0 || s.File >= len(sc.Sizes) {
			return false
		}
		size := sc.Sizes[s.File]
		switch s.Op {
		case OpProbe:
			if size < 2 {
				return false
			}
		case OpInterrupt:
			if s.Cut < 0 || s.Cut >= s.Seg.Len() {
				return false
			}
		case OpParallel:
			if len(s.Held) == 0 {
				return false
			}
		case OpSeries:
			if s.Count < 1 || s.Len < 1 || s.Stride < s.Len {
				return false
			}
		case OpOtherTotal:
			if s.OtherTotal == size || s.OtherTotal <= s.Seg.End {
				return false
			}
		}
		for _, g := range s.segments() {
			if g.Start < 0 || g.End < g.Start || g.End >= size {
				return false
			}
		}
	}
	return true
}
