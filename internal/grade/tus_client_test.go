package grade

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports/result"
)

// tusClient is a small tus 1.0.0 uploader whose faults the end-to-end test switches on, one
// at a time: the good client creates an upload per file, PATCHes it in chunks, and after a
// failure backs off (as long as Retry-After says, when it says), asks HEAD for the offset
// and resumes there; it stops on a 4xx and starts a new upload after a 404 or 410.
type tusClient struct {
	creation string
	chunk    int64
	http     *http.Client
	cache    map[string]string // name and size → upload URL (urlByNameSize)

	withUpload bool // the creating POST carries the first chunk (creation-with-upload)
	noMetadata bool // the creating POST names no file (no Upload-Metadata)

	noResumableOnPost   bool // the creating POST lacks Tus-Resumable
	wrongContentType    bool // PATCH bodies are application/octet-stream
	noHead              bool // after a lost answer it takes the bytes as stored and goes on without HEAD; after other failures it PATCHes again at its offset, asking HEAD only after a 409
	staleOffsetOnce     bool // on its first resume of an upload it PATCHes at its own offset, not the HEAD's
	recreate            bool // after a failure it starts a new upload and sends the file from byte 0
	parallel            bool // a second PATCH of the clean file while the first is in flight
	ignoreRetryAfter    bool // retries at once
	giveUpOn5xx         bool // a 5xx ends the upload with an error
	retry4xx            int  // retries a stopping 4xx this many times
	doneOn404           bool // takes a 404 to a PATCH for the completion
	urlByNameSize       bool // remembers upload URLs by name and size, and resumes from them
	stopAfterFirstPatch bool // takes the first 204 for the completion
	silenceIsSuccess    bool // takes a lost answer to a PATCH that ends the file for the completion
}

// tusAnswer is what one request got.
type tusAnswer struct {
	status     int
	offset     int64
	location   string
	retryAfter time.Duration
	err        error
}

func (c *tusClient) do(ctx context.Context, method, target string, hd map[string]string, body io.Reader, n int64) tusAnswer {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return tusAnswer{err: err}
	}
	if body != nil {
		req.ContentLength = n
	}
	for k, v := range hd {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return tusAnswer{err: err}
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)); err != nil {
		return tusAnswer{err: err}
	}
	a := tusAnswer{status: resp.StatusCode, offset: -1, location: resp.Header.Get("Location")}
	if v, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64); err == nil {
		a.offset = v
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		a.retryAfter = time.Duration(s) * time.Second
	}
	return a
}

// create creates an upload of u and returns its URL and offset; with withUpload the POST
// carries the first chunk, and a failure creates another upload (after the backoff).
func (c *tusClient) create(ctx context.Context, u Upload) (string, int64, error) {
	hd := map[string]string{"Tus-Resumable": tus.Version, "Upload-Length": strconv.FormatInt(u.Size, 10),
		"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(u.Name))}
	if c.noResumableOnPost {
		delete(hd, "Tus-Resumable")
	}
	if c.noMetadata {
		delete(hd, "Upload-Metadata")
	}
	var a tusAnswer
	for failures := 1; ; failures++ {
		var body io.Reader
		n := min(c.chunk, u.Size)
		if c.withUpload {
			hd["Content-Type"] = tus.OffsetOctetStream
			b := make([]byte, n)
			u.Content(b, 0)
			body = bytes.NewReader(b)
		}
		a = c.do(ctx, http.MethodPost, c.creation, hd, body, n)
		if a.err == nil && a.status < 500 || failures > 8 {
			break
		}
		wait := time.Duration(25<<min(failures, 6)) * time.Millisecond
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(wait):
		}
	}
	if a.err != nil || a.status != http.StatusCreated {
		return "", 0, fmt.Errorf("%w: create: %d %v", errStopped, a.status, a.err)
	}
	loc, err := url.Parse(c.creation)
	if err != nil {
		return "", 0, err
	}
	ref, err := loc.Parse(a.location)
	if err != nil {
		return "", 0, err
	}
	if c.cache != nil {
		c.cache[fmt.Sprintf("%s/%d", u.Name, u.Size)] = ref.String()
	}
	return ref.String(), max(a.offset, 0), nil
}

func (c *tusClient) head(ctx context.Context, target string) tusAnswer {
	return c.do(ctx, http.MethodHead, target, map[string]string{"Tus-Resumable": tus.Version}, nil, 0)
}

func (c *tusClient) patch(ctx context.Context, u Upload, target string, off, end int64, body io.Reader) tusAnswer {
	if body == nil {
		b := make([]byte, end-off)
		u.Content(b, off)
		body = bytes.NewReader(b)
	}
	ct := tus.OffsetOctetStream
	if c.wrongContentType {
		ct = "application/octet-stream"
	}
	hd := map[string]string{"Tus-Resumable": tus.Version, "Content-Type": ct, "Upload-Offset": strconv.FormatInt(off, 10)}
	if _, streamed := body.(*io.PipeReader); streamed {
		hd["Expect"] = "100-continue" // the body goes once the PATCH holds the upload
	}
	return c.do(ctx, http.MethodPatch, target, hd, body, end-off)
}

// upload uploads u and returns nil once the client believes the file complete.
func (c *tusClient) upload(ctx context.Context, u Upload) error {
	var target string
	if c.urlByNameSize {
		if t, ok := c.cache[fmt.Sprintf("%s/%d", u.Name, u.Size)]; ok {
			if a := c.head(ctx, t); a.err == nil && a.status == http.StatusOK && a.offset == u.Size {
				return nil // "already uploaded"
			}
		}
	}
	target, off, err := c.create(ctx, u)
	if err != nil {
		return err
	}
	failures, refusals, losses := 0, 0, 0
	staleUsed := false
	if c.parallel && u.Plan.Name == "clean" && off == 0 {
		if off, err = c.patchTwice(ctx, u, target); err != nil {
			return err
		}
	}
	for attempt := 0; attempt < 200; attempt++ {
		if off == u.Size {
			return nil
		}
		end := min(off+c.chunk, u.Size)
		a := c.patch(ctx, u, target, off, end, nil)
		switch {
		case a.err == nil && a.status == http.StatusNoContent:
			failures = 0
			off = a.offset
			if c.stopAfterFirstPatch {
				return nil
			}
			continue
		case a.err == nil && (a.status == http.StatusNotFound || a.status == http.StatusGone):
			if c.doneOn404 {
				return nil
			}
			if losses++; losses > 3 {
				return fmt.Errorf("the server lost the upload %d times", losses)
			}
			if target, off, err = c.create(ctx, u); err != nil {
				return err
			}
			continue
		case a.err == nil && a.status == http.StatusConflict:
		case a.err == nil && a.status >= 400 && a.status < 500 && a.status != http.StatusRequestTimeout && a.status != http.StatusTooManyRequests:
			if refusals++; refusals > c.retry4xx {
				return fmt.Errorf("%w: %d", errStopped, a.status)
			}
			continue // the same PATCH again
		default:
			if a.err != nil && c.silenceIsSuccess && end == u.Size {
				return nil // "the bytes went out"
			}
			if a.err == nil && a.status >= 500 && c.giveUpOn5xx {
				return fmt.Errorf("the server answered %d", a.status)
			}
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
			if c.recreate {
				if target, off, err = c.create(ctx, u); err != nil {
					return err
				}
				continue
			}
			if c.noHead {
				if a.err != nil && end < u.Size {
					off = end // "the bytes must have arrived"
				}
				continue
			}
		}
		// Ask HEAD for the offset.
		h := c.head(ctx, target)
		switch {
		case h.err != nil:
			continue
		case h.status == http.StatusNotFound || h.status == http.StatusGone:
			if target, off, err = c.create(ctx, u); err != nil {
				return err
			}
		case h.status != http.StatusOK || h.offset < 0:
			return fmt.Errorf("%w: HEAD %d", errStopped, h.status)
		case c.staleOffsetOnce && !staleUsed && a.status != http.StatusConflict:
			staleUsed = true // its own offset, not the HEAD's
		default:
			off = h.offset
		}
	}
	return errors.New("too many requests")
}

// patchTwice sends bytes 0..2*chunk-1 and, once the server holds the upload for them (it
// asked for their body with 100 Continue) and half of their body is sent, a second PATCH at
// offset 0; it returns the offset the first one reached.
func (c *tusClient) patchTwice(ctx context.Context, u Upload, target string) (int64, error) {
	end := min(2*c.chunk, u.Size)
	pr, pw := io.Pipe()
	first := make(chan tusAnswer, 1)
	go func() { first <- c.patch(ctx, u, target, 0, end, pr) }()
	buf := make([]byte, end)
	u.Content(buf, 0)
	if _, err := pw.Write(buf[:end/2]); err == nil {
		c.patch(ctx, u, target, 0, min(c.chunk, u.Size), nil) // answered while the first is in flight
	}
	_, _ = pw.Write(buf[end/2:])
	pw.Close()
	a := <-first
	if a.err != nil || a.status != http.StatusNoContent {
		return 0, fmt.Errorf("the first PATCH: %d %v", a.status, a.err)
	}
	return a.offset, nil
}

// gradeTusClient runs a tus grade of c over the schedule's files and returns the verdicts;
// strictErrors makes an upload's unexpected error a test error (the good client).
func gradeTusClient(t *testing.T, c *tusClient, size int64, strictErrors bool) []Result {
	t.Helper()
	g, err := StartTus(TusOptions{Uploads: TusSchedule(size, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c.creation = g.CreationURL()
	c.cache = map[string]string{}
	c.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 60 * time.Second}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, u := range g.Uploads() {
		err := c.upload(ctx, u)
		switch {
		case !strictErrors:
		case u.Plan.Stops && !errors.Is(err, errStopped):
			t.Errorf("%s: %v, want the 4xx to stop it", u.File, err)
		case !u.Plan.Stops && err != nil:
			t.Errorf("%s: %v", u.File, err)
		}
	}
	ev, err := g.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strictErrors && g.Ended() != len(g.Uploads()) {
		t.Errorf("%d files ended, want %d", g.Ended(), len(g.Uploads()))
	}
	return JudgeTus(ev, false)
}

// TestGradeTusGoodClient grades the good client in chunks, and with creation-with-upload
// (in one request per file the faults hit the creating POST: no PATCH is sent, no upload is
// resumed, and nothing meets the forget of 07-gone.bin).
func TestGradeTusGoodClient(t *testing.T) {
	tests := []struct {
		name    string
		c       tusClient
		skipped []ID
	}{
		{"8 KiB chunks", tusClient{chunk: 8 << 10}, nil},
		{"creation-with-upload, 8 KiB chunks", tusClient{chunk: 8 << 10, withUpload: true}, nil},
		{"no filename metadata", tusClient{chunk: 8 << 10, noMetadata: true}, nil},
		{"creation-with-upload, one request", tusClient{chunk: 40000, withUpload: true},
			[]ID{TusPatchContentType, TusHeadBeforeResume, TusResumeAtOffset, TusNewUploadAfterGone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range gradeTusClient(t, &tt.c, 40000, true) {
				want := result.Pass
				if slices.Contains(tt.skipped, r.Clause.ID) {
					want = result.Skipped
				}
				if r.Verdict != want {
					t.Errorf("%s: %s, want %s; %v %s", r.Clause.ID, r.Verdict, want, r.Findings, r.SkipReason)
				}
			}
		})
	}
}

// TestGradeTusBadClients shows that the tus grade catches each broken client by the clauses
// it breaks, and by no other.
func TestGradeTusBadClients(t *testing.T) {
	tests := []struct {
		name    string
		c       tusClient
		breaks  []ID   // the clauses it fails (FAIL, or NON-STRICT for a SHOULD)
		finding string // a part of the first clause's first finding
	}{
		{"no Tus-Resumable on the creating POST", tusClient{noResumableOnPost: true}, []ID{TusResumableHeader}, "POST requests without Tus-Resumable"},
		{"PATCH bodies of another type", tusClient{wrongContentType: true}, []ID{TusPatchContentType}, `Got: Content-Type: "application/octet-stream"`},
		{"resumes without HEAD", tusClient{noHead: true}, []ID{TusHeadBeforeResume}, "sent a PATCH at another offset without asking HEAD"},
		{"resumes at its own offset", tusClient{staleOffsetOnce: true}, []ID{TusResumeAtOffset}, "is not the upload's offset"},
		{"re-sends from 0 in a new upload", tusClient{recreate: true}, []ID{TusNoResendAcknowledged}, "re-sent that upload"},
		{"two PATCHes at once", tusClient{parallel: true}, []ID{TusOnePatchInFlight}, "another request is writing this upload"},
		{"ignores Retry-After", tusClient{ignoreRetryAfter: true}, []ID{TusHonourRetryAfter}, "with Retry-After: 1"},
		{"gives up on a 5xx", tusClient{giveUpOn5xx: true}, []ID{TusCompleteAfter5xx, TusCompleteAfterPartialCommit, TusNoStopIncomplete}, "(03-retry-after.bin, 40000 bytes): after"},
		{"continues after a 403", tusClient{retry4xx: 3}, []ID{TusStopOn4xx}, "(08-client-error.bin, 40000 bytes): after"},
		{"reports done after a 404", tusClient{doneOn404: true}, []ID{TusNewUploadAfterGone}, "(07-gone.bin, 40000 bytes): after"},
		{"takes the first 204 for the completion", tusClient{stopAfterFirstPatch: true}, []ID{TusNoStopIncomplete}, "abandoned upload: upload"},
		{"takes the silence for success", tusClient{silenceIsSuccess: true}, []ID{TusAfterLostAnswer, TusNoStopIncomplete}, "(02-lost-answer.bin, 40000 bytes): after"},
		{"an upload URL by name and size", tusClient{urlByNameSize: true}, []ID{TusDistinctUploads}, "none of the bytes of twins/b/twin.bin were sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.chunk = 8 << 10
			rs := gradeTusClient(t, &tt.c, 40000, false)
			for _, r := range rs {
				broken := false
				for _, id := range tt.breaks {
					broken = broken || id == r.Clause.ID
				}
				want := result.Pass
				if broken {
					want = result.Fail
					if r.Clause.Level == result.SHOULD {
						want = result.NonStrict
					}
				}
				if r.Verdict != want && (broken || r.Verdict != result.Skipped) {
					t.Errorf("%s: %s, want %s; findings %v", r.Clause.ID, r.Verdict, want, r.Findings)
				}
			}
			r := resultOf(t, rs, tt.breaks[0])
			if len(r.Findings) > 0 && !strings.Contains(r.Findings[0].Message, tt.finding) {
				t.Errorf("finding %q, want one saying %q", r.Findings[0].Message, tt.finding)
			}
		})
	}
}
