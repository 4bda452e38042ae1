package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// randomRecord is the part of a JSON report's RANDOM scenario these tests read.
type randomRecord struct {
	Run struct {
		Seed int64 `json:"seed"`
	} `json:"run"`
	Counts struct {
		Total int `json:"total"`
	} `json:"counts"`
	Scenarios []struct {
		ID       string   `json:"id"`
		Title    string   `json:"title"`
		Verdict  string   `json:"verdict"`
		Notes    []string `json:"notes"`
		Findings []struct {
			Detail string `json:"detail"`
		} `json:"findings"`
		Exchanges []json.RawMessage `json:"exchanges"`
	} `json:"scenarios"`
}

func readRandomReport(t *testing.T, path string) randomRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec randomRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Scenarios) != 1 || rec.Scenarios[0].ID != "RANDOM" {
		t.Fatalf("want the RANDOM scenario alone, got %+v", rec.Scenarios)
	}
	return rec
}

func TestRunRandomReference(t *testing.T) {
	res := upspecRun(t, 3*time.Minute, nil, "--random", "20", "--seed", "3", "--label-filter", "random", "--json-report", "run.json")
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	rec := readRandomReport(t, filepath.Join(res.dir, "run.json"))
	s := rec.Scenarios[0]
	if rec.Run.Seed != 3 || s.Verdict != "PASS" || !strings.Contains(s.Title, "seed 3") ||
		len(s.Notes) == 0 || !strings.Contains(s.Notes[0], "20 of 20 ran, seed 3") {
		t.Fatalf("seed %d, scenario %+v", rec.Run.Seed, s)
	}
}

func TestRunRandomCatchesAndShrinks(t *testing.T) {
	q, err := fakeserver.ParseQuirk("no-overlap-rejection")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fakeserver.New(fakeserver.Options{Quirks: fakeserver.NewQuirkSet(q)}))
	defer srv.Close()
	res := upspecRun(t, 3*time.Minute, nil, "--target", srv.URL+fakeserver.DefaultPath,
		"--file-url", srv.URL+fakeserver.DefaultFilePrefix+"{name}",
		"--random", "50", "--seed", "1", "--label-filter", "random", "--json-report", "run.json")
	if res.code != exitNotConform {
		t.Fatalf("exit %d, want %d\n%s\n%s", res.code, exitNotConform, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "Shown by schedule") || !strings.Contains(res.stdout, "--seed 1") {
		t.Errorf("the console names no shrunk schedule and seed:\n%s", res.stdout)
	}
	rec := readRandomReport(t, filepath.Join(res.dir, "run.json"))
	s := rec.Scenarios[0]
	if s.Verdict != "FAIL" || len(s.Findings) == 0 || !strings.Contains(s.Findings[0].Detail, "shrunk to") || len(s.Exchanges) == 0 {
		t.Fatalf("scenario %+v", s)
	}
	paths, err := filepath.Glob(filepath.Join(res.dir, defaultReproDir, "repro-*RANDOM.sh"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("want one reproducer of RANDOM, got %v (%v)", paths, err)
	}
	script, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(script), "curl -sS"); n == 0 || n > 8 {
		t.Errorf("the reproducer holds %d curl commands, want 1 to 8 (the shrunk run)", n)
	}
}

func TestRunRandomOffByDefault(t *testing.T) {
	// Without --random there is no RANDOM spec: a selection of it alone matches nothing (a
	// usage error).
	tests := []struct {
		args []string
		code int
		want string // in stdout and stderr
	}{
		{[]string{"--dry-run", "--label-filter", "random"}, exitUsage, "the selection matches no scenario"},
		{[]string{"--dry-run", "--label-filter", "random", "--random", "5"}, exitOK, "dry run: 1 scenarios selected"},
	}
	for _, tt := range tests {
		res := upspecRun(t, time.Minute, nil, tt.args...)
		if res.code != tt.code || !strings.Contains(res.stdout+res.stderr, tt.want) {
			t.Errorf("upspec run %s: exit %d, want %d and %q in\n%s%s", strings.Join(tt.args, " "), res.code, tt.code, tt.want, res.stdout, res.stderr)
		}
	}
	res := upspecRun(t, time.Minute, nil, "--random", "-1")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--random -1") {
		t.Errorf("--random -1: exit %d, want %d and a one-line error; stderr: %s", res.code, exitUsage, res.stderr)
	}
}
