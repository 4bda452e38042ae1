package scenarios

import (
	"bufio"
	"context"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/internal/wiretest"
	"github.com/upspec/upspec/scenarios/wire"
)

// reply is a scripted answer. close: drop the connection without a byte.
type reply struct {
	status  int
	headers []result.Header
	body    string
	close   bool
}

// created is a 201 with the list in the Range header and the body.
func created(list string) reply {
	return reply{status: 201, headers: []result.Header{{Name: "Range", Value: list}}, body: list}
}

var completed = reply{status: 200, headers: []result.Header{{Name: "Content-Type", Value: "text/plain"}}, body: "completed"}

// scriptServer answers each segment with the next reply scripted for its range value
// (`bytes S-E/T`), and GET requests with file(path).
type scriptServer struct {
	*wiretest.Server
	mu         sync.Mutex
	script     map[string][]reply
	file       func(path string) reply
	session    []string // session IDs seen
	noContinue bool     // never answer `Expect: 100-continue`
}

func newScriptServer(t *testing.T, script map[string][]reply) *scriptServer {
	return newScriptServerContinue(t, script, true)
}

// newScriptServerContinue is newScriptServer whose server answers `Expect: 100-continue`
// with 100 Continue only when continues is set.
func newScriptServerContinue(t *testing.T, script map[string][]reply, continues bool) *scriptServer {
	s := &scriptServer{script: script, noContinue: !continues}
	s.Server = wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		read := wiretest.ReadRequestContinue
		if s.noContinue {
			read = func(_ net.Conn, br *bufio.Reader, n int64) (*http.Request, []byte, error) {
				return wiretest.ReadRequest(br, n)
			}
		}
		req, _, err := read(c, bufio.NewReader(c), 1<<24)
		if err != nil {
			return
		}
		r := s.next(req)
		if r.close {
			return
		}
		wiretest.Respond(c, r.status, r.headers, r.body)
	})
	return s
}

func (s *scriptServer) next(req *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Method == http.MethodGet && s.file != nil {
		return s.file(req.URL.Path)
	}
	s.session = append(s.session, req.Header.Get("Session-ID"))
	key := req.Header.Get("X-Content-Range")
	q := s.script[key]
	if len(q) == 0 {
		return reply{status: 500, body: "unscripted " + key}
	}
	s.script[key] = q[1:]
	return q[0]
}

// runScenario runs steps against srv with the given clauses.
func runScenario(t *testing.T, srv *scriptServer, cfg Config, steps func(t *T)) Result {
	t.Helper()
	cfg.Target = srv.URL
	cfg.RunID = "test"
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = wiretest.Roomy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wiretest.Roomy)
	defer cancel()
	return Run(ctx, cfg, Scenario{ID: "XX-01", Title: "model", Family: "test",
		Clauses: []string{"ack.list-exact", "ack.list-canonical"}, Run: steps})
}

func findingClauses(r Result) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Clause)
	}
	return ids
}

func TestModelChecksRangeLists(t *testing.T) {
	type seg struct {
		start, end int64
		opts       []SendOption
	}
	send := func(segs ...seg) func(t *T) {
		return func(t *T) {
			s := t.NewSession("f.bin", 24)
			for _, g := range segs {
				s.Send(g.start, g.end, g.opts...)
			}
		}
	}
	tests := []struct {
		name    string
		script  map[string][]reply
		cfg     Config
		steps   func(t *T)
		want    result.Verdict
		clauses []string // clauses of the findings, in order
		msgHas  []string
		noteHas string
	}{
		{name: "exact lists and a completion",
			script: map[string][]reply{
				"bytes 0-5/24":   {created("0-5/24")},
				"bytes 9-15/24":  {created("0-5/24,9-15/24")},
				"bytes 6-8/24":   {created("0-15/24")},
				"bytes 16-23/24": {completed},
			},
			steps: send(seg{0, 5, nil}, seg{9, 15, nil}, seg{6, 8, nil}, seg{16, 23, nil}),
			want:  result.Pass, noteHas: "module form"},
		{name: "a range missing",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5/24")}, "bytes 9-15/24": {created("9-15/24")}},
			steps:  send(seg{0, 5, nil}, seg{9, 15, nil}),
			want:   result.Fail, clauses: []string{"ack.list-exact", "ack.durable"},
			msgHas: []string{"missing 0-5", "Expected: 0-5/24,9-15/24", "Got: 9-15/24", "Step: segment 9-15/24"}},
		{name: "a range never sent",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5/24,10-12/24")}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.list-exact"}, msgHas: []string{"listed but never sent 10-12"}},
		{name: "wrong order",
			script: map[string][]reply{"bytes 9-15/24": {created("9-15/24")}, "bytes 0-5/24": {created("9-15/24,0-5/24")}},
			steps:  send(seg{9, 15, nil}, seg{0, 5, nil}),
			want:   result.NonStrict, clauses: []string{"ack.list-canonical"}, msgHas: []string{`Expected: "0-5/24,9-15/24"`}},
		{name: "adjacent ranges not merged",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5/24")}, "bytes 6-8/24": {created("0-5/24,6-8/24")}},
			steps:  send(seg{0, 5, nil}, seg{6, 8, nil}),
			want:   result.NonStrict, clauses: []string{"ack.list-canonical"}},
		{name: "compact form",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5/24")}, "bytes 9-15/24": {created("0-5,9-15/24")}},
			steps:  send(seg{0, 5, nil}, seg{9, 15, nil}),
			want:   result.Pass, noteHas: "compact form"},
		{name: "body differs from the header",
			script: map[string][]reply{"bytes 0-5/24": {{status: 201, headers: []result.Header{{Name: "Range", Value: "0-5/24"}}, body: "0-4/24"}}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.body-equals-header"}},
		{name: "trailing whitespace in the body",
			script: map[string][]reply{"bytes 0-5/24": {{status: 201, headers: []result.Header{{Name: "Range", Value: "0-5/24"}}, body: "0-5/24 "}}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Pass, noteHas: "followed by whitespace"},
		{name: "no Range header",
			script: map[string][]reply{"bytes 0-5/24": {{status: 201, body: "0-5/24"}}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.range-header"}},
		{name: "unparsable list",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5")}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.range-header"}},
		{name: "another total",
			script: map[string][]reply{"bytes 0-5/24": {created("0-5/25")}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.list-exact"}, msgHas: []string{"total 25"}},
		{name: "false success",
			script: map[string][]reply{"bytes 0-5/24": {completed}},
			steps:  send(seg{0, 5, nil}),
			want:   result.Fail, clauses: []string{"ack.final-only-when-complete"}, msgHas: []string{"bytes 6-23 of 24 never received", "200 OK"}},
		{name: "a 201 that lists the whole file",
			script: map[string][]reply{"bytes 0-23/24": {created("0-23/24")}},
			steps:  send(seg{0, 23, nil}),
			want:   result.Fail, clauses: []string{"ack.final-is-backend-answer"}},
		{name: "final answer not the backend's",
			script: map[string][]reply{"bytes 0-23/24": {{status: 204}}},
			cfg:    Config{FinalStatus: 200, FinalBody: "completed"},
			steps:  send(seg{0, 23, nil}),
			want:   result.Fail, clauses: []string{"ack.final-is-backend-answer"}, msgHas: []string{"status 200"}},
		{name: "final body with a newline matches",
			script: map[string][]reply{"bytes 0-23/24": {{status: 200, body: "completed\n"}}},
			cfg:    Config{FinalStatus: 200, FinalBody: "completed"},
			steps:  send(seg{0, 23, nil}),
			want:   result.Pass},
		{name: "a 201 after the completion",
			script: map[string][]reply{"bytes 0-23/24": {completed, created("0-23/24")}},
			steps:  send(seg{0, 23, nil}, seg{0, 23, nil}),
			want:   result.NonStrict, clauses: []string{"rob.completion-idempotent"}},
		{name: "a rejected segment must not be listed",
			script: map[string][]reply{"bytes 0-5/24": {{status: 409, body: "conflict\n"}}, "bytes 9-15/24": {created("0-5/24,9-15/24")}},
			steps:  send(seg{0, 5, nil}, seg{9, 15, nil}),
			want:   result.Fail, clauses: []string{"ack.list-exact"}, msgHas: []string{"listed but only sent in rejected or interrupted segments 0-5"}},
		{name: "a lost answer may or may not be listed",
			script: map[string][]reply{"bytes 0-5/24": {{close: true}, {close: true}}, "bytes 9-15/24": {created("0-5/24,9-15/24"), created("9-15/24")}},
			steps: func(t *T) {
				for range 2 {
					s := t.NewSession("f.bin", 24)
					s.Send(0, 5)
					s.Send(9, 15)
				}
			},
			want: result.Pass},
		{name: "an interrupted segment must not be listed",
			script: map[string][]reply{"bytes 9-15/24": {created("0-5/24,9-15/24")}},
			steps:  send(seg{0, 5, []SendOption{InterruptAfter(3)}}, seg{9, 15, nil}),
			want:   result.Fail, clauses: []string{"ack.list-exact"}, msgHas: []string{"interrupted segments 0-5"}},
		{name: "a malformed segment accepted may be listed",
			script: map[string][]reply{"bytes  0-5/24": {created("0-5/24")}},
			steps:  send(seg{0, 5, []SendOption{RangeValue("bytes  0-5/24")}}),
			want:   result.Pass},
		{name: "unchecked answers are not judged",
			script: map[string][]reply{"bytes 0-5/24": {created("garbage")}},
			steps:  send(seg{0, 5, []SendOption{Unchecked()}}),
			want:   result.Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, tc.script)
			r := runScenario(t, srv, tc.cfg, tc.steps)
			if r.Verdict != tc.want || !slices.Equal(findingClauses(r), tc.clauses) {
				t.Fatalf("verdict %s, findings %v; want %s, %v\n%s", r.Verdict, findingClauses(r), tc.want, tc.clauses, r.Message())
			}
			for _, m := range tc.msgHas {
				if !strings.Contains(r.Message(), m) {
					t.Errorf("message lacks %q:\n%s", m, r.Message())
				}
			}
			if tc.noteHas != "" && !strings.Contains(strings.Join(r.Notes, "\n"), tc.noteHas) {
				t.Errorf("notes lack %q: %q", tc.noteHas, r.Notes)
			}
			if len(r.Exchanges) == 0 {
				t.Error("no exchanges recorded")
			}
		})
	}
}

func TestModelConcurrentSegments(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		script  map[string][]reply
		want    result.Verdict
		clauses []string
	}{
		{"disjoint, the last one completes", 24, map[string][]reply{
			"bytes 12-23/24": {created("12-23/24")}, "bytes 0-11/24": {completed}}, result.Pass, nil},
		{"B lists A, still in flight", 36, map[string][]reply{
			"bytes 12-23/36": {created("0-23/36")}, "bytes 0-11/36": {created("0-23/36")}}, result.Pass, nil},
		{"B completes while A is held mid-body", 24, map[string][]reply{
			"bytes 12-23/24": {completed}, "bytes 0-11/24": {created("0-23/24")}}, result.Fail,
			[]string{"ack.final-only-when-complete", "ack.final-is-backend-answer"}},
	}
	for _, tc := range tests {
		for _, continues := range []bool{true, false} {
			name := tc.name
			if !continues {
				name += ", no 100 Continue"
			}
			t.Run(name, func(t *testing.T) {
				testConcurrentSegments(t, tc.script, tc.total, tc.want, tc.clauses, continues)
			})
		}
	}
}

// testConcurrentSegments runs a paused A and a B against a script; continues says whether
// the server answers A's `Expect: 100-continue`. Without it, the verdict is the same, and the
// result says that A was taken to be in flight after a bounded wait.
func testConcurrentSegments(t *testing.T, script map[string][]reply, total int64, want result.Verdict, clauses []string, continues bool) {
	srv := newScriptServerContinue(t, maps.Clone(script), continues)
	cfg := Config{}
	if !continues {
		cfg.RequestTimeout = 5 * time.Second // a wait for 100 Continue of one second
	}
	completions := -1
	r := runScenario(t, srv, cfg, func(t *T) {
		s := t.NewSession("f.bin", total)
		a := s.Start(0, 11, PauseAfter(4), Step("segment A"))
		if !a.WaitPaused() {
			t.Fatal("A did not pause")
		}
		s.Send(12, 23, Step("segment B"))
		a.Wait()
		completions = s.Completions()
	})
	if r.Verdict != want || !slices.Equal(findingClauses(r), clauses) {
		t.Fatalf("verdict %s, findings %v; want %s, %v\n%s", r.Verdict, findingClauses(r), want, clauses, r.Message())
	}
	if want == result.Pass && total == 24 && completions != 1 {
		t.Errorf("completions = %d, want 1", completions)
	}
	if len(r.Exchanges) != 2 || r.Exchanges[0].Step != "segment B" {
		t.Fatalf("exchanges %+v", r.Exchanges)
	}
	wantBy := result.InFlightByContinue
	if !continues {
		wantBy = result.InFlightByWait
	}
	if by := r.Exchanges[1].Request.InFlightBy; by != wantBy {
		t.Errorf("A in flight by %q, want %q", by, wantBy)
	}
	if noted := strings.Contains(strings.Join(r.Notes, "\n"), "no 100 Continue"); noted == continues {
		t.Errorf("notes %q: a note on the bounded wait = %v, want %v", r.Notes, noted, !continues)
	}
	for _, f := range r.Findings {
		if caveat := strings.Contains(f.Message, "In flight by a bounded wait"); caveat == continues {
			t.Errorf("finding %q: the caveat of the bounded wait = %v, want %v", f.Message, caveat, !continues)
		}
	}
}

func TestSessionHeadersAndIDs(t *testing.T) {
	got := make(chan []result.Header, 4)
	srv := wiretest.NewServer(t, func(c net.Conn, _ <-chan struct{}) {
		req, _, err := wiretest.ReadRequest(bufio.NewReader(c), 1<<20)
		if err != nil {
			return
		}
		var hs []result.Header
		for name, vs := range req.Header {
			hs = append(hs, result.Header{Name: name, Value: vs[0]})
		}
		got <- hs
		wiretest.Respond(c, 400, nil, "bad\n")
	})
	var ids []string
	r := Run(context.Background(), Config{Target: srv.URL, RunID: "run_1", RequestTimeout: wiretest.Roomy},
		Scenario{ID: "HD-01", Clauses: []string{"enc.header-aliases"}, Run: func(t *T) {
			s1, s2 := t.NewSession("a.bin", 10), t.NewSession("b.bin", 10)
			ids = []string{s1.ID, s2.ID}
			s1.Send(0, 1, RangeHeader("content-range"), SessionHeader("X-SESSION-ID"), Omit("Content-Type"), Extra("X-Extra", "1"))
		}})
	if len(ids) != 2 || ids[0] != "run_1-HD-01-1" || ids[1] != "run_1-HD-01-2" {
		t.Errorf("session IDs %v", ids)
	}
	req := r.Exchanges[0].Request
	names := make([]string, len(req.Headers))
	for i, h := range req.Headers {
		names[i] = h.Name
	}
	want := []string{"Host", "content-range", "X-SESSION-ID", "Content-Disposition", "X-Extra", "Content-Length", "Connection"}
	if !slices.Equal(names, want) {
		t.Errorf("headers written %v, want %v", names, want)
	}
	if req.Headers[1].Value != "bytes 0-1/10" || req.Headers[3].Value != `attachment; filename="a.bin"` || req.BodyHead != "HI" {
		t.Errorf("request %+v", req)
	}
	<-got
}

func TestExpectHelpers(t *testing.T) {
	tests := []struct {
		name    string
		r       reply
		check   func(t *T, s *Session, a Answer) bool
		ok      bool
		clauses []string
	}{
		{"4xx with a reason", reply{status: 400, body: "malformed range\n"},
			func(t *T, _ *Session, a Answer) bool { return t.ExpectClientError(a, "") }, true, nil},
		{"4xx without a reason", reply{status: 400},
			func(t *T, _ *Session, a Answer) bool { return t.ExpectClientError(a, "") }, false, []string{"rob.malformed-4xx"}},
		{"closed instead of a 4xx", reply{close: true},
			func(t *T, _ *Session, a Answer) bool { return t.ExpectClientError(a, "") && !a.NoResponse() }, false, []string{"rob.malformed-4xx"}},
		{"no response", reply{close: true},
			func(_ *T, _ *Session, a Answer) bool { return a.NoResponse() && !a.Answered() }, true, nil},
		{"accepted", created("0-5/24"),
			func(_ *T, s *Session, a Answer) bool { return s.ExpectAccepted(a, "") }, true, nil},
		{"not accepted", reply{status: 409, body: "conflict\n"},
			func(_ *T, s *Session, a Answer) bool { return s.ExpectAccepted(a, "") }, false, []string{"ack.201-while-incomplete"}},
		{"status", reply{status: 413, body: "too big\n"},
			func(t *T, _ *Session, a Answer) bool { return t.ExpectStatus(a, "enc.body-matches-range", 416, 400) }, false, []string{"enc.body-matches-range"}},
		{"not completed", created("0-5/24"),
			func(_ *T, s *Session, _ Answer) bool { return s.ExpectCompleted("") }, false, []string{"ack.final-is-backend-answer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, map[string][]reply{"bytes 0-5/24": {tc.r}})
			var ok bool
			r := runScenario(t, srv, Config{}, func(t *T) {
				s := t.NewSession("f.bin", 24)
				ok = tc.check(t, s, s.Send(0, 5))
			})
			if ok != tc.ok || !slices.Equal(findingClauses(r), tc.clauses) {
				t.Fatalf("ok %v, findings %v; want %v, %v\n%s", ok, findingClauses(r), tc.ok, tc.clauses, r.Message())
			}
		})
	}
}

func TestCheckStoredBytes(t *testing.T) {
	tests := []struct {
		name    string
		file    func(p wire.Pattern) reply
		fileURL bool
		ok      bool
		msgHas  string
	}{
		{"identical", func(p wire.Pattern) reply { return reply{status: 200, body: string(p.Bytes(0, 24))} }, true, true, ""},
		{"a hole", func(p wire.Pattern) reply {
			b := p.Bytes(0, 24)
			copy(b[6:9], "\x00\x00\x00")
			return reply{status: 200, body: string(b)}
		}, true, false, "3 bytes differ, in 6-8"},
		{"short", func(p wire.Pattern) reply { return reply{status: 200, body: string(p.Bytes(0, 20))} }, true, false, "20 bytes instead of 24"},
		{"not found", func(wire.Pattern) reply { return reply{status: 404, body: "no\n"} }, true, false, "404 Not Found"},
		{"no file URL", nil, false, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, map[string][]reply{"bytes 0-23/24": {completed}})
			var ok bool
			var pattern wire.Pattern
			srv.file = func(path string) reply {
				if path != "/file/f%20x.bin" && path != "/file/f x.bin" {
					return reply{status: 500, body: "path " + path}
				}
				return tc.file(pattern)
			}
			cfg := Config{}
			if tc.fileURL {
				cfg.FileURL = (&url.URL{Scheme: "http", Host: srv.URL.Host}).String() + "/file/{name}"
			}
			r := runScenario(t, srv, cfg, func(t *T) {
				s := t.NewSession("f x.bin", 24)
				pattern = s.Pattern
				s.Send(0, 23)
				ok = s.CheckStoredBytes()
			})
			if ok != tc.ok || (tc.msgHas != "") != (len(r.Findings) > 0) || !strings.Contains(r.Message(), tc.msgHas) {
				t.Fatalf("ok %v, verdict %s: %s", ok, r.Verdict, r.Message())
			}
			if !tc.fileURL && !strings.Contains(strings.Join(r.Notes, "\n"), "no file URL") {
				t.Errorf("notes %q", r.Notes)
			}
		})
	}
}
