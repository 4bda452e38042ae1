package fakeserver

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestFallback(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "page "+r.URL.Path)
	})
	srv, err := NewServer(Options{Fallback: page, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, f)
		_ = a
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/", 202, "page /"},
		{"/js/x.js", 202, "page /js/x.js"},
		{"/upload", 405, ""},
		{"/file/none", 404, ""},
	}
	for _, tt := range tests {
		res, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, res.StatusCode, b, tt.status, tt.body)
		}
	}
	without, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer without.Close()
	if res, err := http.Get(without.URL + "/"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("no Fallback: GET / %v %v, want 404", res, err)
	} else {
		res.Body.Close()
	}
}
