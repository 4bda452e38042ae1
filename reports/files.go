package reports

import (
	"errors"
	"fmt"
)

// Outputs names the files a run writes; an empty path skips that output.
type Outputs struct {
	JSON     string // the JSON report (SCHEMA.md)
	Markdown string // the Markdown summary
	HTML     string // the HTML report
	JUnit    string // the JUnit report
	// ReproDir receives a reproducer per scenario whose checks failed, KNOWN ones included
	// (ReproducerName).
	ReproDir string
}

// WriteAll writes the reproducers first (so that the reports name them), then every report
// asked for. It writes as much as it can and returns every error, joined.
func WriteAll(run *Run, o Outputs) (reproducers []string, err error) {
	var errs []error
	if o.ReproDir != "" {
		paths, err := WriteReproducers(o.ReproDir, run)
		reproducers = paths
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range []struct {
		path  string
		write func(string, *Run) error
		name  string
	}{
		{o.JSON, WriteJSONFile, "JSON"},
		{o.Markdown, WriteMarkdownFile, "Markdown"},
		{o.HTML, WriteHTMLFile, "HTML"},
		{o.JUnit, WriteJUnitFile, "JUnit"},
	} {
		if w.path == "" {
			continue
		}
		if err := w.write(w.path, run); err != nil {
			errs = append(errs, fmt.Errorf("%s report %s: %w", w.name, w.path, err))
		}
	}
	return reproducers, errors.Join(errs...)
}
