package scenarios_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// moduleForm is a form as the module sends it to upload_pass (docs/module-behavior.md §2.3): a
// 20-digit boundary, one part per field, an empty digest.
const moduleForm = "--00000000000000000008\r\n" +
	"Content-Disposition: form-data; name=\"file.name\"\r\n\r\n" +
	"big.TXT\r\n" +
	"--00000000000000000008\r\n" +
	"Content-Disposition: form-data; name=\"file.size\"\r\n\r\n" +
	"12\r\n" +
	"--00000000000000000008\r\n" +
	"Content-Disposition: form-data; name=\"file.md5\"\r\n\r\n" +
	"\r\n" +
	"--00000000000000000008--\r\n"

// TestBackendKeepsForms checks the harness backend: it answers 200 `completed`, keeps the
// fields of each form under its Session-ID header (or X-Session-ID), and serves them to
// another process.
func TestBackendKeepsForms(t *testing.T) {
	b, err := scenarios.StartBackend("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	post := func(header, id, contentType, body string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, b.URL+"/done?x=1", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(header, id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(got) != "completed" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("answer %d %q (%s), want 200 completed text/plain", resp.StatusCode, got, resp.Header.Get("Content-Type"))
		}
	}
	post("Session-ID", "s1", "multipart/form-data; boundary=00000000000000000008", moduleForm)
	post("X-Session-ID", "s2", "multipart/form-data; boundary=00000000000000000008", moduleForm)
	post("Session-ID", "s3", "text/plain", "not a form")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	remote := scenarios.NewRemoteBackend(b.URL, time.Second)
	tests := []struct {
		name   string
		reader scenarios.BackendForms
	}{
		{"in process", b.Backend},
		{"remote", remote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, id := range []string{"s1", "s2"} {
				forms, err := tt.reader.Forms(ctx, id)
				if err != nil || len(forms) != 1 {
					t.Fatalf("Forms(%s) = %d forms, %v; want 1", id, len(forms), err)
				}
				f := forms[0]
				if f.Error != "" || f.Target != "/done?x=1" || strings.Join(f.FieldNames(), " ") != "file.name file.size file.md5" {
					t.Errorf("form of %s: error %q, target %q, fields %v", id, f.Error, f.Target, f.FieldNames())
				}
				if v, ok := f.Field("file.size"); !ok || v.Value != "12" {
					t.Errorf("form of %s: file.size = %q, %v", id, v.Value, ok)
				}
				if v, ok := f.Field("file.md5"); !ok || v.Value != "" || v.Size != 0 {
					t.Errorf("form of %s: file.md5 = %q (%d), %v; want present and empty", id, v.Value, v.Size, ok)
				}
			}
			forms, err := tt.reader.Forms(ctx, "s3")
			if err != nil || len(forms) != 1 || forms[0].Error == "" {
				t.Errorf("Forms(s3) = %+v, %v; want one form with an error", forms, err)
			}
			if forms, err := tt.reader.Forms(ctx, "none"); err != nil || len(forms) != 0 {
				t.Errorf("Forms(none) = %+v, %v; want none", forms, err)
			}
		})
	}
	if b.Len() != 3 {
		t.Errorf("Len() = %d, want 3", b.Len())
	}
}

// runScenario runs one scenario with cfg, bounded.
func runScenario(t *testing.T, cfg scenarios.Config, id string) scenarios.Result {
	t.Helper()
	s, ok := scenarios.ScenarioByID(id)
	if !ok {
		t.Fatalf("no scenario %s", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return scenarios.Run(ctx, cfg, s)
}

// findingsOf returns the findings of r as "clause: got" lines.
func findingsOf(r scenarios.Result) string {
	var lines []string
	for _, f := range r.Findings {
		lines = append(lines, f.Clause+": "+f.Got)
	}
	return strings.Join(lines, "\n")
}

// TestBackendScenarioCatchesTheModuleForm runs BK-01 against the reference server with the
// module's form quirks: the size of the final segment (issue #106) and empty digests (issue
// #22) are NON-STRICT findings of bk.form-whole-file; without a harness backend BK-01 is
// skipped with the reason.
func TestBackendScenarioCatchesTheModuleForm(t *testing.T) {
	tests := []struct {
		name   string
		quirks fakeserver.QuirkSet
		want   []string // substrings of the findings, in order; none: PASS
	}{
		{"reference", fakeserver.QuirkSet{}, nil},
		{"size-from-last-segment", fakeserver.NewQuirkSet(fakeserver.SizeFromLastSegment),
			[]string{`bk.form-whole-file: "12" (the end + 1 of the final segment 0-11`}},
		{"empty-digests", fakeserver.NewQuirkSet(fakeserver.EmptyDigests),
			[]string{"bk.form-whole-file: an empty value", "bk.form-whole-file: an empty value"}},
		{"the module profile", fakeserver.NewQuirkSet(fakeserver.SizeFromLastSegment, fakeserver.EmptyDigests),
			[]string{"bk.form-whole-file: \"12\"", "bk.form-whole-file: an empty value", "bk.form-whole-file: an empty value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := startReference(t, fakeserver.Options{Quirks: tt.quirks})
			cfg.Strict = false
			r := runScenario(t, cfg, "BK-01")
			want := result.Pass
			if len(tt.want) > 0 {
				want = result.NonStrict
			}
			got := findingsOf(r)
			if r.Verdict != want || len(r.Findings) != len(tt.want) {
				t.Fatalf("BK-01: %s with %d findings, want %s with %d\n%s", r.Verdict, len(r.Findings), want, len(tt.want), got)
			}
			for i, w := range tt.want {
				if line := strings.Split(got, "\n")[i]; !strings.Contains(line, w) {
					t.Errorf("finding %d: %q, want it to contain %q", i, line, w)
				}
			}
		})
	}
	t.Run("no harness backend", func(t *testing.T) {
		cfg := startReference(t, fakeserver.Options{})
		cfg.Backend = nil
		r := runScenario(t, cfg, "BK-01")
		if r.Verdict != result.Skipped || !strings.Contains(r.SkipReason, "--backend-listen") || len(r.Exchanges) != 0 {
			t.Errorf("BK-01 without a backend: %s (%q), %d exchanges; want SKIPPED naming --backend-listen, no exchange",
				r.Verdict, r.SkipReason, len(r.Exchanges))
		}
	})
}

// TestReuseScenarioCatchesTheOldTail runs CO-04 against the reference server with the quirks
// of a reused session ID: the module's data file is not truncated (§3.7), so the stored file
// keeps the tail of the earlier file; started again without that quirk it is exactly the new
// file; without a file URL a completion cannot be judged and the scenario is skipped.
func TestReuseScenarioCatchesTheOldTail(t *testing.T) {
	restart := fakeserver.NewQuirkSet(fakeserver.RestartAfterComplete)
	tests := []struct {
		name    string
		quirks  fakeserver.QuirkSet
		fileURL bool
		verdict result.Verdict
		want    string // substring of the findings or the skip reason
	}{
		{"reference: 409", fakeserver.QuirkSet{}, true, result.Pass, ""},
		{"reference without a file URL", fakeserver.QuirkSet{}, false, result.Pass, ""},
		{"a new session, truncated", restart, true, result.Pass, ""},
		{"a new session keeping the old tail", restart.With(fakeserver.NoTruncateOnReuse), true, result.Fail,
			"rob.stored-bytes: 24 bytes instead of 12; bytes 12-23 are the tail of the earlier 24-byte file"},
		{"no file URL", restart.With(fakeserver.NoTruncateOnReuse), false, result.Skipped, "--file-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := startReference(t, fakeserver.Options{Quirks: tt.quirks})
			if !tt.fileURL {
				cfg.FileURL = ""
			}
			r := runScenario(t, cfg, "CO-04")
			text := findingsOf(r) + r.SkipReason
			if r.Verdict != tt.verdict || !strings.Contains(text, tt.want) {
				t.Errorf("CO-04: %s, %q; want %s with %q\nnotes: %q", r.Verdict, text, tt.verdict, tt.want, r.Notes)
			}
		})
	}
}

// conflictOnResend wraps the reference handler: the first request with the range header value
// rng reaches it; the next `times` requests with that value get 409 (times < 0: every one).
func conflictOnResend(next http.Handler, rng string, times int64) http.Handler {
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Content-Range") != rng {
			next.ServeHTTP(w, r)
			return
		}
		n := seen.Add(1)
		if n == 1 || (times >= 0 && n > times+1) {
			next.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, "range overlaps a segment of the session, still in flight\n")
	})
}

// TestResendWaitsForTheInterruptedClaim checks RB-01's resend: a 409 while the server still
// counts the cut-off segment as in flight is retried until it clears; a 409 that never
// clears is a finding of rob.interrupted-segment.
func TestResendWaitsForTheInterruptedClaim(t *testing.T) {
	tests := []struct {
		name    string
		times   int64
		verdict result.Verdict
		want    string
	}{
		{"clears after three", 3, result.Pass, "got 409 3 time(s)"},
		{"never clears", -1, result.Fail, "rob.interrupted-segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(conflictOnResend(fakeserver.New(fakeserver.Options{}), "bytes 8-15/24", tt.times))
			t.Cleanup(srv.Close)
			target, err := url.Parse(srv.URL + fakeserver.DefaultPath)
			if err != nil {
				t.Fatal(err)
			}
			cfg := scenarios.Config{Target: target, RequestTimeout: 10 * time.Second, Strict: true}.WithDefaults()
			r := runScenario(t, cfg, "RB-01")
			text := findingsOf(r) + strings.Join(r.Notes, "\n")
			if r.Verdict != tt.verdict || !strings.Contains(text, tt.want) {
				t.Errorf("RB-01: %s; want %s with %q\n%s", r.Verdict, tt.verdict, tt.want, text)
			}
			// A 409 that never clears ends the poll at its own bound, not at the scenario's.
			if tt.times < 0 && !strings.Contains(text, "attempts within") {
				t.Errorf("RB-01: the poll did not end at its bound:\n%s", text)
			}
		})
	}
}
