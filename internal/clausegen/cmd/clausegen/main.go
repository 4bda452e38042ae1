// Command clausegen writes package scenarios/clause's constants from the catalogue's source
// (run by `go generate ./scenarios/clause`).
//
//	clausegen -catalogue ../clauses.go -out ids.go
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
	flag.Parse()
	if *in == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: clausegen -catalogue FILE -out FILE")
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("clausegen: %w", err)
	}
	code, err := clausegen.Generate(in, src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, code, 0o644); err != nil {
		return fmt.Errorf("clausegen: %w", err)
	}
	return nil
}
