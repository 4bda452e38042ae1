package fakeserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/internal/bytesize"
	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

// FaultPlanHeader is the request header that names the fault plan whose rules apply to a
// segment (rules given with plan=NAME); without it, the rules without a plan apply.
const FaultPlanHeader = "Upspec-Fault-Plan"

// Bounds of fault rules.
const (
	// MaxFaultWait bounds the duration of a stall or a delay.
	MaxFaultWait = 10 * time.Minute
	// maxFaultBody bounds the body of a status answer.
	maxFaultBody = 64 << 10
	// maxPlanName bounds the name of a plan.
	maxPlanName = 64
)

// faultAction is what a rule does.
type faultAction int

const (
	actNone       faultAction = iota
	actStatus                 // status=CODE: answer CODE instead of storing
	actKeep                   // keep=K: acknowledge the first K bytes, then fail or reset
	actResetAfter             // reset-after=K: reset the connection after K body bytes
	actStall                  // stall=D: stop reading for D after K body bytes
	actLostReply              // lost-reply: store, acknowledge, then drop the connection
	actDelay                  // delay=D: wait D before the answer
	actForget                 // forget: lose the session before the segment
	actRestart                // restart: lose every session in memory before the segment
)

// faultMatch is which segments of a file a rule matches.
type faultMatch int

const (
	matchAny    faultMatch = iota
	matchFirst             // the segment starts at byte 0
	matchMiddle            // neither the first nor the last
	matchLast              // the segment ends at the file's last byte
)

// FaultRule is one rule of a fault plan: which segments it matches, what it does to them and
// how many times it fires. It is written in one line (ParseFaultRule); the README lists the
// keys. The zero value is not a rule.
type FaultRule struct {
	text string // as written, trimmed

	plan    string
	match   faultMatch
	session string
	offset  int64 // the segment holds this byte of the file; -1: any segment
	above   int64 // the segment is longer than this many bytes; -1: any length
	times   int   // 0: every time

	action      faultAction
	status      int           // status; keep with then=CODE (then)
	retryAfter  string        // status, keep
	body        []byte        // status, keep; nil: a one-line reason
	contentType string        // status, keep
	early       bool          // status: answer before reading the body
	n           int64         // keep: bytes kept; reset-after, stall: body bytes read first
	reset       bool          // keep: reset instead of answering status
	wait        time.Duration // stall, delay
}

// String returns the rule as written.
func (r FaultRule) String() string { return r.text }

// Plan returns the name of the plan the rule belongs to; "" for the default plan.
func (r FaultRule) Plan() string { return r.plan }

// ParseFaultRules parses each rule of a plan; the error names the first bad one.
func ParseFaultRules(rules ...string) ([]FaultRule, error) {
	out := make([]FaultRule, 0, len(rules))
	for _, s := range rules {
		r, err := ParseFaultRule(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// MustParseFaultRules is ParseFaultRules for rules known to be good (tests, constants): it
// panics on a bad rule.
func MustParseFaultRules(rules ...string) []FaultRule {
	rs, err := ParseFaultRules(rules...)
	if err != nil {
		panic(err)
	}
	return rs
}

// ParseFaultRule reads one rule: comma-separated items, each KEY=VALUE or a bare KEY, exactly
// one of which is an action:
//
//	status=CODE      answer CODE (200-599) instead of storing the segment (its body is read
//	                 and discarded first); with retry-after=SECONDS, body=TEXT (percent-
//	                 decoded, so %2C is a comma), content-type=TYPE, early (answer before
//	                 reading the body)
//	keep=SIZE        store and acknowledge only the first SIZE bytes of the segment, then
//	                 answer then=CODE (default 500) or then=reset
//	reset-after=SIZE reset the connection after SIZE body bytes; nothing is acknowledged
//	stall=DURATION   stop reading the body for DURATION after after=SIZE bytes (default 0)
//	lost-reply       store and acknowledge the segment, then close the connection unanswered
//	delay=DURATION   wait DURATION before answering
//	forget           forget the session (memory and incomplete bytes) before the segment
//	restart          lose every session in memory before the segment, as a restart does
//
// and the match and count: match=any|first|middle|last, session=ID, offset=SIZE (the segment
// holds that byte of the file), above=SIZE (the segment is longer than SIZE bytes), times=N|always (default 1), plan=NAME (used only by requests
// whose FaultPlanHeader names it). Sizes take the suffixes K, M, G, T, KiB..., KB...;
// durations are Go durations (1.5s, 200ms), at most MaxFaultWait.
func ParseFaultRule(s string) (FaultRule, error) {
	text := strings.TrimSpace(s)
	r := FaultRule{text: text, offset: -1, above: -1, times: 1, status: http.StatusInternalServerError}
	bad := func(format string, args ...any) (FaultRule, error) {
		return FaultRule{}, fmt.Errorf("fault rule %q: %s", clipRule(text), fmt.Sprintf(format, args...))
	}
	if text == "" {
		return bad("empty rule")
	}
	seen := map[string]bool{}
	action := ""
	for _, item := range strings.Split(text, ",") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(item), "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if key == "" {
			return bad("an empty item (two commas, or a comma at an end)")
		}
		if seen[key] {
			return bad("%s is given twice", key)
		}
		seen[key] = true
		flag := key == "lost-reply" || key == "forget" || key == "restart" || key == "early"
		switch {
		case !isFaultKey(key):
			return bad("unknown key %q (want status, keep, reset-after, stall, lost-reply, delay, forget, restart; retry-after, body, content-type, early, then, after; match, session, offset, above, times, plan)", key)
		case flag && hasVal:
			return bad("%s takes no value", key)
		case !flag && val == "" && key != "body":
			return bad("%s needs a value (%s=...)", key, key)
		}
		if a := faultActionOf(key); a != actNone {
			if action != "" {
				return bad("two actions, %s and %s: give one per rule", action, key)
			}
			action, r.action = key, a
		}
		var err error
		switch key {
		case "status":
			r.status, err = parseFaultStatus(val)
		case "keep", "reset-after", "after":
			r.n, err = bytesize.Parse(val)
		case "stall", "delay":
			r.wait, err = parseFaultWait(val)
		case "retry-after":
			if n, perr := strconv.Atoi(val); perr != nil || n < 0 || n > 86400 {
				err = fmt.Errorf("%q is not a number of seconds from 0 to 86400", val)
			}
			r.retryAfter = val
		case "body":
			var b string
			if b, err = url.PathUnescape(val); err == nil && len(b) > maxFaultBody {
				err = fmt.Errorf("longer than %d bytes", maxFaultBody)
			}
			r.body = []byte(b)
		case "content-type":
			if r.contentType, err = url.PathUnescape(val); err == nil && strings.ContainsFunc(r.contentType, isControl) {
				err = errors.New("a control character")
			}
		case "early":
			r.early = true
		case "then":
			if strings.EqualFold(val, "reset") {
				r.reset = true
			} else {
				r.status, err = parseFaultStatus(val)
			}
		case "match":
			r.match, err = parseFaultMatch(val)
		case "session":
			if !protocol.ValidSessionID(val) {
				err = fmt.Errorf("%q is not a session ID ([A-Za-z0-9_-]{1,%d})", val, protocol.MaxSessionIDLen)
			}
			r.session = val
		case "offset":
			r.offset, err = bytesize.Parse(val)
		case "above":
			r.above, err = bytesize.Parse(val)
		case "times":
			if strings.EqualFold(val, "always") {
				r.times = 0
			} else if r.times, err = strconv.Atoi(val); err != nil || r.times < 1 {
				err = fmt.Errorf("%q is neither a count from 1 nor always", val)
			}
		case "plan":
			if !validPlanName(val) {
				err = fmt.Errorf("%q is not a plan name ([A-Za-z0-9_-]{1,%d})", val, maxPlanName)
			}
			r.plan = val
		}
		if err != nil {
			return bad("%s: %v", key, err)
		}
	}
	if r.action == actNone {
		return bad("no action (give one of status=CODE, keep=SIZE, reset-after=SIZE, stall=DURATION, lost-reply, delay=DURATION, forget, restart)")
	}
	answers := r.action == actStatus || r.action == actKeep && !r.reset
	for _, m := range []struct {
		key string
		ok  bool
	}{
		{"retry-after", answers}, {"body", answers}, {"content-type", answers},
		{"early", r.action == actStatus}, {"then", r.action == actKeep}, {"after", r.action == actStall},
	} {
		if seen[m.key] && !m.ok {
			return bad("%s does not apply to %s", m.key, action)
		}
	}
	return r, nil
}

func isFaultKey(k string) bool {
	switch k {
	case "status", "keep", "reset-after", "stall", "lost-reply", "delay", "forget", "restart",
		"retry-after", "body", "content-type", "early", "then", "after",
		"match", "session", "offset", "above", "times", "plan":
		return true
	}
	return false
}

func faultActionOf(k string) faultAction {
	switch k {
	case "status":
		return actStatus
	case "keep":
		return actKeep
	case "reset-after":
		return actResetAfter
	case "stall":
		return actStall
	case "lost-reply":
		return actLostReply
	case "delay":
		return actDelay
	case "forget":
		return actForget
	case "restart":
		return actRestart
	}
	return actNone
}

func parseFaultStatus(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 200 || n > 599 {
		return 0, fmt.Errorf("%q is not a status from 200 to 599", v)
	}
	return n, nil
}

func parseFaultWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > MaxFaultWait {
		return 0, fmt.Errorf("%q is not a duration above 0 and at most %v (e.g. 2s, 500ms)", v, MaxFaultWait)
	}
	return d, nil
}

func parseFaultMatch(v string) (faultMatch, error) {
	switch strings.ToLower(v) {
	case "any":
		return matchAny, nil
	case "first":
		return matchFirst, nil
	case "middle":
		return matchMiddle, nil
	case "last":
		return matchLast, nil
	}
	return 0, fmt.Errorf("%q is not any, first, middle or last", v)
}

func validPlanName(s string) bool {
	if len(s) == 0 || len(s) > maxPlanName {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// clipRule keeps an error message about a long rule short.
func clipRule(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// matches reports whether the rule applies to segment seg of session id.
func (r *FaultRule) matches(id string, seg ranges.Segment) bool {
	if r.session != "" && r.session != id {
		return false
	}
	if r.offset >= 0 && (r.offset < seg.Start || r.offset > seg.End) {
		return false
	}
	if r.above >= 0 && seg.Len() <= r.above {
		return false
	}
	first, last := seg.Start == 0, seg.End == seg.Total-1
	switch r.match {
	case matchFirst:
		return first
	case matchMiddle:
		return !first && !last
	case matchLast:
		return last
	}
	return true
}

// FaultStatus is a rule of the fault plan with how often it fired.
type FaultStatus struct {
	Rule  string `json:"rule"`           // as written
	Plan  string `json:"plan,omitempty"` // "" for the default plan
	Times int    `json:"times"`          // how many times it fires; 0: every time it matches
	Fired int    `json:"fired"`          // how many times it fired
}

// FaultEffect is what a rule does, for a server that applies the rules itself (the
// reference tus server): Action is the rule's action key ("status", "keep", "reset-after",
// "stall", "lost-reply", "delay", "forget", "restart") and the other fields its parameters.
type FaultEffect struct {
	Action      string
	Status      int           // status; keep: the answer after the kept bytes (then=CODE)
	RetryAfter  string        // status, keep: Retry-After; "" for none
	Body        []byte        // status, keep: the body; nil: a one-line reason
	ContentType string        // status, keep: the Content-Type; "" for text/plain
	Early       bool          // status: answer before reading the body
	N           int64         // keep: bytes kept; reset-after, stall: body bytes read first
	Reset       bool          // keep: reset the connection instead of answering (then=reset)
	Wait        time.Duration // stall, delay
}

// Effect returns what the rule does.
func (r FaultRule) Effect() FaultEffect {
	names := map[faultAction]string{actStatus: "status", actKeep: "keep", actResetAfter: "reset-after", actStall: "stall",
		actLostReply: "lost-reply", actDelay: "delay", actForget: "forget", actRestart: "restart"}
	return FaultEffect{Action: names[r.action], Status: r.status, RetryAfter: r.retryAfter, Body: r.body,
		ContentType: r.contentType, Early: r.early, N: r.n, Reset: r.reset, Wait: r.wait}
}

// ErrNoFaultPlan is the error of FaultPlan.Pick for a request that names a plan without rules.
var ErrNoFaultPlan = errors.New("no fault plan of that name")

// FaultPlan is the scripted faults of a server, independent of its protocol: the rules and
// how often each fired. Its rules change at run time (admin API); it is safe for concurrent
// use.
type FaultPlan struct {
	mu         sync.Mutex
	configured []FaultRule // restored by Reset
	rules      []*faultState
}

// faultState is a rule in the plan and its count.
type faultState struct {
	rule  FaultRule
	fired int
}

// NewFaultPlan returns the plan of rules, none fired.
func NewFaultPlan(rules []FaultRule) *FaultPlan {
	p := &FaultPlan{configured: slices.Clone(rules)}
	p.Reset()
	return p
}

// Reset makes the plan the rules it was made with, none fired.
func (p *FaultPlan) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
	for _, r := range p.configured {
		p.rules = append(p.rules, &faultState{rule: r})
	}
}

// Add appends rules to the plan.
func (p *FaultPlan) Add(rules []FaultRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		if r.action != actNone {
			p.rules = append(p.rules, &faultState{rule: r})
		}
	}
}

// Clear removes the rules of plan ("*": every plan) and returns how many.
func (p *FaultPlan) Clear(plan string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.rules)
	p.rules = slices.DeleteFunc(p.rules, func(st *faultState) bool { return plan == "*" || st.rule.plan == plan })
	return n - len(p.rules)
}

// Status returns the rules with their counts.
func (p *FaultPlan) Status() []FaultStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]FaultStatus, 0, len(p.rules))
	for _, st := range p.rules {
		out = append(out, FaultStatus{Rule: st.rule.text, Plan: st.rule.plan, Times: st.rule.times, Fired: st.fired})
	}
	return out
}

// Pick fires the first rule of plan ("" for the rules without a plan) that matches segment
// seg of session and has not fired all its times, and returns it; ok is false when none
// fires. A plan name without rules is ErrNoFaultPlan.
func (p *FaultPlan) Pick(plan, session string, seg ranges.Segment) (r FaultRule, ok bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	known := false
	for _, st := range p.rules {
		if st.rule.plan != plan {
			continue
		}
		known = true
		if (st.rule.times == 0 || st.fired < st.rule.times) && st.rule.matches(session, seg) {
			st.fired++
			return st.rule, true, nil
		}
	}
	if !known && plan != "" {
		return FaultRule{}, false, ErrNoFaultPlan
	}
	return FaultRule{}, false, nil
}

// faultPlans is the scripted faults of a handler: the deviation installed last, so that it
// sees (and may override) what the quirks decided.
type faultPlans struct {
	*FaultPlan
	h *handler
}

// firing is the rule that fired for a request, with what its action did so far.
type firing struct {
	rule    FaultRule
	stalled bool // the stall happened
}

// faultKey keys the firing of a request (exchange.value).
type faultKey struct{}

func newFaultPlans(h *handler, rules []FaultRule) *faultPlans {
	return &faultPlans{FaultPlan: NewFaultPlan(rules), h: h}
}

// pick is Pick as the handler's failure.
func (p *faultPlans) pick(plan, id string, seg ranges.Segment) (*firing, *failure) {
	r, ok, err := p.Pick(plan, id, seg)
	switch {
	case err != nil:
		return nil, fail(kindDeviation, http.StatusBadRequest, fmt.Sprintf("no fault plan named %s (header %s)", quoteValue(plan), FaultPlanHeader))
	case !ok:
		return nil, nil
	}
	return &firing{rule: r}, nil
}

// firedRule returns the rule that fired for x, as written; "" when none did.
func firedRule(x *exchange) string {
	if f := firingOf(x); f != nil {
		return f.rule.text
	}
	return ""
}

func firingOf(x *exchange) *firing {
	f, _ := x.value(faultKey{}).(*firing)
	return f
}

// errFaultReset is the body error of a reset-after rule.
var errFaultReset = errors.New("the fault plan resets the connection")

func (p *faultPlans) name() string { return "fault" }

// install places each action at the decision point it needs: the match, forget and restart
// when the headers are read; what is written (status, keep) at overlap; what is acknowledged
// (status, keep, reset-after) at commit; the body's reader (reset-after, stall) at body; and
// the answer (status, keep, reset-after, lost-reply, delay, stall) at respond.
func (p *faultPlans) install(b *behavior, h *handler) {
	name := p.name()

	headers := b.headers
	b.headers = func(x *exchange) (segmentHeaders, *failure) {
		hd, f := headers(x)
		if f != nil {
			return hd, f
		}
		fr, f := p.pick(strings.TrimSpace(x.r.Header.Get(FaultPlanHeader)), hd.session, hd.seg)
		if f != nil || fr == nil {
			return hd, f
		}
		x.setValue(faultKey{}, fr)
		x.by(name)
		switch fr.rule.action {
		case actForget:
			h.forgetSession(hd.session)
		case actRestart:
			h.restart()
		case actStatus:
			if fr.rule.early {
				return hd, fail(kindDeviation, fr.rule.status, "")
			}
		}
		return hd, nil
	}

	overlap := b.overlap
	b.overlap = func(x *exchange, s *session, r ranges.Range) ([]ranges.Range, *failure) {
		gaps, f := overlap(x, s, r)
		fr := firingOf(x)
		if f != nil || fr == nil {
			return gaps, f
		}
		switch fr.rule.action {
		case actStatus, actResetAfter:
			return nil, nil // read, but write nothing
		case actKeep:
			return clipGaps(gaps, r.Start+fr.rule.n-1), nil
		}
		return gaps, nil
	}

	commit := b.commit
	b.commit = func(x *exchange, s *session, seg ranges.Segment, written bool) (string, bool, *failure) {
		fr := firingOf(x)
		if fr == nil {
			return commit(x, s, seg, written)
		}
		switch fr.rule.action {
		case actStatus, actResetAfter:
			h.dropIfEmpty(s)
			return "", false, fail(kindDeviation, fr.rule.status, "")
		case actKeep:
			if fr.rule.n <= 0 {
				h.dropIfEmpty(s)
				return "", false, fail(kindDeviation, fr.rule.status, "")
			}
			seg.End = min(seg.End, seg.Start+fr.rule.n-1)
		}
		return commit(x, s, seg, written)
	}

	body := b.body
	b.body = func(x *exchange, r ranges.Range, rd io.Reader) io.Reader {
		rd = body(x, r, rd)
		fr := firingOf(x)
		switch {
		case fr == nil:
		case fr.rule.action == actResetAfter && fr.rule.n < r.Len():
			return &resetReader{r: rd, left: fr.rule.n}
		case fr.rule.action == actStall && fr.rule.n < r.Len():
			return &stallReader{x: x, h: h, fr: fr, r: rd, left: fr.rule.n}
		}
		return rd
	}

	disconnect := b.disconnect
	b.disconnect = func(x *exchange, s *session, err error) {
		disconnect(x, s, err)
		if fr := firingOf(x); fr != nil && fr.stalled {
			x.outcome = OutcomeStalled
		}
	}

	respond := b.respond
	b.respond = func(x *exchange, rp response) response {
		rp = respond(x, rp)
		fr := firingOf(x)
		if fr == nil {
			return rp
		}
		switch r := &fr.rule; r.action {
		case actStatus:
			return r.answer()
		case actKeep:
			if r.reset {
				return response{outcome: resetConnection, reason: "scripted fault " + r.text}
			}
			return r.answer()
		case actResetAfter:
			return response{outcome: resetConnection, reason: "scripted fault " + r.text}
		case actLostReply:
			return response{outcome: dropConnection, reason: "scripted fault " + r.text}
		case actDelay:
			h.pause(x, r.wait)
		case actStall:
			if !fr.stalled {
				fr.stalled = true // the segment ended before the stall point: stall the answer
				h.pause(x, r.wait)
			}
		}
		return rp
	}
}

// answer is the status answer of the rule: its body (or a one-line reason), content type and
// Retry-After.
func (r *FaultRule) answer() response {
	reason := "scripted fault " + r.text
	a := &answer{status: r.status, header: http.Header{}}
	if r.body != nil {
		a.body = r.body
	} else {
		a.body = []byte(reason + "\n")
	}
	a.header.Set("Content-Type", "text/plain; charset=utf-8")
	if r.contentType != "" {
		a.header.Set("Content-Type", r.contentType)
	}
	if r.retryAfter != "" {
		a.header.Set("Retry-After", r.retryAfter)
	}
	return response{outcome: answerCompletion, answer: a, reason: reason}
}

// clipGaps returns the parts of gaps (sorted, disjoint) at or before byte last.
func clipGaps(gaps []ranges.Range, last int64) []ranges.Range {
	var out []ranges.Range
	for _, g := range gaps {
		if g.Start > last {
			break
		}
		g.End = min(g.End, last)
		out = append(out, g)
	}
	return out
}

// resetReader returns left bytes of r, then errFaultReset.
type resetReader struct {
	r    io.Reader
	left int64
}

func (c *resetReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errFaultReset
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	return n, err
}

// stallReader returns left bytes of r, then waits the rule's duration (bounded by the
// request and the server) before it reads on.
type stallReader struct {
	x    *exchange
	h    *handler
	fr   *firing
	r    io.Reader
	left int64
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.left <= 0 && !s.fr.stalled {
		s.fr.stalled = true
		s.h.pause(s.x, s.fr.rule.wait)
		// The read deadline the handler set before this read has run out during the stall.
		rc := http.NewResponseController(s.x.w)
		if err := rc.SetReadDeadline(time.Now().Add(s.h.opts.BodyReadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	if !s.fr.stalled {
		p = p[:min(int64(len(p)), s.left)]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}
