package fakeserver

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// memWorkload is a way of writing into one session of the memory store.
type memWorkload struct {
	name  string
	total int64
	piece int   // bytes per WriteAt
	gap   int64 // distance from the start of one write to the start of the next
	count int
	// bound is the largest heap cost allowed per stored byte.
	bound float64
}

func memWorkloads() []memWorkload {
	return []memWorkload{
		// The hostile case: one byte every 64 KiB (it cost a 64 KiB chunk per byte).
		{"sparse-1B-every-64KiB", 5000 << 16, 1, 1 << 16, 5000, 128},
		// Small segments, back to back.
		{"dense-1KiB", 16 << 20, 1 << 10, 1 << 10, 16 << 10, 1.3},
		// Large segments as the handler streams them, back to back.
		{"dense-256KiB", 64 << 20, bodyBufferSize, bodyBufferSize, 256, 1.05},
		// Large pieces far apart: a sparse 5 GB file.
		{"sparse-256KiB-every-16MiB", 5 << 30, bodyBufferSize, 16 << 20, 256, 1.05},
	}
}

// heapCost writes w into a new memory store and returns the live heap bytes it costs per
// byte stored.
func heapCost(tb testing.TB, w memWorkload) float64 {
	tb.Helper()
	p := bytes.Repeat([]byte{0xa5}, w.piece)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st := NewMemoryStore()
	u, err := st.Create("heap", w.total)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range w.count {
		if _, err := u.WriteAt(p, int64(i)*w.gap); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	stored := u.(*memUpload).data.held()
	if want := int64(w.piece) * int64(w.count); stored != want {
		tb.Fatalf("%d bytes held, %d written", stored, want)
	}
	runtime.KeepAlive(u)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(stored)
}

// TestMemoryStoreHeapProportional: the memory store costs heap in proportion to the bytes it
// holds, whatever their layout: at most the workload's bound per stored byte (a ratio, not a
// timing).
func TestMemoryStoreHeapProportional(t *testing.T) {
	for _, w := range memWorkloads() {
		t.Run(w.name, func(t *testing.T) {
			if r := heapCost(t, w); r > w.bound {
				t.Errorf("%.2f heap bytes per stored byte, bound %.2f", r, w.bound)
			} else {
				t.Logf("%.3f heap bytes per stored byte", r)
			}
		})
	}
}

// BenchmarkMemoryStoreHeap reports the heap bytes per stored byte of each workload.
//
//	go test -run='^$' -bench=MemoryStoreHeap -benchtime=1x ./fakeserver/
func BenchmarkMemoryStoreHeap(b *testing.B) {
	for _, w := range memWorkloads() {
		b.Run(w.name, func(b *testing.B) {
			var r float64
			for range b.N {
				r = heapCost(b, w)
			}
			b.ReportMetric(r, "heap-B/stored-B")
		})
	}
}

// TestMemDataReadWrite: overlapping, adjacent and sparse writes read back as a flat file
// would, zeros between.
func TestMemDataReadWrite(t *testing.T) {
	const size = 3*memExtentMax + 100
	d := &memData{size: size}
	flat := make([]byte, size)
	writes := []struct {
		off int64
		n   int
		b   byte
	}{
		{10, 5, 'a'}, {15, 5, 'b'}, {12, 6, 'c'}, {100, memExtentMax + 7, 'd'},
		{memExtentMax, 50, 'e'}, {size - 3, 3, 'f'}, {0, 30, 'g'}, {5, 2*memExtentMax + 50, 'h'},
	}
	for _, w := range writes {
		p := bytes.Repeat([]byte{w.b}, w.n)
		if n, err := d.WriteAt(p, w.off); n != w.n || err != nil {
			t.Fatalf("WriteAt(%d, %d): %d %v", w.off, w.n, n, err)
		}
		copy(flat[w.off:], p)
	}
	for i := 1; i < len(d.ext); i++ {
		if d.ext[i-1].end() > d.ext[i].start || len(d.ext[i].b) > memExtentMax {
			t.Fatalf("extents %d and %d overlap or are too long", i-1, i)
		}
	}
	got := make([]byte, size)
	if n, err := d.ReadAt(got, 0); n != size || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt: %d %v", n, err)
	}
	if !bytes.Equal(got, flat) {
		t.Fatal("the memory file differs from the flat one")
	}
	for _, off := range []int64{0, 9, 14, 99, memExtentMax - 1, size - 4} {
		part := make([]byte, 7)
		n, _ := d.ReadAt(part, off)
		if !bytes.Equal(part[:n], flat[off:off+int64(n)]) {
			t.Fatalf("ReadAt at %d: %q, want %q", off, part[:n], flat[off:off+int64(n)])
		}
	}
	if _, err := d.WriteAt([]byte("x"), size); err == nil {
		t.Fatal("a write past the end succeeded")
	}
}

// BenchmarkStoreSegments measures the store's own cost per segment, without HTTP: files of
// 64 KiB in 1 KiB segments (WriteAt, Commit), then Finish, as the small-segment workload of
// fakeserver/bench/compare.sh stores them.
//
//	go test -run='^$' -bench=StoreSegments -benchtime=20000x ./fakeserver/
func BenchmarkStoreSegments(b *testing.B) {
	const seg, perFile = 1 << 10, 64
	p := bytes.Repeat([]byte{0x5a}, seg)
	for _, sk := range []struct {
		name string
		make func(b *testing.B) Store
	}{
		{"memory", func(*testing.B) Store { return NewMemoryStore() }},
		{"dir", func(b *testing.B) Store {
			st, err := NewDirStore(b.TempDir(), false)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	} {
		b.Run(sk.name, func(b *testing.B) {
			st := sk.make(b)
			defer st.Close()
			var u Upload
			b.ReportAllocs()
			for i := range b.N {
				k := int64(i % perFile)
				if k == 0 {
					var err error
					if u, err = st.Create(fmt.Sprintf("f%d", i/perFile), perFile*seg); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := u.WriteAt(p, k*seg); err != nil {
					b.Fatal(err)
				}
				r := ranges.Range{Start: k * seg, End: (k+1)*seg - 1}
				if err := u.Commit(r, []ranges.Range{{Start: 0, End: r.End}}); err != nil {
					b.Fatal(err)
				}
				if k == perFile-1 {
					f, err := u.Finish(fmt.Sprintf("f%d.bin", i/perFile))
					if err != nil {
						b.Fatal(err)
					}
					_ = f.Close()
				}
			}
		})
	}
}
