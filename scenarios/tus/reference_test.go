package tus_test

import (
	"net/url"
	"testing"

	fstus "github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/tus"
)

// TestReferenceTusPassesAll: the reference tus server (fakeserver/tus) passes every tus
// scenario, none skipped: it announces every extension, and a Tus-Max-Size when given one.
func TestReferenceTusPassesAll(t *testing.T) {
	srv, err := fstus.NewServer(fstus.Options{MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	target, err := url.Parse(srv.CreationURL())
	if err != nil {
		t.Fatal(err)
	}
	res := runAll(t, target)
	for _, s := range tus.All() {
		r := res[s.ID]
		checkDeclared(t, s, r)
		if r.Verdict != result.Pass {
			t.Errorf("%s against the reference tus server: %s\n%s", s.ID, r.Verdict, r.Message())
		}
	}
}
