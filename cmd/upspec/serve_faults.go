package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/fakeserver"
)

// mockFlags are the flags of `upspec serve` for client authors: the scripted faults and the
// admin API (journal, sessions, files, faults, reset).
type mockFlags struct {
	faults      []string
	adminPrefix string
	journalSize int
}

// registerMockFlags adds --fault, --admin-prefix and --journal-entries to fs.
func registerMockFlags(fs *pflag.FlagSet, m *mockFlags) {
	fs.StringArrayVar(&m.faults, "fault", nil, "script a fault: `RULE` such as status=503,retry-after=2,times=2 or lost-reply,match=last (repeatable, consulted in order; see the README's fault syntax)")
	fs.StringVar(&m.adminPrefix, "admin-prefix", fakeserver.DefaultAdminPrefix, "URL `prefix` of the admin API (JSON: journal, sessions, files, faults, reset)")
	fs.IntVar(&m.journalSize, "journal-entries", fakeserver.DefaultJournalSize, "how many requests the journal keeps (`N`; the oldest are dropped and counted)")
}

// apply checks the flags and sets them in opts; path is the segment endpoint.
func (m *mockFlags) apply(opts *fakeserver.Options, path string) error {
	rules, err := m.check(path, fakeserver.DefaultFilePrefix)
	if err != nil {
		return err
	}
	opts.Faults, opts.AdminPrefix, opts.JournalSize = rules, m.adminPrefix, m.journalSize
	return nil
}

// check checks the flags against the endpoint's path and the files' prefix ("" for none)
// and returns the fault rules.
func (m *mockFlags) check(path, files string) ([]fakeserver.FaultRule, error) {
	p := m.adminPrefix
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) < 3 || strings.ContainsAny(p, " ?#") {
		return nil, serveUsagef("give a URL path that starts and ends with /, e.g. --admin-prefix /_upspec/", "invalid --admin-prefix %q", p)
	}
	if strings.HasPrefix(path+"/", p) || files != "" && (strings.HasPrefix(p, files) || strings.HasPrefix(files, p)) {
		return nil, serveUsagef("choose a prefix apart from --path and "+fakeserver.DefaultFilePrefix+", e.g. --admin-prefix /_upspec/",
			"invalid --admin-prefix %q: it would cover the segment endpoint or the files", p)
	}
	if m.journalSize < 1 {
		return nil, serveUsagef("give a positive number, e.g. --journal-entries 10000", "invalid --journal-entries %d", m.journalSize)
	}
	rules, err := fakeserver.ParseFaultRules(m.faults...)
	if err != nil {
		return nil, serveUsagef("see the fault syntax in the README, e.g. --fault status=503,retry-after=2,times=2", "--fault: %v", err)
	}
	return rules, nil
}

// text describes the admin API and the fault plan for the start-up message.
func (m *mockFlags) text(base string) string {
	s := fmt.Sprintf("admin API at %s%s (journal, sessions, files, faults, reset)", base, m.adminPrefix)
	switch n := len(m.faults); n {
	case 0:
		return s + "; no fault rules"
	case 1:
		return s + "; 1 fault rule"
	default:
		return fmt.Sprintf("%s; %d fault rules", s, n)
	}
}
