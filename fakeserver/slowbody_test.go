package fakeserver

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"
)

// TestBodyDeadline: the whole-segment deadline is the floor or the segment's length at the
// minimum rate, whichever is later; a negative rate sets none.
func TestBodyDeadline(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		rate  int64
		floor time.Duration
		n     int64
		want  time.Duration // after start; -1: no deadline
	}{
		{"short segment: the floor", 1024, 10 * time.Second, 100, 10 * time.Second},
		{"long segment: the rate", 1024, 10 * time.Second, 1 << 20, 1024 * time.Second},
		{"exactly at the floor", 1000, time.Second, 1000, time.Second},
		{"no rate", -1, time.Second, 1 << 40, -1},
		{"beyond any life", 1, time.Second, 1 << 62, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(Options{MinBodyRate: tt.rate, BodyDeadlineFloor: tt.floor})
			got := h.bodyDeadline(start, tt.n)
			switch {
			case tt.want < 0 && !got.IsZero():
				t.Errorf("deadline %v after start, want none", got.Sub(start))
			case tt.want >= 0 && got.Sub(start) != tt.want:
				t.Errorf("deadline %v after start, want %v", got.Sub(start), tt.want)
			}
		})
	}
	if h := newHandler(Options{}); h.opts.MinBodyRate != DefaultMinBodyRate || h.opts.BodyDeadlineFloor != DefaultBodyDeadlineFloor {
		t.Errorf("defaults: rate %d floor %v", h.opts.MinBodyRate, h.opts.BodyDeadlineFloor)
	}
}

// TestSlowBodyAbandoned: a body that trickles in slower than the minimum rate is cut off at
// its whole-segment deadline although every read comes well within the read timeout: the
// client gets a 408 and a closed connection, nothing of the segment is acknowledged, and an
// honest retry of the same range succeeds.
func TestSlowBodyAbandoned(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			// A 100-byte segment at 1 MiB/s is due at once; the floor gives it 100ms. The read
			// timeout (a minute) is longer than the test's own deadline on the connection, so
			// only the whole-segment deadline can end the request in time.
			srv := startServer(t, Options{
				Store: sk.make(t), MinBodyRate: 1 << 20, BodyDeadlineFloor: 100 * time.Millisecond,
				BodyReadTimeout: time.Minute,
			})
			c := dial(t, srv.Addr)
			q := segment("slow", 0, 99, 200, "slow.bin", nil).without("Content-Length", "Content-Length: 100", "Expect: 100-continue")
			if _, err := io.WriteString(c, q.wire(srv.Addr)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
				t.Fatalf("want 100 Continue once the segment is admitted, got %q (%v)", line, err)
			}
			if _, err := br.ReadString('\n'); err != nil { // the blank line after the 100
				t.Fatal(err)
			}
			// One byte only, when the server asked for the body; then nothing more.
			if _, err := io.WriteString(c, "x"); err != nil {
				t.Fatal(err)
			}
			got := readReply(t, br)
			expectErrorReply(t, got, 408, "slower than the minimum rate")
			if !strings.Contains(got.body, "1 of 100 bytes") {
				t.Errorf("reason %q does not say how much arrived", got.body)
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Errorf("after the 408: %q, %v; want the connection closed", rest, err)
			}
			// Nothing of the slow segment is acknowledged.
			if got := send(t, srv, "slow", 1, 150, 199, 200, "slow.bin"); got.status != 201 || got.body != "150-199/200" {
				t.Fatalf("segment 150-199 after the slow one: %d %q, want 201 150-199/200", got.status, got.body)
			}
			// The honest retry of the slow segment's range is not blocked by its claim.
			if got := send(t, srv, "slow", 1, 0, 99, 200, "slow.bin"); got.status != 201 || got.body != "0-99/200,150-199/200" {
				t.Fatalf("honest retry of 0-99: %d %q, want 201 0-99/200,150-199/200", got.status, got.body)
			}
			if got := send(t, srv, "slow", 1, 100, 149, 200, "slow.bin"); got.status != 200 {
				t.Fatalf("completing segment: %d %q", got.status, got.body)
			}
			if got := get(t, srv, DefaultFilePrefix+"slow.bin"); got.body != string(pattern(1, 0, 199)) {
				t.Errorf("completed file holds %q", got.body)
			}
		})
	}
}
