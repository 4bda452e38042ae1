package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/internal/tusdtest"
)

// TestRunTus: `upspec run --protocol tus` against tusd v2 in process: with the built-in list
// tusd-v2 the run conforms (its deviations KNOWN); without it, it does not. Without a target it
// runs against the embedded reference tus server, which passes every scenario.
func TestRunTus(t *testing.T) {
	target := tusdtest.Start(t, nil).String()
	t.Run("known deviations", func(t *testing.T) {
		res := upspecRun(t, 3*time.Minute, nil, "--protocol", "tus", "--target", target, "--expect", "tusd-v2",
			"--no-color", "--json-report", "run.json")
		if res.code != exitOK {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{"TO-03", "KNOWN", "TE-01", "SKIPPED"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, res.stdout)
			}
		}
		data, err := os.ReadFile(filepath.Join(res.dir, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		var run struct {
			Scenarios []struct {
				ID     string `json:"id"`
				Family string `json:"family"`
			} `json:"scenarios"`
		}
		if err := json.Unmarshal(data, &run); err != nil {
			t.Fatal(err)
		}
		if len(run.Scenarios) != 22 {
			t.Errorf("%d scenarios in the JSON report, want the 22 tus scenarios", len(run.Scenarios))
		}
		for _, s := range run.Scenarios {
			if !strings.HasPrefix(s.Family, "tus-") {
				t.Errorf("scenario %s: family %q in the report, want its tus family", s.ID, s.Family)
			}
		}
	})
	t.Run("deviations fail the run", func(t *testing.T) {
		res := upspecRun(t, 3*time.Minute, nil, "--protocol", "tus", "--target", target, "--no-color", "--repro-dir", "")
		if res.code != exitNotConform {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, exitNotConform, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, "tus.core.version-412-tus-version") {
			t.Errorf("the failure does not name its clause:\n%s", res.stdout)
		}
	})
	t.Run("the embedded reference tus server", func(t *testing.T) {
		res := upspecRun(t, 3*time.Minute, nil, "--protocol", "tus", "--no-color")
		if res.code != exitOK {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stdout, "embedded reference tus server") || lastLine(res.stdout) != "22 passed, 0 failed" {
			t.Errorf("output:\n%s", res.stdout)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--protocol", "ftp", "--target", target}, `--protocol "ftp": want one of nginx, tus`},
			{[]string{"--protocol", "tus", "--target", target, "--expect", "nginx-upload-module"}, "no built-in list of that name (built in: tus-node-server-2, tusd-v2)"},
		} {
			res := upspecRun(t, time.Minute, nil, tt.args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
				t.Errorf("upspec run %s: exit %d, stderr %q; want exit %d and one line with %q", strings.Join(tt.args, " "), res.code, res.stderr, exitUsage, tt.want)
			}
		}
	})
}

// TestListTus: `upspec list --protocol tus` lists the tus catalogue and scenarios only.
func TestListTus(t *testing.T) {
	var out, errb strings.Builder
	if code := listMain([]string{"--protocol", "tus", "--scenarios", "--json"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var ss []listScenario
	if err := json.Unmarshal([]byte(out.String()), &ss); err != nil {
		t.Fatal(err)
	}
	if len(ss) != 22 {
		t.Errorf("%d scenarios, want 22", len(ss))
	}
	for _, s := range ss {
		if !strings.HasPrefix(s.Family, "tus-") || s.Level != "MUST" {
			t.Errorf("%s: family %q, level %s", s.ID, s.Family, s.Level)
		}
	}
	out.Reset()
	if code := listMain([]string{"--protocol", "tus", "--label-filter", "tus-checksum"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "tus.checksum.mismatch-460") || strings.Contains(out.String(), "seg.numbering") {
		t.Errorf("the filtered tus catalogue:\n%s", out.String())
	}
	errb.Reset()
	if code := listMain([]string{"--protocol", "ftp"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "want one of nginx, tus") {
		t.Errorf("--protocol ftp: exit %d, %q", code, errb.String())
	}
}
