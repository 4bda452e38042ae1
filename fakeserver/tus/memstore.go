package tus

import (
	"fmt"
	"io"
	"sync"
)

// memStore is the Store in memory: lost when the process ends.
type memStore struct {
	mu      sync.Mutex
	uploads map[string]*memUpload
}

// NewMemoryStore returns a Store that keeps its uploads in memory.
func NewMemoryStore() Store { return &memStore{uploads: map[string]*memUpload{}} }

func (s *memStore) Create(info Info) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.uploads[info.ID]; ok {
		return nil, fmt.Errorf("create upload %s: it exists", info.ID)
	}
	u := &memUpload{store: s, id: info.ID, info: info}
	s.uploads[info.ID] = u
	return u, nil
}

func (s *memStore) Load(id string) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok {
		return nil, fmt.Errorf("load upload %s: %w", id, ErrNotFound)
	}
	return u, nil
}

func (s *memStore) Close() error { return nil }

type memUpload struct {
	store *memStore
	id    string
	mu    sync.Mutex
	info  Info
	data  []byte
}

func (u *memUpload) Info() Info {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.info
}

func (u *memUpload) WriteAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("write upload %s: negative offset %d", u.id, off)
	}
	if end := off + int64(len(p)); end > int64(len(u.data)) {
		u.data = append(u.data, make([]byte, end-int64(len(u.data)))...)
	}
	return copy(u.data[off:], p), nil
}

func (u *memUpload) ReadAt(p []byte, off int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if off < 0 || off >= int64(len(u.data)) {
		return 0, io.EOF
	}
	n := copy(p, u.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (u *memUpload) Flush() error { return nil }

func (u *memUpload) Commit(info Info) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.info = info
	return nil
}

func (u *memUpload) Remove() error {
	u.store.mu.Lock()
	defer u.store.mu.Unlock()
	delete(u.store.uploads, u.id)
	u.mu.Lock()
	u.data = nil
	u.mu.Unlock()
	return nil
}

// forgetAll loses every upload, as the end of the process does (the fault restart).
func (s *memStore) forgetAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uploads = map[string]*memUpload{}
}
