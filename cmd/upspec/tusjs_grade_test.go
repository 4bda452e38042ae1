package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/internal/grade"
	"github.com/upspec/upspec/reports/result"
)

// tusJSGradePage is the page of the tus-js-client grade: window.gradeUpload(path, name,
// chunkSize, lastModified) fetches a file of the grade and uploads it as tus-js-client's
// documentation shows (findPreviousUploads, resumeFromPreviousUpload, start), with its
// default retries.
const tusJSGradePage = `<!doctype html>
<meta charset="utf-8">
<title>tus-js-client graded</title>
<script src="/tus.min.js"></script>
<script>
window.gradeUpload = async (path, name, chunkSize, lastModified) => {
  const res = await fetch('/grade-files/' + path);
  const file = new File([await res.arrayBuffer()], name, { type: 'application/octet-stream', lastModified });
  return new Promise((resolve) => {
    const up = new tus.Upload(file, {
      endpoint: location.origin + '/files/',
      chunkSize,
      metadata: { filename: name, filetype: file.type },
      onSuccess: () => resolve('done ' + up.url),
      onError: (e) => resolve('error ' + e),
    });
    up.findPreviousUploads().then((previous) => {
      if (previous.length > 0) up.resumeFromPreviousUpload(previous[0]);
      up.start();
    });
  });
};
document.documentElement.dataset.ready = 'true';
</script>`

// TestGradeTusJSClient grades tus-js-client (pinned in testdata/tusjs) in headless Chromium
// against the tus grading mock, in chunks of 8 KiB and in one PATCH per file (its default),
// and checks its verdicts: those the README records. The files have one lastModified in the
// first run (as files copied with their times), their own in the second.
func TestGradeTusJSClient(t *testing.T) {
	client := tusJSClient(t)
	// Its verdicts apart from PASS: it ignores Retry-After (its retryDelays start at 0), it
	// stops with an error on a PATCH answered 404 (it creates a new upload only when a HEAD
	// fails), and its fingerprint (name, type, size, lastModified, endpoint) takes the
	// complete upload of one twin for the other when their lastModified are equal.
	tests := []struct {
		name         string
		chunk        string // a JavaScript number
		sameModified bool
		want         map[grade.ID]result.Verdict
	}{
		{"8 KiB chunks, one lastModified", "8192", true, map[grade.ID]result.Verdict{
			grade.TusHonourRetryAfter: result.NonStrict, grade.TusNewUploadAfterGone: result.NonStrict, grade.TusDistinctUploads: result.Fail}},
		{"one PATCH per file, own lastModified", "Infinity", false, map[grade.ID]result.Verdict{
			grade.TusHonourRetryAfter: result.NonStrict, grade.TusNewUploadAfterGone: result.NonStrict}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := gradeTusJS(t, client, tt.chunk, tt.sameModified)
			for _, r := range results {
				want, ok := tt.want[r.Clause.ID]
				if !ok {
					want = result.Pass
				}
				if r.Verdict != want {
					t.Errorf("%s: %s, want %s; findings %v %s", r.Clause.ID, r.Verdict, want, r.Findings, r.SkipReason)
				}
			}
		})
	}
}

// gradeTusJS uploads every file of the tus schedule with tus-js-client in a page of the
// grading mock, one after the other, and returns the verdicts.
func gradeTusJS(t *testing.T, client []byte, chunk string, sameModified bool) []grade.Result {
	t.Helper()
	ctx := newBrowser(t)
	uploads := grade.TusSchedule(40000, 1)
	dir := t.TempDir()
	if _, err := grade.WriteFiles(dir, uploads); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(tusJSGradePage))
	})
	mux.HandleFunc("GET /tus.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(client)
	})
	mux.Handle("GET /grade-files/", http.StripPrefix("/grade-files/", http.FileServer(http.Dir(dir))))
	g, err := grade.StartTus(grade.TusOptions{Uploads: uploads, Server: tus.Options{Fallback: mux}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	openPage(t, ctx, g.URL()+"/")
	for i, u := range uploads {
		modified := int64(1700000000000)
		if !sameModified {
			modified += int64(i) * 1000
		}
		js := fmt.Sprintf(`window.gradeUpload(%q, %q, %s, %d)`, u.File, u.Name, chunk, modified)
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", u.File, err)
		}
		// It reports an error for the 403 and for the upload the server lost.
		if errs := u.Plan.Stops || u.Plan.Name == "gone"; strings.HasPrefix(out, "done ") == errs {
			t.Errorf("%s: %s", u.File, out)
		}
	}
	fctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ev, err := g.Finish(fctx)
	if err != nil {
		t.Fatal(err)
	}
	return grade.JudgeTus(ev, false)
}
