package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/upspec/upspec/internal/doctor"
	"github.com/upspec/upspec/internal/nginxconf"
)

const doctorUsage = `Usage: upspec doctor [--nginx-config FILE|-] [--target URL] [flags]

Diagnoses a deployment of nginx-upload-module in resumable mode and names, for each problem,
the directive to change and the value to use, with the evidence.

  --nginx-config FILE   checks the configuration: a file, or - for standard input, e.g. the
                        output of 'nginx -T' (its includes are expanded). The location nginx
                        picks for --upload-path is checked: upload_resumable, upload_pass,
                        upload_store and upload_state_store (and their hash levels),
                        client_max_body_size against --segment-size, upload_cleanup with 400
                        or 499, the form fields the backend needs, upload_max_file_size
                        against --file-size, upload_store_access, and CORS when the page at
                        --page-path is not served by the same server.
  --target URL          probes the deployment with a few small sessions (IDs upspec-doctor-*),
                        one of them completed, and maps symptoms to causes: 415 (resumable
                        off), 404/405 (no upload_pass), 500/503 (store directories), 200 on a
                        first segment (state store), 413 (client_max_body_size or
                        upload_max_file_size), zeros in the completed file after a cut-off
                        segment (upload_cleanup 400), 502/504 at completion (backend down).
                        Give --backend (the URL of 'upspec backend') or --file-url so the
                        completed file can be read.

Examples:
  nginx -T | upspec doctor --nginx-config -
  upspec doctor --target http://127.0.0.1:8080/upload --backend http://127.0.0.1:4567
  upspec doctor --nginx-config /etc/nginx/nginx.conf --target http://127.0.0.1:8080/upload --json

Exit status: 0 nothing found, 1 a problem found, 2 usage or setup error (e.g. the target
cannot be reached).

Flags:
`

// doctorConfig holds the parsed flags of `upspec doctor`.
type doctorConfig struct {
	nginxConfig, target, uploadPath, pagePath string
	segmentSize, fileSize                     byteSizeFlag
	sessionIDLength                           int
	fileURL, backendURL                       string
	headers                                   []string
	insecure, jsonOut                         bool
	timeout                                   time.Duration
}

func doctorMain(args []string, stdout, stderr io.Writer) int {
	return doctorRun(args, os.Stdin, stdout, stderr)
}

func doctorRun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := doctorConfig{segmentSize: 1 << 20, timeout: 10 * time.Second}
	fs := newFlagSet("upspec doctor")
	fs.StringVar(&c.nginxConfig, "nginx-config", "", "configuration `FILE` to check, or - for standard input (e.g. nginx -T)")
	fs.StringVar(&c.target, "target", "", "segment endpoint `URL` to probe, e.g. http://127.0.0.1:8080/upload")
	fs.StringVar(&c.uploadPath, "upload-path", "", "URL `path` segments are posted to (default: the path of --target, else /upload)")
	fs.StringVar(&c.pagePath, "page-path", "/", "URL `path` of the page that uploads, for the CORS check")
	fs.Var(&c.segmentSize, "segment-size", "the largest segment clients send, e.g. 8M")
	fs.Var(&c.fileSize, "file-size", "the largest file clients upload, e.g. 10G (0 = not checked)")
	fs.IntVar(&c.sessionIDLength, "session-id-length", 0, "`length` of the shortest session ID clients use (0 = not checked)")
	fs.StringVar(&c.fileURL, "file-url", "", "`URL` with {name} where a completed file can be fetched, e.g. http://host/file/{name}")
	fs.StringVar(&c.backendURL, "backend", "", "`URL` of the 'upspec backend' behind upload_pass: its forms and files are read")
	fs.StringArrayVar(&c.headers, "header", nil, "extra `\"Name: value\"` header on every probe (repeatable)")
	fs.BoolVar(&c.insecure, "insecure", false, "do not verify the target's TLS certificate")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "bound of every exchange")
	fs.BoolVar(&c.jsonOut, "json", false, "print the findings as JSON")
	if code, done := parseFlags(fs, args, doctorUsage, stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "upspec doctor: %s; run 'upspec doctor --help' for the flags\n", oneLine(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	setupErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "upspec doctor: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case c.nginxConfig == "" && c.target == "":
		return usageErr("give --nginx-config FILE (or -) and/or --target URL")
	case c.timeout <= 0:
		return usageErr("--timeout %s: must be positive", c.timeout)
	case c.segmentSize <= 0:
		return usageErr("--segment-size: must be positive")
	case c.sessionIDLength < 0:
		return usageErr("--session-id-length %d: must not be negative", c.sessionIDLength)
	}
	var target *url.URL
	if c.target != "" {
		u, err := url.Parse(c.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErr("--target %q: want an http or https URL, e.g. http://127.0.0.1:8080/upload", c.target)
		}
		target = u
		if c.uploadPath == "" {
			c.uploadPath = u.Path
		}
	}
	header := http.Header{}
	for _, h := range c.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usageErr("--header %q: want \"Name: value\"", h)
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if c.fileURL != "" && !strings.Contains(c.fileURL, "{name}") {
		return usageErr("--file-url %q: want a URL with {name}", c.fileURL)
	}

	var report doctor.Report
	if c.nginxConfig != "" {
		data, name, err := readConfig(c.nginxConfig, stdin)
		if err != nil {
			return setupErr("%v", err)
		}
		cfg, err := nginxconf.Parse(data, name)
		if err != nil {
			return setupErr("--nginx-config: %v", err)
		}
		report.Add(doctor.CheckConfig(cfg, doctor.ConfigOptions{
			UploadPath: c.uploadPath, PagePath: c.pagePath, SegmentSize: int64(c.segmentSize),
			FileSize: int64(c.fileSize), SessionIDLength: c.sessionIDLength,
		}))
	}
	if target != nil {
		var tlsCfg *tls.Config
		if c.insecure {
			tlsCfg = &tls.Config{InsecureSkipVerify: true} // asked for with --insecure
		}
		// Bounded: a handful of exchanges, each within the timeout.
		ctx, cancel := context.WithTimeout(context.Background(), 20*c.timeout)
		defer cancel()
		r, err := doctor.Probe(ctx, doctor.WireOptions{
			Target: target, Header: header, TLS: tlsCfg, SegmentSize: int64(c.segmentSize),
			FileSize: int64(c.fileSize), FileURL: c.fileURL, Backend: c.backendURL, Timeout: c.timeout,
		})
		if err != nil {
			return setupErr("%v", err)
		}
		report.Add(r)
	}
	if c.jsonOut {
		if report.Findings == nil {
			report.Findings = []doctor.Finding{}
		}
		if report.Notes == nil {
			report.Notes = []string{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return setupErr("write the report: %v", err)
		}
	} else {
		fmt.Fprint(stdout, report.Text())
	}
	if len(report.Findings) > 0 {
		return exitNotConform
	}
	return exitOK
}

// maxConfigSize bounds the configuration read.
const maxConfigSize = 64 << 20

// readConfig reads the configuration from a file or, for "-", from stdin.
func readConfig(name string, stdin io.Reader) ([]byte, string, error) {
	if name == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, maxConfigSize+1))
		if err != nil {
			return nil, "", fmt.Errorf("read the configuration from standard input: %w", err)
		}
		return data, "stdin", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, "", fmt.Errorf("--nginx-config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("--nginx-config: read %s: %w", name, err)
	}
	return data, name, nil
}
