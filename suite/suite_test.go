package suite_test

import (
	"flag"
	"os"
	"testing"
	"time"

	// The ginkgo CLI treats a package as a Ginkgo suite only when a _test.go file imports
	// ginkgo/v2; without it `ginkgo run` would drop -p, --label-filter and the flags after --.
	"github.com/onsi/ginkgo/v2"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/suite"
)

// flags holds the suite flags of the test binary. It has to live at package level: init
// registers its fields on flag.CommandLine before the testing package parses the command line,
// and TestUpspec reads them afterwards.
var flags = suite.NewConfig()

func init() {
	fs := pflag.NewFlagSet("upspec", pflag.ContinueOnError)
	flags.RegisterFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		flag.CommandLine.Var(f.Value, f.Name, f.Usage) // a pflag.Value is a flag.Value
	})
}

// TestUpspec runs the conformance suite: against --target (or $UPSPEC_TARGET), else against
// the in-process reference server.
func TestUpspec(t *testing.T) {
	if flags.Target == "" {
		// Read here, not at package level: go test caches results by the environment the test
		// reads while running.
		flags.Target = os.Getenv("UPSPEC_TARGET")
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
