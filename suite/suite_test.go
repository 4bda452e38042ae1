package suite_test

import (
	"flag"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	// The ginkgo CLI treats a package as a Ginkgo suite only when a _test.go file imports
	// ginkgo/v2; without it `ginkgo run` would drop -p, --label-filter and the flags after --.
	"github.com/onsi/ginkgo/v2"

	"github.com/upspec/upspec/suite"
)

// flags holds the suite flags of the test binary, and names the flags of the table it defined.
// They have to live at package level: init registers them on flag.CommandLine before the
// testing package parses the command line, and TestUpspec reads them afterwards.
var (
	flags     = suite.NewConfig()
	flagNames []string
)

func init() {
	flagNames = flags.RegisterTestFlags(flag.CommandLine)
}

// TestUpspec runs the conformance suite: against --target (or $UPSPEC_TARGET), else against
// the in-process reference server. Every flag of the table has its environment variable
// (UPSPEC_TARGET, UPSPEC_EXPECT, ...), read here for the flags not given.
func TestUpspec(t *testing.T) {
	if n := testCount(); n > 1 {
		runInOwnProcess(t)
		return
	}
	// Read here, not at package level: go test caches results by the environment the test
	// reads while running.
	if err := suite.ApplyEnvGo(flag.CommandLine, flagNames, os.LookupEnv); err != nil {
		t.Fatalf("upspec: %v", err)
	}
	sc, rc := ginkgo.GinkgoConfiguration()
	if dl, ok := t.Deadline(); ok {
		// go test -timeout panics and loses the reports: end the suite first.
		if d := time.Until(dl) - 5*time.Second; d > 0 && d < sc.Timeout {
			sc.Timeout = d
		}
	}
	suite.Run(t, flags, sc, rc)
}

// testCount is the -test.count of the test binary (go test -count).
func testCount() int {
	f := flag.Lookup("test.count")
	if f == nil {
		return 1
	}
	n, err := strconv.Atoi(f.Value.String())
	if err != nil {
		return 1
	}
	return n
}

// runInOwnProcess runs the suite once in a new process: the test binary itself, with
// -test.count=1 and -test.run=^TestUpspec$, the other arguments as given (the suite flags
// after -args included). Ginkgo runs a suite once per process and refuses go test -count > 1
// (`ginkgo --repeat=N` repeats it from the CLI), so under `go test -count=N` each of the N
// runs of TestUpspec is a process of its own, and the suite is repeated N times.
func runInOwnProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("-count > 1 runs the suite in a process of its own: cannot find the test binary: %v", err)
	}
	args := []string{"-test.count=1", "-test.run=^TestUpspec$"}
	if dl, ok := t.Deadline(); ok {
		// End before this process's own deadline, so that the child's failure is reported.
		if d := time.Until(dl) - 10*time.Second; d > 0 {
			args = append(args, "-test.timeout="+d.String())
		}
	}
	args = append(args, childArgs(os.Args[1:])...)
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("the suite, run in a process of its own for -count > 1: %v", err)
	}
}

// childFlags are the test binary flags that runInOwnProcess sets itself or leaves out: the
// repetition, the selection and the timeout, and the files that two processes would share.
var childFlags = []string{
	"count", "run", "skip", "list", "bench", "timeout", "testlogfile",
	"coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile", "trace",
}

// childArgs returns args without the childFlags (as -test.NAME=V, or -test.NAME V).
func childArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-args" {
			return append(out, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && strings.HasPrefix(name, "test.") && slices.Contains(childFlags, strings.TrimPrefix(name, "test.")) {
			if !hasValue && i+1 < len(args) {
				i++ // the value is the next argument
			}
			continue
		}
		out = append(out, a)
	}
	return out
}
