// Command upspec checks servers of the resumable-upload protocol of nginx-upload-module and
// runs the reference server.
//
//	upspec run [--target URL] [flags]   run the conformance suite (default: against the embedded reference server)
//	upspec serve [flags]                run the reference server
//	upspec grade [flags]                grade an upload client against the grading mock
//	upspec list [flags]                 print the clause catalogue and the scenarios
//	upspec report [flags] FILE          render a JSON report (HTML, Markdown, JUnit), merge shards, or diff two reports
//	upspec nginx-conf [flags]           print a known-good nginx configuration for the module
//	upspec backend --listen A --dir D   run the upload_pass backend
//	upspec doctor [flags]               diagnose an nginx deployment (configuration and wire)
//	upspec version                      print version information
//
//	upspec help [COMMAND]               the commands, or the flags of one
//
// Exit status: 0 conforming (or success), 1 not conforming, 2 usage or setup error, or an
// engine error (the harness itself failed).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses shared by every subcommand.
const (
	exitOK         = 0 // conforming, or the command succeeded
	exitNotConform = 1 // the target does not conform
	exitUsage      = 2 // usage or setup error, or an engine error (the harness failed)
)

// subcommand is the entry point of one `upspec <name>` command.
type subcommand struct {
	name    string
	summary string
	main    func(args []string, stdout, stderr io.Writer) int
}

func subcommands() []subcommand {
	return []subcommand{
		{"run", "run the conformance suite against a target (default: the embedded reference server)", runMain},
		{"serve", "run the reference server", serveMain},
		{"grade", "grade an upload client: the mock injects faults, the client's requests are judged", gradeMain},
		{"list", "print the clause catalogue and the scenarios", listMain},
		{"report", "render a JSON report as HTML, Markdown or JUnit; merge shards; compare two reports", reportMain},
		{"nginx-conf", "print a complete, commented nginx configuration for the module in resumable mode", nginxConfMain},
		{"backend", "run the upload_pass backend: answers completed, keeps files and forms", backendMain},
		{"doctor", "diagnose an nginx deployment and name the directive to fix", doctorMain},
		{"version", "print the upspec version, where it came from, and the Go version", versionMain},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		for _, c := range subcommands() {
			if c.name == args[1] {
				return c.main([]string{"--help"}, stdout, stderr)
			}
		}
		fmt.Fprintf(stderr, "upspec help: unknown command %q; the commands are %s\n", args[1], commandNames())
		return exitUsage
	case "-h", "--help":
		usage(stdout)
		return exitOK
	case "--version", "-version":
		return versionMain(nil, stdout, stderr)
	}
	for _, c := range subcommands() {
		if c.name == args[0] {
			return c.main(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "upspec: unknown command %q; run 'upspec --help' for the list of commands\n", args[0])
	return exitUsage
}

// commandNames lists the subcommands, e.g. "run, serve, list, report, version".
func commandNames() string {
	var names []string
	for _, c := range subcommands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "upspec: conformance suite and reference server for resumable uploads (nginx-upload-module protocol)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: upspec <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range subcommands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'upspec help <command>' (or 'upspec <command> --help') for the flags of a command.")
	fmt.Fprintln(w, "Exit status: 0 conforming, 1 not conforming (a scenario failed), 2 usage or setup error, or an")
	fmt.Fprintln(w, "engine error (the harness itself failed: no verdict on the target).")
}
