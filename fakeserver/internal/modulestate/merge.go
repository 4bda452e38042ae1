// Package modulestate emulates the state file of nginx-upload-module and its merge, byte for
// byte: the one job of this package is to say what the module's state file holds after each
// segment, which range list its 201 carries, and when its merge fails.
package modulestate

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/upspec/upspec/ranges"
)

// Range is a range as the module reads it, from a range header or a state-file line: signed
// 64-bit numbers with no overflow check, so they may have wrapped (docs/module-behavior.md
// §1.6).
type Range struct {
	Start, End, Total int64
}

// Len returns End-Start+1 with the module's wrap-around arithmetic.
func (r Range) Len() int64 { return r.End - r.Start + 1 }

// Format writes acknowledged ranges as the module's state file: one `start-end/total` line
// per range. A nil set gives an empty file.
func Format(set *ranges.Set) []byte {
	if set == nil {
		return nil
	}
	var b bytes.Buffer
	for _, r := range set.Ranges() {
		fmt.Fprintf(&b, "%d-%d/%d\n", r.Start, r.End, set.Total())
	}
	return b.Bytes()
}

// Parse reads a state file back as a range set of total bytes: the ranges the module believes
// it has (misread or not). Lines it cannot read, or of another total, are left out.
func Parse(state []byte, total int64) *ranges.Set {
	set := ranges.NewSet(total)
	for _, line := range bytes.Split(state, []byte("\n")) {
		var s, e, t int64
		if _, err := fmt.Sscanf(string(line), "%d-%d/%d", &s, &e, &t); err == nil && t == total {
			set.Add(ranges.Range{Start: s, End: e})
		}
	}
	return set
}

// This file emulates the module's state file and its merge, byte for byte
// (ngx_http_upload_merge_ranges and ngx_http_upload_buf_merge_range; docs/module-behavior.md §2.2,
// §5, §7.7, §7.8). The state file is text, one `start-end/total` line per disjoint range. Each
// segment re-reads it from the start through a fixed window, merges the new range in, writes
// the result back in place and truncates. The quirks range-list-cut, state-window and
// single-byte-state-bug are switches of this one emulation.

// Sizes of the module's merge buffers at their defaults on 4 KiB pages.
const (
	// MergeBufferSize is upload_merge_buffer_size: half the page size.
	MergeBufferSize = 2048
	// OffTLen is NGX_OFF_T_LEN, the longest printed off_t.
	OffTLen = 20
	// WindowSize is the part of the merge buffer that reads the state file:
	// M - (M/2 + 3*NGX_OFF_T_LEN + 3) = 961 bytes.
	WindowSize = MergeBufferSize - (MergeBufferSize/2 + 3*OffTLen + 3)
	// RangeHeaderBufferSize is upload_range_header_buffer_size: the range list of a
	// response gets items while it is shorter than this.
	RangeHeaderBufferSize = 256
)

// ErrCorrupt is the merge failure the module logs as `state file "…" is corrupt`.
var ErrCorrupt = errors.New("state file is corrupt")

// Merger holds the switches of one merge.
type Merger struct {
	// Window reads the state file through WindowSize bytes at a time (state-window);
	// false reads it whole, as a module with a large enough upload_merge_buffer_size would.
	Window bool
	// SingleByteBug applies the state-file bounds check of releases before June 2020, which
	// rejects a stored line with start == end (single-byte-state-bug).
	SingleByteBug bool
	// Cut stops the response list after the item that crosses RangeHeaderBufferSize
	// bytes (range-list-cut); false lists every range.
	Cut bool
}

// Result is the outcome of one merge.
type Result struct {
	// State is the state file after the merge. After a failure it holds whatever the module
	// had written back before it failed.
	State []byte
	// List is the range list of the 201 (module form, no trailing newline).
	List string
	// Complete reports that the merged range is the whole file: the module deletes the state
	// file and completes.
	Complete bool
	// Overrun reports that the module's 256-byte range-list buffer was written past its end
	// (docs/module-behavior.md §7.8). A failed merge after an overrun crashes the worker.
	Overrun bool
	// Err is ErrCorrupt (wrapped with the reason) when the merge failed: class C.
	Err error
}

// merge merges seg into the state file state as the module does. The caller has already
// checked seg with the header grammar (seg.Start <= seg.End < seg.Total).
func (m Merger) Merge(state []byte, seg Range) Result {
	st := &mergeRun{m: m, file: append([]byte(nil), state...), rng: seg, first: true}
	err := st.run()
	res := Result{
		State:    st.file,
		Complete: st.complete,
		Overrun:  st.moduleListLen > RangeHeaderBufferSize,
		Err:      err,
	}
	if m.Cut {
		res.List = string(st.moduleList)
	} else {
		res.List = string(st.fullList)
	}
	return res
}

// mergeRun is the state of one merge: the emulated file and the parser of
// ngx_http_upload_buf_merge_range.
type mergeRun struct {
	m    Merger
	file []byte

	rng        Range // the range being merged in (it grows as it absorbs lines)
	cur        Range // the line being parsed
	field      int   // 0 start, 1 end, 2 total: which number of cur is being read
	foundLower bool
	complete   bool

	out []byte // pending output lines, written back at the start of the next round

	first         bool   // no item written to the module's list yet
	moduleList    []byte // the module's list buffer, items added while shorter than 256 bytes
	moduleListLen int    // how far the module wrote into that buffer
	fullList      []byte // every item, for a module without the cut
}

func (st *mergeRun) run() error {
	size := int64(len(st.file)) // st_size, taken once when the file is opened
	window := int64(WindowSize)
	if !st.m.Window {
		window = size + 1
	}
	var offset, outPos int64 // the file's offset (moved by reads AND writes) and the output position
	for {
		var in []byte
		if offset < size {
			n := min(size-offset, window)
			in = append([]byte(nil), st.file[offset:offset+n]...)
			offset += n
		}
		lastBuf := offset == size
		if len(st.out) > 0 {
			st.pwrite(st.out, outPos)
			outPos += int64(len(st.out))
			offset += int64(len(st.out)) // ngx_write_file moves the same offset: the window skips
		}
		st.out = st.out[:0]
		if err := st.parse(in, lastBuf); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if offset >= size {
			break
		}
	}
	if len(st.out) > 0 {
		st.pwrite(st.out, outPos)
		outPos += int64(len(st.out))
	}
	if outPos < size {
		st.file = st.file[:outPos]
	}
	return nil
}

// pwrite writes b at off, extending the file when needed.
func (st *mergeRun) pwrite(b []byte, off int64) {
	if end := off + int64(len(b)); end > int64(len(st.file)) {
		st.file = append(st.file, make([]byte, end-int64(len(st.file)))...)
	}
	copy(st.file[off:], b)
}

func (st *mergeRun) fieldPtr() *int64 {
	switch st.field {
	case 0:
		return &st.cur.Start
	case 1:
		return &st.cur.End
	}
	return &st.cur.Total
}

// parse is ngx_http_upload_buf_merge_range: it reads one window. The number being read is
// reset to 0 when a window starts, so a number split by the window edge loses its first
// digits (docs/module-behavior.md §7.7).
func (st *mergeRun) parse(in []byte, lastBuf bool) error {
	p := 0
	for {
		*st.fieldPtr() = 0
		for p < len(in) {
			c := in[p]
			p++
			if c >= '0' && c <= '9' {
				f := st.fieldPtr()
				*f = *f*10 + int64(c-'0')
				continue
			}
			if c == '-' {
				if st.field != 0 {
					return errors.New("unexpected - while parsing range")
				}
				st.field = 1
				break
			}
			if c == '/' {
				if st.field != 1 {
					return errors.New("unexpected / while parsing range")
				}
				st.field = 2
				break
			}
			if c == '\n' {
				if st.field != 2 {
					return errors.New("unexpected end of line while parsing range")
				}
				if err := st.line(); err != nil {
					return err
				}
				break
			}
			return fmt.Errorf("unexpected character %q", c)
		}
		if p >= len(in) {
			break
		}
	}
	if lastBuf {
		if st.field != 0 {
			return errors.New("unexpected end of file while merging ranges")
		}
		if !st.foundLower {
			st.add(st.rng)
			st.complete = st.rng.Start == 0 && st.rng.End == st.rng.Total-1
			st.foundLower = true
		}
	}
	return nil
}

// line handles one complete state-file line in st.cur.
func (st *mergeRun) line() error {
	c := st.cur
	bad := c.Start > c.End || c.Start > c.Total || c.End > c.Total // since 643b4c1 (June 2020)
	if st.m.SingleByteBug {
		bad = c.Start >= c.End || c.Start >= c.Total || c.End > c.Total
	}
	if bad {
		return fmt.Errorf("inconsistent bounds while parsing range: %d-%d/%d", c.Start, c.End, c.Total)
	}
	if c.Total != st.rng.Total {
		return errors.New("total number of bytes mismatch while parsing range")
	}
	st.field = 0
	switch {
	case c.End+1 < st.rng.Start: // entirely below the new range
		st.add(c)
	case c.Start > st.rng.End+1: // entirely above: the new range goes first
		if !st.foundLower {
			st.add(st.rng)
		}
		st.add(c)
		st.foundLower = true
	default: // overlapping or adjacent: absorb it
		st.rng.Start = min(st.rng.Start, c.Start)
		st.rng.End = max(st.rng.End, c.End)
	}
	return nil
}

// add is ngx_http_upload_add_range: the line goes to the output, and to the range list
// while that is shorter than the buffer (the item that crosses the limit is written whole).
func (st *mergeRun) add(r Range) {
	item := strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.End, 10) + "/" + strconv.FormatInt(r.Total, 10)
	st.out = append(st.out, item...)
	st.out = append(st.out, '\n')
	if !st.first {
		item = "," + item
	}
	st.fullList = append(st.fullList, item...)
	if st.moduleListLen < RangeHeaderBufferSize {
		st.moduleList = append(st.moduleList, item...)
		st.moduleListLen += len(item)
		st.first = false
	}
}
