package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/upspec/upspec/internal/nginxconf"
)

const nginxConfUsage = `Usage: upspec nginx-conf [flags]

Prints a complete, commented nginx configuration for nginx-upload-module in resumable mode:
the segment location (upload_resumable on; upload_store and upload_state_store; the form
fields for the backend; upload_cleanup without 400 and 499; client_max_body_size at least the
segment size; upload_pass to the backend), the completed files at /file/<name> from the
backend, and the page from the same host. docs/nginx.conf is its output with the defaults.

Examples:
  upspec nginx-conf > /etc/nginx/nginx.conf
  upspec nginx-conf --listen 127.0.0.1:8080 --store-dir /srv/up/store --state-dir /srv/up/state \
                    --backend 127.0.0.1:9000 --segment-size 8M --max-file-size 10G

Exit status: 0, or 2 for a bad flag.

Flags:
`

// levelsFlag is a pflag.Value for hash levels: "1", "1,2" or "1 2".
type levelsFlag []int

func (l *levelsFlag) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (l *levelsFlag) Set(s string) error {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("level %q is not a number", f)
		}
		out = append(out, n)
	}
	*l = out
	return nil
}

func (l *levelsFlag) Type() string { return "levels" }

func nginxConfMain(args []string, stdout, stderr io.Writer) int {
	p := nginxconf.DefaultParams()
	fs := newFlagSet("upspec nginx-conf")
	fs.StringVar(&p.Listen, "listen", p.Listen, "`address` nginx listens on (port, or host:port)")
	fs.StringVar(&p.ServerName, "server-name", p.ServerName, "server_name")
	fs.StringVar(&p.UploadPath, "upload-path", p.UploadPath, "URL `path` segments are posted to")
	fs.StringVar(&p.StoreDir, "store-dir", p.StoreDir, "upload_store `directory` (data files)")
	fs.StringVar(&p.StateDir, "state-dir", p.StateDir, "upload_state_store `directory` (state files)")
	levels := levelsFlag(p.StoreLevels)
	fs.Var(&levels, "levels", "hash levels of upload_store, e.g. 1 or 1,2 (default none: the sub-directories would have to be created in advance)")
	fs.StringVar(&p.Backend, "backend", p.Backend, "`host:port` of the upload_pass backend (upspec backend)")
	maxFile := byteSizeFlag(p.MaxFileSize)
	fs.Var(&maxFile, "max-file-size", "upload_max_file_size: the largest file, e.g. 10G (0 = no limit)")
	segment := byteSizeFlag(p.SegmentSize)
	fs.Var(&segment, "segment-size", "the largest segment clients send, e.g. 8M: client_max_body_size")
	fs.StringVar(&p.StaticRoot, "static-root", p.StaticRoot, "`directory` of the page, served at / from the same host (\"\" = none)")
	if code, done := parseFlags(fs, args, nginxConfUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "upspec nginx-conf: unexpected argument %q; run 'upspec nginx-conf --help' for the flags\n", fs.Arg(0))
		return exitUsage
	}
	p.StoreLevels, p.MaxFileSize, p.SegmentSize = levels, int64(maxFile), int64(segment)
	text, err := nginxconf.Generate(p)
	if err != nil {
		fmt.Fprintf(stderr, "upspec nginx-conf: %s; run 'upspec nginx-conf --help' for the flags\n", oneLine(err.Error()))
		return exitUsage
	}
	fmt.Fprint(stdout, text)
	return exitOK
}
