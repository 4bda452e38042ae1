package main

import (
	"fmt"
	"io"
)

func runMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "upspec run: not available in this build")
	return exitUsage
}
