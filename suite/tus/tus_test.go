// Package tus_test runs the tus 1.0 specs of package suite under go test and the ginkgo CLI,
// with the same flags as `upspec run --protocol tus` (--protocol defaults to tus here):
//
//	go test ./suite/tus -count=1 -args --target=http://127.0.0.1:1080/files/
//	go tool ginkgo run --label-filter=tus-patch ./suite/tus -- --target=http://127.0.0.1:1080/files/
//	upspec run --protocol tus --target http://127.0.0.1:1080/files/
//
// Without a target (and without $UPSPEC_TARGET) it runs against tusd v2 in process (package
// internal/tusdtest), leaving out the scenarios of the built-in list tusd-v2: they fail
// against tusd, and scenarios/tus's TestTusdExpectations holds them to the list (KNOWN, or
// STALE once tusd is fixed).
package tus_test

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/spf13/pflag"

	"github.com/upspec/upspec/internal/tusdtest"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/tus"
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

// TestTusSuite runs the tus specs against --target (or $UPSPEC_TARGET), else against tusd in
// process.
func TestTusSuite(t *testing.T) {
	if flags.Target == "" {
		flags.Target = os.Getenv("UPSPEC_TARGET")
	}
	sc, rc := ginkgo.GinkgoConfiguration()
	if flags.Target == "" && flags.Protocol == suite.ProtocolTus {
		flags.Target = tusdtest.Start(t, nil).String()
		known, err := tus.LoadExpectations("tusd-v2")
		if err != nil {
			t.Fatal(err)
		}
		var skip []string
		for _, id := range known.IDs() {
			skip = append(skip, "!"+result.IDLabel(id))
		}
		filter := strings.Join(skip, " && ")
		if sc.LabelFilter != "" {
			filter = "(" + sc.LabelFilter + ") && " + filter
		}
		sc.LabelFilter = filter
		t.Logf("no --target: tus specs against tusd %s in process at %s, without the scenarios of tusd-v2 (%s)",
			tusdtest.Version, flags.Target, strings.Join(known.IDs(), ", "))
	}
	if dl, ok := t.Deadline(); ok {
		if d := time.Until(dl) - 5*time.Second; d > 0 && d < sc.Timeout {
			sc.Timeout = d
		}
	}
	suite.Run(t, flags, sc, rc)
}
