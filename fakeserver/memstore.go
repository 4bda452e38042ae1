package fakeserver

import (
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/upspec/upspec/ranges"
)

// memChunkSize is the allocation unit of the in-memory store: a file is a sparse map of
// chunks, so a 5 GB total with a few small segments holds a few chunks only.
const memChunkSize = 64 << 10

// memStore is the in-memory Store.
type memStore struct {
	mu       sync.Mutex
	sessions map[string]*memUpload
	files    map[string]*memData
}

// NewMemoryStore returns a Store that keeps everything in memory, in sparse chunks: only the
// bytes actually written take memory.
func NewMemoryStore() Store {
	return &memStore{sessions: map[string]*memUpload{}, files: map[string]*memData{}}
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
	u := &memUpload{store: s, id: id, data: &memData{size: total, chunks: map[int64][]byte{}}}
	s.mu.Lock()
	s.sessions[id] = u
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

func (s *memStore) Close() error { return nil }

// memUpload is one session of the in-memory store.
type memUpload struct {
	store *memStore
	id    string
	data  *memData

	mu    sync.Mutex // guards acked
	acked []ranges.Range
}

func (u *memUpload) Total() int64 { return u.data.size }

func (u *memUpload) Ranges() []ranges.Range {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.acked)
}

func (u *memUpload) WriteAt(p []byte, off int64) (int, error) { return u.data.WriteAt(p, off) }

func (u *memUpload) Flush() error { return nil }

func (u *memUpload) Commit(_ ranges.Range, acked []ranges.Range) error {
	c := slices.Clone(acked)
	u.mu.Lock()
	u.acked = c
	u.mu.Unlock()
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

// memData is a sparse file in memory. Bytes never written read as zero.
type memData struct {
	mu     sync.RWMutex
	size   int64
	chunks map[int64][]byte
}

// WriteAt copies p to offset off, allocating the chunks it touches.
func (d *memData) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > d.size || int64(len(p)) > d.size-off {
		return 0, fmt.Errorf("memory store: write of %d bytes at %d outside a file of %d", len(p), off, d.size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for n < len(p) {
		o := off + int64(n)
		idx, in := o/memChunkSize, int(o%memChunkSize)
		c := d.chunks[idx]
		if c == nil {
			c = make([]byte, memChunkSize)
			d.chunks[idx] = c
		}
		n += copy(c[in:], p[n:])
	}
	return n, nil
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
	n := 0
	for n < len(want) {
		o := off + int64(n)
		idx, in := o/memChunkSize, int(o%memChunkSize)
		end := min(len(want), n+memChunkSize-in)
		if c := d.chunks[idx]; c != nil {
			copy(want[n:end], c[in:])
		} else {
			clear(want[n:end])
		}
		n = end
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// memFile is a completed file of the in-memory store.
type memFile struct{ d *memData }

func (f memFile) ReadAt(p []byte, off int64) (int, error) { return f.d.ReadAt(p, off) }
func (f memFile) Close() error                            { return nil }
func (f memFile) Size() int64                             { return f.d.size }
func (f memFile) Path() string                            { return "" }
