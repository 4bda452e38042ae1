package main

import (
	"fmt"
	"io"
)

func serveMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "upspec serve: not available in this build")
	return exitUsage
}
