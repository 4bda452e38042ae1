package fakeserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// Layout of a data directory.
const (
	dirSessions  = "sessions" // <id>.data, <id>.state and <id>.done of every session
	dirTmp       = "tmp"      // files while they are written, before the rename
	dirFiles     = "files"    // completed files, by key (fileKey)
	suffixData   = ".data"
	suffixState  = ".state"
	suffixDone   = ".done"
	suffixName   = ".name"
	maxOpenFiles = 256 // sessions whose files are kept open at once; the least recently used idle one is closed
	compactEvery = 64  // the state file is compacted once it holds this many lines, and 4 per range
	maxPlainName = 200 // longest file name stored under its own name; longer ones are hashed
)

// dirStore is the Store of a data directory:
//
//	<dir>/sessions/<id>.data   the session's bytes, at their offsets (sparse)
//	<dir>/sessions/<id>.state  the acknowledged ranges: `S-E/T CRC` lines (CRC: the CRC-32 of
//	                           `S-E/T` in 8 hex digits); the state is the union of its lines
//	<dir>/sessions/<id>.done   the completion record of a finished session: its state file,
//	                           renamed, with `JSON CRC` lines after the state lines; the last
//	                           whole JSON line counts (encodeCompletion)
//	<dir>/tmp/<id>.*           a file while it is written, before the rename into place
//	<dir>/files/<key>          completed files; key is the name itself when it is short and
//	                           plain, else `~` and the SHA-256 of the name in hex, the name
//	                           being kept as data in files/<key>.name
//
// A range is committed by writing its bytes into the data file first, then appending its line
// to the state file (one pwrite at the end of the file). A process killed in the middle of
// that write leaves a last line that is cut short; its missing newline or its checksum gives
// it away, and loading drops it (and truncates it off), so the state read back is the previous
// one or the new one, never a range whose bytes were not written. Once the file holds at least
// compactEvery lines and four times as many lines as the merged set has ranges, the state is
// compacted: the merged list is written to tmp/ and renamed over the state file (an atomic
// replacement).
//
// Appending instead of replacing the file on every segment is a matter of speed: on ext4, a
// rename over an existing file (or a truncate) forces the allocation of the new file's
// delayed blocks, which costs about 0.7 ms per segment on the development machine, more than
// the whole 1 MiB segment costs a plain handler; an append costs a few microseconds.
//
// Finish writes the completion record first, which is the moment the session is complete:
// it appends the record's line to the state file (a state ends before its first JSON line)
// and renames the file to <id>.done; then it moves the data file to files/ and hands it back
// open. Loading a directory where a kill interrupted this finishes the rename and the move.
// The record is answered later (SaveCompletion, another line) and outlives restarts until
// it expires.
//
// So a session creates two files, its data and its state, and removes none: on the
// development machine's ext4 (without a journal) creating a file costs 0.1-0.4 ms of CPU,
// where a rename costs about 10 µs, and every inode freed in the last half minute or so
// makes the next creations dearer (the allocator skips recently deleted inodes, looking up
// each one). A separate record file, and removing the state, used to cost a third creation
// and a removal per session.
//
// Every file operation goes through an os.Root of the directory, so that no path, link or
// name reaches outside it, and no file is opened through a symbolic link: a link planted in
// the directory is refused, not followed (openFile). Errors name files relative to the
// directory, never by their host path.
//
// With fsync, the data file is fsynced before the line is appended, the state file after it,
// and the directory after a rename or the creation of a file.
type dirStore struct {
	dir   string   // the data directory, for File.Path only
	root  *os.Root // the data directory: renames between its subdirectories go through it
	subs  [3]subRoot
	fsync bool

	mu          sync.Mutex // guards uploads, open and completions
	uploads     map[string]*dirUpload
	open        map[*dirUpload]struct{} // uploads whose data file is open
	completions map[string]int64        // completion records: unix nanoseconds of expiry, 0 if not answered
	tick        atomic.Int64            // use counter for the least-recently-used choice
}

// NewDirStore returns a Store that keeps its sessions and files in dir (created when
// missing). It loads the sessions a previous run left there, so that a restart keeps every
// acknowledged range and every completion record. With fsync, every commit is fsynced (data,
// state and directory) before it is acknowledged, which makes it safe against power loss, not
// only against a killed process.
func NewDirStore(dir string, fsync bool) (Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &dirStore{
		dir:         abs,
		root:        root,
		fsync:       fsync,
		uploads:     map[string]*dirUpload{},
		open:        map[*dirUpload]struct{}{},
		completions: map[string]int64{},
	}
	for i, d := range []string{dirSessions, dirTmp, dirFiles} {
		if err := root.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			_ = s.closeRoots()
			return nil, fmt.Errorf("data directory %s: %w", abs, plainErr(err))
		}
		fi, err := root.Lstat(d)
		if err == nil && !fi.IsDir() {
			err = errors.New("not a directory (a symbolic link is refused)")
		}
		var sr *os.Root
		if err == nil {
			sr, err = root.OpenRoot(d)
		}
		if err != nil {
			_ = s.closeRoots()
			return nil, fmt.Errorf("data directory %s: %s: %w", abs, d, plainErr(err))
		}
		s.subs[i] = subRoot{prefix: d + "/", root: sr}
	}
	if err := s.load(); err != nil {
		_ = s.closeRoots()
		return nil, fmt.Errorf("data directory %s: %w", abs, err)
	}
	return s, nil
}

// subRoot is a subdirectory of the data directory, opened as an os.Root of its own, so that
// an operation on one of its files is a single system call on a single name.
type subRoot struct {
	prefix string // "sessions/"
	root   *os.Root
}

// at returns the root that holds rel (a path relative to the data directory) and the name of
// rel in it.
func (s *dirStore) at(rel string) (*os.Root, string) {
	for _, sr := range s.subs {
		if name, ok := strings.CutPrefix(rel, sr.prefix); ok && sr.root != nil && !strings.Contains(name, "/") {
			return sr.root, name
		}
	}
	return s.root, rel
}

// rootOf returns the root of the subdirectory sub.
func (s *dirStore) rootOf(sub string) *os.Root {
	for _, sr := range s.subs {
		if sr.prefix == sub+"/" && sr.root != nil {
			return sr.root
		}
	}
	return s.root
}

// closeRoots closes the roots of the directory and its subdirectories.
func (s *dirStore) closeRoots() error {
	var errs []error
	for _, sr := range s.subs {
		if sr.root != nil {
			errs = append(errs, sr.root.Close())
		}
	}
	errs = append(errs, s.root.Close())
	return errors.Join(errs...)
}

// plainErr strips the path of a *fs.PathError or *os.LinkError, so that the error carries no
// host path; the caller names the file relative to the directory.
func plainErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// errNotRegular is the error of opening something that is not a regular file, a symbolic
// link included.
var errNotRegular = errors.New("not a regular file (symbolic links are refused)")

// openFile opens rel (a path relative to the directory) without following a symbolic link:
// a link, or anything but a regular file, is refused before it is opened, and the file opened
// must be the one checked. os.Root keeps even a link swapped in between inside the directory.
// O_TRUNC is applied only once the file is known to be the right one.
func (s *dirStore) openFile(rel string, flag int) (*os.File, error) {
	r, name := s.at(rel)
	if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE {
		// Creating through a dangling link would make a file elsewhere in the directory.
		if fi, err := r.Lstat(name); err == nil && !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("open %s: %w", rel, errNotRegular)
		}
	}
	f, err := r.OpenFile(name, flag&^os.O_TRUNC, 0o600)
	if err != nil {
		if fi, lerr := r.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			err = errNotRegular // a link out of the directory, or to nothing
		}
		return nil, fmt.Errorf("open %s: %w", rel, plainErr(err))
	}
	if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL {
		return f, nil // created here: an exclusive creation never follows a link
	}
	fi, err := f.Stat()
	if err == nil {
		var li fs.FileInfo
		if li, err = r.Lstat(name); err == nil && (!li.Mode().IsRegular() || !os.SameFile(fi, li)) {
			err = errNotRegular
		}
	}
	if err == nil && flag&os.O_TRUNC != 0 {
		err = f.Truncate(0)
	}
	if err != nil {
		_ = f.Close() // refused: the error says why
		return nil, fmt.Errorf("open %s: %w", rel, plainErr(err))
	}
	return f, nil
}

// remove removes rel (a link itself, never its target); a missing file is no error.
func (s *dirStore) remove(rel string) error {
	r, name := s.at(rel)
	if err := r.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", rel, plainErr(err))
	}
	return nil
}

// rename moves from over to, both relative to the directory (a link is moved, not followed).
func (s *dirStore) rename(from, to string) error {
	if err := s.root.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s to %s: %w", from, to, plainErr(err))
	}
	return nil
}

// renameSession renames the file from of sessions/ to to, both bare names, through the root
// of sessions/: a single system call, where a rename through the data directory's root opens
// both parent directories first.
func (s *dirStore) renameSession(from, to string) error {
	if err := s.rootOf(dirSessions).Rename(from, to); err != nil {
		return fmt.Errorf("rename %s to %s: %w", dirSessions+"/"+from, dirSessions+"/"+to, plainErr(err))
	}
	return nil
}

// createFile creates rel anew: whatever is there (a link included) is removed first, and the
// new file is created exclusively, which never follows a link.
func (s *dirStore) createFile(rel string, flag int) (*os.File, error) {
	if err := s.remove(rel); err != nil {
		return nil, err
	}
	return s.openFile(rel, flag|os.O_CREATE|os.O_EXCL)
}

// writeFile writes b to the new file tmp/name and renames it over to: an atomic replacement.
func (s *dirStore) writeFile(name, to string, b []byte) error {
	tmp := dirTmp + "/" + name
	f, err := s.createFile(tmp, os.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.remove(tmp) // the write error is the one to report
		return fmt.Errorf("write %s: %w", tmp, plainErr(err))
	}
	if err := s.rename(tmp, to); err != nil {
		return err
	}
	return s.syncDir(filepath.Dir(to))
}

// syncDir fsyncs the subdirectory sub, when fsync is set, so that a rename, creation or
// removal inside it is durable.
func (s *dirStore) syncDir(sub string) error {
	if !s.fsync {
		return nil
	}
	d, err := s.rootOf(sub).Open(".")
	if err != nil {
		return fmt.Errorf("sync %s: %w", sub, plainErr(err))
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", sub, plainErr(err))
	}
	return nil
}

func sessPath(id, suffix string) string { return dirSessions + "/" + id + suffix }

// fileKey is the name under files/ of the completed file called name: name itself when it is
// at most maxPlainName bytes of printable ASCII, without `~`, `/` or `\`, not starting with a
// dot or a space and not ending with a space; else `~` and the hex SHA-256 of name. The two
// forms cannot collide (a plain key has no `~`), and every accepted file name has a key.
func fileKey(name string) string {
	plain := len(name) > 0 && len(name) <= maxPlainName && name[0] != '.' && name[0] != ' ' && name[len(name)-1] != ' '
	for i := 0; plain && i < len(name); i++ {
		c := name[i]
		plain = c >= 0x20 && c < 0x7f && c != '~' && c != '/' && c != '\\'
	}
	if plain {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "~" + hex.EncodeToString(sum[:])
}

// completionRecord is the form of a completion record on disk. The name is bytes, so that a
// name that is not UTF-8 survives JSON.
type completionRecord struct {
	Name    []byte      `json:"name"`
	Total   int64       `json:"total"`
	Status  int         `json:"status,omitempty"`
	Header  http.Header `json:"header,omitempty"`
	Body    []byte      `json:"body,omitempty"`
	Expires int64       `json:"expires,omitempty"` // unix nanoseconds
}

// errNoRecord is the error of a completion record file without one whole record: a kill cut
// its first line short, before Finish could complete.
var errNoRecord = errors.New("no whole completion record")

// encodeCompletion returns the line of c in a record file: `JSON CRC\n` (CRC: the CRC-32 of
// the JSON in 8 hex digits). A record file is a log of such lines, the last whole one being
// the record: Finish writes the first, SaveCompletion appends the answered one, so that
// neither creates or renames another file, and a line cut short by a kill is known by its
// checksum.
func encodeCompletion(c Completion) ([]byte, error) {
	r := completionRecord{Name: []byte(c.Name), Total: c.Total, Status: c.Status, Header: c.Header, Body: c.Body}
	if !c.Expires.IsZero() {
		r.Expires = c.Expires.UnixNano()
	}
	b, err := json.Marshal(r) // escapes every control byte: the line holds no newline
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(b, " %08x\n", crc32.ChecksumIEEE(b)), nil
}

// decodeCompletion returns the last whole record of a record file, or errNoRecord. The state
// lines that a record file made from a state file begins with (recordLocked) are skipped: a
// record is a line whose JSON starts with `{`, which no state line does.
func decodeCompletion(b []byte) (Completion, error) {
	var last []byte
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			break
		}
		line := b[:nl]
		b = b[nl+1:]
		sp := bytes.LastIndexByte(line, ' ')
		if sp < 0 || len(line)-sp-1 != 8 {
			break
		}
		sum, err := strconv.ParseUint(string(line[sp+1:]), 16, 32)
		if err != nil || uint32(sum) != crc32.ChecksumIEEE(line[:sp]) {
			break
		}
		if isRecordLine(line) {
			last = line[:sp]
		}
	}
	if last == nil {
		return Completion{}, errNoRecord
	}
	var r completionRecord
	if err := json.Unmarshal(last, &r); err != nil {
		return Completion{}, err
	}
	if !validFileName(string(r.Name)) || r.Total < 0 {
		return Completion{}, fmt.Errorf("invalid name %q or total %d", r.Name, r.Total)
	}
	c := Completion{Name: string(r.Name), Total: r.Total, Status: r.Status, Header: r.Header, Body: r.Body}
	if r.Expires != 0 {
		c.Expires = time.Unix(0, r.Expires)
	}
	return c, nil
}

// isRecordLine reports whether a line of a state or record file is a completion record (its
// JSON object) rather than a state line (`S-E/T CRC`, which starts with a digit).
func isRecordLine(line []byte) bool { return len(line) > 0 && line[0] == '{' }

// appendRecord writes the record line of c to the record file of id: a new file (Finish of a
// session that committed nothing) or the end of the existing one (SaveCompletion).
func (s *dirStore) appendRecord(id string, c Completion, create bool) error {
	line, err := encodeCompletion(c)
	if err != nil {
		return fmt.Errorf("completion record: %w", err)
	}
	rel := sessPath(id, suffixDone)
	var f *os.File
	if create {
		f, err = s.createFile(rel, os.O_WRONLY)
	} else {
		f, err = s.openFile(rel, os.O_WRONLY|os.O_APPEND)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, plainErr(err))
	}
	if create {
		return s.syncDir(dirSessions)
	}
	return nil
}

// readCompletion reads the completion record of id from the directory.
func (s *dirStore) readCompletion(id string) (Completion, error) {
	rel := sessPath(id, suffixDone)
	f, err := s.openFile(rel, os.O_RDONLY)
	if err != nil {
		return Completion{}, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return Completion{}, fmt.Errorf("read %s: %w", rel, plainErr(err))
	}
	c, err := decodeCompletion(buf.Bytes())
	if err != nil {
		return Completion{}, fmt.Errorf("completion record %s: %w", rel, err)
	}
	return c, nil
}

// place moves the data file of session id into files/ as the completed file called name,
// with the name kept as data when the key is a hash.
func (s *dirStore) place(id, name string) (key string, err error) {
	key = fileKey(name)
	if key != name {
		if err := s.writeFile(id+suffixName, dirFiles+"/"+key+suffixName, []byte(name)); err != nil {
			return "", err
		}
	}
	if err := s.rename(sessPath(id, suffixData), dirFiles+"/"+key); err != nil {
		return "", err
	}
	return key, s.syncDir(dirFiles)
}

// readDir returns the names of the entries of the subdirectory sub. It removes the symbolic
// links it finds there (a link is removed, never followed): none is ever made by the store.
func (s *dirStore) readDir(sub string) ([]string, error) {
	d, err := s.rootOf(sub).Open(".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sub, plainErr(err))
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sub, plainErr(err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 {
			if err := s.remove(sub + "/" + e.Name()); err != nil {
				return nil, fmt.Errorf("remove a planted link: %w", err)
			}
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// load removes what an interrupted run left half-done, finishes interrupted completions and
// reads every session's state and every completion record.
func (s *dirStore) load() error {
	tmp, err := s.readDir(dirTmp)
	if err != nil {
		return err
	}
	for _, name := range tmp {
		if err := s.remove(dirTmp + "/" + name); err != nil {
			return fmt.Errorf("remove a stale temporary file: %w", err)
		}
	}
	entries, err := s.readDir(dirSessions)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, name := range entries {
		names[name] = true
	}
	now := time.Now()
	for _, name := range entries {
		id, suffix, ok := cutSuffix(name)
		if !ok || !protocol.ValidSessionID(id) {
			continue
		}
		switch suffix {
		case suffixDone:
			if err := s.loadCompletion(id, names[id+suffixData], names[id+suffixState], now); err != nil {
				return err
			}
		case suffixState:
			if names[id+suffixDone] {
				continue // finished: loadCompletion removes it
			}
			recorded, err := s.loadSession(id, names[id+suffixData])
			if err != nil {
				return err
			}
			if recorded {
				// A kill came between the record and the rename of the state file to the
				// record file (recordLocked): the session is complete.
				if err := s.rename(sessPath(id, suffixState), sessPath(id, suffixDone)); err != nil {
					return fmt.Errorf("session %s: %w", id, err)
				}
				if err := s.loadCompletion(id, names[id+suffixData], false, now); err != nil {
					return err
				}
			}
		case suffixData:
			if !names[id+suffixState] && !names[id+suffixDone] {
				// Nothing of it was ever acknowledged.
				if err := s.remove(sessPath(id, suffixData)); err != nil {
					return fmt.Errorf("remove unacknowledged data of session %s: %w", id, err)
				}
			}
		}
	}
	return nil
}

// cutSuffix splits a file name of sessions/ into the session ID and its suffix.
func cutSuffix(name string) (id, suffix string, ok bool) {
	for _, suf := range [...]string{suffixData, suffixState, suffixDone} {
		if id, found := strings.CutSuffix(name, suf); found {
			return id, suf, true
		}
	}
	return "", "", false
}

// loadCompletion reads the completion record of id at load, finishing the move of its data
// file when a kill interrupted Finish (hasData), and removing it when it expired. A record a
// kill cut short is removed, and the session loads as it was before Finish.
func (s *dirStore) loadCompletion(id string, hasData, hasState bool, now time.Time) error {
	c, err := s.readCompletion(id)
	if errors.Is(err, errNoRecord) {
		if err := s.remove(sessPath(id, suffixDone)); err != nil {
			return fmt.Errorf("session %s: %w", id, err)
		}
		if !hasState {
			return nil
		}
		recorded, err := s.loadSession(id, hasData)
		if err != nil || !recorded {
			return err
		}
		if err := s.rename(sessPath(id, suffixState), sessPath(id, suffixDone)); err != nil {
			return fmt.Errorf("session %s: %w", id, err)
		}
		return s.loadCompletion(id, hasData, false, now)
	}
	if err != nil {
		return fmt.Errorf("session %s: %w", id, err)
	}
	if hasData {
		if _, err := s.place(id, c.Name); err != nil {
			return fmt.Errorf("session %s: finish an interrupted completion: %w", id, err)
		}
	}
	if err := s.remove(sessPath(id, suffixState)); err != nil {
		return fmt.Errorf("session %s: %w", id, err)
	}
	if c.expired(now) {
		return s.remove(sessPath(id, suffixDone))
	}
	s.completions[id] = c.Expires.UnixNano()
	if c.Expires.IsZero() {
		s.completions[id] = 0
	}
	return nil
}

// loadSession reads the state of session id at load (hasData: its data file is there). It
// reports recorded when the state file ends with a whole completion record (a kill
// interrupted recordLocked), which the caller loads as a completed session.
func (s *dirStore) loadSession(id string, hasData bool) (recorded bool, err error) {
	rel := sessPath(id, suffixState)
	f, err := s.openFile(rel, os.O_RDWR)
	if err != nil {
		return false, fmt.Errorf("session %s: %w", id, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return false, fmt.Errorf("session %s: read %s: %w", id, rel, plainErr(err))
	}
	b := buf.Bytes()
	acked, total, valid, lines, err := parseState(b)
	if err != nil {
		return false, fmt.Errorf("session %s: state file %s: %w", id, rel, err)
	}
	if _, err := decodeCompletion(b[valid:]); err == nil {
		return true, nil
	}
	if !hasData {
		// Finished by an older layout: the data became a completed file before the state
		// was removed.
		_ = f.Close() // removed next
		if err := s.remove(rel); err != nil {
			return false, fmt.Errorf("session %s: %w", id, err)
		}
		return false, nil
	}
	if len(acked) == 0 {
		// Killed before the first line was complete: nothing was acknowledged.
		_ = f.Close() // removed next
		for _, p := range []string{rel, sessPath(id, suffixData)} {
			if err := s.remove(p); err != nil {
				return false, fmt.Errorf("session %s: %w", id, err)
			}
		}
		return false, nil
	}
	if valid < len(b) {
		// The last line was cut short by a kill: drop it.
		if err := f.Truncate(int64(valid)); err != nil {
			return false, fmt.Errorf("session %s: drop a partial state line: %w", id, plainErr(err))
		}
	}
	u := &dirUpload{store: s, id: id, total: total, acked: acked, stateSize: int64(valid), lines: lines}
	last := time.Time{}
	for _, p := range []string{rel, sessPath(id, suffixData)} {
		r, name := s.at(p)
		if fi, err := r.Lstat(name); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	u.lastActive.Store(last.UnixNano())
	s.uploads[id] = u
	return false, nil
}

// stateLine appends the state line of r: `S-E/T CRC\n`.
func stateLine(b []byte, r ranges.Range, total int64) []byte {
	start := len(b)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.End, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, total, 10)
	sum := crc32.ChecksumIEEE(b[start:])
	b = append(b, ' ')
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, "0123456789abcdef"[sum>>shift&0xf])
	}
	return append(b, '\n')
}

// formatState writes a compacted state: one line per range of acked.
func formatState(acked []ranges.Range, total int64) []byte {
	b := make([]byte, 0, len(acked)*40)
	for _, r := range acked {
		b = stateLine(b, r, total)
	}
	return b
}

// parseState reads a state file. It returns the merged ranges, the total, the length of the
// valid part (every line up to the first one that is cut short, fails its checksum or is a
// completion record; only the last line can be cut short by a crash) and the number of valid
// lines. Lines with a good
// checksum that contradict each other (different totals, a range past its total) are an
// error: the file was not written by this store.
func parseState(b []byte) (acked []ranges.Range, total int64, valid, lines int, err error) {
	var set *ranges.Set
	for valid < len(b) {
		nl := bytes.IndexByte(b[valid:], '\n')
		if nl < 0 {
			break
		}
		line := string(b[valid : valid+nl])
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			break
		}
		sum, perr := strconv.ParseUint(line[sp+1:], 16, 32)
		if perr != nil || len(line)-sp-1 != 8 || uint32(sum) != crc32.ChecksumIEEE([]byte(line[:sp])) {
			break
		}
		if isRecordLine([]byte(line)) {
			break // the completion record Finish appends: the state ends before it
		}
		l, perr := ranges.ParseList(line[:sp])
		if perr != nil || len(l.Ranges) != 1 {
			return nil, 0, 0, 0, fmt.Errorf("corrupt line %q: %v", line, perr)
		}
		if set == nil {
			set = ranges.NewSet(l.Total)
		} else if l.Total != set.Total() {
			return nil, 0, 0, 0, fmt.Errorf("corrupt: line %q has another total than %d", line, set.Total())
		}
		set.Add(l.Ranges[0])
		valid += nl + 1
		lines++
	}
	if set == nil {
		return nil, 0, valid, 0, nil
	}
	return set.Ranges(), set.Total(), valid, lines, nil
}

func (s *dirStore) Load(id string) (Upload, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok {
		return nil, false, nil
	}
	return u, true, nil
}

func (s *dirStore) Create(id string, total int64) (Upload, error) {
	if !protocol.ValidSessionID(id) {
		return nil, fmt.Errorf("data directory: invalid session ID %q", id)
	}
	s.mu.Lock()
	old := s.uploads[id]
	_, done := s.completions[id]
	s.mu.Unlock()
	if old != nil {
		if err := old.Discard(); err != nil {
			return nil, err
		}
	}
	if done {
		if err := s.remove(sessPath(id, suffixDone)); err != nil {
			return nil, fmt.Errorf("data directory: session %s: remove an old completion: %w", id, err)
		}
		s.mu.Lock()
		delete(s.completions, id)
		s.mu.Unlock()
	}
	if err := s.remove(sessPath(id, suffixState)); err != nil {
		return nil, fmt.Errorf("data directory: session %s: remove an old state: %w", id, err)
	}
	// Exclusively first: only a data file left there (or a link planted in its place) costs
	// a removal before the creation.
	f, err := s.openFile(sessPath(id, suffixData), os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotRegular) {
		f, err = s.createFile(sessPath(id, suffixData), os.O_RDWR)
	}
	if err != nil {
		return nil, fmt.Errorf("data directory: session %s: %w", id, err)
	}
	u := &dirUpload{store: s, id: id, total: total, f: f}
	u.lastUse.Store(s.tick.Add(1))
	u.touch()
	s.mu.Lock()
	s.uploads[id] = u
	s.mu.Unlock()
	s.noteOpen(u)
	return u, nil
}

func (s *dirStore) OpenFile(name string) (File, error) {
	if !validFileName(name) {
		return nil, fmt.Errorf("data directory: file %q: %w", name, fs.ErrNotExist)
	}
	f, err := s.openDirFile(fileKey(name))
	if errors.Is(err, errNotRegular) {
		return nil, fmt.Errorf("data directory: file %q: %w: %w", name, fs.ErrNotExist, err)
	}
	if err != nil {
		return nil, fmt.Errorf("data directory: file %q: %w", name, err)
	}
	return f, nil
}

func (s *dirStore) LoadCompletion(id string) (Completion, bool, error) {
	s.mu.Lock()
	_, ok := s.completions[id]
	s.mu.Unlock()
	if !ok {
		return Completion{}, false, nil
	}
	c, err := s.readCompletion(id)
	if err != nil {
		return Completion{}, false, fmt.Errorf("data directory: session %s: %w", id, err)
	}
	return c, true, nil
}

func (s *dirStore) SaveCompletion(id string, c Completion) error {
	s.mu.Lock()
	_, ok := s.completions[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("data directory: session %s: no completion to answer: %w", id, fs.ErrNotExist)
	}
	if !validFileName(c.Name) {
		return fmt.Errorf("data directory: session %s: invalid file name %q", id, c.Name)
	}
	if err := s.appendRecord(id, c, false); err != nil {
		return fmt.Errorf("data directory: session %s: %w", id, err)
	}
	exp := int64(0)
	if !c.Expires.IsZero() && c.Status != 0 {
		exp = c.Expires.UnixNano()
	}
	s.mu.Lock()
	s.completions[id] = exp
	s.mu.Unlock()
	return nil
}

func (s *dirStore) ExpireCompletions(now time.Time) (int, error) {
	var ids []string
	s.mu.Lock()
	for id, exp := range s.completions {
		if exp != 0 && exp < now.UnixNano() {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	var errs []error
	n := 0
	for _, id := range ids {
		if err := s.remove(sessPath(id, suffixDone)); err != nil {
			errs = append(errs, fmt.Errorf("data directory: session %s: %w", id, err))
			continue
		}
		s.mu.Lock()
		if exp := s.completions[id]; exp != 0 && exp < now.UnixNano() {
			delete(s.completions, id)
		}
		s.mu.Unlock()
		n++
	}
	return n, errors.Join(errs...)
}

func (s *dirStore) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

func (s *dirStore) IdleSessions(before time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, u := range s.uploads {
		if u.lastActive.Load() >= before.UnixNano() || !u.mu.TryLock() {
			continue // touched since, or busy
		}
		if u.refs == 0 && !u.gone {
			ids = append(ids, id)
		}
		u.mu.Unlock()
	}
	sort.Strings(ids)
	return ids
}

func (s *dirStore) Close() error {
	s.mu.Lock()
	list := make([]*dirUpload, 0, len(s.open))
	for u := range s.open {
		list = append(list, u)
	}
	s.mu.Unlock()
	var errs []error
	for _, u := range list {
		u.mu.Lock()
		if err := u.closeFilesLocked(); err != nil {
			errs = append(errs, err)
		}
		u.mu.Unlock()
	}
	s.mu.Lock()
	clear(s.open)
	s.mu.Unlock()
	if err := s.closeRoots(); err != nil {
		errs = append(errs, fmt.Errorf("data directory: %w", plainErr(err)))
	}
	return errors.Join(errs...)
}

// noteOpen records that u's data file is open and, above maxOpenFiles, closes the least
// recently used idle data file of another session. It never waits for another session.
func (s *dirStore) noteOpen(u *dirUpload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[u] = struct{}{}
	for len(s.open) > maxOpenFiles {
		var oldest *dirUpload
		for v := range s.open {
			if v != u && (oldest == nil || v.lastUse.Load() < oldest.lastUse.Load()) {
				oldest = v
			}
		}
		if oldest == nil || !s.evict(oldest) {
			evicted := false
			for v := range s.open {
				if v != u && s.evict(v) {
					evicted = true
					break
				}
			}
			if !evicted {
				return // every other file is in use: stay above the bound for now
			}
		}
	}
}

// evict closes v's data file when nobody uses it; s.mu is held.
func (s *dirStore) evict(v *dirUpload) bool {
	if !v.mu.TryLock() {
		return false
	}
	defer v.mu.Unlock()
	if v.refs > 0 {
		return false
	}
	if v.f != nil {
		_ = v.f.Close() // nothing buffered: every write went straight to the file
		v.f = nil
	}
	if v.stateF != nil {
		_ = v.stateF.Close() // likewise
		v.stateF = nil
	}
	delete(s.open, v)
	return true
}

// dirUpload is one session of a data directory.
type dirUpload struct {
	store      *dirStore
	id         string
	total      int64
	lastUse    atomic.Int64 // tick of the last use, for the least-recently-used choice
	lastActive atomic.Int64 // unix nanoseconds of the last creation, write or commit

	mu        sync.Mutex // guards everything below
	f         *os.File   // the data file while it is open
	stateF    *os.File   // the state file while it is open
	refs      int        // writes in progress on f
	acked     []ranges.Range
	stateSize int64 // length of the state file: where the next line goes
	lines     int   // lines in the state file
	gone      bool  // finished or discarded
}

func (u *dirUpload) touch() { u.lastActive.Store(time.Now().UnixNano()) }

func (u *dirUpload) Total() int64 { return u.total }

func (u *dirUpload) Ranges() []ranges.Range {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.acked)
}

// closeFilesLocked closes the session's open files; u.mu is held, s.mu is not.
func (u *dirUpload) closeFilesLocked() error {
	var err error
	if u.f != nil {
		err = u.f.Close()
		u.f = nil
	}
	if u.stateF != nil {
		if cerr := u.stateF.Close(); err == nil {
			err = cerr
		}
		u.stateF = nil
	}
	u.store.mu.Lock()
	delete(u.store.open, u)
	u.store.mu.Unlock()
	if err != nil {
		return fmt.Errorf("data directory: session %s: close: %w", u.id, plainErr(err))
	}
	return nil
}

// acquire returns the open data file, opening it when needed; release must follow.
func (u *dirUpload) acquire() (*os.File, error) {
	u.mu.Lock()
	if u.gone {
		u.mu.Unlock()
		return nil, fmt.Errorf("data directory: session %s: %w", u.id, fs.ErrClosed)
	}
	opened := false
	if u.f == nil {
		f, err := u.store.openFile(sessPath(u.id, suffixData), os.O_RDWR|os.O_CREATE)
		if err != nil {
			u.mu.Unlock()
			return nil, fmt.Errorf("data directory: session %s: %w", u.id, err)
		}
		u.f, opened = f, true
	}
	u.refs++
	f := u.f
	u.mu.Unlock()
	u.lastUse.Store(u.store.tick.Add(1))
	u.touch()
	if opened {
		u.store.noteOpen(u)
	}
	return f, nil
}

func (u *dirUpload) release() {
	u.mu.Lock()
	u.refs--
	u.mu.Unlock()
}

func (u *dirUpload) WriteAt(p []byte, off int64) (int, error) {
	f, err := u.acquire()
	if err != nil {
		return 0, err
	}
	defer u.release()
	n, err := f.WriteAt(p, off)
	if err != nil {
		return n, fmt.Errorf("data directory: session %s: write data: %w", u.id, plainErr(err))
	}
	return n, nil
}

func (u *dirUpload) Flush() error {
	if !u.store.fsync {
		return nil
	}
	f, err := u.acquire()
	if err != nil {
		return err
	}
	defer u.release()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("data directory: session %s: sync data: %w", u.id, plainErr(err))
	}
	return nil
}

func (u *dirUpload) Commit(added ranges.Range, acked []ranges.Range) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gone {
		return fmt.Errorf("data directory: session %s: %w", u.id, fs.ErrClosed)
	}
	var err error
	if u.lines >= compactEvery && u.lines >= 4*len(acked) {
		err = u.compactLocked(acked)
	} else {
		err = u.appendLocked(added)
	}
	if err != nil {
		return err
	}
	u.acked = slices.Clone(acked)
	u.touch()
	return nil
}

// appendLocked appends the line of r to the state file; u.mu is held.
func (u *dirUpload) appendLocked(r ranges.Range) error {
	s := u.store
	created := false
	if u.stateF == nil {
		rel := sessPath(u.id, suffixState)
		var f *os.File
		var err error
		if created = u.stateSize == 0; created {
			// The first line: Create removed any earlier state of the ID.
			f, err = s.openFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL)
			if errors.Is(err, fs.ErrExist) {
				f, err = s.createFile(rel, os.O_RDWR)
			}
		} else {
			f, err = s.openFile(rel, os.O_RDWR)
		}
		if err != nil {
			return fmt.Errorf("data directory: session %s: state: %w", u.id, err)
		}
		u.stateF = f
		if u.f == nil {
			// Count the session as open (its data file may have been closed by eviction).
			s.mu.Lock()
			s.open[u] = struct{}{}
			s.mu.Unlock()
		}
	}
	var buf [96]byte
	line := stateLine(buf[:0], r, u.total)
	if _, err := u.stateF.WriteAt(line, u.stateSize); err != nil {
		// Whatever part of the line made it is cut short or follows no newline: loading
		// drops it, and the next line overwrites it.
		return fmt.Errorf("data directory: session %s: append state: %w", u.id, plainErr(err))
	}
	if s.fsync {
		if err := u.stateF.Sync(); err != nil {
			return fmt.Errorf("data directory: session %s: sync state: %w", u.id, plainErr(err))
		}
		if created {
			if err := s.syncDir(dirSessions); err != nil {
				return fmt.Errorf("data directory: session %s: %w", u.id, err)
			}
		}
	}
	u.stateSize += int64(len(line))
	u.lines++
	return nil
}

// compactLocked replaces the state file with the merged list: written to tmp/, then renamed
// over it; u.mu is held.
func (u *dirUpload) compactLocked(acked []ranges.Range) error {
	s := u.store
	b := formatState(acked, u.total)
	if err := s.writeFile(u.id+suffixState, sessPath(u.id, suffixState), b); err != nil {
		return fmt.Errorf("data directory: session %s: compact state: %w", u.id, err)
	}
	if u.stateF != nil {
		_ = u.stateF.Close() // the replaced file; nothing is pending on it
		u.stateF = nil
	}
	u.stateSize, u.lines = int64(len(b)), len(acked)
	return nil
}

func (u *dirUpload) Finish(name string) (File, error) {
	s := u.store
	if !validFileName(name) {
		return nil, fmt.Errorf("data directory: session %s: invalid file name %q", u.id, name)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gone {
		return nil, fmt.Errorf("data directory: session %s: %w", u.id, fs.ErrClosed)
	}
	if u.refs > 0 {
		return nil, fmt.Errorf("data directory: session %s: finish while %d writes are in progress", u.id, u.refs)
	}
	f := u.f
	u.f = nil
	if f == nil {
		var err error
		if f, err = s.openFile(sessPath(u.id, suffixData), os.O_RDWR|os.O_CREATE); err != nil {
			return nil, fmt.Errorf("data directory: session %s: %w", u.id, err)
		}
	}
	// Bytes past the total can only be left over from an earlier use of the session ID.
	err := f.Truncate(u.total)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if err != nil {
		_ = f.Close()            // the finish error is the one to report
		_ = u.closeFilesLocked() // likewise
		return nil, fmt.Errorf("data directory: session %s: finish data: %w", u.id, plainErr(err))
	}
	// The record first: once it is in place, the session is complete, and a load finishes
	// what follows if a kill interrupts it.
	rec := Completion{Name: name, Total: u.total}
	if err := u.recordLocked(rec); err != nil {
		_ = f.Close() // the record error is the one to report
		return nil, fmt.Errorf("data directory: session %s: completion record: %w", u.id, err)
	}
	key, err := s.place(u.id, name)
	if err != nil {
		_ = f.Close() // the move error is the one to report
		// The session stays as it was, to be finished by a retry: without its record.
		if uerr := u.unrecordLocked(); uerr != nil {
			err = errors.Join(err, uerr) // a record left behind is finished by the next load
		}
		return nil, fmt.Errorf("data directory: session %s: %w", u.id, err)
	}
	u.gone = true
	s.mu.Lock()
	if s.uploads[u.id] == u {
		delete(s.uploads, u.id)
	}
	s.completions[u.id] = 0
	s.mu.Unlock()
	// The data file, moved, is the completed file: it is handed back open, not opened again.
	return &dirFile{f: f, size: u.total, path: filepath.Join(s.dir, dirFiles, key)}, nil
}

// recordLocked writes the completion record c of the session and closes its files; u.mu is
// held. The record is a line appended to the state file, which is then renamed to the record
// file (<id>.done): a rename costs a few microseconds, where creating a file costs a
// hundred or more on ext4. Until the rename, a load finds the record at the end of the state
// file and takes the session as complete (loadSession); a record cut short by a kill fails
// its checksum and the state loads as it was. A session without a state file (nothing
// committed) gets a new record file.
func (u *dirUpload) recordLocked(c Completion) error {
	s := u.store
	if u.stateSize == 0 {
		if err := u.closeFilesLocked(); err != nil {
			return err
		}
		return s.appendRecord(u.id, c, true)
	}
	line, err := encodeCompletion(c)
	if err != nil {
		_ = u.closeFilesLocked() // the encoding error is the one to report
		return err
	}
	state := sessPath(u.id, suffixState)
	if u.stateF == nil {
		f, err := s.openFile(state, os.O_RDWR)
		if err != nil {
			_ = u.closeFilesLocked() // the open error is the one to report
			return fmt.Errorf("state: %w", err)
		}
		u.stateF = f
	}
	_, err = u.stateF.WriteAt(line, u.stateSize)
	if err == nil && s.fsync {
		err = u.stateF.Sync()
	}
	if cerr := u.closeFilesLocked(); err == nil {
		err = cerr
	}
	if err != nil {
		// Whatever part of the line made it fails its checksum: the state stays as it was.
		return fmt.Errorf("append to %s: %w", state, plainErr(err))
	}
	if err := s.renameSession(u.id+suffixState, u.id+suffixDone); err != nil {
		return err
	}
	return s.syncDir(dirSessions)
}

// unrecordLocked undoes recordLocked when the data file could not be moved: the record file
// becomes the state file again, without the record line; u.mu is held. The rename comes
// first, so that a kill in between leaves a state file that ends with the record, which the
// next load finishes like any interrupted completion.
func (u *dirUpload) unrecordLocked() error {
	s := u.store
	done, state := sessPath(u.id, suffixDone), sessPath(u.id, suffixState)
	if u.stateSize == 0 {
		return s.remove(done)
	}
	if err := s.renameSession(u.id+suffixDone, u.id+suffixState); err != nil {
		return err
	}
	f, err := s.openFile(state, os.O_RDWR)
	if err != nil {
		return err
	}
	err = f.Truncate(u.stateSize)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("drop the record from %s: %w", state, plainErr(err))
	}
	return s.syncDir(dirSessions)
}

func (u *dirUpload) Discard() error {
	s := u.store
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gone {
		return nil
	}
	u.gone = true
	_ = u.closeFilesLocked() // the files are removed next
	s.mu.Lock()
	if s.uploads[u.id] == u {
		delete(s.uploads, u.id)
	}
	s.mu.Unlock()
	var errs []error
	for _, p := range []string{sessPath(u.id, suffixState), sessPath(u.id, suffixData)} {
		if err := s.remove(p); err != nil {
			errs = append(errs, fmt.Errorf("data directory: session %s: %w", u.id, err))
		}
	}
	return errors.Join(errs...)
}

// dirFile is a completed file of a data directory.
type dirFile struct {
	f    *os.File
	size int64
	path string
}

// openDirFile opens files/key for reading.
func (s *dirStore) openDirFile(key string) (File, error) {
	rel := dirFiles + "/" + key
	f, err := s.openFile(rel, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // the stat error is the one to report
		return nil, fmt.Errorf("stat %s: %w", rel, plainErr(err))
	}
	return &dirFile{f: f, size: fi.Size(), path: filepath.Join(s.dir, dirFiles, key)}, nil
}

func (f *dirFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("data directory: read a completed file: %w", plainErr(err))
	}
	return n, err
}
func (f *dirFile) Close() error { return f.f.Close() }
func (f *dirFile) Size() int64  { return f.size }
func (f *dirFile) Path() string { return f.path }

// validFileName reports whether name can name a completed file: a single path element, not
// empty, not "." or "..", without a separator or a NUL.
func validFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00")
}
