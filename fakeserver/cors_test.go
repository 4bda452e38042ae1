package fakeserver

import (
	"net/http"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	const page = "http://127.0.0.1:9999"
	preflight := func(origin string) *http.Request {
		r, _ := http.NewRequest(http.MethodOptions, "/upload", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-disposition,content-type,session-id,x-content-range")
		return r
	}
	segment := func(origin string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/upload", strings.NewReader("ab"))
		r.Header.Set("Content-Type", "application/octet-stream")
		r.Header.Set("Content-Disposition", `attachment; filename="c.txt"`)
		r.Header.Set("Session-ID", "cors-1")
		r.Header.Set("X-Content-Range", "bytes 0-1/4")
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	tests := []struct {
		name       string
		origins    []string
		req        *http.Request
		wantStatus int
		want       map[string]string // header → value; "" means absent
	}{
		{"no CORS: a preflight gets the module's bare 200", nil, preflight(page), 200,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Vary": ""}},
		{"no CORS: a segment has no CORS header", nil, segment(page), 201,
			map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Expose-Headers": ""}},
		{"allowed origin: preflight", []string{"http://other:1", page}, preflight(page), 204, map[string]string{
			"Access-Control-Allow-Origin":      page,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "POST, OPTIONS",
			"Access-Control-Allow-Headers":     "Content-Type, Content-Disposition, X-Content-Range, Content-Range, X-Session-ID, Session-ID, Upspec-Fault-Plan",
			"Access-Control-Expose-Headers":    "",
		}},
		{"allowed origin: segment", []string{page + "/"}, segment(page), 201, map[string]string{
			"Access-Control-Allow-Origin":      page,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "Range, Retry-After",
			"Range":                            "0-1/4",
		}},
		{"any origin: the request's origin is echoed", []string{"*"}, preflight("http://x.example"), 204, map[string]string{
			"Access-Control-Allow-Origin": "http://x.example",
		}},
		{"another origin: no CORS header", []string{page}, preflight("http://evil.example"), 200, map[string]string{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Vary": "Origin",
		}},
		{"no Origin: unchanged", []string{"*"}, segment(""), 201, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := NewServer(Options{CORSOrigins: tt.origins})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			u := srv.URL + tt.req.URL.Path
			req := tt.req.Clone(t.Context())
			req.URL, _ = req.URL.Parse(u)
			req.RequestURI = ""
			if tt.req.Body != nil {
				req.Body, _ = tt.req.GetBody()
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORSFromNew(t *testing.T) {
	h := New(Options{CORSOrigins: []string{"*"}})
	if _, ok := h.next.(*cors); !ok {
		t.Fatalf("New with CORSOrigins serves through %T, want the CORS wrapper", h.next)
	}
	if _, ok := New(Options{}).next.(*cors); ok {
		t.Fatal("New without CORSOrigins wraps the handler")
	}
}
