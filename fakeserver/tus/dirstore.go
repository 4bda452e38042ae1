package tus

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// Layout of a data directory.
const (
	dirUploads = "tus"     // <id>.bin (the bytes) and <id>.info (the Info, JSON) of every upload
	dirTmp     = "tus-tmp" // an info file while it is written, before the rename into place
	suffixBin  = ".bin"
	suffixInfo = ".info"
)

// validID is the form of an upload ID (newID makes them): nothing else names a file.
var validID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// dirStore is the Store of a data directory:
//
//	<dir>/tus/<id>.bin    the upload's bytes from offset 0 (past the info's offset: not yet its)
//	<dir>/tus/<id>.info   the upload's Info as JSON, replaced by a rename (atomic)
//	<dir>/tus-tmp/        info files while they are written
//
// The bytes of a PATCH are written into the data file first, then the info with the new
// offset is written to tus-tmp/ and renamed into place: a process killed at any moment leaves
// the previous offset or the new one, and the bytes below it are on disk. The layout sits
// beside the nginx-protocol store's (sessions/, files/, tmp/), so one directory may serve
// both. Every file operation goes through an os.Root of the directory, and only IDs of the
// server's own form name files, so nothing outside the directory is reached.
//
// With fsync, the data file is fsynced before the info is written, the info before its
// rename, and the directory after it.
type dirStore struct {
	root  *os.Root
	fsync bool

	mu      sync.Mutex // guards uploads
	uploads map[string]*dirUpload
}

// NewDirStore returns a Store that keeps its uploads in dir (created when missing); the
// uploads that a previous run left there are loaded when they are asked for, so a restart
// keeps every acknowledged byte. With fsync, every commit is fsynced before it is
// acknowledged (safe against power loss, not only against a killed process).
func NewDirStore(dir string, fsync bool) (Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	for _, d := range []string{abs, filepath.Join(abs, dirUploads), filepath.Join(abs, dirTmp)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	for _, d := range []string{dirUploads, dirTmp} {
		if fi, err := root.Lstat(d); err != nil || !fi.IsDir() {
			_ = root.Close()
			return nil, fmt.Errorf("data directory %s: %s is not a directory (a symbolic link is refused)", abs, d)
		}
	}
	return &dirStore{root: root, fsync: fsync, uploads: map[string]*dirUpload{}}, nil
}

func infoPath(id string) string { return dirUploads + "/" + id + suffixInfo }
func binPath(id string) string  { return dirUploads + "/" + id + suffixBin }

func (s *dirStore) Create(info Info) (Upload, error) {
	if !validID.MatchString(info.ID) {
		return nil, fmt.Errorf("create upload %q: not an upload ID", info.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.root.Lstat(infoPath(info.ID)); err == nil {
		return nil, fmt.Errorf("create upload %s: it exists", info.ID)
	}
	f, err := s.root.OpenFile(binPath(info.ID), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create upload %s: %w", info.ID, err)
	}
	u := &dirUpload{store: s, id: info.ID, f: f}
	if err := u.Commit(info); err != nil {
		_ = f.Close()
		_ = s.root.Remove(binPath(info.ID))
		return nil, err
	}
	s.uploads[info.ID] = u
	return u, nil
}

func (s *dirStore) Load(id string) (Upload, error) {
	if !validID.MatchString(id) {
		return nil, fmt.Errorf("load upload %q: %w", id, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.uploads[id]; ok {
		return u, nil
	}
	b, err := s.root.ReadFile(infoPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load upload %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load upload %s: %w", id, err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil || info.ID != id {
		return nil, fmt.Errorf("load upload %s: %s is damaged", id, infoPath(id))
	}
	f, err := s.root.OpenFile(binPath(id), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("load upload %s: %w", id, err)
	}
	if st, err := f.Stat(); err != nil || st.Size() < info.Offset {
		_ = f.Close()
		return nil, fmt.Errorf("load upload %s: %s holds fewer bytes than its offset %d", id, binPath(id), info.Offset)
	}
	u := &dirUpload{store: s, id: id, f: f, info: info}
	s.uploads[id] = u
	return u, nil
}

func (s *dirStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, u := range s.uploads {
		errs = append(errs, u.f.Close())
		delete(s.uploads, id)
	}
	errs = append(errs, s.root.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close data directory: %w", err)
	}
	return nil
}

type dirUpload struct {
	store *dirStore
	id    string
	f     *os.File

	mu   sync.Mutex // guards info
	info Info
}

func (u *dirUpload) Info() Info {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.info
}

func (u *dirUpload) WriteAt(p []byte, off int64) (int, error) {
	n, err := u.f.WriteAt(p, off)
	if err != nil {
		return n, fmt.Errorf("write upload %s: %w", u.id, err)
	}
	return n, nil
}

func (u *dirUpload) ReadAt(p []byte, off int64) (int, error) { return u.f.ReadAt(p, off) }

func (u *dirUpload) Flush() error {
	if !u.store.fsync {
		return nil
	}
	if err := u.f.Sync(); err != nil {
		return fmt.Errorf("fsync upload %s: %w", u.id, err)
	}
	return nil
}

func (u *dirUpload) Commit(info Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", u.id, err)
	}
	root := u.store.root
	tmp := dirTmp + "/" + u.id + suffixInfo
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", u.id, err)
	}
	_, err = f.Write(b)
	if err == nil && u.store.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, infoPath(u.id))
	}
	if err == nil && u.store.fsync {
		err = syncDir(root, dirUploads)
	}
	if err != nil {
		return fmt.Errorf("commit upload %s: %w", u.id, err)
	}
	u.mu.Lock()
	u.info = info
	u.mu.Unlock()
	return nil
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (u *dirUpload) Remove() error {
	s := u.store
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.uploads, u.id)
	err := s.root.Remove(infoPath(u.id)) // the info first: without it the bytes are no upload
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if rerr := s.root.Remove(binPath(u.id)); err == nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if cerr := u.f.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr // a PATCH still writing to it fails, and is answered as for a removed upload
	}
	if err != nil {
		return fmt.Errorf("remove upload %s: %w", u.id, err)
	}
	return nil
}
