package fakeserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOrderConnFeed(t *testing.T) {
	stream := "POST /upload HTTP/1.1\r\nHost: x\r\nX-Content-Range: bytes 0-1/8\r\nContent-Range: bytes 4-5/8\r\nContent-Length: 2\r\n\r\nAB" +
		"\r\nGET /file/a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /upload HTTP/1.1\r\nSession-ID: s2\r\nX-Session-ID: s1\r\nContent-Length: 5\r\n\r\n\r\n\r\nX"
	want := []orderedBlock{
		{"POST", "/upload", []moduleHeader{{"Host", "x"}, {"X-Content-Range", "bytes 0-1/8"}, {"Content-Range", "bytes 4-5/8"}, {"Content-Length", "2"}}},
		{"GET", "/file/a?x=1", []moduleHeader{{"Host", "x"}}},
		{"POST", "/upload", []moduleHeader{{"Session-ID", "s2"}, {"X-Session-ID", "s1"}, {"Content-Length", "5"}}},
	}
	tests := []struct {
		name  string
		chunk int
	}{
		{"whole", len(stream)},
		{"bytewise", 1},
		{"threes", 3},
		{"sevens", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &orderConn{}
			for i := 0; i < len(stream); i += tt.chunk {
				c.feed([]byte(stream[i:min(i+tt.chunk, len(stream))]))
			}
			if !reflect.DeepEqual(c.queue, want) {
				t.Errorf("queue = %+v\nwant %+v", c.queue, want)
			}
			if c.bodyLeft != 0 || len(c.head) != 0 || c.lost {
				t.Errorf("state after the stream: bodyLeft %d head %q lost %v", c.bodyLeft, c.head, c.lost)
			}
		})
	}
	c := &orderConn{}
	c.feed([]byte("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nABCDE\r\n0\r\n\r\nPOST /upload HTTP/1.1\r\n\r\n"))
	if !c.lost || len(c.queue) != 1 {
		t.Errorf("a chunked body must stop the recording: lost %v, %d heads", c.lost, len(c.queue))
	}
}

// TestOrderConnServer runs a real http.Server with the wrapped listener and checks that the
// handler sees each request's headers in arrival order, across keep-alive requests.
func TestOrderConnServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			var names []string
			for _, h := range requestHeadersInOrder(r) {
				if classifyModuleHeader(h.Name) != moduleHeaderOther {
					names = append(names, h.Name+"="+h.Value)
				}
			}
			fmt.Fprint(w, strings.Join(names, ";"))
		}),
		ConnContext:       orderConnContext,
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(orderListener{ln}) }()
	defer srv.Close()

	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	tests := []struct {
		req  string
		want string
	}{
		{"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Range: bytes 4-5/8\r\nX-Content-Range: bytes 0-1/8\r\nContent-Length: 2\r\n\r\nAB",
			"Content-Range=bytes 4-5/8;X-Content-Range=bytes 0-1/8"},
		{"POST /upload HTTP/1.1\r\nHost: a\r\nx-content-range: bytes 0-1/8\r\ncontent-range: bytes 4-5/8\r\nsession-id-whatever: s1\r\nContent-Length: 2\r\n\r\nAB",
			"x-content-range=bytes 0-1/8;content-range=bytes 4-5/8;session-id-whatever=s1"},
		{"GET /other HTTP/1.1\r\nHost: a\r\nSession-ID: g\r\n\r\n", "Session-ID=g"},
	}
	for i, tt := range tests {
		if _, err := io.WriteString(conn, tt.req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("request %d: handler saw %q, want %q", i, body, tt.want)
		}
	}
}
