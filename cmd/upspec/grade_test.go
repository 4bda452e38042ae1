package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
)

func TestGradeUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--size", "8"}, `invalid --size "8"`},
		{[]string{"--size", "lots"}, `invalid --size "lots"`},
		{[]string{"--retry-after", "0"}, "invalid --retry-after 0"},
		{[]string{"--timeout", "-1s"}, "must be positive"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--listen", "nowhere"}, "upspec grade:"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--cors", "localhost"}, `invalid --cors origin "localhost"`},
		{[]string{"--protocol", "ftp"}, `unknown --protocol "ftp"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--files", t.TempDir()}, tt.args...)
			if code := gradeMain(args, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if msg := stderr.String(); !strings.Contains(msg, tt.want) || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", msg, tt.want)
			}
		})
	}
}

func TestGradeNothingUploaded(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := gradeMain([]string{"--listen", "127.0.0.1:0", "--files", t.TempDir(), "--size", "1K", "--timeout", "100ms"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "no segment reached the mock") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ended (--timeout 100ms)") || !strings.Contains(stdout.String(), "12 skipped") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestGradeTusNothingUploaded(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := gradeMain([]string{"--protocol", "tus", "--listen", "127.0.0.1:0", "--files", t.TempDir(), "--size", "1K", "--timeout", "100ms"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "no upload reached the mock") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "07-gone.bin (1024 bytes): the server forgets the upload") || !strings.Contains(stdout.String(), "15 skipped") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

// TestGradeCommand uploads the clean file in one segment and checks the grade's reports.
func TestGradeCommand(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	jsonPath, junitPath, htmlPath := filepath.Join(dir, "g.json"), filepath.Join(dir, "g.xml"), filepath.Join(dir, "g.html")
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- gradeMain([]string{"--listen", "127.0.0.1:0", "--files", files, "--size", "1K", "--uploads", "1", "--settle", "0s",
			"--timeout", "2m", "--json-report", jsonPath, "--junit-report", junitPath, "--html-report", htmlPath, "--no-color"}, pw, &stderr)
	}()
	out := bufio.NewReader(pr)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v (%s)", err, stderr.String())
	}
	url, _, ok := strings.Cut(strings.TrimPrefix(first, "upspec grade: upload to "), " ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", first)
	}
	body, err := os.ReadFile(filepath.Join(files, "01-clean.bin"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Disposition", `attachment; filename="01-clean.bin"`)
	req.Header.Set("X-Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(body)-1, len(body)))
	req.Header.Set("Session-ID", "grade-command-1")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rest, _ := io.ReadAll(out)
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d\n%s%s\n%s", code, first, rest, stderr.String())
	}
	text := string(rest)
	for _, want := range []string{"PASS", "cli.no-stop-incomplete", "(01-clean.bin, 1024 bytes): 1024 bytes sent for a file of 1024: efficiency 1.000", "reports: JSON " + jsonPath} {
		if !strings.Contains(text, want) {
			t.Errorf("stdout lacks %q:\n%s", want, text)
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var run reports.Run
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	s, ok := run.Scenario("cli.no-stop-incomplete")
	if !ok || s.Verdict != result.Pass || len(s.Exchanges) != 1 || s.Exchanges[0].Status() != http.StatusOK {
		t.Errorf("cli.no-stop-incomplete: %+v", s)
	}
	if r, ok := run.Scenario("cli.no-resend-acknowledged"); !ok || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "efficiency 1.000") {
		t.Errorf("cli.no-resend-acknowledged: %+v", r)
	}
	for _, p := range []string{junitPath, htmlPath} {
		if b, err := os.ReadFile(p); err != nil || !bytes.Contains(b, []byte("cli.stop-on-4xx")) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestGradeTusCommand creates a tus upload of the clean file, sends it in one PATCH, and
// checks the tus grade's console and reports.
func TestGradeTusCommand(t *testing.T) {
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	jsonPath, mdPath := filepath.Join(dir, "g.json"), filepath.Join(dir, "g.md")
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- gradeMain([]string{"--protocol", "tus", "--listen", "127.0.0.1:0", "--files", files, "--size", "1K", "--uploads", "1", "--settle", "0s",
			"--timeout", "2m", "--json-report", jsonPath, "--markdown-report", mdPath, "--no-color"}, pw, &stderr)
	}()
	out := bufio.NewReader(pr)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v (%s)", err, stderr.String())
	}
	creation, _, ok := strings.Cut(strings.TrimPrefix(first, "upspec grade: upload to "), " ")
	if !ok || !strings.HasPrefix(creation, "http://127.0.0.1:") || !strings.HasSuffix(creation, "/files/") || !strings.Contains(first, "tus 1.0.0 creation URL") {
		t.Fatalf("first line %q", first)
	}
	body, err := os.ReadFile(filepath.Join(files, "01-clean.bin"))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: time.Minute}
	req, _ := http.NewRequest(http.MethodPost, creation, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", fmt.Sprint(len(body)))
	req.Header.Set("Upload-Metadata", "filename MDEtY2xlYW4uYmlu") // 01-clean.bin
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("POST: %d, Location %q", resp.StatusCode, loc)
	}
	req, _ = http.NewRequest(http.MethodPatch, loc, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", "0")
	if resp, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH: %d", resp.StatusCode)
	}
	rest, _ := io.ReadAll(out)
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d\n%s%s\n%s", code, first, rest, stderr.String())
	}
	text := string(rest)
	for _, want := range []string{"PASS", "tus.cli.no-stop-incomplete", "01-clean.bin: 1024 body bytes sent for a file of 1024 in 1 upload: efficiency 1.000", "reports: JSON " + jsonPath} {
		if !strings.Contains(text, want) {
			t.Errorf("stdout lacks %q:\n%s", want, text)
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var run reports.Run
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	s, ok := run.Scenario("tus.cli.no-stop-incomplete")
	if !ok || s.Verdict != result.Pass || len(s.Exchanges) != 2 || s.Exchanges[1].Status() != http.StatusNoContent {
		t.Errorf("tus.cli.no-stop-incomplete: %+v", s)
	}
	if md, err := os.ReadFile(mdPath); err != nil || !bytes.Contains(md, []byte("tus.cli.stop-on-4xx")) {
		t.Errorf("%s: %v", mdPath, err)
	}
}

// TestGradeTusCommandFails sends the clean file's PATCH with another Content-Type: the mock
// refuses it 415, which ends the upload, and the grade fails with exit status 1.
func TestGradeTusCommandFails(t *testing.T) {
	dir := t.TempDir()
	junitPath := filepath.Join(dir, "g.xml")
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- gradeMain([]string{"--protocol", "tus", "--listen", "127.0.0.1:0", "--files", filepath.Join(dir, "files"), "--size", "1K", "--uploads", "1",
			"--settle", "0s", "--timeout", "2m", "--junit-report", junitPath, "--no-color"}, pw, &stderr)
	}()
	out := bufio.NewReader(pr)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v (%s)", err, stderr.String())
	}
	creation, _, _ := strings.Cut(strings.TrimPrefix(first, "upspec grade: upload to "), " ")
	hc := &http.Client{Timeout: time.Minute}
	req, _ := http.NewRequest(http.MethodPost, creation, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "1024")
	req.Header.Set("Upload-Metadata", "filename MDEtY2xlYW4uYmlu") // 01-clean.bin
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodPatch, resp.Header.Get("Location"), bytes.NewReader(make([]byte, 1024)))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Upload-Offset", "0")
	if resp, err = hc.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("PATCH: %d, want 415", resp.StatusCode)
	}
	rest, _ := io.ReadAll(out)
	if code := <-done; code != exitNotConform {
		t.Fatalf("exit %d, want %d\n%s%s\n%s", code, exitNotConform, first, rest, stderr.String())
	}
	if !strings.Contains(string(rest), `got:      Content-Type: "application/octet-stream"`) {
		t.Errorf("stdout lacks the finding:\n%s", rest)
	}
	if b, err := os.ReadFile(junitPath); err != nil || !bytes.Contains(b, []byte("tus.cli.patch-content-type")) || !bytes.Contains(b, []byte("<failure")) {
		t.Errorf("%s: %v\n%s", junitPath, err, b)
	}
}
