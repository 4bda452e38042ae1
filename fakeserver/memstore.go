package fakeserver

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upspec/upspec/ranges"
)

// memExtentMax is the largest extent of the in-memory store. A write that continues an
// extent appends to it up to this size, then starts the next one; the handler streams bodies
// in pieces of this size, so a large segment becomes extents of exactly this size, allocated
// once and never copied again.
const memExtentMax = bodyBufferSize

// memStore is the in-memory Store.
type memStore struct {
	mu          sync.Mutex
	sessions    map[string]*memUpload
	files       map[string]*memData
	completions map[string]Completion
}

// NewMemoryStore returns a Store that keeps everything in memory. A file is a sorted list of
// extents holding exactly the bytes written, so memory is proportional to the bytes stored:
// a 5 GB total with a few small segments costs those segments.
func NewMemoryStore() Store {
	return &memStore{sessions: map[string]*memUpload{}, files: map[string]*memData{}, completions: map[string]Completion{}}
}

func (s *memStore) Load(id string) (Upload, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.sessions[id]
	if !ok {
		return nil, false, nil
	}
	return u, true, nil
}

func (s *memStore) Create(id string, total int64) (Upload, error) {
	u := &memUpload{store: s, id: id, data: &memData{size: total}}
	u.touch()
	s.mu.Lock()
	s.sessions[id] = u
	delete(s.completions, id)
	s.mu.Unlock()
	return u, nil
}

func (s *memStore) OpenFile(name string) (File, error) {
	s.mu.Lock()
	d, ok := s.files[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("memory store: file %q: %w", name, fs.ErrNotExist)
	}
	return memFile{d}, nil
}

func (s *memStore) LoadCompletion(id string) (Completion, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.completions[id]
	return cloneCompletion(c), ok, nil
}

func (s *memStore) SaveCompletion(id string, c Completion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.completions[id]; !ok {
		return fmt.Errorf("memory store: session %s: no completion to answer: %w", id, fs.ErrNotExist)
	}
	s.completions[id] = cloneCompletion(c)
	return nil
}

func (s *memStore) ExpireCompletions(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, c := range s.completions {
		if c.expired(now) {
			delete(s.completions, id)
			n++
		}
	}
	return n, nil
}

func (s *memStore) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *memStore) IdleSessions(before time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, u := range s.sessions {
		if u.writing.Load() == 0 && u.lastUse.Load() < before.UnixNano() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (s *memStore) Close() error { return nil }

// expired reports whether an answered completion record may be forgotten at now.
func (c Completion) expired(now time.Time) bool {
	return c.Status != 0 && !c.Expires.IsZero() && c.Expires.Before(now)
}

// cloneCompletion returns c with its own header and body.
func cloneCompletion(c Completion) Completion {
	c.Header = c.Header.Clone()
	c.Body = slices.Clone(c.Body)
	return c
}

// memUpload is one session of the in-memory store.
type memUpload struct {
	store   *memStore
	id      string
	data    *memData
	lastUse atomic.Int64 // unix nanoseconds of the last creation, write or commit
	writing atomic.Int64 // writes in progress

	mu    sync.Mutex // guards acked
	acked []ranges.Range
}

func (u *memUpload) touch() { u.lastUse.Store(time.Now().UnixNano()) }

func (u *memUpload) Total() int64 { return u.data.size }

func (u *memUpload) Ranges() []ranges.Range {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.acked)
}

func (u *memUpload) WriteAt(p []byte, off int64) (int, error) {
	u.writing.Add(1)
	defer u.writing.Add(-1)
	u.touch()
	return u.data.WriteAt(p, off)
}

func (u *memUpload) Flush() error { return nil }

func (u *memUpload) Commit(_ ranges.Range, acked []ranges.Range) error {
	c := slices.Clone(acked)
	u.mu.Lock()
	u.acked = c
	u.mu.Unlock()
	u.touch()
	return nil
}

func (u *memUpload) Finish(name string) (File, error) {
	s := u.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[u.id] == u {
		delete(s.sessions, u.id)
	}
	s.files[name] = u.data
	s.completions[u.id] = Completion{Name: name, Total: u.data.size}
	return memFile{u.data}, nil
}

func (u *memUpload) Discard() error {
	s := u.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[u.id] == u {
		delete(s.sessions, u.id)
	}
	return nil
}

// memExtent is a run of written bytes of a memData, starting at start.
type memExtent struct {
	start int64
	b     []byte
}

func (e *memExtent) end() int64 { return e.start + int64(len(e.b)) }

// memData is a sparse file in memory: sorted, disjoint extents holding the bytes written.
// Bytes never written read as zero.
type memData struct {
	mu   sync.RWMutex
	size int64
	ext  []memExtent
}

// search returns the index of the first extent that ends after off; d.mu is held.
func (d *memData) search(off int64) int {
	return sort.Search(len(d.ext), func(i int) bool { return d.ext[i].end() > off })
}

// WriteAt copies p to offset off: into the extents it overlaps, and into new or extended
// extents for the bytes between them.
func (d *memData) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > d.size || int64(len(p)) > d.size-off {
		return 0, fmt.Errorf("memory store: write of %d bytes at %d outside a file of %d", len(p), off, d.size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := d.search(off)
		if i < len(d.ext) && d.ext[i].start <= off {
			k := copy(d.ext[i].b[off-d.ext[i].start:], p)
			off, p = off+int64(k), p[k:]
			continue
		}
		// off lies in a gap that ends where extent i starts (or at the end of the file).
		k := len(p)
		if i < len(d.ext) {
			k = int(min(int64(k), d.ext[i].start-off))
		}
		if i > 0 && d.ext[i-1].end() == off && len(d.ext[i-1].b) < memExtentMax {
			prev := &d.ext[i-1]
			k = min(k, memExtentMax-len(prev.b))
			prev.b = grow(prev.b, k, min(memExtentMax, d.size-prev.start))
			prev.b = append(prev.b, p[:k]...)
		} else {
			k = min(k, memExtentMax)
			d.ext = slices.Insert(d.ext, i, memExtent{start: off, b: slices.Clone(p[:k])})
		}
		off, p = off+int64(k), p[k:]
	}
	return n, nil
}

// grow returns b with room for n more bytes. The capacity doubles, up to limit (the
// extent's largest length), so that an extent built of many small writes costs its bytes
// copied about twice, not once per write; what it holds unused stays below its length.
func grow(b []byte, n int, limit int64) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := int(min(limit, int64(max(2*len(b), len(b)+n))))
	nb := make([]byte, len(b), max(c, len(b)+n))
	copy(nb, b)
	return nb
}

// ReadAt reads into p from offset off; it returns io.EOF when it reaches the end.
func (d *memData) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("memory store: read at negative offset %d", off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	want := p
	if rest := d.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	clear(want)
	end := off + int64(len(want))
	for i := d.search(off); i < len(d.ext) && d.ext[i].start < end; i++ {
		e := &d.ext[i]
		from := max(e.start, off)
		copy(want[from-off:], e.b[from-e.start:])
	}
	if len(want) < len(p) {
		return len(want), io.EOF
	}
	return len(want), nil
}

// memFile is a completed file of the in-memory store.
type memFile struct{ d *memData }

func (f memFile) ReadAt(p []byte, off int64) (int, error) { return f.d.ReadAt(p, off) }
func (f memFile) Close() error                            { return nil }
func (f memFile) Size() int64                             { return f.d.size }
func (f memFile) Path() string                            { return "" }

// held returns the number of bytes the extents hold.
func (d *memData) held() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := int64(0)
	for _, e := range d.ext {
		n += int64(len(e.b))
	}
	return n
}
