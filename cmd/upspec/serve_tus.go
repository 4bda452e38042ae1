package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/fakeserver/tus"
)

// The protocols of `upspec serve --protocol`.
const (
	protocolNginx = "nginx"
	protocolTus   = "tus"
)

// tusDefaultPath is the creation URL's path of `upspec serve --protocol tus` without --path.
const tusDefaultPath = tus.DefaultPath

// tusIgnoredFlags are the flags of the segment protocol that mean nothing to the tus server.
var tusIgnoredFlags = []string{"upload-pass", "max-segment-size", "range-format", "completion-ttl", "profile", "quirk", "no-quirk"}

// serveTus runs the reference tus server with the flags of cfg (listen, path, data-dir,
// fsync, max-file-size as Tus-Max-Size, cors, the page, verbose, and the mock's fault,
// admin-prefix and journal-entries) until SIGINT or SIGTERM.
func serveTus(cfg *serveConfig, fs *pflag.FlagSet, stdout, stderr io.Writer) int {
	for _, name := range tusIgnoredFlags {
		if fs.Changed(name) {
			return serveFail(stderr, serveUsagef("leave it out with --protocol tus", "--%s applies to the nginx protocol only", name))
		}
	}
	opts := tus.Options{MaxSize: int64(cfg.maxFileSize), CORSOrigins: cfg.cors}
	if fs.Changed("path") {
		opts.Path = cfg.path
	}
	base := strings.TrimSuffix(cmp.Or(opts.Path, tusDefaultPath), "/") + "/"
	opts.Fallback = withPageConfig(cfg.page(), pageConfig{Protocol: protocolTus, Endpoint: base})
	if strings.HasPrefix(cfg.mock.adminPrefix, base) {
		return serveFail(stderr, serveUsagef("choose a prefix apart from --path, e.g. --admin-prefix /_upspec/",
			"invalid --admin-prefix %q: it would be under the creation URL %s", cfg.mock.adminPrefix, base))
	}
	rules, err := cfg.mock.check(base, "")
	if err != nil {
		return serveFail(stderr, err)
	}
	opts.Faults, opts.AdminPrefix, opts.JournalSize = rules, cfg.mock.adminPrefix, cfg.mock.journalSize
	if cfg.dataDir != "" {
		st, err := tus.NewDirStore(cfg.dataDir, cfg.fsync)
		if err != nil {
			return serveFail(stderr, serveUsagef("check that the directory can be created and written, or choose another --data-dir",
				"cannot use data directory %q: %v", cfg.dataDir, err))
		}
		opts.Store = st
	}
	if cfg.verbose {
		opts.Logf = newLineLogger(stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := tus.NewUnstartedServer(opts) // it closes the store
	defer func() { _ = srv.Close() }()
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return serveFail(stderr, listenError(cfg.listen, err))
	}
	srv.Listener = ln
	if err := srv.Start(); err != nil {
		return serveFail(stderr, err)
	}
	fmt.Fprintf(stdout, "upspec serve: listening on %s (protocol: tus %s; storage: %s)\n", srv.CreationURL(), tus.Version, cfg.storageText())
	if page := cfg.pageText(); page != "" {
		fmt.Fprintf(stdout, "upspec serve: %s at %s/\n", page, srv.URL)
	}
	fmt.Fprintf(stdout, "upspec serve: %s\n", cfg.mock.text(srv.URL))
	select {
	case <-srv.Done():
		fmt.Fprintf(stderr, "upspec serve: %v; restart the server\n", oneLine(fmt.Sprint(srv.Err())))
		return exitUsage
	case <-ctx.Done():
	}
	stop()
	fmt.Fprintln(stderr, "upspec serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "upspec serve: requests still running after %v were cut off\n", serveShutdownGrace)
		_ = srv.Close()
	}
	return exitOK
}

// pageConfigPath is where the page beside the server finds what the server speaks
// (internal/webui/js/demo.js reads it).
const pageConfigPath = "/upspec-config.json"

// pageConfig is the JSON at pageConfigPath.
type pageConfig struct {
	Protocol string `json:"protocol"` // protocolNginx or protocolTus
	Endpoint string `json:"endpoint"` // the path of the endpoint: the segment endpoint or the creation URL
}

// withPageConfig answers GET and HEAD of pageConfigPath with c and passes every other request
// to page; a nil page (--no-ui) stays nil.
func withPageConfig(page http.Handler, c pageConfig) http.Handler {
	if page == nil {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("encode the page config: %v", err)) // two strings always encode
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pageConfigPath || r.Method != http.MethodGet && r.Method != http.MethodHead {
			page.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b) // a client that left cannot be told
	})
}
