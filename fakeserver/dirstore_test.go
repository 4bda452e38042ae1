package fakeserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
)

// abandoned is a store whose Close does nothing: a server closed over it leaves the store as
// a killed process leaves its data directory, with nothing flushed or closed.
type abandoned struct{ CompletionStore }

func (abandoned) Close() error { return nil }

// TestCompletionSurvivesRestart: after a restart on the same data directory (a clean close or
// a kill), a retry of the completing segment, or of any other, gets the completion answer
// again, the backend's own answer with its headers, without a second hand-off; a new session
// of the ID starts only once the completion expired.
func TestCompletionSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fsync bool
		kill  bool
	}{{"close", false, false}, {"kill", false, true}, {"kill-fsync", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("X-Answer", "kept")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("stored once"))
			}))
			defer backend.Close()
			dir := t.TempDir()
			open := func() *Server {
				st, err := NewDirStore(dir, tc.fsync)
				if err != nil {
					t.Fatalf("NewDirStore: %v", err)
				}
				if tc.kill {
					st = abandoned{st.(CompletionStore)}
				}
				return startServer(t, Options{Store: st, UploadPass: backend.URL, CompletionTTL: time.Hour})
			}
			srv := open()
			if got := send(t, srv, "done", 0, 0, 9, 20, "done.bin"); got.status != 201 {
				t.Fatalf("first segment: %d %q", got.status, got.body)
			}
			if got := send(t, srv, "done", 0, 10, 19, 20, "done.bin"); got.status != 200 || got.body != "stored once" {
				t.Fatalf("completing segment: %d %q", got.status, got.body)
			}
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			srv = open()
			for _, r := range [][2]int64{{10, 19}, {0, 9}, {0, 1}} {
				got := send(t, srv, "done", 0, r[0], r[1], 20, "done.bin")
				if got.status != 200 || got.body != "stored once" || got.header.Get("X-Answer") != "kept" {
					t.Fatalf("retry of %d-%d after the restart: %d %q %v, want the completion again", r[0], r[1], got.status, got.body, got.header)
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d hand-offs, want 1", n)
			}
			b, err := os.ReadFile(filepath.Join(dir, dirFiles, "done.bin"))
			if err != nil || string(b) != string(pattern(0, 0, 19)) {
				t.Fatalf("completed file: %q %v", b, err)
			}
		})
	}
}

// TestCompletionRecordExpiry: an expired record is forgotten (by ExpireCompletions, at load,
// and by the handler), after which the ID starts a new session.
func TestCompletionRecordExpiry(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: abandoned{st.(CompletionStore)}, CompletionTTL: time.Hour})
	send(t, srv, "ex", 0, 0, 3, 4, "ex.bin")
	send(t, srv, "ex2", 0, 0, 3, 4, "ex2.bin")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	for _, id := range []string{"ex", "ex2"} {
		c, ok, err := st.(CompletionStore).LoadCompletion(id)
		if !ok || err != nil || c.Status != http.StatusOK || c.Name != id+".bin" || c.Total != 4 {
			t.Fatalf("LoadCompletion(%s): %+v %v %v", id, c, ok, err)
		}
		c.Expires = past
		if err := st.(CompletionStore).SaveCompletion(id, c); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.(CompletionStore).ExpireCompletions(time.Now()); n != 2 || err != nil {
		t.Fatalf("ExpireCompletions: %d %v, want 2", n, err)
	}
	if _, ok, _ := st.(CompletionStore).LoadCompletion("ex"); ok {
		t.Fatal("an expired record is still loaded")
	}
	if _, err := os.Stat(filepath.Join(dir, dirSessions, "ex"+suffixDone)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("expired record still on disk: %v", err)
	}
	_ = st.Close()

	// At load: a record written with a past expiry is removed.
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, Options{Store: st})
	send(t, srv, "ey", 0, 0, 3, 4, "ey.bin")
	if err := st.(CompletionStore).SaveCompletion("ey", Completion{Name: "ey.bin", Total: 4, Status: 200, Body: []byte("completed"), Expires: past}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok, _ := st.(CompletionStore).LoadCompletion("ey"); ok {
		t.Fatal("a record expired before the load is still loaded")
	}
	srv = startServer(t, Options{Store: abandoned{st.(CompletionStore)}})
	if got := send(t, srv, "ex", 0, 0, 1, 4, "ex.bin"); got.status != 201 || got.body != "0-1/4" {
		t.Fatalf("a segment after the expiry: %d %q, want a new session", got.status, got.body)
	}
}

// TestInterruptedFinish: a kill after the completion record was written, before the data
// file moved, leaves a directory that loads as completed: the move is finished, and a retry
// hands the file to the backend.
func TestInterruptedFinish(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.Create("cut", 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt(pattern(0, 0, 7), 0); err != nil {
		t.Fatal(err)
	}
	all := []ranges.Range{{Start: 0, End: 7}}
	if err := u.Commit(all[0], all); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	rec, err := encodeCompletion(Completion{Name: "cut.bin", Total: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dirSessions, "cut"+suffixDone), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, dirSessions)); len(entries) != 1 {
		t.Errorf("sessions/ after the load: %v, want the record only", entries)
	}
	if b, err := os.ReadFile(filepath.Join(dir, dirFiles, "cut.bin")); err != nil || string(b) != string(pattern(0, 0, 7)) {
		t.Fatalf("completed file: %q %v", b, err)
	}
	srv := startServer(t, Options{Store: st})
	if got := send(t, srv, "cut", 0, 0, 3, 8, "cut.bin"); got.status != 200 || got.body != "completed" {
		t.Fatalf("retry: %d %q, want the completion", got.status, got.body)
	}
}

// TestMemoryStoreCompletionRecords: the memory store keeps the records the same way.
func TestMemoryStoreCompletionRecords(t *testing.T) {
	st := NewMemoryStore()
	if err := st.(CompletionStore).SaveCompletion("none", Completion{Name: "x"}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SaveCompletion without Finish: %v", err)
	}
	u, _ := st.Create("m", 2)
	if _, err := u.Finish("m.bin"); err != nil {
		t.Fatal(err)
	}
	c, ok, err := st.(CompletionStore).LoadCompletion("m")
	if !ok || err != nil || c.Name != "m.bin" || c.Total != 2 || c.Status != 0 {
		t.Fatalf("LoadCompletion: %+v %v %v", c, ok, err)
	}
	c.Status, c.Body, c.Expires = 200, []byte("ok"), time.Now().Add(time.Hour)
	if err := st.(CompletionStore).SaveCompletion("m", c); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.(CompletionStore).ExpireCompletions(time.Now()); n != 0 {
		t.Fatalf("expired %d before their time", n)
	}
	if n, _ := st.(CompletionStore).ExpireCompletions(time.Now().Add(2 * time.Hour)); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if _, ok, _ := st.(CompletionStore).LoadCompletion("m"); ok {
		t.Fatal("expired record still loaded")
	}
}

// outsideFile is a file outside the data directory that no store operation may reach.
type outsideFile struct {
	path    string
	content string
	mtime   time.Time
}

func newOutsideFile(t *testing.T) outsideFile {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside")
	const content = "outside-secret-bytes"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	return outsideFile{path: p, content: content, mtime: old}
}

// check fails when the file was written, truncated, or its content answered.
func (o outsideFile) check(t *testing.T, answers ...string) {
	t.Helper()
	b, err := os.ReadFile(o.path)
	fi, serr := os.Stat(o.path)
	if err != nil || serr != nil || string(b) != o.content || !fi.ModTime().Equal(o.mtime) {
		t.Errorf("the outside file changed: %q %v (mtime %v, was %v)", b, err, fi.ModTime(), o.mtime)
	}
	for _, a := range answers {
		if strings.Contains(a, o.content) {
			t.Errorf("an answer shows the outside file: %q", a)
		}
	}
}

// TestDirStoreRefusesPlantedLinks: a symbolic link planted at any name the store uses, in
// sessions/, tmp/ and files/, to a file outside the directory (or to a name inside it, or to
// nothing yet), never makes the store write, truncate, create or read outside: the session
// goes on (the link is replaced) or the operation is refused, and no answer shows a host path.
func TestDirStoreRefusesPlantedLinks(t *testing.T) {
	const id, name = "lnk", "lnk.bin"
	plants := []string{
		dirSessions + "/" + id + suffixData,
		dirSessions + "/" + id + suffixState,
		dirSessions + "/" + id + suffixDone,
		dirTmp + "/" + id + suffixState,
		dirTmp + "/" + id + suffixDone,
		dirFiles + "/" + name,
	}
	for _, plant := range plants {
		for _, target := range []string{"outside", "dangling", "inside"} {
			t.Run(strings.ReplaceAll(plant, "/", "_")+"->"+target, func(t *testing.T) {
				dir := t.TempDir()
				st, err := NewDirStore(dir, false)
				if err != nil {
					t.Fatal(err)
				}
				out := newOutsideFile(t)
				dangling := filepath.Join(t.TempDir(), "never-created")
				inside := filepath.Join(dir, dirFiles, "other.bin")
				if err := os.WriteFile(inside, []byte("other"), 0o600); err != nil {
					t.Fatal(err)
				}
				to := map[string]string{"outside": out.path, "dangling": dangling, "inside": inside}[target]
				if err := os.Symlink(to, filepath.Join(dir, plant)); err != nil {
					t.Fatal(err)
				}
				srv := startServer(t, Options{Store: st})
				// 2*compactEvery adjacent segments: the state is appended and compacted.
				const n = 2 * compactEvery
				var answers []string
				for i := range int64(n) {
					got := send(t, srv, id, 0, 2*i, 2*i+1, 2*n, name)
					answers = append(answers, got.body)
					if got.status != 201 && got.status != 200 {
						t.Fatalf("segment %d: %d %q", i, got.status, got.body)
					}
				}
				got := get(t, srv, DefaultFilePrefix+name)
				answers = append(answers, got.body)
				if got.status != 200 || got.body != string(pattern(0, 0, 2*n-1)) {
					t.Errorf("GET the completed file: %d %q", got.status, got.body)
				}
				out.check(t, answers...)
				for _, a := range answers {
					if strings.Contains(a, dir) {
						t.Errorf("an answer shows the host path: %q", a)
					}
				}
				if _, err := os.Lstat(dangling); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a file was created through a dangling link: %v", err)
				}
				if b, _ := os.ReadFile(inside); string(b) != "other" {
					t.Errorf("another file of the directory changed: %q", b)
				}
			})
		}
	}
}

// TestDirStoreLinksAtOpen: links planted under the files of a running session (reopened after
// an eviction) or of a stopped one (before the load) are refused or removed, never followed.
func TestDirStoreLinksAtOpen(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		for _, suffix := range []string{suffixData, suffixState} {
			t.Run(suffix, func(t *testing.T) {
				dir := t.TempDir()
				st, err := NewDirStore(dir, false)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				out := newOutsideFile(t)
				u, err := st.Create("run", 8)
				if err != nil {
					t.Fatal(err)
				}
				du := u.(*dirUpload)
				du.mu.Lock()
				_ = du.closeFilesLocked() // as an eviction does
				du.mu.Unlock()
				p := filepath.Join(dir, dirSessions, "run"+suffix)
				_ = os.Remove(p)
				if err := os.Symlink(out.path, p); err != nil {
					t.Fatal(err)
				}
				_, werr := u.WriteAt([]byte("abcd"), 0)
				cerr := u.Commit(ranges.Range{Start: 0, End: 3}, []ranges.Range{{Start: 0, End: 3}})
				if werr == nil && cerr == nil {
					t.Fatal("a write and a commit through a planted link both succeeded")
				}
				for _, err := range []error{werr, cerr} {
					if err != nil && strings.Contains(err.Error(), dir) {
						t.Errorf("error shows the host path: %v", err)
					}
				}
				out.check(t)
			})
		}
	})
	t.Run("load", func(t *testing.T) {
		dir := t.TempDir()
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.Close()
		out := newOutsideFile(t)
		for _, rel := range []string{"sessions/a.state", "sessions/a.data", "sessions/b.done", "sessions/c.data", "tmp/a.state"} {
			if err := os.Symlink(out.path, filepath.Join(dir, rel)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "sessions/c.state"), formatState([]ranges.Range{{Start: 0, End: 1}}, 4), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err = NewDirStore(dir, false)
		if err != nil {
			t.Fatalf("NewDirStore over planted links: %v", err)
		}
		defer st.Close()
		for _, rel := range []string{"sessions/a.state", "sessions/a.data", "sessions/b.done", "sessions/c.data", "tmp/a.state"} {
			if _, err := os.Lstat(filepath.Join(dir, rel)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: the planted link stayed (%v)", rel, err)
			}
		}
		out.check(t)
	})
	t.Run("served", func(t *testing.T) {
		dir := t.TempDir()
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatal(err)
		}
		out := newOutsideFile(t)
		if err := os.Symlink(out.path, filepath.Join(dir, dirFiles, "peek.bin")); err != nil {
			t.Fatal(err)
		}
		srv := startServer(t, Options{Store: st})
		got := get(t, srv, DefaultFilePrefix+"peek.bin")
		if got.status != http.StatusNotFound {
			t.Errorf("GET through a planted link: %d %q, want 404", got.status, got.body)
		}
		out.check(t, got.body)
	})
	t.Run("subdirectory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Symlink(t.TempDir(), filepath.Join(dir, dirSessions)); err != nil {
			t.Fatal(err)
		}
		if _, err := NewDirStore(dir, false); err == nil {
			t.Fatal("NewDirStore accepted sessions/ as a link")
		}
	})
}

// TestStoreFileNames: every accepted file name can be stored and read back, on both stores:
// names longer than a file system allows, bytes that are not UTF-8, spaces, dots and `~`.
func TestStoreFileNames(t *testing.T) {
	names := []string{
		strings.Repeat("a", 300),
		strings.Repeat("é", 200),
		"\xff\xfe\x01odd",
		"x~y",
		".hidden",
		"trailing ",
		"with space (1).txt",
		"..x",
		"plain.bin",
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			st := sk.make(t)
			defer st.Close()
			for i, name := range names {
				id := fmt.Sprintf("n%d", i)
				u, err := st.Create(id, 4)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("%04d", i)
				if _, err := u.WriteAt([]byte(want), 0); err != nil {
					t.Fatal(err)
				}
				f, err := u.Finish(name)
				if err != nil {
					t.Fatalf("Finish(%q): %v", name, err)
				}
				_ = f.Close()
			}
			for i, name := range names {
				f, err := st.OpenFile(name)
				if err != nil {
					t.Fatalf("OpenFile(%q): %v", name, err)
				}
				buf := make([]byte, 4)
				_, err = f.ReadAt(buf, 0)
				_ = f.Close()
				if err != nil || string(buf) != fmt.Sprintf("%04d", i) {
					t.Errorf("file %q: %q %v", name, buf, err)
				}
				if ds, ok := st.(*dirStore); ok {
					if key := fileKey(name); key != name {
						b, err := os.ReadFile(filepath.Join(ds.dir, dirFiles, key+suffixName))
						if err != nil || string(b) != name {
							t.Errorf("name of %s kept as %q %v, want %q", key, b, err, name)
						}
					}
				}
			}
		})
	}
}

// TestLongFileNameServed: a file name longer than 255 bytes completes with 200 and is served,
// on both stores.
func TestLongFileNameServed(t *testing.T) {
	name := strings.Repeat("L", 300) + ".bin"
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			for try := range 2 {
				if got := send(t, srv, "long", 0, 0, 9, 10, name); got.status != 200 || got.body != "completed" {
					t.Fatalf("try %d: %d %q", try, got.status, got.body)
				}
			}
			if got := get(t, srv, DefaultFilePrefix+url.PathEscape(name)); got.status != 200 || got.body != string(pattern(0, 0, 9)) {
				t.Fatalf("GET: %d %q", got.status, got.body)
			}
		})
	}
}

// TestStoreErrorsShowNoHostPath: a store failure answers 500 naming the file relative to the
// data directory, never by its host path.
func TestStoreErrorsShowNoHostPath(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		segs        [][2]int64
	}{
		{"create", dirSessions + "/hp" + suffixData, [][2]int64{{0, 3}}},
		{"finish", dirFiles + "/hp.bin", [][2]int64{{0, 1}, {2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := NewDirStore(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			// A non-empty directory where the store needs a file: neither removed nor replaced.
			if err := os.MkdirAll(filepath.Join(dir, tc.block, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, Options{Store: st})
			var got reply
			for _, r := range tc.segs {
				got = send(t, srv, "hp", 0, r[0], r[1], 4, "hp.bin")
			}
			expectErrorReply(t, got, http.StatusInternalServerError, tc.block)
			if strings.Contains(got.body, dir) || strings.Contains(got.body, os.TempDir()) {
				t.Errorf("the answer shows a host path: %q", got.body)
			}
		})
	}
}

// TestStoreSessionsAndIdle: SessionCount counts the incomplete sessions; IdleSessions lists
// those untouched since a time, never one with a write in progress; after a restart the
// files' times say when a session was last touched; Discard removes data and state.
func TestStoreSessionsAndIdle(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			st := sk.make(t)
			defer st.Close()
			ups := map[string]Upload{}
			for _, id := range []string{"i1", "i2", "i3"} {
				u, err := st.Create(id, 4)
				if err != nil {
					t.Fatal(err)
				}
				ups[id] = u
			}
			if n := st.(SessionLister).SessionCount(); n != 3 {
				t.Fatalf("SessionCount %d, want 3", n)
			}
			if ids := st.(SessionLister).IdleSessions(time.Now().Add(-time.Hour)); len(ids) != 0 {
				t.Fatalf("idle since an hour ago: %v", ids)
			}
			future := time.Now().Add(time.Hour)
			if ids := st.(SessionLister).IdleSessions(future); strings.Join(ids, ",") != "i1,i2,i3" {
				t.Fatalf("idle: %v, want all three", ids)
			}
			// A write in progress is never idle.
			release := holdWrite(t, ups["i2"])
			if ids := st.(SessionLister).IdleSessions(future); strings.Join(ids, ",") != "i1,i3" {
				t.Fatalf("idle with a write in progress on i2: %v", ids)
			}
			release()
			if err := ups["i1"].Discard(); err != nil {
				t.Fatal(err)
			}
			if _, err := ups["i3"].Finish("i3.bin"); err != nil {
				t.Fatal(err)
			}
			if n := st.(SessionLister).SessionCount(); n != 1 {
				t.Fatalf("SessionCount %d after a discard and a finish, want 1", n)
			}
			if ids := st.(SessionLister).IdleSessions(future); strings.Join(ids, ",") != "i2" {
				t.Fatalf("idle: %v, want i2", ids)
			}
		})
	}
}

// holdWrite makes a write of u look in progress until the returned function is called.
func holdWrite(t *testing.T, u Upload) func() {
	t.Helper()
	switch u := u.(type) {
	case *memUpload:
		u.writing.Add(1)
		return func() { u.writing.Add(-1) }
	case *dirUpload:
		if _, err := u.acquire(); err != nil {
			t.Fatal(err)
		}
		return u.release
	}
	t.Fatalf("unknown upload %T", u)
	return nil
}

// TestDirStoreIdleAfterRestart: a loaded session is as idle as its files are old, and
// expiring it (Load, Discard) removes its data and state.
func TestDirStoreIdleAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old", "new"} {
		u, err := st.Create(id, 4)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.WriteAt([]byte("ab"), 0); err != nil {
			t.Fatal(err)
		}
		if err := u.Commit(ranges.Range{Start: 0, End: 1}, []ranges.Range{{Start: 0, End: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	old := time.Now().Add(-2 * time.Hour)
	for _, suffix := range []string{suffixData, suffixState} {
		if err := os.Chtimes(filepath.Join(dir, dirSessions, "old"+suffix), old, old); err != nil {
			t.Fatal(err)
		}
	}
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := st.(SessionLister).SessionCount(); n != 2 {
		t.Fatalf("SessionCount after the load: %d", n)
	}
	ids := st.(SessionLister).IdleSessions(time.Now().Add(-time.Hour))
	if strings.Join(ids, ",") != "old" {
		t.Fatalf("idle for an hour: %v, want old", ids)
	}
	u, ok, err := st.Load("old")
	if !ok || err != nil {
		t.Fatalf("Load: %v %v", ok, err)
	}
	if err := u.Discard(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{suffixData, suffixState} {
		if _, err := os.Stat(filepath.Join(dir, dirSessions, "old"+suffix)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("old%s stayed after the expiry: %v", suffix, err)
		}
	}
	if n := st.(SessionLister).SessionCount(); n != 1 {
		t.Fatalf("SessionCount after the expiry: %d", n)
	}
}

// TestDirStoreFinishRetried: a Finish that cannot move the file leaves the session as it was,
// and a retry finishes it once the way is clear.
func TestDirStoreFinishRetried(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	block := filepath.Join(dir, dirFiles, "r.bin", "x")
	if err := os.MkdirAll(block, 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := st.Create("r", 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt([]byte("abcd"), 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ranges.Range{Start: 0, End: 3}, []ranges.Range{{Start: 0, End: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Finish("r.bin"); err == nil {
		t.Fatal("Finish over a non-empty directory succeeded")
	}
	if _, ok, _ := st.(CompletionStore).LoadCompletion("r"); ok {
		t.Fatal("a failed Finish left a completion record")
	}
	if l, ok, _ := st.Load("r"); !ok || len(l.Ranges()) != 1 {
		t.Fatal("a failed Finish lost the session")
	}
	if err := os.RemoveAll(filepath.Dir(block)); err != nil {
		t.Fatal(err)
	}
	f, err := u.Finish("r.bin")
	if err != nil {
		t.Fatalf("retried Finish: %v", err)
	}
	buf := make([]byte, 4)
	_, err = f.ReadAt(buf, 0)
	_ = f.Close()
	if err != nil || string(buf) != "abcd" {
		t.Fatalf("finished file %q %v", buf, err)
	}
}

// TestCompletionRecordTorn: a record line cut short by a kill does not count: a first line
// cut short leaves the session as it was before Finish; an answer line cut short leaves the
// record unanswered.
func TestCompletionRecordTorn(t *testing.T) {
	first, err := encodeCompletion(Completion{Name: "t.bin", Total: 4})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := encodeCompletion(Completion{Name: "t.bin", Total: 4, Status: 200, Body: []byte("ok"), Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(first); cut += 7 {
		dir := t.TempDir()
		sess := filepath.Join(dir, dirSessions)
		_ = os.MkdirAll(sess, 0o755)
		_ = os.WriteFile(filepath.Join(sess, "t.state"), formatState([]ranges.Range{{Start: 0, End: 3}}, 4), 0o600)
		_ = os.WriteFile(filepath.Join(sess, "t.data"), []byte("abcd"), 0o600)
		_ = os.WriteFile(filepath.Join(sess, "t.done"), first[:cut], 0o600)
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if _, ok, _ := st.(CompletionStore).LoadCompletion("t"); ok {
			t.Fatalf("cut %d: a torn record counts", cut)
		}
		if u, ok, _ := st.Load("t"); !ok || len(u.Ranges()) != 1 {
			t.Fatalf("cut %d: the session is lost", cut)
		}
		_ = st.Close()
	}
	for cut := 0; cut < len(answer); cut += 11 {
		dir := t.TempDir()
		sess := filepath.Join(dir, dirSessions)
		_ = os.MkdirAll(sess, 0o755)
		_ = os.WriteFile(filepath.Join(sess, "t.done"), append(append([]byte(nil), first...), answer[:cut]...), 0o600)
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatalf("answer cut %d: %v", cut, err)
		}
		c, ok, err := st.(CompletionStore).LoadCompletion("t")
		if !ok || err != nil || c.Status != 0 || c.Name != "t.bin" {
			t.Fatalf("answer cut %d: %+v %v %v, want the unanswered record", cut, c, ok, err)
		}
		_ = st.Close()
	}
}

// TestCompletionRecordInState: Finish appends the record to the state file, then renames it
// to the record file. A kill before the rename leaves a state file ending with the record: a
// whole record loads as a completed session (the move finished), a record cut short leaves
// the session as it was, its state intact. A record file made from a state file keeps the
// state lines before its records, and the last whole record counts.
func TestCompletionRecordInState(t *testing.T) {
	state := formatState([]ranges.Range{{Start: 0, End: 1}, {Start: 2, End: 3}}, 4)
	first, err := encodeCompletion(Completion{Name: "t.bin", Total: 4})
	if err != nil {
		t.Fatal(err)
	}
	answer, err := encodeCompletion(Completion{Name: "t.bin", Total: 4, Status: 200, Body: []byte("ok"), Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut <= len(first); cut += min(5, max(1, len(first)-cut)) {
		dir := t.TempDir()
		sess := filepath.Join(dir, dirSessions)
		_ = os.MkdirAll(sess, 0o755)
		_ = os.WriteFile(filepath.Join(sess, "t.state"), append(slices.Clone(state), first[:cut]...), 0o600)
		_ = os.WriteFile(filepath.Join(sess, "t.data"), []byte("abcd"), 0o600)
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		c, ok, err := st.(CompletionStore).LoadCompletion("t")
		u, loaded, _ := st.Load("t")
		entries, _ := os.ReadDir(sess)
		if cut == len(first) {
			if !ok || err != nil || c.Name != "t.bin" || c.Total != 4 || loaded {
				t.Fatalf("whole record: %+v %v %v, session loaded %v: want the completion only", c, ok, err, loaded)
			}
			if b, err := os.ReadFile(filepath.Join(dir, dirFiles, "t.bin")); err != nil || string(b) != "abcd" {
				t.Fatalf("whole record: completed file %q %v", b, err)
			}
			if len(entries) != 1 || entries[0].Name() != "t"+suffixDone {
				t.Fatalf("whole record: sessions/ holds %v, want t.done only", entries)
			}
		} else {
			if ok || !loaded || !slices.Equal(u.Ranges(), []ranges.Range{{Start: 0, End: 3}}) {
				t.Fatalf("cut %d: completion %v, session %v: want the session as it was", cut, ok, loaded)
			}
			if b, _ := os.ReadFile(filepath.Join(sess, "t.state")); string(b) != string(state) {
				t.Fatalf("cut %d: state file %q, want %q", cut, b, state)
			}
		}
		_ = st.Close()
	}
	dir := t.TempDir()
	sess := filepath.Join(dir, dirSessions)
	_ = os.MkdirAll(sess, 0o755)
	_ = os.WriteFile(filepath.Join(sess, "t.done"), slices.Concat(state, first, answer), 0o600)
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, ok, err := st.(CompletionStore).LoadCompletion("t"); !ok || err != nil || c.Status != 200 || string(c.Body) != "ok" {
		t.Fatalf("record file with state lines: %+v %v %v, want the answered record", c, ok, err)
	}
}

// TestFinishPlaceFails: when the data file cannot be moved into files/ (a directory holds
// its name), Finish fails and the session stays as it was: its state file, without a record,
// and no record file; once the way is clear, Finish completes it.
func TestFinishPlaceFails(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		t.Run(fmt.Sprintf("fsync=%v", fsync), func(t *testing.T) {
			dir := t.TempDir()
			st, err := NewDirStore(dir, fsync)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			u, err := st.Create("pf", 4)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.WriteAt([]byte("abcd"), 0); err != nil {
				t.Fatal(err)
			}
			for _, r := range []ranges.Range{{Start: 0, End: 1}, {Start: 2, End: 3}} {
				if err := u.Commit(r, []ranges.Range{{Start: 0, End: r.End}}); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := os.ReadFile(filepath.Join(dir, dirSessions, "pf"+suffixState))
			block := filepath.Join(dir, dirFiles, "pf.bin")
			if err := os.MkdirAll(filepath.Join(block, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := u.Finish("pf.bin"); err == nil {
				t.Fatal("Finish moved the data over a directory")
			}
			if b, err := os.ReadFile(filepath.Join(dir, dirSessions, "pf"+suffixState)); err != nil || string(b) != string(want) {
				t.Fatalf("state after the failed Finish: %q %v, want %q", b, err, want)
			}
			if _, err := os.Lstat(filepath.Join(dir, dirSessions, "pf"+suffixDone)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a record file is left: %v", err)
			}
			if _, ok, _ := st.(CompletionStore).LoadCompletion("pf"); ok {
				t.Fatal("a completion is recorded")
			}
			if err := os.RemoveAll(block); err != nil {
				t.Fatal(err)
			}
			f, err := u.Finish("pf.bin")
			if err != nil {
				t.Fatalf("Finish once the way is clear: %v", err)
			}
			_ = f.Close()
			if b, err := os.ReadFile(filepath.Join(dir, dirFiles, "pf.bin")); err != nil || string(b) != "abcd" {
				t.Fatalf("completed file %q %v", b, err)
			}
			if _, ok, _ := st.(CompletionStore).LoadCompletion("pf"); !ok {
				t.Fatal("no completion recorded")
			}
		})
	}
}
