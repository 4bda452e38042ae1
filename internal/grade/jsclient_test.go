package grade

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
)

// uploaderJS is the project's JavaScript client.
const uploaderJS = "../webui/js/upspec-uploader.js"

// jsDriver uploads each file given with the JavaScript client, under Node's fetch and File,
// and prints a JSON line per file.
const jsDriver = `import { fileUploader } from './upspec-uploader.mjs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

const [endpoint, segmentSize, concurrency, protocol, ...paths] = process.argv.slice(2);
for (const path of paths) {
  const file = new File([await readFile(path)], basename(path), { type: 'application/octet-stream' });
  const up = fileUploader(file, Number(segmentSize), undefined, { endpoint, protocol, concurrency: Number(concurrency), retryDelay: 50, timeout: 60000 });
  try {
    const st = await up.upload();
    console.log(JSON.stringify({ path, ok: st.completed, status: st.httpStatus ?? 0 }));
  } catch (e) {
    console.log(JSON.stringify({ path, ok: false, status: e.status ?? 0, error: String(e.message ?? e) }));
  }
}
`

// TestGradeJavaScriptClient grades the project's JavaScript client, run under Node against
// the grading mock, one file after the other and with three segments at once: no clause may
// fail, and none may be left unexercised.
func TestGradeJavaScriptClient(t *testing.T) {
	node, driver := jsDriverFiles(t)
	for _, concurrency := range []int{1, 3} {
		t.Run("concurrency "+strconv.Itoa(concurrency), func(t *testing.T) {
			uploads := Schedule(40000, 1)
			files := t.TempDir()
			paths, err := WriteFiles(files, uploads)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Start(Options{Uploads: uploads})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			runJSDriver(ctx, t, node, driver, g.UploadURL(), "nginx", concurrency, paths)
			ev, err := g.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range Judge(ev, true) {
				if r.Verdict != result.Pass {
					t.Errorf("%s: %s %v %s", r.Clause.ID, r.Verdict, r.Findings, r.SkipReason)
				}
			}
		})
	}
}

// jsDriverFiles returns node and the driver, written beside a copy of the client.
func jsDriverFiles(t *testing.T) (node, driver string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is not installed: %v", err)
		}
		t.Skipf("node is not installed: %v", err)
	}
	lib, err := os.ReadFile(uploaderJS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "upspec-uploader.mjs"), lib, 0o644); err != nil {
		t.Fatal(err)
	}
	driver = filepath.Join(dir, "drive.mjs")
	if err := os.WriteFile(driver, []byte(jsDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	return node, driver
}

// runJSDriver uploads paths with the JavaScript client to endpoint, speaking protocol, and
// checks what it reported for each: success, but a 403 for the client-error file.
func runJSDriver(ctx context.Context, t *testing.T, node, driver, endpoint, protocol string, concurrency int, paths []string) {
	t.Helper()
	args := append([]string{driver, endpoint, "8192", strconv.Itoa(concurrency), protocol}, paths...)
	cmd := exec.CommandContext(ctx, node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		var r struct {
			Path   string `json:"path"`
			OK     bool   `json:"ok"`
			Status int    `json:"status"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("driver line %q: %v", sc.Text(), err)
		}
		n++
		stops := strings.Contains(r.Path, "client-error")
		if r.OK == stops || stops && r.Status != 403 {
			t.Errorf("%s: %+v", r.Path, r)
		}
	}
	if n != len(paths) {
		t.Fatalf("%d results for %d files:\n%s\n%s", n, len(paths), out, stderr.String())
	}
}
