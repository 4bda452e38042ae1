package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

const versionUsage = `Usage: upspec version [--short]

Prints the version of upspec (its Go module version, "(devel)" for a build from a checkout),
the Go version it was built with, and the VCS commit when the build recorded one.

Examples:
  upspec version
  upspec version --short        # the module version alone, e.g. for scripts

Flags:
`

// versionInfo is what `upspec version` prints.
type versionInfo struct {
	Module   string // module version, e.g. v0.1.0 or (devel)
	Go       string // e.g. go1.26.8
	Commit   string // VCS revision, "" when the build did not record one
	Time     string // commit time (RFC 3339), "" when unknown
	Modified bool   // the working tree had changes at build time
}

// currentVersion reads the version of the running binary from its build information.
func currentVersion() versionInfo {
	v := versionInfo{Module: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Module = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// versionMain is `upspec version`.
func versionMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("upspec version")
	short := fs.Bool("short", false, "print the module version only")
	if code, done := parseFlags(fs, args, versionUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "upspec version: unexpected argument %q; 'upspec version' takes none\n", fs.Arg(0))
		return exitUsage
	}
	v := currentVersion()
	if *short {
		fmt.Fprintln(stdout, v.Module)
		return exitOK
	}
	fmt.Fprintf(stdout, "upspec %s\n", v.Module)
	fmt.Fprintf(stdout, "go      %s %s/%s\n", v.Go, runtime.GOOS, runtime.GOARCH)
	if v.Commit != "" {
		line := v.Commit
		if v.Time != "" {
			line += " (" + v.Time + ")"
		}
		if v.Modified {
			line += " with local changes"
		}
		fmt.Fprintf(stdout, "commit  %s\n", line)
	}
	return exitOK
}
