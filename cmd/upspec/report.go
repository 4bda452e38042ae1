package main

import (
	"fmt"
	"io"
)

func reportMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "upspec report: not available in this build")
	return exitUsage
}
