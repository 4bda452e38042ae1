package main

import (
	"fmt"
	"io"
)

func versionMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "upspec version: not available in this build")
	return exitUsage
}
