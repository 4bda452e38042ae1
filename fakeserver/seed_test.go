package fakeserver

import (
	"testing"
)

// TestSeedFlow is the seed README's flow: 0-5, 9-15, 16-23, then 6-8 of a 24-byte file.
func TestSeedFlow(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			steps := []struct {
				start, end int64
				status     int
				body       string
			}{
				{0, 5, 201, "0-5/24"},
				{9, 15, 201, "0-5/24,9-15/24"},
				{16, 23, 201, "0-5/24,9-23/24"},
				{6, 8, 200, "completed"},
			}
			for _, st := range steps {
				got := send(t, srv, "seed-1", 0, st.start, st.end, 24, "seed.txt")
				if got.status != st.status || got.body != st.body {
					t.Fatalf("%d-%d: %d %q, want %d %q", st.start, st.end, got.status, got.body, st.status, st.body)
				}
				switch st.status {
				case 201:
					if r := got.header.Get("Range"); r != st.body {
						t.Errorf("Range %q, want %q", r, st.body)
					}
					if _, ok := got.header["Content-Type"]; ok {
						t.Errorf("201 has a Content-Type: %q", got.header.Get("Content-Type"))
					}
				case 200:
					if ct := got.header.Get("Content-Type"); ct != "text/plain" {
						t.Errorf("completion Content-Type %q, want text/plain", ct)
					}
				}
			}
			f := get(t, srv, "/file/seed.txt")
			if f.status != 200 || f.body != string(pattern(0, 0, 23)) {
				t.Fatalf("GET /file/seed.txt: %d %q", f.status, f.body)
			}
		})
	}
}
