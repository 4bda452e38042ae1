package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"
)

// newFlagSet returns the flag set of `upspec <cmd>`: errors are returned, not printed, and the
// flags keep the order they are defined in.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	return fs
}

// parseFlags parses args into fs. On --help it prints usage and the flags to stdout; on a bad
// flag, one line to stderr. done is true when the command is to return code at once.
func parseFlags(fs *pflag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprint(stdout, usage)
		fmt.Fprint(stdout, fs.FlagUsagesWrapped(100))
		return exitOK, true
	default:
		fmt.Fprintf(stderr, "%s: %v; run '%s --help' for the flags\n", fs.Name(), err, fs.Name())
		return exitUsage, true
	}
}

var ginkgoMarkup = regexp.MustCompile(`\{\{[^}]*\}\}`)

// ginkgoErrorLine turns one of Ginkgo's multi-line, coloured errors (e.g. of a label filter)
// into one plain line.
func ginkgoErrorLine(err error) string {
	msg := err.Error()
	var ge types.GinkgoError
	if errors.As(err, &ge) {
		msg = ge.Message
		if lines := strings.Split(strings.TrimSpace(msg), "\n"); len(lines) > 1 {
			msg = lines[len(lines)-1] // the syntax error; the first line repeats the input
		}
	}
	msg = ginkgoMarkup.ReplaceAllString(msg, "")
	return strings.TrimSuffix(strings.Join(strings.Fields(msg), " "), ".")
}
