package grade

import (
	"context"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
)

// TestGradeTusJavaScriptClient grades the project's JavaScript client in its tus mode (given,
// and found by OPTIONS with 'auto'), run under Node against the tus grading mock: no clause
// may fail, and none may be left unexercised.
func TestGradeTusJavaScriptClient(t *testing.T) {
	node, driver := jsDriverFiles(t)
	for _, protocol := range []string{"tus", "auto"} {
		t.Run(protocol, func(t *testing.T) {
			uploads := TusSchedule(40000, 1)
			paths, err := WriteFiles(t.TempDir(), uploads)
			if err != nil {
				t.Fatal(err)
			}
			g, err := StartTus(TusOptions{Uploads: uploads})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			runJSDriver(ctx, t, node, driver, g.CreationURL(), protocol, 1, paths)
			ev, err := g.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if g.Ended() != len(uploads) {
				t.Errorf("%d files ended, want %d", g.Ended(), len(uploads))
			}
			for _, r := range JudgeTus(ev, true) {
				if r.Verdict != result.Pass {
					t.Errorf("%s: %s %v %s", r.Clause.ID, r.Verdict, r.Findings, r.SkipReason)
				}
			}
		})
	}
}
