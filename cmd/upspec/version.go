package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

const versionUsage = `Usage: upspec version [--short]

Prints the version of upspec and where it came from: the Go module version that the Go
toolchain recorded (a build by 'go install' or 'go get -tool' of a tagged version), else the
VCS revision of the checkout it was built from, else "devel (built from a work tree, no VCS
info)"; then the Go version it was built with.

Examples:
  upspec version
  upspec version --short        # the version alone, e.g. for scripts

Flags:
`

// versionInfo is what `upspec version` prints.
type versionInfo struct {
	Module   string // module version, e.g. v0.1.0, or "(devel)" for a build from a checkout
	Go       string // e.g. go1.26.8
	Commit   string // VCS revision, "" when the build did not record one
	Time     string // commit time (RFC 3339), "" when unknown
	Modified bool   // the working tree had changes at build time
}

// moduleVersioned reports whether the build recorded a module version (not "(devel)").
func (v versionInfo) moduleVersioned() bool { return v.Module != "" && v.Module != "(devel)" }

// Short is the version in one word: the module version, else devel+<revision>[-dirty], else
// devel.
func (v versionInfo) Short() string {
	switch {
	case v.moduleVersioned():
		return v.Module
	case v.Commit != "":
		s := "devel+" + shortRev(v.Commit)
		if v.Modified {
			s += "-dirty"
		}
		return s
	}
	return "devel"
}

// Source says where the version came from.
func (v versionInfo) Source() string {
	switch {
	case v.moduleVersioned():
		return "module version recorded by the Go toolchain (go install or go get -tool of a tagged version)"
	case v.Commit != "":
		s := "built from a VCS checkout at revision " + v.Commit
		if v.Time != "" {
			s += " (" + v.Time + ")"
		}
		if v.Modified {
			s += ", with local changes"
		}
		return s
	}
	return "devel (built from a work tree, no VCS info)"
}

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// currentVersion reads the version of the running binary from its build information.
func currentVersion() versionInfo {
	v := versionInfo{Module: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	return versionFromBuildInfo(bi)
}

// versionFromBuildInfo reads the version from build information.
func versionFromBuildInfo(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Module: "(devel)", Go: runtime.Version()}
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
	short := fs.Bool("short", false, "print the version alone (module version, devel+<revision>, or devel)")
	if code, done := parseFlags(fs, args, versionUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "upspec version: unexpected argument %q; 'upspec version' takes none\n", fs.Arg(0))
		return exitUsage
	}
	v := currentVersion()
	if *short {
		fmt.Fprintln(stdout, v.Short())
		return exitOK
	}
	fmt.Fprintf(stdout, "upspec  %s\n", v.Short())
	fmt.Fprintf(stdout, "source  %s\n", v.Source())
	fmt.Fprintf(stdout, "go      %s %s/%s\n", v.Go, runtime.GOOS, runtime.GOARCH)
	return exitOK
}
