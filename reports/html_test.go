package reports

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func renderHTML(t *testing.T, run *Run) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, run); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, testRun())
	tests := []struct {
		name    string
		pattern string
	}{
		{"external script", `<script[^>]+src=`},
		{"stylesheet link", `<link`},
		{"external font or image", `url\(\s*['"]?(https?:)?//`},
		{"import", `@import`},
		{"image", `<img`},
		{"iframe", `<iframe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m := regexp.MustCompile(tt.pattern).FindString(page); m != "" {
				t.Errorf("the page has %q", m)
			}
		})
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want 1 inline", n)
	}
}

func TestHTMLContent(t *testing.T) {
	page := renderHTML(t, testRun())
	tests := []struct {
		name, want string
	}{
		{"closing line", "3 passed, 2 failed, 1 skipped"},
		{"status", `<div class="status">NOT CONFORMING</div>`},
		{"legend", "passed = PASS &#43; NON-STRICT &#43; INFO; failed = FAIL &#43; STALE"},
		{"failures before the matrix", `<h2 id="failures">Failures</h2>`},
		{"reproducer embedded", `<pre class="script">#!/bin/sh`},
		{"failing scenario open", `<details class="scenario v-fail" id="s-CP-01" open>`},
		{"passing scenario closed", `<details class="scenario v-pass" id="s-RS-01">`},
		{"clause row", `id="c-ack.201-while-incomplete"`},
		{"expected", "201 Created"},
		{"got escaped", "200 OK, body &#34;completed&#34;"},
		{"title escaped", "A malformed range gets a 4xx &lt;b&gt;with a reason&lt;/b&gt;"},
		{"header value escaped", "bytes 0-5/24x &lt;script&gt;alert(1)&lt;/script&gt;"},
		{"long body shortened", "(shortened: 9600 bytes in all)"},
		{"skip reason", "Skipped: the target is not on loopback"},
		{"closed connection", "connection closed without a response (0 bytes)"},
		{"exchange colour", `class="x x-ok"`},
		{"exchange colour, no answer, failed here", `class="x x-none bad" open`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(page, tt.want) {
				t.Errorf("the page lacks %q", tt.want)
			}
		})
	}
	if strings.Contains(page, "<script>alert(1)") || strings.Contains(page, "<b>with a reason") {
		t.Error("a value went into the page unescaped")
	}
	if f, m := strings.Index(page, `id="failures"`), strings.Index(page, `<table class="matrix">`); f < 0 || m < f {
		t.Error("the Failures section does not come before the clause matrix")
	}
	if strings.Count(page, "error page &amp; more") > 60 {
		t.Error("the long body is not shortened")
	}
}

func TestHTMLEmptyRun(t *testing.T) {
	page := renderHTML(t, testCatalogue().FromResults(Meta{Target: "http://x/upload"}, nil))
	for _, want := range []string{"No scenario ran.", "0 passed, 0 failed", "NOT-RUN"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// chromiumPath is Debian's chromium.
const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium with args, bounded, and returns its stdout and stderr.
func chromium(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleErrors returns the lines of Chromium's log that report a page error.
func consoleErrors(log string) []string {
	var bad []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Uncaught") || (strings.Contains(l, "CONSOLE") && (strings.Contains(l, "ERROR") || strings.Contains(l, "error"))) {
			bad = append(bad, l)
		}
	}
	return bad
}

func TestHTMLRendersInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (Debian package chromium): the HTML report is not rendered", chromiumPath)
	}
	if testing.Short() {
		t.Skip("-short: Chromium takes a few seconds")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	run := testRun()
	if _, err := WriteReproducers(filepath.Join(dir, "repro"), run); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTMLFile(page, run); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	if keep := os.Getenv("UPSPEC_KEEP_SCREENSHOT"); keep != "" {
		shot = keep
	}

	_, log := chromium(t, "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	if bad := consoleErrors(log); len(bad) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	// Non-trivial: many distinct colours (text, the verdict colours), not a blank page.
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: a blank or broken page?", len(colours))
	}

	// The inline script ran: it marks the body and shows the toolbar.
	dom, log := chromium(t, "--dump-dom", "file://"+page)
	if !strings.Contains(dom, `data-script="ready"`) {
		t.Errorf("the inline script did not run (no data-script=\"ready\" in the DOM)")
	}
	if strings.Contains(dom, `id="toolbar" hidden`) {
		t.Errorf("the toolbar is still hidden: the script failed")
	}
	if bad := consoleErrors(log); len(bad) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
	}
}
