package fakeserver

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/upspec/upspec/ranges"
)

// segmentFor is a segment of a session, for the match tables.
type segmentFor struct {
	id                string
	start, end, total int64
}

func (s segmentFor) segment() ranges.Segment {
	return ranges.Segment{Start: s.start, End: s.end, Total: s.total}
}

// TestParseFaultRule: every key, its defaults and its checks.
func TestParseFaultRule(t *testing.T) {
	base := func(text string, a faultAction) FaultRule {
		return FaultRule{text: text, offset: -1, above: -1, times: 1, status: 500, action: a}
	}
	with := func(r FaultRule, f func(*FaultRule)) FaultRule { f(&r); return r }
	tests := []struct {
		in   string
		want FaultRule
	}{
		{"status=503", with(base("status=503", actStatus), func(r *FaultRule) { r.status = 503 })},
		{" status=503,retry-after=2,times=2,match=first ", with(base("status=503,retry-after=2,times=2,match=first", actStatus), func(r *FaultRule) {
			r.status, r.retryAfter, r.times, r.match = 503, "2", 2, matchFirst
		})},
		{"status=415,body=<h1>no%2C%20thanks</h1>,content-type=text/html", with(base("status=415,body=<h1>no%2C%20thanks</h1>,content-type=text/html", actStatus), func(r *FaultRule) {
			r.status, r.body, r.contentType = 415, []byte("<h1>no, thanks</h1>"), "text/html"
		})},
		{"status=413,early,body=", with(base("status=413,early,body=", actStatus), func(r *FaultRule) {
			r.status, r.early, r.body = 413, true, []byte{}
		})},
		{"keep=3", with(base("keep=3", actKeep), func(r *FaultRule) { r.n = 3 })},
		{"keep=1K,then=502,retry-after=0", with(base("keep=1K,then=502,retry-after=0", actKeep), func(r *FaultRule) {
			r.n, r.status, r.retryAfter = 1024, 502, "0"
		})},
		{"keep=10,then=reset", with(base("keep=10,then=reset", actKeep), func(r *FaultRule) { r.n, r.reset = 10, true })},
		{"reset-after=256K,session=abc", with(base("reset-after=256K,session=abc", actResetAfter), func(r *FaultRule) {
			r.n, r.session = 256<<10, "abc"
		})},
		{"stall=2s,after=1MiB", with(base("stall=2s,after=1MiB", actStall), func(r *FaultRule) { r.wait, r.n = 2*time.Second, 1<<20 })},
		{"stall=150ms", with(base("stall=150ms", actStall), func(r *FaultRule) { r.wait = 150 * time.Millisecond })},
		{"lost-reply,match=last", with(base("lost-reply,match=last", actLostReply), func(r *FaultRule) { r.match = matchLast })},
		{"delay=1.5s,times=always", with(base("delay=1.5s,times=always", actDelay), func(r *FaultRule) { r.wait, r.times = 1500*time.Millisecond, 0 })},
		{"forget,match=middle", with(base("forget,match=middle", actForget), func(r *FaultRule) { r.match = matchMiddle })},
		{"restart,offset=1M,plan=crash-1", with(base("restart,offset=1M,plan=crash-1", actRestart), func(r *FaultRule) {
			r.offset, r.plan = 1<<20, "crash-1"
		})},
		{"status=413,above=64K,early,times=always", with(base("status=413,above=64K,early,times=always", actStatus), func(r *FaultRule) {
			r.status, r.above, r.early, r.times = 413, 64<<10, true, 0
		})},
		{"STATUS=502,Match=ANY", with(base("STATUS=502,Match=ANY", actStatus), func(r *FaultRule) { r.status = 502 })},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFaultRule(tt.in)
			if err != nil {
				t.Fatalf("ParseFaultRule(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFaultRule(%q) =\n%+v, want\n%+v", tt.in, got, tt.want)
			}
			if got.String() != strings.TrimSpace(tt.in) {
				t.Errorf("String() = %q, want the rule as written", got.String())
			}
		})
	}
}

// TestParseFaultRuleErrors: a bad rule is one line that says what is wrong.
func TestParseFaultRuleErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty rule"},
		{"   ", "empty rule"},
		{"times=2", "no action"},
		{"status=503,,times=2", "an empty item"},
		{"status=503,", "an empty item"},
		{"status=503,lost-reply", "two actions, status and lost-reply"},
		{"status=503,status=502", "status is given twice"},
		{"status=99", "not a status from 200 to 599"},
		{"status=600", "not a status from 200 to 599"},
		{"status=abc", "not a status"},
		{"status", "status needs a value"},
		{"lost-reply=1", "lost-reply takes no value"},
		{"explode", `unknown key "explode"`},
		{"status=503,retry-after=-1", "retry-after"},
		{"status=503,retry-after=soon", "retry-after"},
		{"lost-reply,retry-after=2", "retry-after does not apply to lost-reply"},
		{"keep=2,then=reset,body=x", "body does not apply to keep"},
		{"delay=1s,early", "early does not apply to delay"},
		{"reset-after=1K,then=500", "then does not apply to reset-after"},
		{"delay=1s,after=10", "after does not apply to delay"},
		{"keep=1X", `unknown unit "X"`},
		{"keep=-1", "does not start with a number"},
		{"keep=3,then=oops", "not a status"},
		{"stall=0s", "not a duration above 0"},
		{"stall=11m", "at most 10m0s"},
		{"delay=fast", "not a duration"},
		{"status=503,match=second", "not any, first, middle or last"},
		{"status=503,session=a.b", "not a session ID"},
		{"status=503,times=0", "neither a count from 1 nor always"},
		{"status=503,times=x", "neither a count"},
		{"status=503,plan=a/b", "not a plan name"},
		{"status=503,content-type=text/html%0d%0aX:1", "control character"},
		{"status=503,body=%zz", "body"},
		{"status=503,offset=1Q", "offset"},
		{"status=503,above=big", "above"},
		{"status=503,above", "above needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseFaultRule(tt.in)
			if err == nil {
				t.Fatalf("ParseFaultRule(%q) succeeded", tt.in)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "fault rule ") || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("ParseFaultRule(%q): %q, want one line starting with \"fault rule\" containing %q", tt.in, msg, tt.want)
			}
		})
	}
	if _, err := ParseFaultRules("status=503", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ParseFaultRules with a bad second rule: %v", err)
	}
}

// TestFaultMatches: the match, session, offset and above conditions.
func TestFaultMatches(t *testing.T) {
	seg := func(s, e, total int64) segmentFor { return segmentFor{"s1", s, e, total} }
	tests := []struct {
		rule string
		seg  segmentFor
		want bool
	}{
		{"lost-reply", seg(0, 7, 24), true},
		{"lost-reply,match=first", seg(0, 7, 24), true},
		{"lost-reply,match=first", seg(8, 15, 24), false},
		{"lost-reply,match=middle", seg(8, 15, 24), true},
		{"lost-reply,match=middle", seg(0, 7, 24), false},
		{"lost-reply,match=middle", seg(16, 23, 24), false},
		{"lost-reply,match=last", seg(16, 23, 24), true},
		{"lost-reply,match=last", seg(0, 23, 24), true},
		{"lost-reply,match=first", seg(0, 23, 24), true},
		{"lost-reply,match=middle", seg(0, 23, 24), false},
		{"lost-reply,session=s1", seg(0, 7, 24), true},
		{"lost-reply,session=s2", seg(0, 7, 24), false},
		{"lost-reply,offset=8", seg(8, 15, 24), true},
		{"lost-reply,offset=15", seg(8, 15, 24), true},
		{"lost-reply,offset=16", seg(8, 15, 24), false},
		{"lost-reply,offset=7", seg(8, 15, 24), false},
		{"lost-reply,above=7", seg(8, 15, 24), true},
		{"lost-reply,above=8", seg(8, 15, 24), false},
		{"lost-reply,above=0", seg(0, 0, 24), true},
	}
	for _, tt := range tests {
		r, err := ParseFaultRule(tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.matches(tt.seg.id, tt.seg.segment()); got != tt.want {
			t.Errorf("%q matches %v: %v, want %v", tt.rule, tt.seg, got, tt.want)
		}
	}
}

// FuzzParseFaultRule: any input is a rule or a one-line error, never a panic; a rule parses
// again to itself.
func FuzzParseFaultRule(f *testing.F) {
	for _, s := range []string{
		"status=503,retry-after=2,times=2,match=first", "reset-after=256K,session=abc", "lost-reply,match=last",
		"keep=3,then=reset", "stall=1s,after=1K", "delay=10ms,times=always", "forget,offset=1M", "restart,plan=p",
		"status=415,body=%3Chtml%3E,content-type=text/html,early", ",,", "=", "status==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseFaultRule(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q spans lines", err)
			}
			return
		}
		if r.action == actNone {
			t.Fatalf("rule %q has no action", s)
		}
		again, err := ParseFaultRule(r.String())
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("rule %q does not parse again to itself: %+v, %v", s, again, err)
		}
	})
}
