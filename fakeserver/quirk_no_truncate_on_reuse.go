package fakeserver

import (
	"errors"
	"io"
	"sync"
)

// NoTruncateOnReuse: the data file of a session ID is never truncated, so a reused ID
// keeps the tail of the earlier, longer file.
const NoTruncateOnReuse Quirk = "no-truncate-on-reuse"

func noTruncateOnReuseQuirk() quirkDef {
	return quirkDef{NoTruncateOnReuse, "B",
		"a session's data file is opened without truncation: a new, shorter file under a reused session ID " +
			"keeps the old file's tail",
		"docs/module-behavior.md §3.7, §3.5",
		installNoTruncateOnReuse}
}

// maxReuseTail bounds the bytes of an earlier file kept for no-truncate-on-reuse.
const maxReuseTail = 64 << 20

// reuseTails is what no-truncate-on-reuse keeps beside the sessions (docs/module-behavior.md
// §3.7): the module's data file of a session ID outlives its completion, so a session ID that
// starts again writes over the earlier file, and a shorter new file keeps the old one's tail.
type reuseTails struct {
	store Store
	// ext, when the store has one, takes each tail into the completed file itself, as the
	// module's data file holds it: the path handed to the backend then names the same bytes
	// as the file view.
	ext fileExtender

	mu sync.Mutex
	// lastFile maps a session ID to the name of its last completed file.
	lastFile map[string]string
	// old maps a session ID that started again after a completion to the bytes of the
	// earlier file, which the module's data file still holds.
	old map[string][]byte
	// tails maps a completed file name to the bytes that follow its total on the module's
	// disk: the tail of an earlier, longer file of the same session ID.
	tails map[string][]byte
	// grown maps a completed file name whose tail ext wrote into the file to the file's
	// size with it; a view opened before the write is opened again.
	grown map[string]int64
}

// installNoTruncateOnReuse hooks the start of a session (the earlier file is remembered), the
// end of its completion (the tail is cut from it) and the view of completed files (the tail
// follows the file).
func installNoTruncateOnReuse(q Quirk, b *behavior, h *handler) {
	rt := &reuseTails{store: h.opts.Store, lastFile: map[string]string{}, old: map[string][]byte{}, tails: map[string][]byte{}, grown: map[string]int64{}}
	rt.ext, _ = h.opts.Store.(fileExtender)
	starting, finished, file := b.starting, b.finished, b.file
	b.starting = func(x *exchange, id string) {
		starting(x, id)
		rt.started(id)
	}
	b.finished = func(x *exchange, id, name string, total int64) {
		finished(x, id, name, total)
		rt.finished(id, name, total)
	}
	b.file = func(x *exchange, name string, f File) File {
		f = file(x, name, f)
		if size, ok := rt.grownSize(name); ok {
			x.by(string(q))
			if f.Size() < size {
				// Opened before the tail was written into it (the hand-off's view).
				if nf, err := h.opts.Store.OpenFile(name); err == nil {
					_ = f.Close() // opened for reading only
					f = nf
				}
			}
			return f
		}
		if tail := rt.tailOf(name); len(tail) > 0 {
			x.by(string(q))
			return tailFile{File: f, tail: tail}
		}
		return f
	}
}

// started records that session id starts again: the module's data file of the ID still holds
// the earlier file.
func (rt *reuseTails) started(id string) {
	rt.mu.Lock()
	name, ok := rt.lastFile[id]
	rt.mu.Unlock()
	if !ok {
		return
	}
	f, err := rt.store.OpenFile(name)
	if err != nil {
		return
	}
	defer f.Close()
	tail := rt.tailOf(name)
	size := f.Size() + int64(len(tail))
	if size > maxReuseTail {
		return
	}
	buf := make([]byte, size)
	if _, err := readFull(f, buf, tail); err != nil {
		return
	}
	rt.mu.Lock()
	rt.old[id] = buf
	rt.mu.Unlock()
}

// readFull fills buf from f and then from tail.
func readFull(f File, buf, tail []byte) (int, error) {
	n, err := f.ReadAt(buf[:min(int64(len(buf)), f.Size())], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, err
	}
	n += copy(buf[n:], tail)
	return n, nil
}

// finished records a completed file of session id: its name, and the tail that an earlier,
// longer file of the ID leaves behind it.
func (rt *reuseTails) finished(id, name string, total int64) {
	rt.mu.Lock()
	rt.lastFile[id] = name
	old := rt.old[id]
	delete(rt.old, id)
	delete(rt.grown, name)
	delete(rt.tails, name)
	var tail []byte
	if int64(len(old)) > total {
		tail = append([]byte(nil), old[total:]...)
	}
	rt.mu.Unlock()
	if len(tail) == 0 {
		return
	}
	if rt.ext != nil && rt.ext.appendToFile(name, tail) == nil {
		rt.mu.Lock()
		rt.grown[name] = total + int64(len(tail))
		rt.mu.Unlock()
		return
	}
	// A store in memory, or one that could not take the tail: the view adds it.
	rt.mu.Lock()
	rt.tails[name] = tail
	rt.mu.Unlock()
}

// grownSize returns the size of the completed file name with the tail written into it, if
// it was.
func (rt *reuseTails) grownSize(name string) (int64, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	size, ok := rt.grown[name]
	return size, ok
}

// tailOf returns the bytes that follow the completed file name on the module's disk.
func (rt *reuseTails) tailOf(name string) []byte {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.tails[name]
}

// tailFile is a completed file followed by the tail of an earlier file.
type tailFile struct {
	File
	tail []byte
}

// Size includes the tail.
func (t tailFile) Size() int64 { return t.File.Size() + int64(len(t.tail)) }

// ReadAt reads across the file and its tail.
func (t tailFile) ReadAt(p []byte, off int64) (int, error) {
	base := t.File.Size()
	n := 0
	if off < base {
		m, err := t.File.ReadAt(p[:min(int64(len(p)), base-off)], off)
		n += m
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
	}
	if n < len(p) {
		toff := off + int64(n) - base
		if toff >= int64(len(t.tail)) {
			return n, io.EOF
		}
		n += copy(p[n:], t.tail[toff:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
