// Command clausegen writes package scenarios/clause's constants from the catalogue's source
// (run by `go generate ./scenarios/clause`).
//
//	clausegen -catalogue ../clauses.go -out ids.go
//	clausegen -catalogue ../clauses.go -out ids.go -package tusclause -source scenarios/tus/clauses.go \
//	    -trim tus. -clause-import github.com/upspec/upspec/scenarios/clause
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/upspec/upspec/internal/clausegen"
)

func main() {
	in := flag.String("catalogue", "", "the catalogue's Go source (scenarios/clauses.go)")
	out := flag.String("out", "", "the file to write")
	var opts clausegen.Options
	flag.StringVar(&opts.Package, "package", "", "the generated package's name (default clause)")
	flag.StringVar(&opts.Source, "source", "", "the catalogue's file as the header names it (default scenarios/clauses.go)")
	flag.StringVar(&opts.TrimPrefix, "trim", "", "a prefix cut from every ID before it is named, e.g. tus.")
	flag.StringVar(&opts.ClauseImport, "clause-import", "", "import path of package clause, whose ID type the constants take")
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: clausegen -catalogue FILE -out FILE")
		os.Exit(2)
	}
	if err := run(*in, *out, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, out string, opts clausegen.Options) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("clausegen: %w", err)
	}
	code, err := clausegen.GenerateWith(in, src, opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, code, 0o644); err != nil {
		return fmt.Errorf("clausegen: %w", err)
	}
	return nil
}
