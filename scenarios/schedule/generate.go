package schedule

import (
	"math/rand/v2"
)

// Bounds of generated schedules.
const (
	// MaxSteps is the most steps of a generated schedule.
	MaxSteps = 12
	// MaxFiles is the most files of a generated schedule.
	MaxFiles = 3
	// maxSegment is the longest segment a generated schedule sends.
	maxSegment = 256 << 10
)

// Generate returns schedule index of seed: always the same schedule for the same pair. It
// draws 1 to MaxFiles files (mostly tiny or small, some of a few hundred KiB, some sparse
// files of a large total) and 1 to MaxSteps steps over them.
func Generate(seed int64, index int) Schedule {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(index)))
	g := &generator{r: r}
	sc := Schedule{Seed: seed, Index: index}
	nf := 1 + r.IntN(MaxFiles)
	for range nf {
		sc.Sizes = append(sc.Sizes, g.size())
	}
	g.sent = make([][]Seg, nf)
	ns := 1 + r.IntN(MaxSteps)
	for len(sc.Steps) < ns {
		f := r.IntN(nf)
		if s, ok := g.step(f, sc.Sizes[f]); ok {
			sc.Steps = append(sc.Steps, s)
			g.sent[f] = append(g.sent[f], s.segments()...)
		}
	}
	return sc
}

// generator draws the parts of one schedule.
type generator struct {
	r    *rand.Rand
	sent [][]Seg // per file, the segments of the steps drawn so far
}

// size draws a file size.
func (g *generator) size() int64 {
	r := g.r
	switch p := r.IntN(100); {
	case p < 45:
		return 1 + r.Int64N(64)
	case p < 70:
		return 65 + r.Int64N(4096)
	case p < 88:
		return 16<<10 + r.Int64N(300<<10)
	default:
		return 1<<20 + r.Int64N(1<<40) // sparse: never sent in full
	}
}

// seg draws a segment of a file of size bytes: often next to, or the same as, one already
// sent; often a single byte; never longer than maxSegment.
func (g *generator) seg(f int, size int64) Seg {
	r := g.r
	sent := g.sent[f]
	length := func(room int64) int64 {
		room = min(room, maxSegment)
		switch p := r.IntN(100); {
		case p < 20:
			return 1
		case p < 55:
			return 1 + r.Int64N(min(room, 64))
		default:
			return 1 + r.Int64N(room)
		}
	}
	if len(sent) > 0 {
		prev := sent[r.IntN(len(sent))]
		switch p := r.IntN(100); {
		case p < 12: // a duplicate: the same bounds, the same bytes
			return prev
		case p < 27 && prev.End+1 < size: // adjacent after
			start := prev.End + 1
			return Seg{start, start + length(size-start) - 1}
		case p < 40 && prev.Start > 0: // adjacent before
			n := length(prev.Start)
			return Seg{prev.Start - n, prev.Start - 1}
		case p < 52: // a sequential overlap
			start := prev.Start + r.Int64N(prev.Len())
			return Seg{start, start + length(size-start) - 1}
		}
	}
	var start int64
	if size > 1 && r.IntN(4) > 0 {
		start = r.Int64N(size)
	}
	return Seg{start, start + length(size-start) - 1}
}

// step draws a step on file f; ok is false when the drawn kind does not fit the file.
func (g *generator) step(f int, size int64) (Step, bool) {
	r := g.r
	s := Step{File: f}
	switch p := r.IntN(100); {
	case p < 42:
		s.Op, s.Seg = OpSend, g.seg(f, size)
	case p < 50:
		if size < 2 {
			return s, false
		}
		s.Op = OpProbe
	case p < 62:
		s.Op, s.Seg = OpInterrupt, g.seg(f, size)
		if s.Seg.Len() < 2 {
			return s, false
		}
		s.Cut = r.Int64N(s.Seg.Len())
	case p < 80:
		s.Op, s.Seg = OpParallel, g.seg(f, size)
		for range 1 + r.IntN(3) {
			h := g.seg(f, size)
			if r.IntN(2) == 0 { // on purpose: held next to or over the sent one
				h = g.near(s.Seg, size)
			}
			s.Held = append(s.Held, h)
		}
	case p < 93:
		s.Op = OpSeries
		s.Count = 2 + r.Int64N(23)
		s.Len = 1 + r.Int64N(8)
		s.Stride = s.Len + 1 + r.Int64N(8)
		if size > 1<<20 { // sparse: segments far apart, so the list's numbers are long
			s.Stride = size / (s.Count + 1)
		}
		if s.Count*s.Stride > size {
			return s, false
		}
		s.Seg.Start = r.Int64N(size - s.Count*s.Stride + 1)
		s.Descending = r.IntN(2) == 0
	default:
		s.Op, s.Seg = OpOtherTotal, g.seg(f, size)
		s.OtherTotal = size + 1 + r.Int64N(16)
		if r.IntN(2) == 0 && size-1 > s.Seg.End {
			s.OtherTotal = size - 1
		}
	}
	return s, true
}

// near draws a segment that overlaps or touches g.
func (g *generator) near(x Seg, size int64) Seg {
	r := g.r
	start := max(0, x.Start-r.Int64N(min(x.Len(), 16)+1))
	end := min(size-1, x.Start+r.Int64N(x.Len()+16))
	return Seg{start, end}
}
