package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/upspec/upspec/internal/backend"
)

const backendUsage = `Usage: upspec backend --listen ADDR --dir DIR [flags]

Runs the upload_pass backend of an nginx-upload-module deployment: it answers the module's
form for each completed file with 200 "completed", moves the file named by the form's path
field into DIR under the form's name (path-stripped; nothing outside DIR is reachable), and
serves it at GET /file/<name>. It keeps every form it received and serves them as JSON at
` + backend.FormsPath + ` (?session=ID for one session): the size and digests of each stored
file are computed and the form's fields that differ are listed (in resumable mode the module
sends empty digests and the size of the final segment).

The form fields it reads are the ones 'upspec nginx-conf' configures: name, content_type,
path, size, md5, sha1. A form without the file (the module's silent failure) is answered
200 "completed" too, as the module's backend would, and kept with no file.

Examples:
  upspec backend --listen 127.0.0.1:4567 --dir /var/lib/upspec/files
  upspec run --target http://127.0.0.1:8080/upload --expect nginx-upload-module \
             --final-status 200 --final-body completed --file-url 'http://127.0.0.1:8080/file/{name}'

Exit status: 0 after SIGINT or SIGTERM, 2 for a bad flag or a setup error (e.g. port in use).

Flags:
`

func backendMain(args []string, stdout, stderr io.Writer) int {
	var (
		listen, dir   string
		keep, verbose bool
	)
	fs := newFlagSet("upspec backend")
	fs.StringVar(&listen, "listen", "127.0.0.1:4567", "`host:port` to listen on (the upload_pass location proxies to it)")
	fs.StringVar(&dir, "dir", "", "`directory` the completed files are moved to and served from (required; created if missing)")
	fs.BoolVar(&keep, "keep-source", false, "copy the module's data file instead of moving it")
	fs.BoolVarP(&verbose, "verbose", "v", false, "print one line per form on stdout, with the fields that differ from the file")
	if code, done := parseFlags(fs, args, backendUsage, stdout, stderr); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "upspec backend: %s\n", oneLine(fmt.Sprintf(format, a...)))
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q; run 'upspec backend --help' for the flags", fs.Arg(0))
	case dir == "":
		return fail("--dir is required: the directory completed files go to")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("--dir %s: %v", dir, err)
	}
	var mu sync.Mutex
	opts := backend.Options{Dir: dir, KeepSource: keep}
	if verbose {
		opts.Received = func(f backend.Form) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(stdout, describeReceived(f))
		}
	}
	b, err := backend.Open(opts)
	if err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		_ = b.Close()
		return fail("%v", listenError(listen, err))
	}
	s := backend.Serve(ln, b)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mu.Lock()
	fmt.Fprintf(stdout, "upspec backend: listening on %s (files in %s at %s<name>, forms at %s)\n", s.URL, dir, backend.FilePrefix, backend.FormsPath)
	mu.Unlock()
	<-ctx.Done()
	stop()
	fmt.Fprintln(stderr, "upspec backend: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownGrace)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "upspec backend: %s\n", oneLine(err.Error()))
	}
	return exitOK
}

// describeReceived writes one line for a form: session, fields, and what became of the file.
func describeReceived(f backend.Form) string {
	line := fmt.Sprintf("form session=%q target=%s fields=[%s]", f.SessionID, f.Target, strings.Join(f.FieldNames(), " "))
	switch {
	case f.Error != "":
		return line + " error: " + f.Error
	case f.File == nil:
		return line + " no file (a form without the file: the module's silent failure)"
	case !f.File.Stored:
		return line + " not stored: " + f.File.Error
	}
	line += fmt.Sprintf(" stored %s (%d bytes, md5 %s)", f.File.Name, f.File.Size, f.File.MD5)
	for _, d := range f.File.Differences {
		line += fmt.Sprintf("; %s=%q differs from %s (%s)", d.Field, d.Form, d.File, d.Why)
	}
	return line
}
