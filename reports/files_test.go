package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	o := Outputs{
		JSON:     filepath.Join(dir, "run.json"),
		Markdown: filepath.Join(dir, "run.md"),
		HTML:     filepath.Join(dir, "run.html"),
		ReproDir: filepath.Join(dir, "repro"),
	}
	run := testRun()
	paths, err := WriteAll(run, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Errorf("reproducers %q, want 3", paths)
	}
	// The reports were written after the reproducers, so they name them.
	for _, p := range []string{o.JSON, o.Markdown, o.HTML} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), filepath.Join("repro", ReproducerName(run, "CP-01"))) {
			t.Errorf("%s does not name the reproducer", filepath.Base(p))
		}
	}
	back, err := LoadFile(o.JSON)
	if err != nil || back.Counts != run.Counts {
		t.Errorf("LoadFile: %v, counts %+v", err, back)
	}

	_, err = WriteAll(run, Outputs{HTML: filepath.Join(dir, "missing", "x.html"), Markdown: filepath.Join(dir, "missing", "x.md")})
	if err == nil || !strings.Contains(err.Error(), "HTML report") || !strings.Contains(err.Error(), "Markdown report") {
		t.Errorf("err = %v, want both failures", err)
	}
}
