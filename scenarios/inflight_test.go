package scenarios_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/wire"
)

// TestReferenceContinueMeansClaimed shows the property the parallel scenarios rest on: the
// reference server sends 100 Continue to a segment only once it has claimed the segment's
// range. Segment A is sent with `Expect: 100-continue` and holds its body until the 100
// arrives; then (and only then) B, which overlaps A, is sent and must be refused with 409
// before any 100 of its own, and C, disjoint from A, is accepted. No sleep orders the steps:
// each one starts when the previous one's answer is in. Repeated over many sessions, since a
// race would show as an occasional 201 to B.
func TestReferenceContinueMeansClaimed(t *testing.T) {
	srv, err := fakeserver.NewServer(fakeserver.Options{})
	if err != nil {
		t.Fatalf("start the reference server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close the reference server: %v", err)
		}
	})
	target, err := url.Parse(srv.UploadURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := scenarios.Config{Target: target, RequestTimeout: 30 * time.Second, RunID: "continue"}.WithDefaults()
	ctx := context.Background()
	segment := func(session string, start, end int64) wire.Request {
		return wire.Request{
			Step: fmt.Sprintf("segment %d-%d/24", start, end), Session: session,
			Headers: []result.Header{
				{Name: protocol.XContentRange, Value: fmt.Sprintf("bytes %d-%d/24", start, end)},
				{Name: protocol.SessionID, Value: session},
				{Name: protocol.ContentDisposition, Value: `attachment; filename="c.bin"`},
				{Name: "Content-Type", Value: "application/octet-stream"},
			},
			Pattern: &wire.Pattern{}, BodyOffset: start, BodyLen: end - start + 1,
		}
	}
	for i := range 25 {
		session := fmt.Sprintf("continue-%d", i)
		a := segment(session, 0, 15)
		a.Gate, a.PauseAfter = wire.NewGate(), 4
		done := make(chan result.Exchange, 1)
		go func() { done <- cfg.Client().Do(ctx, a) }()
		select {
		case <-a.Gate.Paused():
		case ex := <-done:
			t.Fatalf("%s: A ended before its pause point: %s (%s)", session, ex.Describe(), ex.Error)
		}
		if by := a.Gate.InFlightBy(); by != result.InFlightByContinue {
			t.Fatalf("%s: A in flight by %q, want %q: the reference sent no 100 Continue", session, by, result.InFlightByContinue)
		}

		b := segment(session, 8, 23)
		b.Gate = wire.NewGate() // B too asks for 100 Continue: a refused segment must get none
		b.Gate.Resume()
		rb := cfg.Client().Do(ctx, b)
		if rb.Outcome != result.OutcomeAnswered || rb.Response.Status != http.StatusConflict {
			t.Fatalf("%s: B (overlapping A, which got 100 Continue) answered %s, want 409", session, rb.Describe())
		}
		if rb.Request.BodySent != 0 || rb.Request.InFlightBy != "" {
			t.Errorf("%s: B sent %d body bytes (in flight by %q): the 409 came after a 100 Continue", session, rb.Request.BodySent, rb.Request.InFlightBy)
		}

		rc := cfg.Client().Do(ctx, segment(session, 16, 23))
		if rc.Outcome != result.OutcomeAnswered || rc.Response.Status != http.StatusCreated || rc.Response.Body != "16-23/24" {
			t.Fatalf("%s: C (disjoint from A) answered %s, want 201 16-23/24", session, rc.Describe())
		}

		a.Gate.Resume()
		ra := <-done
		if ra.Outcome != result.OutcomeAnswered || ra.Response.Status != http.StatusOK {
			t.Fatalf("%s: A, which completes the file, answered %s (%s), want the completion", session, ra.Describe(), ra.Error)
		}
	}
}
