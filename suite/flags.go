package suite

import (
	"flag"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/pflag"
)

// envAnnotation is the pflag annotation that holds a flag's environment variable.
const envAnnotation = "upspec-env"

// EnvName is the environment variable of a flag: UPSPEC_ and the flag's name in capitals with
// '_' for '-', e.g. UPSPEC_TARGET for --target and UPSPEC_LABEL_FILTER for --label-filter.
func EnvName(flag string) string {
	return "UPSPEC_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// repeatable reports whether a flag may be given more than once; its environment variable then
// holds one value per line.
func repeatable(name string) bool {
	switch name {
	case "header", "focus", "skip":
		return true
	}
	return false
}

func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// GinkgoFlag is a flag of the table that is Ginkgo's own: `upspec run` binds it to Ginkgo's
// configuration; the test binary accepts it under the same name as an alias of Ginkgo's
// -ginkgo.<Name> flag, so that `go test ./suite -args --label-filter=...` and `ginkgo run ./suite
// -- --label-filter=...` select as `upspec run --label-filter` does.
type GinkgoFlag struct {
	Name  string // the flag's name, the same as Ginkgo's without the "ginkgo." prefix
	Usage string
}

// GinkgoFlags returns the flags of the table that are Ginkgo's own, in help order.
func GinkgoFlags() []GinkgoFlag {
	return []GinkgoFlag{
		{"label-filter", "run only the scenarios whose labels match `EXPR`, e.g. 'parallel || probe', '!slow'"},
		{"focus", "run only scenarios whose ID or title matches `REGEXP` (repeatable)"},
		{"skip", "skip scenarios whose ID or title matches `REGEXP` (repeatable)"},
		{"dry-run", "list the scenarios that would run, without running them"},
		{"fail-fast", "stop after the first failed scenario (the rest are counted as not run)"},
		{"junit-report", "write a JUnit XML report to `FILE`"},
	}
}

// RegisterGinkgoFlags defines the GinkgoFlags on fs, bound to Ginkgo's configuration sc and rc
// (as `upspec run` passes them to RunSpecs).
func RegisterGinkgoFlags(fs *pflag.FlagSet, sc *types.SuiteConfig, rc *types.ReporterConfig) {
	for _, f := range GinkgoFlags() {
		switch f.Name {
		case "label-filter":
			fs.StringVar(&sc.LabelFilter, f.Name, sc.LabelFilter, f.Usage)
		case "focus":
			fs.StringArrayVar(&sc.FocusStrings, f.Name, sc.FocusStrings, f.Usage)
		case "skip":
			fs.StringArrayVar(&sc.SkipStrings, f.Name, sc.SkipStrings, f.Usage)
		case "dry-run":
			fs.BoolVar(&sc.DryRun, f.Name, sc.DryRun, f.Usage)
		case "fail-fast":
			fs.BoolVar(&sc.FailFast, f.Name, sc.FailFast, f.Usage)
		case "junit-report":
			fs.StringVar(&rc.JUnitReport, f.Name, rc.JUnitReport, f.Usage)
		default:
			panic("suite: no binding for the Ginkgo flag " + f.Name)
		}
		_ = fs.SetAnnotation(f.Name, envAnnotation, []string{EnvName(f.Name)})
	}
}

// RegisterTestFlags defines the whole table on the test binary's flag set (flag.CommandLine,
// before the testing package parses it): the suite flags bound to c, and the GinkgoFlags as
// aliases of Ginkgo's own -ginkgo.* flags, which Ginkgo has registered on fs already. It
// returns the names it defined, for ApplyEnvGo.
func (c *Config) RegisterTestFlags(fs *flag.FlagSet) []string {
	pfs := pflag.NewFlagSet("upspec", pflag.ContinueOnError)
	c.RegisterFlags(pfs)
	var names []string
	pfs.VisitAll(func(f *pflag.Flag) {
		fs.Var(f.Value, f.Name, f.Usage) // a pflag.Value is a flag.Value
		names = append(names, f.Name)
	})
	for _, f := range GinkgoFlags() {
		target := fs.Lookup("ginkgo." + f.Name)
		if target == nil {
			continue // a Ginkgo without this flag: leave it out rather than accept it silently
		}
		fs.Var(aliasValue{target}, f.Name, f.Usage+" (the same as -ginkgo."+f.Name+")")
		names = append(names, f.Name)
	}
	return names
}

// aliasValue is a flag.Value that sets another flag.
type aliasValue struct{ target *flag.Flag }

func (a aliasValue) String() string {
	if a.target == nil {
		return ""
	}
	return a.target.Value.String()
}

func (a aliasValue) Set(v string) error { return a.target.Value.Set(v) }

// IsBoolFlag lets a boolean alias be given without a value, like the flag it sets.
func (a aliasValue) IsBoolFlag() bool {
	b, ok := a.target.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// BindEnv gives the flags names of fs their environment variables (EnvName), for ApplyEnv:
// for flags of a command that are not in the table.
func BindEnv(fs *pflag.FlagSet, names ...string) {
	for _, name := range names {
		_ = fs.SetAnnotation(name, envAnnotation, []string{EnvName(name)})
	}
}

// ApplyEnv sets every flag of fs that carries an environment variable (RegisterFlags,
// RegisterGinkgoFlags) and was not given on the command line from that variable, when it is
// set and not empty: a flag beats its variable. A repeatable flag takes one value per line.
// An error names the variable and is one line.
func ApplyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[envAnnotation]
		if err != nil || f.Changed || len(env) == 0 {
			return
		}
		err = applyEnv(f.Name, env[0], lookup, func(v string) error { return fs.Set(f.Name, v) })
	})
	return err
}

// ApplyEnvGo is ApplyEnv for the test binary's flag set: it sets each flag of names that was
// not given from its environment variable (EnvName). Call it after the command line is parsed.
func ApplyEnvGo(fs *flag.FlagSet, names []string, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range names {
		if given[name] || fs.Lookup(name) == nil {
			continue
		}
		if err := applyEnv(name, EnvName(name), lookup, func(v string) error { return fs.Set(name, v) }); err != nil {
			return err
		}
	}
	return nil
}

func applyEnv(name, env string, lookup func(string) (string, bool), set func(string) error) error {
	v, ok := lookup(env)
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	values := []string{v}
	if repeatable(name) {
		values = nil
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimRight(line, "\r"); strings.TrimSpace(line) != "" {
				values = append(values, line)
			}
		}
	}
	for _, value := range values {
		if err := set(value); err != nil {
			return fmt.Errorf("%s=%q (for --%s): %v", env, v, name, err)
		}
	}
	return nil
}
