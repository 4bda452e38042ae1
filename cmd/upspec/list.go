package main

import (
	"fmt"
	"io"
)

func listMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "upspec list: not available in this build")
	return exitUsage
}
