package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/scenarios/expect"
)

func TestQuirkFlagsResolve(t *testing.T) {
	module, _ := fakeserver.ParseProfile(fakeserver.ProfileModule)
	tests := []struct {
		name     string
		flags    quirkFlags
		want     fakeserver.QuirkSet
		wantName string
		wantErr  string
	}{
		{"default", quirkFlags{profile: "reference"}, fakeserver.QuirkSet{}, "reference", ""},
		{"module", quirkFlags{profile: "nginx-upload-module"}, module.Quirks, "nginx-upload-module", ""},
		{"module plus the 2020 bug is the 2020 profile", quirkFlags{profile: "nginx-upload-module", on: []string{"single-byte-state-bug"}},
			module.Quirks.With(fakeserver.SingleByteStateBug), "nginx-upload-module-2020", ""},
		{"changed profile", quirkFlags{profile: "nginx-upload-module", off: []string{"drop-on-malformed"}, on: []string{"cleanup-on-disconnect"}},
			module.Quirks.Without(fakeserver.DropOnMalformed).With(fakeserver.CleanupOnDisconnect), "nginx-upload-module with quirks ", ""},
		{"one quirk on the reference", quirkFlags{profile: "reference", on: []string{"state-window"}},
			fakeserver.NewQuirkSet(fakeserver.StateWindow), "reference with quirks state-window", ""},
		{"off wins over on", quirkFlags{profile: "reference", on: []string{"state-window"}, off: []string{"state-window"}},
			fakeserver.QuirkSet{}, "reference", ""},
		{"unknown profile", quirkFlags{profile: "nginx"}, fakeserver.QuirkSet{}, "", `--profile: unknown profile "nginx"`},
		{"unknown quirk", quirkFlags{profile: "reference", on: []string{"drop"}}, fakeserver.QuirkSet{}, "", `--quirk: unknown quirk "drop"`},
		{"unknown no-quirk", quirkFlags{profile: "reference", off: []string{"x"}}, fakeserver.QuirkSet{}, "", `--no-quirk: unknown quirk "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, name, err := tt.flags.resolve()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !strings.HasPrefix(name, tt.wantName) {
				t.Errorf("resolve() = %s, %q; want %s, %q", got, name, tt.want, tt.wantName)
			}
		})
	}
}

func TestServeListQuirks(t *testing.T) {
	code, stdout, stderr := runServeOnce(t, "--list-quirks")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, q := range fakeserver.Quirks() {
		for _, want := range []string{string(q) + " (class " + q.Class() + ")", q.Description(), "evidence: " + q.Evidence()} {
			if !strings.Contains(stdout, want) {
				t.Errorf("--list-quirks lacks %q", want)
			}
		}
	}
	for _, p := range fakeserver.Profiles() {
		if !strings.Contains(stdout, p.Name) || !strings.Contains(stdout, "quirks: "+p.Quirks.String()) {
			t.Errorf("--list-quirks lacks profile %s with its quirks", p.Name)
		}
	}
}

func TestServeQuirkUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "nginx"}, `upspec serve: --profile: unknown profile "nginx"`},
		{[]string{"--quirk", "drop"}, `upspec serve: --quirk: unknown quirk "drop"`},
		{[]string{"--no-quirk", "nope"}, `upspec serve: --no-quirk: unknown quirk "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runServeOnce(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			checkOneLineError(t, stderr, tt.want)
		})
	}
}

// TestServeProfileAnswers checks that `upspec serve --profile` reaches the handler: the
// module drops a malformed range without a byte, the reference answers 400.
func TestServeProfileAnswers(t *testing.T) {
	tests := []struct {
		profile string
		line    string // in the first line
		dropped bool
	}{
		{"reference", "profile: reference)", false},
		{"nginx-upload-module", "profile: nginx-upload-module)", true},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := startServe(t, "--profile", tt.profile)
			if !strings.Contains(p.stdout.String(), tt.line) {
				t.Errorf("first line %q lacks %q", p.stdout.String(), tt.line)
			}
			conn := p.dial(t)
			req := "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n" +
				"Content-Disposition: attachment; filename=\"a\"\r\nSession-ID: s1\r\nX-Content-Range: bytes 0-1\r\nContent-Length: 2\r\n\r\nab"
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			ans, err := readServeAnswer(conn)
			if tt.dropped {
				if err == nil {
					t.Errorf("answer %+v, want the connection closed without a byte", ans)
				}
				return
			}
			if err != nil || ans.status != 400 {
				t.Errorf("answer %+v, %v; want 400", ans, err)
			}
		})
	}
}

// TestRunExpectProfiles is issue 5 item 4 from the command line: the suite against
// `upspec serve --profile P`, with and without --expect.
func TestRunExpectProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite four times")
	}
	current, err := expect.Load(fakeserver.ProfileModule, scenarioIDs())
	if err != nil {
		t.Fatal(err)
	}
	old, err := expect.Load(fakeserver.ProfileModule2020, scenarioIDs())
	if err != nil {
		t.Fatal(err)
	}
	var extra []string // the scenarios the 2020 module fails on top of the current one
	for _, id := range old.IDs() {
		if _, ok := current.Lookup(id); !ok {
			extra = append(extra, id)
		}
	}
	n := len(current.Entries)
	const skipped = `(, \d+ skipped)?$` // scenarios whose precondition the run does not meet
	tests := []struct {
		name    string
		profile string
		expect  string
		code    int
		last    string   // a regexp of the last line
		failing []string // scenarios printed as failed
		out     []string // lines that must appear
	}{
		{"module without expectations", "nginx-upload-module", "", exitNotConform, `^\d+ passed, [1-9]\d* failed` + skipped, nil, nil},
		{"module with its expectations", "nginx-upload-module", "nginx-upload-module", exitOK,
			`^\d+ passed, 0 failed` + skipped, nil,
			[]string{"Expected deviations (nginx-upload-module): " + strconv.Itoa(n) + " known, 0 stale", "KNOWN  FAIL       PA-01",
				"KNOWN       PA-01 ", "known deviations: " + strconv.Itoa(n) + "; stale: 0; not run: 0\n"}},
		{"2020 module with the current expectations", "nginx-upload-module-2020", "nginx-upload-module", exitNotConform,
			`^\d+ passed, ` + strconv.Itoa(len(extra)) + ` failed` + skipped, extra,
			[]string{"known deviations: " + strconv.Itoa(n) + "; stale: 0"}},
		{"reference with the module's expectations: all stale", "reference", "nginx-upload-module", exitNotConform,
			`^\d+ passed, ` + strconv.Itoa(n) + ` failed` + skipped, nil,
			[]string{"STALE  PASS", "Failures: " + strconv.Itoa(n) + " STALE", "known deviations: 0; stale: " + strconv.Itoa(n) + ";"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The served profile hands completed files to the run's harness backend, so that
			// the backend scenarios run too.
			backend := unusedAddr(t)
			p := startServe(t, "--profile", tt.profile, "--upload-pass", "http://"+backend+"/")
			args := []string{"--target", p.upload, "--file-url", p.base + "/file/{name}", "--final-status", "200",
				"--final-body", "completed", "--backend-listen", backend, "--no-color"}
			if tt.expect != "" {
				args = append(args, "--expect", tt.expect)
			}
			out := t.TempDir()
			files := reportFiles{JSON: filepath.Join(out, "run.json"), JUnit: filepath.Join(out, "junit.xml"),
				Markdown: filepath.Join(out, "run.md"), HTML: filepath.Join(out, "run.html")}
			args = append(args, "--json-report", files.JSON, "--junit-report", files.JUnit, "--markdown-report", files.Markdown,
				"--html-report", files.HTML, "--repro-dir", filepath.Join(out, "repro"))
			res := upspecRun(t, 3*time.Minute, nil, args...)
			checkCountStory(t, res, files)
			last := lastLine(res.stdout)
			if res.code != tt.code || !regexp.MustCompile(tt.last).MatchString(last) {
				t.Fatalf("exit %d, last line %q; want %d, %s\nstdout:\n%s", res.code, last, tt.code, tt.last, res.stdout)
			}
			for _, id := range tt.failing {
				if !regexp.MustCompile(`(?m)^FAIL +` + id + ` `).MatchString(res.stdout) {
					t.Errorf("%s is not reported as failed", id)
				}
			}
			for _, want := range tt.out {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("output lacks %q", want)
				}
			}
		})
	}
	if len(extra) == 0 {
		t.Error("the 2020 list adds nothing to the current one")
	}
}

func TestRunExpectUsage(t *testing.T) {
	res := upspecRun(t, time.Minute, nil, "--expect", "no-such-list", "--dry-run")
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d", res.code, exitUsage)
	}
	want := `upspec run: --expect: expectations "no-such-list": no such file and no built-in list of that name (built in: nginx-upload-module, nginx-upload-module-2020); `
	if strings.Count(res.stderr, "\n") != 1 || !strings.HasPrefix(res.stderr, want) {
		t.Errorf("stderr %q: want one line starting %q", res.stderr, want)
	}
}
