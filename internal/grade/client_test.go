package grade

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/reports/result"
)

// client is a small uploader of the protocol whose faults the end-to-end test switches on,
// one at a time: the good client probes first, follows every list, backs off (as long as
// Retry-After says, when it says), stops on a 4xx and gives each file a random session ID.
type client struct {
	url     string
	segSize int64
	http    *http.Client

	resendAll        bool // ignores the lists: after a failure it sends the file again from byte 0
	stopAfter201     bool // after a failure it probes and stops at the 201
	take201AsDone    bool // ignores the lists: done once the last segment is answered
	retry4xx         int  // retries a 4xx this many times
	ignoreRetryAfter bool // retries at once
	overlap          bool // starts the clean file with two overlapping segments at once
	noProbe          bool // after a failure it sends the failed segment and the next one as one
	nameSizeID       bool // the session ID is the file's name and size
}

// answer is what one request got: a status and its list, or an error.
type answer struct {
	status     int
	list       *ranges.Set
	retryAfter time.Duration
	err        error
}

func (c *client) send(ctx context.Context, u Upload, id string, r ranges.Range, body io.Reader) answer {
	streamed := body != nil
	if body == nil {
		b := make([]byte, r.Len())
		u.Content(b, r.Start)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, body)
	if err != nil {
		return answer{err: err}
	}
	req.ContentLength = r.Len()
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", `attachment; filename="`+u.Name+`"`)
	req.Header.Set("X-Content-Range", fmt.Sprintf("bytes %d-%d/%d", r.Start, r.End, u.Size))
	req.Header.Set("Session-ID", id)
	if streamed {
		// The body goes only after 100 Continue, which the server sends once the segment is
		// in flight.
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return answer{err: err}
	}
	a := answer{status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		a.retryAfter = time.Duration(s) * time.Second
	}
	if a.status == http.StatusCreated {
		l, err := ranges.ParseList(strings.TrimSpace(resp.Header.Get("Range")))
		if err != nil {
			return answer{err: fmt.Errorf("the 201's list %q: %w", text, err)}
		}
		a.list = l.Set()
	}
	return a
}

func (c *client) sessionID(u Upload) string {
	if c.nameSizeID {
		return hex.EncodeToString([]byte(u.Name)) + "-" + strconv.FormatInt(u.Size, 10)
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errStopped = errors.New("the upload stopped on a 4xx")

// upload uploads u and returns nil once the client believes the file complete.
func (c *client) upload(ctx context.Context, u Upload) error {
	id := c.sessionID(u)
	whole := ranges.Range{Start: 0, End: u.Size - 1}
	probe := ranges.Range{Start: 0, End: min(1, u.Size-1)}
	have := ranges.NewSet(u.Size) // what the client believes the server holds
	if c.overlap && u.Plan.Name == "clean" {
		c.sendOverlapping(ctx, u, id)
	}
	next := probe
	if c.resendAll || c.take201AsDone {
		next = ranges.Range{Start: 0, End: min(c.segSize, u.Size) - 1}
	}
	failures, refusals := 0, 0
	for attempt := 0; attempt < 200; attempt++ {
		a := c.send(ctx, u, id, next, nil)
		switch {
		case a.err == nil && a.status == http.StatusCreated:
			failures = 0
			if c.resendAll || c.take201AsDone {
				have.Add(next)
				if c.take201AsDone && next.End == u.Size-1 {
					return nil // the last segment was answered: done, it believes
				}
			} else {
				have = a.list
				if c.stopAfter201 && next == probe && attempt > 0 {
					return nil
				}
			}
		case a.err == nil && a.status >= 200 && a.status < 400:
			return nil
		case a.err == nil && a.status >= 400 && a.status < 500 && a.status != http.StatusConflict:
			if refusals++; refusals > c.retry4xx {
				return fmt.Errorf("%w: %d", errStopped, a.status)
			}
			continue // the same segment again
		default:
			failures++
			wait := time.Duration(25<<min(failures, 6)) * time.Millisecond
			if a.retryAfter > 0 {
				wait = a.retryAfter
			}
			if c.ignoreRetryAfter {
				wait = 0
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			switch {
			case c.resendAll:
				have = ranges.NewSet(u.Size)
				next = ranges.Range{Start: 0, End: min(c.segSize, u.Size) - 1}
			case c.take201AsDone:
				// the same segment again
			case c.noProbe && next != probe:
				next.End = min(next.End+c.segSize, u.Size-1)
			default:
				next = probe
			}
			continue
		}
		if have.Contains(whole) && c.resendAll {
			have = ranges.NewSet(u.Size) // no final answer: everything again
			next = ranges.Range{Start: 0, End: min(c.segSize, u.Size) - 1}
			continue
		}
		if have.Contains(whole) {
			next = probe // every byte listed: the probe fetches the final answer
			continue
		}
		gap := have.Missing()[0]
		if c.take201AsDone || c.resendAll {
			gap = ranges.Range{Start: next.End + 1, End: u.Size - 1}
		}
		next = ranges.Range{Start: gap.Start, End: min(gap.End, gap.Start+c.segSize-1)}
	}
	return errors.New("too many requests")
}

// sendOverlapping sends bytes 0..2s-1 and, once the server has them in flight (it asked for
// their body with 100 Continue) and half of their body is sent, bytes s..3s-1.
func (c *client) sendOverlapping(ctx context.Context, u Upload, id string) {
	a := ranges.Range{Start: 0, End: min(2*c.segSize, u.Size) - 1}
	b := ranges.Range{Start: min(c.segSize, u.Size-1), End: min(3*c.segSize, u.Size) - 1}
	pr, pw := io.Pipe()
	first := make(chan answer, 1)
	go func() { first <- c.send(ctx, u, id, a, pr) }()
	buf := make([]byte, a.Len())
	u.Content(buf, a.Start)
	half := a.Len() / 2
	if _, err := pw.Write(buf[:half]); err == nil {
		c.send(ctx, u, id, b, nil) // answered while a is in flight
	}
	_, _ = pw.Write(buf[half:])
	pw.Close()
	<-first
}

// gradeClient runs a grade of c over the schedule's files and returns the verdicts.
func gradeClient(t *testing.T, c *client, size int64) []Result {
	t.Helper()
	g, err := Start(Options{Uploads: Schedule(size, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c.url = g.UploadURL()
	c.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 60 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, u := range g.Uploads() {
		err := c.upload(ctx, u)
		switch {
		case u.Plan.Stops && c.retry4xx == 0 && !errors.Is(err, errStopped):
			t.Errorf("%s: %v, want the 4xx to stop it", u.File, err)
		case !u.Plan.Stops && err != nil:
			t.Errorf("%s: %v", u.File, err)
		}
	}
	ev, err := g.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return Judge(ev, false)
}

func TestGradeGoodClient(t *testing.T) {
	rs := gradeClient(t, &client{segSize: 8 << 10}, 40000)
	for _, r := range rs {
		if r.Verdict != result.Pass {
			t.Errorf("%s: %s %v %s", r.Clause.ID, r.Verdict, r.Findings, r.SkipReason)
		}
	}
}

// TestGradeBadClients shows that the grade catches each broken client, by the clause it
// breaks.
func TestGradeBadClients(t *testing.T) {
	tests := []struct {
		name    string
		c       client
		clause  ID
		want    result.Verdict
		finding string
	}{
		{"ignores the list and resends everything", client{resendAll: true}, NoResendAcknowledged, result.Fail, "re-sent that the server had listed"},
		{"stops after a 201", client{stopAfter201: true}, NoStopIncomplete, result.Fail, "abandoned upload: session"},
		{"takes a 201 for the completion", client{take201AsDone: true}, NoStopIncomplete, result.Fail, "(07-lost-session.bin, 40000 bytes) stopped with the file incomplete"},
		{"takes a 201 for the completion, gaps", client{take201AsDone: true}, FillEveryGap, result.Fail, "07-lost-session.bin"},
		{"retries a 4xx", client{retry4xx: 3}, StopOn4xx, result.Fail, "(08-client-error.bin, 40000 bytes): after"},
		{"resumes without the probe", client{noProbe: true}, ProbeBeforeResume, result.Fail, "sent those bytes again with others"},
		{"ignores Retry-After", client{ignoreRetryAfter: true}, HonourRetryAfter, result.NonStrict, "with Retry-After: 1"},
		{"sends overlapping segments", client{overlap: true}, NoOverlapInFlight, result.Fail, "still in flight"},
		{"a session ID of name and size", client{nameSizeID: true}, DistinctSessionIDs, result.Fail, "for twins/a/twin.bin and twins/b/twin.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.segSize = 8 << 10
			rs := gradeClient(t, &tt.c, 40000)
			r := resultOf(t, rs, tt.clause)
			if r.Verdict != tt.want {
				t.Fatalf("%s: %s, want %s; findings %v", tt.clause, r.Verdict, tt.want, r.Findings)
			}
			if !strings.Contains(r.Findings[0].Message, tt.finding) {
				t.Errorf("finding %q, want one saying %q", r.Findings[0].Message, tt.finding)
			}
		})
	}
}
