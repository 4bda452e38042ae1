package main

import (
	"fmt"
	"io"
	"os"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/upspec/upspec/reports"
)

// progress puts the place of each finished scenario in the run, `[n/N] `, before its console
// line, on a terminal only (a log or a CI page gets the lines alone).
type progress struct {
	w       io.Writer
	enabled bool
	total   int // scenarios the selection runs (Ginkgo's count, set before the first one)
	done    int
}

func newProgress(w io.Writer, enabled bool) *progress { return &progress{w: w, enabled: enabled} }

// spec counts a finished spec and, when it is a scenario whose line follows, writes its place.
func (p *progress) spec(spec types.SpecReport) {
	if !p.enabled || spec.LeafNodeType != types.NodeTypeIt {
		return
	}
	if _, ok, err := reports.ScenarioFromSpec(spec); err != nil || !ok {
		return
	}
	p.done++
	width := len(fmt.Sprint(p.total))
	fmt.Fprintf(p.w, "[%*d/%d] ", width, p.done, p.total)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
