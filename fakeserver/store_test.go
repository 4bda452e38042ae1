package fakeserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// TestDirStoreReload: a new server on the same directory keeps every acknowledged range,
// forgets unacknowledged data and stale temporary files, and finishes the session.
func TestDirStoreReload(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		t.Run(fmt.Sprintf("fsync=%v", fsync), func(t *testing.T) {
			dir := t.TempDir()
			open := func() *Server {
				st, err := NewDirStore(dir, fsync)
				if err != nil {
					t.Fatalf("NewDirStore: %v", err)
				}
				return startServer(t, Options{Store: st}) // closed below; the cleanup stops it on a failure
			}
			srv := open()
			send(t, srv, "keep", 0, 0, 5, 24, "keep.bin")
			send(t, srv, "keep", 0, 9, 15, 24, "keep.bin")
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			// What a kill could leave: a temporary state and data never acknowledged.
			for _, p := range []string{filepath.Join(dir, dirTmp, "keep.state"), filepath.Join(dir, dirSessions, "orphan.data")} {
				if err := os.WriteFile(p, []byte("junk"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			srv = open()
			defer srv.Close()
			if got := send(t, srv, "keep", 0, 0, 1, 24, "keep.bin"); got.status != 201 || got.body != "0-5/24,9-15/24" {
				t.Fatalf("probe after restart: %d %q", got.status, got.body)
			}
			for _, p := range []string{filepath.Join(dir, dirTmp, "keep.state"), filepath.Join(dir, dirSessions, "orphan.data")} {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s survived the restart: %v", p, err)
				}
			}
			send(t, srv, "keep", 0, 16, 23, 24, "keep.bin")
			if got := send(t, srv, "keep", 0, 6, 8, 24, "keep.bin"); got.status != 200 {
				t.Fatalf("completion: %d %q", got.status, got.body)
			}
			b, err := os.ReadFile(filepath.Join(dir, dirFiles, "keep.bin"))
			if err != nil || string(b) != string(pattern(0, 0, 23)) {
				t.Fatalf("completed file: %q %v", b, err)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, dirSessions)); len(entries) != 1 || entries[0].Name() != "keep"+suffixDone {
				t.Errorf("sessions dir after completion: %v, want the completion record only", entries)
			}
		})
	}
}

// TestDirStoreStateFile: the state file is the module's form, replaced as a whole.
func TestDirStoreStateFile(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st})
	send(t, srv, "st", 0, 9, 15, 24, "st.bin")
	send(t, srv, "st", 0, 0, 5, 24, "st.bin")
	b, err := os.ReadFile(filepath.Join(dir, dirSessions, "st.state"))
	want := string(formatState([]ranges.Range{{Start: 9, End: 15}, {Start: 0, End: 5}}, 24))
	if err != nil || string(b) != want {
		t.Fatalf("state %q %v, want %q", b, err, want)
	}
}

// TestDirStoreCorruptState: a state file that cannot be read stops NewDirStore with its path.
func TestDirStoreCorruptState(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, dirSessions), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bad.state", "bad.data"} {
		content := append(formatState([]ranges.Range{{Start: 0, End: 5}}, 24), formatState([]ranges.Range{{Start: 0, End: 5}}, 25)...)
		if err := os.WriteFile(filepath.Join(dir, dirSessions, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := NewDirStore(dir, false)
	if err == nil || !strings.Contains(err.Error(), "bad.state") {
		t.Fatalf("NewDirStore: %v, want an error naming bad.state", err)
	}
}

// TestDirStoreOpenFilesBounded: no more than maxOpenFiles data files stay open.
func TestDirStoreOpenFilesBounded(t *testing.T) {
	st, err := NewDirStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds := st.(*dirStore)
	var ups []Upload
	for i := range maxOpenFiles + 40 {
		u, err := st.Create(fmt.Sprintf("s%d", i), 10)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.WriteAt([]byte("ab"), 0); err != nil {
			t.Fatal(err)
		}
		ups = append(ups, u)
	}
	ds.mu.Lock()
	n := len(ds.open)
	ds.mu.Unlock()
	if n > maxOpenFiles {
		t.Fatalf("%d data files open, bound %d", n, maxOpenFiles)
	}
	// An evicted file is reopened on the next write, its bytes intact.
	if _, err := ups[0].WriteAt([]byte("cd"), 2); err != nil {
		t.Fatal(err)
	}
	if err := ups[0].Commit(ranges.Range{Start: 0, End: 3}, []ranges.Range{{Start: 0, End: 3}}); err != nil {
		t.Fatal(err)
	}
	f, err := ups[0].Finish("s0.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 10)
	if n, _ := f.ReadAt(buf, 0); n != 10 || string(buf[:4]) != "abcd" {
		t.Fatalf("finished file %q (%d bytes)", buf[:n], n)
	}
}

// TestStores runs the Store contract against both stores.
func TestStores(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			st := sk.make(t)
			defer st.Close()
			if _, ok, err := st.Load("x"); ok || err != nil {
				t.Fatalf("Load of nothing: %v %v", ok, err)
			}
			u, err := st.Create("x", 8)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.WriteAt([]byte("wxyz"), 4); err != nil {
				t.Fatal(err)
			}
			if err := u.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := u.Commit(ranges.Range{Start: 4, End: 7}, []ranges.Range{{Start: 4, End: 7}}); err != nil {
				t.Fatal(err)
			}
			l, ok, err := st.Load("x")
			if !ok || err != nil || l.Total() != 8 || len(l.Ranges()) != 1 || l.Ranges()[0] != (ranges.Range{Start: 4, End: 7}) {
				t.Fatalf("Load: %v %v %v", ok, err, l)
			}
			if _, err := u.WriteAt([]byte("abcd"), 0); err != nil {
				t.Fatal(err)
			}
			f, err := u.Finish("x.bin")
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			if n, err := f.ReadAt(buf, 0); n != 8 || string(buf) != "abcdwxyz" || (err != nil && n != 8) {
				t.Fatalf("ReadAt: %d %q %v", n, buf, err)
			}
			_ = f.Close()
			if _, ok, _ := st.Load("x"); ok {
				t.Fatal("a finished session is still loadable")
			}
			g, err := st.OpenFile("x.bin")
			if err != nil || g.Size() != 8 {
				t.Fatalf("OpenFile: %v", err)
			}
			_ = g.Close()
			if _, err := st.OpenFile("nope"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("OpenFile of nothing: %v", err)
			}
			d, err := st.Create("y", 4)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Discard(); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := st.Load("y"); ok {
				t.Fatal("a discarded session is still loadable")
			}
		})
	}
}

// TestServerCloseWaits: Close returns while a client is mid-body, and the handler is gone.
func TestServerCloseWaits(t *testing.T) {
	srv := startServer(t, Options{})
	a := startInflight(t, srv, "cl", 0, 0, 999, 1000)
	_ = a
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := srv.handler.activeN.Load(); n != 0 {
		t.Fatalf("%d requests still in the handler", n)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestDirStoreTornStateLine: a state file whose last line a kill cut anywhere loads as the
// state before that line, and the next commit goes on from there.
func TestDirStoreTornStateLine(t *testing.T) {
	first := formatState([]ranges.Range{{Start: 0, End: 5}}, 24)
	second := formatState([]ranges.Range{{Start: 9, End: 15}}, 24)
	for cut := 0; cut < len(second); cut++ {
		dir := t.TempDir()
		sess := filepath.Join(dir, dirSessions)
		if err := os.MkdirAll(sess, 0o755); err != nil {
			t.Fatal(err)
		}
		content := append(append([]byte(nil), first...), second[:cut]...)
		if err := os.WriteFile(filepath.Join(sess, "torn.state"), content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sess, "torn.data"), pattern(0, 0, 23), 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := NewDirStore(dir, false)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		srv := startServer(t, Options{Store: st})
		if got := send(t, srv, "torn", 0, 0, 1, 24, "torn.bin"); got.body != "0-5/24" {
			t.Fatalf("cut %d: probe %d %q, want 0-5/24", cut, got.status, got.body)
		}
		if got := send(t, srv, "torn", 0, 20, 21, 24, "torn.bin"); got.body != "0-5/24,20-21/24" {
			t.Fatalf("cut %d: %d %q", cut, got.status, got.body)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(sess, "torn.state"))
		acked, _, valid, _, err := parseState(b)
		if err != nil || valid != len(b) || len(acked) != 2 {
			t.Fatalf("cut %d: state after the next commit %q: %v %v", cut, b, acked, err)
		}
	}
	// A first line cut short: nothing was acknowledged, the session is gone.
	dir := t.TempDir()
	sess := filepath.Join(dir, dirSessions)
	_ = os.MkdirAll(sess, 0o755)
	_ = os.WriteFile(filepath.Join(sess, "none.state"), first[:5], 0o600)
	_ = os.WriteFile(filepath.Join(sess, "none.data"), []byte("x"), 0o600)
	if _, err := NewDirStore(dir, false); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(sess); len(entries) != 0 {
		t.Fatalf("left %v", entries)
	}
}

// TestDirStoreCompaction: many commits compact the log; probes write nothing; the state
// survives a reload.
func TestDirStoreCompaction(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st}) // closed below; the cleanup stops it on a failure
	const n = 3 * compactEvery
	for i := range int64(n) {
		if got := send(t, srv, "many", 0, i*2, i*2+1, 2*n+2, "m.bin"); got.status != 201 {
			t.Fatalf("segment %d: %d %q", i, got.status, got.body)
		}
	}
	statePath := filepath.Join(dir, dirSessions, "many.state")
	fi, err := os.Stat(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > int64(2*compactEvery*len(stateLine(nil, ranges.Range{Start: 400, End: 401}, 2*n+2))) {
		t.Errorf("state file of %d bytes was not compacted", fi.Size())
	}
	for range 5 {
		send(t, srv, "many", 0, 0, 1, 2*n+2, "m.bin")
	}
	if fj, _ := os.Stat(statePath); fj.Size() != fi.Size() || !fj.ModTime().Equal(fi.ModTime()) {
		t.Errorf("probes rewrote the state")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, Options{Store: st})
	want := fmt.Sprintf("0-%d/%d", 2*n-1, 2*n+2)
	if got := send(t, srv, "many", 0, 0, 1, 2*n+2, "m.bin"); got.body != want {
		t.Fatalf("after reload: %q, want %q", got.body, want)
	}
}

// TestDirStoreEvictionUnderWrites: writers on more sessions than maxOpenFiles, at once, each
// on its own bytes: eviction never closes a file under a running WriteAt, no write fails, no
// byte is lost, and the files open stay near the bound.
func TestDirStoreEvictionUnderWrites(t *testing.T) {
	st, err := NewDirStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const writers, sessions = 8, maxOpenFiles + maxOpenFiles/2
	ups := make([]Upload, sessions)
	for i := range ups {
		if ups[i], err = st.Create(fmt.Sprintf("e%d", i), writers); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range ups {
					u := ups[(i+w*sessions/writers+round)%sessions]
					if _, err := u.WriteAt([]byte{testAlphabet[w]}, int64(w)); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("WriteAt: %v", err)
	}
	ds := st.(*dirStore)
	ds.mu.Lock()
	n := len(ds.open)
	ds.mu.Unlock()
	if n > maxOpenFiles+writers {
		t.Errorf("%d sessions hold open files, bound %d (+%d writers)", n, maxOpenFiles, writers)
	}
	all := []ranges.Range{{Start: 0, End: writers - 1}}
	for i, u := range ups {
		if err := u.Commit(all[0], all); err != nil {
			t.Fatal(err)
		}
		f, err := u.Finish(fmt.Sprintf("e%d.bin", i))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, writers)
		_, rerr := f.ReadAt(buf, 0)
		_ = f.Close()
		if rerr != nil || string(buf) != testAlphabet[:writers] {
			t.Fatalf("session %d: %q (%v), want %q", i, buf, rerr, testAlphabet[:writers])
		}
	}
}
