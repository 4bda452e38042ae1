package schedule

import (
	"slices"
)

// candidates returns the schedules one shrinking step away from sc, most reducing first:
// chunks of steps removed (halves, quarters, ... single steps, as in delta debugging), files
// removed, parallel steps with fewer held segments or none, series with fewer segments,
// segments, cuts and files made smaller. Every candidate is valid (Schedule.valid).
func candidates(sc Schedule) []Schedule {
	var out []Schedule
	add := func(c Schedule) {
		if c.valid() {
			out = append(out, c)
		}
	}
	n := len(sc.Steps)
	// Remove chunks of steps.
	for size := n / 2; size >= 1; size /= 2 {
		for at := 0; at+size <= n; at += size {
			c := sc.clone()
			c.Steps = slices.Delete(c.Steps, at, at+size)
			add(c)
		}
	}
	// Remove a file and its steps.
	if len(sc.Sizes) > 1 {
		for f := range sc.Sizes {
			add(withoutFile(sc, f))
		}
	}
	// Simplify one step.
	for i, s := range sc.Steps {
		for _, simpler := range simplerSteps(s) {
			c := sc.clone()
			c.Steps[i] = simpler
			add(c)
		}
	}
	// Smaller files: the smallest that holds the steps' segments, then halves.
	for f, size := range sc.Sizes {
		need := int64(1)
		for _, s := range sc.Steps {
			if s.File != f {
				continue
			}
			for _, g := range s.segments() {
				need = max(need, g.End+1)
			}
			if s.Op == OpProbe {
				need = max(need, 2)
			}
		}
		for _, smaller := range []int64{need, max(need, size/2), need + (size-need)/2} {
			if smaller < size {
				c := sc.clone()
				c.Sizes[f] = smaller
				add(c)
			}
		}
	}
	return out
}

// withoutFile returns sc without file f and its steps.
func withoutFile(sc Schedule, f int) Schedule {
	c := sc.clone()
	c.Sizes = slices.Delete(c.Sizes, f, f+1)
	c.Steps = c.Steps[:0]
	for _, s := range sc.clone().Steps {
		switch {
		case s.File == f:
			continue
		case s.File > f:
			s.File--
		}
		c.Steps = append(c.Steps, s)
	}
	return c
}

// simplerSteps returns the simpler forms of a step, most simplifying first.
func simplerSteps(s Step) []Step {
	var out []Step
	with := func(change func(*Step)) {
		c := s
		c.Held = append([]Seg(nil), s.Held...)
		change(&c)
		out = append(out, c)
	}
	switch s.Op {
	case OpParallel:
		if len(s.Held) > 1 {
			for i := range s.Held {
				with(func(c *Step) { c.Held = slices.Delete(c.Held, i, i+1) })
			}
		}
		with(func(c *Step) { c.Op, c.Held = OpSend, nil })
		for i := range s.Held {
			for _, g := range smallerSegs(s.Held[i]) {
				with(func(c *Step) { c.Held[i] = g })
			}
		}
	case OpSeries:
		for _, n := range []int64{1, s.Count / 2, s.Count - 1} {
			if n >= 1 && n < s.Count {
				with(func(c *Step) { c.Count = n })
				if s.Descending {
					// Keep the segments that are sent first (the highest ones).
					with(func(c *Step) { c.Count, c.Seg.Start = n, s.Seg.Start+(s.Count-n)*s.Stride })
				}
			}
		}
		if s.Count == 1 {
			with(func(c *Step) { c.Op, c.Seg = OpSend, s.segments()[0] })
		}
		if s.Descending {
			with(func(c *Step) { c.Descending = false })
		}
		if s.Len > 1 {
			with(func(c *Step) { c.Len = 1 })
		}
		if s.Stride > s.Len+1 {
			with(func(c *Step) { c.Stride = s.Len + 1 })
			with(func(c *Step) { c.Stride = max(s.Len+1, s.Stride/2) })
		}
		if s.Seg.Start > 0 {
			with(func(c *Step) { c.Seg.Start = 0 })
			with(func(c *Step) { c.Seg.Start /= 2 })
		}
	case OpInterrupt:
		if s.Cut > 0 {
			with(func(c *Step) { c.Cut = 0 })
			with(func(c *Step) { c.Cut = s.Cut / 2 })
		}
	case OpOtherTotal:
		with(func(c *Step) { c.Op = OpSend })
	case OpProbe:
		with(func(c *Step) { c.Op, c.Seg = OpSend, Seg{0, 0} })
	}
	if s.Op != OpProbe && s.Op != OpSeries {
		for _, g := range smallerSegs(s.Seg) {
			with(func(c *Step) {
				c.Seg = g
				if c.Op == OpInterrupt {
					c.Cut = min(c.Cut, g.Len()-1)
				}
			})
		}
	}
	return out
}

// smallerSegs returns shorter or lower forms of a segment: one byte, half as long (from
// either end), shifted to 0.
func smallerSegs(g Seg) []Seg {
	var out []Seg
	if g.Len() > 1 {
		out = append(out, Seg{g.Start, g.Start}, Seg{g.End, g.End})
		half := g.Len() / 2
		out = append(out, Seg{g.Start, g.Start + half - 1}, Seg{g.End - half + 1, g.End})
		out = append(out, Seg{g.Start, g.End - 1}, Seg{g.Start + 1, g.End})
	}
	if g.Start > 0 {
		out = append(out, Seg{0, g.End - g.Start}, Seg{g.Start / 2, g.Start/2 + g.Len() - 1})
	}
	return out
}
