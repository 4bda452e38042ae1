package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/internal/backend"
	"github.com/upspec/upspec/internal/doctor"
)

// TestNginxConfIsDocsNginxConf: docs/nginx.conf is the output of `upspec nginx-conf` with the
// defaults.
func TestNginxConfIsDocsNginxConf(t *testing.T) {
	code, out, errOut := callCmd(t, "nginx-conf")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("docs/nginx.conf is not the output of 'upspec nginx-conf': regenerate it with\n  go run ./cmd/upspec nginx-conf > docs/nginx.conf")
	}
}

func TestNginxConfFlags(t *testing.T) {
	code, out, _ := callCmd(t, "nginx-conf", "--listen", "127.0.0.1:9090", "--upload-path", "/up", "--levels", "1,2",
		"--store-dir", "/s", "--state-dir", "/t", "--backend", "127.0.0.1:9000", "--max-file-size", "10G",
		"--segment-size", "8M", "--static-root", "")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"listen 127.0.0.1:9090;", "location = /up {", "upload_store /s 1 2;", "upload_state_store /t;",
		"server 127.0.0.1:9000;", "upload_max_file_size 10g;", "client_max_body_size 8m;"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "location / {") {
		t.Error("a page location without --static-root")
	}
	for _, args := range [][]string{{"--levels", "x"}, {"--store-dir", "relative"}, {"--bogus"}, {"extra"}, {"--segment-size", "0"}} {
		if code, _, errOut := callCmd(t, "nginx-conf", args...); code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("nginx-conf %v: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
}

// doctorCmd runs `upspec doctor` with stdin.
func doctorCmd(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := doctorRun(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDoctorConfig(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join("..", "..", "docs", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := doctorCmd("", "--nginx-config", filepath.Join("..", "..", "docs", "nginx.conf")); code != exitOK || out != "no problem found\n" {
		t.Errorf("docs/nginx.conf: exit %d, %q %q", code, out, errOut)
	}
	bad := strings.Replace(string(conf), "upload_cleanup 500-505;", "upload_cleanup 400 404 499 500-505;", 1)
	bad = strings.Replace(bad, "upload_resumable on;", "upload_resumable off;", 1)
	code, out, errOut := doctorCmd("# configuration file /etc/nginx/nginx.conf:\n"+bad, "--nginx-config", "-", "--json")
	if code != exitNotConform {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if len(rep.Findings) != 2 || rep.Findings[0].Rule != "resumable-off" || rep.Findings[1].Rule != "cleanup-400" ||
		!strings.HasPrefix(rep.Findings[1].Evidence, "/etc/nginx/nginx.conf:") {
		t.Errorf("findings %+v", rep.Findings)
	}
}

func TestDoctorUsage(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.conf")
	if err := os.WriteFile(broken, []byte("http {\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{"--target", "ftp://x/upload"},
		{"--target", "http://127.0.0.1:1/upload", "--timeout", "0s"},
		{"--nginx-config", filepath.Join(dir, "missing.conf")},
		{"--nginx-config", broken},
		{"--target", "http://127.0.0.1:8080/upload", "--header", "no colon"},
		{"--target", "http://127.0.0.1:8080/upload", "--file-url", "http://x/file"},
		{"--bogus"},
	} {
		code, out, errOut := doctorCmd("", args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "upspec doctor: ") {
			t.Errorf("doctor %v: exit %d, stdout %q, stderr %q; want 2 and one line", args, code, out, errOut)
		}
	}
}

// TestDoctorTarget probes the reference server: a working deployment, exit 0; and an
// unreachable one, a setup error.
func TestDoctorTarget(t *testing.T) {
	srv, err := fakeserver.NewServer(fakeserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	code, out, errOut := doctorCmd("", "--target", srv.UploadURL(), "--file-url", srv.URL+"/file/{name}", "--timeout", "30s")
	if code != exitOK || out != "no problem found\n" {
		t.Errorf("exit %d, %q %q", code, out, errOut)
	}
	addr := srv.URL
	srv.Close()
	code, _, errOut = doctorCmd("", "--target", addr+"/upload")
	if code != exitUsage || !strings.Contains(errOut, "cannot reach") {
		t.Errorf("a closed port: exit %d, %q", code, errOut)
	}
}

func TestBackendUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"--dir", file}, {"--dir", t.TempDir(), "--listen", "127.0.0.1:-1"}, {"--dir", t.TempDir(), "x"}, {"--bogus"}} {
		code, _, errOut := callCmd(t, "backend", args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 {
			t.Errorf("backend %v: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
}

func TestDescribeReceived(t *testing.T) {
	tests := []struct {
		form backend.Form
		want string
	}{
		{backend.Form{SessionID: "s", Target: "/upload"}, "no file (a form without the file"},
		{backend.Form{SessionID: "s", File: &backend.StoredFile{Error: "the form has no \"path\" field"}}, "not stored: the form has no"},
		{backend.Form{SessionID: "s", File: &backend.StoredFile{Stored: true, Name: "a.bin", Size: 24, MD5: "m",
			Differences: []backend.Difference{{Field: "size", Form: "12", File: "24", Why: "issue #106"}}}},
			`stored a.bin (24 bytes, md5 m); size="12" differs from 24 (issue #106)`},
	}
	for _, tt := range tests {
		if got := describeReceived(tt.form); !strings.Contains(got, tt.want) {
			t.Errorf("describeReceived = %q, want %q", got, tt.want)
		}
	}
}

// TestRunReadsAStandaloneBackend runs the backend scenario against a deployment whose
// upload_pass is an `upspec backend`: with --backend-url the run reads the forms it kept, and
// with --file-url the files it serves.
func TestRunReadsAStandaloneBackend(t *testing.T) {
	be, err := backend.Start("127.0.0.1:0", backend.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	store, err := fakeserver.NewDirStore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakeserver.NewServer(fakeserver.Options{Store: store, UploadPass: be.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r := upspecRun(t, 3*time.Minute, nil, "--no-color", "--target", srv.UploadURL(), "--focus", "BK-01",
		"--backend-url", be.URL, "--file-url", be.URL+"/file/{name}")
	if r.code != exitOK || !strings.Contains(r.stdout, "BK-01") || !strings.Contains(lastLine(r.stdout), "1 passed, 0 failed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if be.Len() == 0 {
		t.Error("the backend received no form")
	}
	for _, f := range be.All() {
		if f.File == nil || !f.File.Stored {
			t.Errorf("form of %s: file %+v", f.SessionID, f.File)
		}
	}
}
