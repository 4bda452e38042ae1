package fakeserver_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
)

// The reference server on a free loopback port, answering with the compact range-list form
// chosen by name; two segments of a 24-byte file, out of order.
func ExampleNewServer() {
	format, err := ranges.ParseFormat("compact")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := fakeserver.NewServer(fakeserver.Options{RangeFormat: format})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client := &http.Client{Timeout: 10 * time.Second}
	for _, seg := range []struct {
		rng, body string
	}{
		{"bytes 9-15/24", "jklmnop"},
		{"bytes 0-5/24", "abcdef"},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.UploadURL(), strings.NewReader(seg.body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", `attachment; filename="example.txt"`)
		req.Header.Set("Session-ID", "example-1")
		req.Header.Set("X-Content-Range", seg.rng)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 201 9-15/24
	// 201 0-5,9-15/24
}

// An httptest-shaped server on a listener of one's choice, stopped gracefully.
func ExampleNewUnstartedServer() {
	srv := fakeserver.NewUnstartedServer(fakeserver.Options{Quirks: fakeserver.NewQuirkSet(fakeserver.DropOnMalformed)})
	// srv.Listener = ... (nil: a free port on 127.0.0.1)
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(srv.URL + "/nothing-here")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 404
}

// A fault plan that fails the first segment twice with 503 and loses the answer of the last
// one; the journal says what the server saw and which rule fired.
func ExampleOptions_faults() {
	srv, err := fakeserver.NewServer(fakeserver.Options{
		Faults: fakeserver.MustParseFaultRules("status=503,retry-after=1,times=2,match=first", "lost-reply,match=last"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(rng, body string) string {
		req, err := http.NewRequest(http.MethodPost, srv.UploadURL(), strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", `attachment; filename="plan.txt"`)
		req.Header.Set("Session-ID", "plan-1")
		req.Header.Set("X-Content-Range", rng)
		resp, err := client.Do(req)
		if err != nil {
			return "no answer"
		}
		defer resp.Body.Close()
		return fmt.Sprint(resp.StatusCode, " Retry-After=", resp.Header.Get("Retry-After"))
	}
	for _, seg := range [][2]string{{"bytes 0-5/12", "abcdef"}, {"bytes 0-5/12", "abcdef"}, {"bytes 0-5/12", "abcdef"}, {"bytes 6-11/12", "ghijkl"}} {
		fmt.Println(post(seg[0], seg[1]))
	}
	for _, e := range srv.Journal(fakeserver.JournalFilter{Session: "plan-1"}) {
		fmt.Printf("%d %s %d %s %q\n", e.Seq, e.Range, e.Status, e.Outcome, e.Fault)
	}
	info, _ := srv.Session("plan-1")
	fmt.Println(info.State, info.List)
	// Output:
	// 503 Retry-After=1
	// 503 Retry-After=1
	// 201 Retry-After=
	// no answer
	// 1 bytes 0-5/12 503 answered "status=503,retry-after=1,times=2,match=first"
	// 2 bytes 0-5/12 503 answered "status=503,retry-after=1,times=2,match=first"
	// 3 bytes 0-5/12 201 answered ""
	// 4 bytes 6-11/12 0 dropped "lost-reply,match=last"
	// complete 0-11/12
}
