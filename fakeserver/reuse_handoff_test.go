package fakeserver

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
)

// TestNoTruncateOnReuseHandOff: under no-truncate-on-reuse with an external backend, the file
// at the form's path holds the same bytes as the server's own file view (the new, shorter
// file followed by the earlier file's tail, as the module's data file does), and so do the
// form's size and md5 and GET of the file. Without the quirk the path holds exactly the new
// bytes.
func TestNoTruncateOnReuseHandOff(t *testing.T) {
	first, second := pattern(0, 0, 23), pattern(9, 0, 11)
	tests := []struct {
		name   string
		quirks QuirkSet
		want   string
	}{
		{"quirk", NewQuirkSet(RestartAfterComplete, NoTruncateOnReuse), string(second) + string(first[12:])},
		{"reference", QuirkSet{}, string(second)},
	}
	for _, tt := range tests {
		for _, fsync := range []bool{false, true} {
			t.Run(tt.name+"/fsync="+strconv.FormatBool(fsync), func(t *testing.T) {
				type handed struct{ path, size, md5, data string }
				var mu sync.Mutex
				var got []handed
				backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := r.ParseMultipartForm(1 << 20); err != nil {
						http.Error(w, err.Error(), http.StatusBadRequest)
						return
					}
					h := handed{path: r.FormValue("path"), size: r.FormValue("size"), md5: r.FormValue("md5")}
					b, err := os.ReadFile(h.path)
					if err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
					h.data = string(b)
					mu.Lock()
					got = append(got, h)
					mu.Unlock()
					_, _ = w.Write([]byte("ok"))
				}))
				defer backend.Close()
				st, err := NewDirStore(t.TempDir(), fsync)
				if err != nil {
					t.Fatal(err)
				}
				srv := startServer(t, Options{Store: st, UploadPass: backend.URL, Quirks: tt.quirks})
				if r := send(t, srv, "reuse", 0, 0, 23, 24, "first.bin"); r.status != 200 {
					t.Fatalf("first file: %d %q", r.status, r.body)
				}
				if tt.quirks.Len() == 0 {
					// The reference keeps the completion: a new file needs a new session ID.
					if r := send(t, srv, "reuse2", 9, 0, 11, 12, "second.bin"); r.status != 200 {
						t.Fatalf("second file: %d %q", r.status, r.body)
					}
				} else if r := send(t, srv, "reuse", 9, 0, 11, 12, "second.bin"); r.status != 200 {
					t.Fatalf("second file under the reused ID: %d %q", r.status, r.body)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(got) != 2 {
					t.Fatalf("%d hand-offs, want 2", len(got))
				}
				sum := md5.Sum([]byte(tt.want))
				h := got[1]
				if h.data != tt.want {
					t.Errorf("the file at the form's path holds %q, want %q", h.data, tt.want)
				}
				if h.size != strconv.Itoa(len(tt.want)) || h.md5 != hex.EncodeToString(sum[:]) {
					t.Errorf("form size %s md5 %s, want %d %x", h.size, h.md5, len(tt.want), sum)
				}
				if r := get(t, srv, DefaultFilePrefix+"second.bin"); r.body != tt.want {
					t.Errorf("GET of the file: %q, want %q", r.body, tt.want)
				}
			})
		}
	}
}
