// Package tus_test runs the tus 1.0 specs of package suite under go test and the ginkgo CLI,
// with the same flags as `upspec run --protocol tus` (--protocol defaults to tus here):
//
//	go test ./suite/tus -count=1 -args --target=http://127.0.0.1:1080/files/
//	go tool ginkgo run --label-filter=tus-patch ./suite/tus -- --target=http://127.0.0.1:1080/files/
//	upspec run --protocol tus --target http://127.0.0.1:1080/files/
//
// Without a target (and without $UPSPEC_TARGET) the suite starts the embedded reference tus
// server (package fakeserver/tus), so a plain `go test ./...` checks it against every tus
// scenario. tusd is checked in package scenarios/tus (TestTusdExpectations).
package tus_test

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/suite"
)

// flags holds the suite flags of the test binary (registered before the testing package
// parses the command line).
var flags = suite.NewConfig()

func init() {
	flags.Protocol = suite.ProtocolTus
	fs := pflag.NewFlagSet("upspec", pflag.ContinueOnError)
	flags.RegisterFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		flag.CommandLine.Var(f.Value, f.Name, f.Usage) // a pflag.Value is a flag.Value
	})
}

// TestTusSuite runs the tus specs against --target (or $UPSPEC_TARGET), else against the
// embedded reference tus server.
func TestTusSuite(t *testing.T) {
	if flags.Target == "" {
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
