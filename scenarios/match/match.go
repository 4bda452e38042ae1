// Package match holds Gomega matchers for the answers of the resumable-upload protocol, for
// Ginkgo specs against any server: a segment answer that is a 201 listing exactly these
// ranges, a completion, a refusal. The suite's own checks use them too.
//
//	resp, err := http.DefaultClient.Do(segment) // bytes 0-5/24 of a new session
//	Expect(err).NotTo(HaveOccurred())
//	Expect(resp).To(match.BeSegmentAnswer("0-5/24"))
//
// A matcher reads an *http.Response (it reads the body and puts it back, so that the response
// can be matched again), an Answer, or any Answerer (the suite's scenarios.Answer). Every
// failure message has an "Expected: " line, a "Got: " line and a "Clause: " line naming the
// clause of the catalogue (package scenarios/clause) that the answer breaks.
package match

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
	"github.com/upspec/upspec/scenarios/clause"
)

// maxBody is how much of a response body a matcher reads.
const maxBody = 1 << 20

// Answer is a server's answer as the matchers read it.
type Answer struct {
	// Status is the response status; 0 when no response was read.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the response body (or its first part).
	Body string
	// Summary says how the exchange ended, for failure messages, e.g. `201 Created, Range:
	// 0-5/24` or `connection closed without a response (0 bytes)`; "" lets the matcher write
	// one from the other fields.
	Summary string
}

// Answerer is a value that carries an answer, such as the suite's scenarios.Answer.
type Answerer interface {
	MatchAnswer() Answer
}

// answerOf takes the answer out of what a matcher was given.
func answerOf(actual any) (Answer, error) {
	switch v := actual.(type) {
	case Answer:
		return v, nil
	case *Answer:
		if v != nil {
			return *v, nil
		}
	case Answerer:
		return v.MatchAnswer(), nil
	case *http.Response:
		if v != nil {
			return responseAnswer(v)
		}
	}
	return Answer{}, fmt.Errorf("match: want an *http.Response, a match.Answer or a match.Answerer, got %T", actual)
}

// responseAnswer reads an *http.Response's body and puts it back.
func responseAnswer(r *http.Response) (Answer, error) {
	a := Answer{Status: r.StatusCode, Header: r.Header}
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err != nil {
			return a, fmt.Errorf("match: read the response body: %w", err)
		}
		a.Body = string(b)
	}
	return a, nil
}

// answered reports whether a response was read.
func (a Answer) answered() bool { return a.Status != 0 }

// describe says in a few words what the answer is.
func (a Answer) describe() string {
	if a.Summary != "" {
		return a.Summary
	}
	if !a.answered() {
		return "no response"
	}
	s := strconv.Itoa(a.Status) + " " + http.StatusText(a.Status)
	if v, ok := a.rangeValue(); ok {
		return s + ", Range: " + clip(v, 200)
	}
	if b := strings.TrimSpace(a.Body); b != "" {
		s += ", body " + strconv.Quote(clip(b, 120))
	}
	return s
}

// rangeValue returns the Range header.
func (a Answer) rangeValue() (string, bool) {
	vs := a.Header.Values(protocol.Range)
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// failure is a matcher's verdict on one answer.
type failure struct {
	clause   clause.ID
	expected string
	got      string
}

// message writes a failure as the Expected, Got and Clause lines.
func (f failure) message(negated bool) string {
	exp := f.expected
	if negated {
		exp = "not " + exp
	}
	msg := fmt.Sprintf("Expected: %s\nGot: %s", exp, f.got)
	if f.clause != "" {
		msg += "\nClause: " + string(f.clause)
	}
	return msg
}

// matcher is a protocol matcher: check returns nil when the answer matches, else what it
// breaks. It keeps the last verdict for the failure messages.
type matcher struct {
	desc  string
	check func(Answer) *failure
	last  failure
}

// Match implements types.GomegaMatcher.
func (m *matcher) Match(actual any) (bool, error) {
	a, err := answerOf(actual)
	if err != nil {
		return false, err
	}
	f := m.check(a)
	if f == nil {
		m.last = failure{expected: m.desc, got: a.describe()}
		return true, nil
	}
	m.last = *f
	return false, nil
}

// FailureMessage implements types.GomegaMatcher.
func (m *matcher) FailureMessage(any) string { return m.last.message(false) }

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *matcher) NegatedFailureMessage(any) string {
	f := m.last
	f.expected = m.desc
	return f.message(true)
}

// BeSegmentAnswer succeeds for the answer to a segment that leaves the file incomplete: a 201
// Created whose Range header lists exactly the bytes of list (either textual form,
// `0-5/24,9-15/24` or `0-5,9-15/24`; compared as sets of bytes with the same total, so the
// order and merging of the items do not matter) and whose body is the same list as the header
// (trailing whitespace allowed). It fails, naming the clause, for any other status
// (ack.201-while-incomplete), a missing or unreadable Range header (ack.range-header), a body
// that differs from the header (ack.body-equals-header) and other bytes (ack.list-exact). It
// panics when list itself is not a range list.
func BeSegmentAnswer(list string) types.GomegaMatcher {
	want, err := ranges.ParseList(list)
	if err != nil {
		panic(fmt.Sprintf("match.BeSegmentAnswer(%q): %v", list, err))
	}
	wantSet := want.Set()
	desc := fmt.Sprintf("201 Created listing exactly %s", quoteList(list))
	return &matcher{desc: desc, check: func(a Answer) *failure {
		if !a.answered() || a.Status != http.StatusCreated {
			return &failure{clause.Ack201WhileIncomplete, desc, a.describe()}
		}
		v, ok := a.rangeValue()
		if !ok {
			return &failure{clause.AckRangeHeader, desc, "201 without a Range header"}
		}
		value := strings.Trim(v, " \t")
		got, err := ranges.ParseList(value)
		if err != nil {
			return &failure{clause.AckRangeHeader, desc, fmt.Sprintf("Range: %s (%v)", strconv.Quote(clip(value, 300)), err)}
		}
		if strings.TrimRight(a.Body, " \t\r\n") != value {
			return &failure{clause.AckBodyEqualsHeader, "the 201 body equal to the Range header " + strconv.Quote(value),
				"body " + strconv.Quote(clip(a.Body, 300))}
		}
		gotSet := got.Set()
		if got.Total != want.Total || !sameBytes(gotSet, wantSet) {
			g := "Range: " + clip(value, 300)
			if got.Total == want.Total {
				var parts []string
				if miss := wantSet.Subtract(gotSet); len(miss) > 0 {
					parts = append(parts, "missing "+fmtRanges(miss))
				}
				if extra := gotSet.Subtract(wantSet); len(extra) > 0 {
					parts = append(parts, "not expected "+fmtRanges(extra))
				}
				g += " (" + strings.Join(parts, "; ") + ")"
			} else {
				g += fmt.Sprintf(" (total %d, not %d)", got.Total, want.Total)
			}
			return &failure{clause.AckListExact, desc, g}
		}
		return nil
	}}
}

// BeCompletion succeeds for the answer to the segment that completes a file: a positive answer
// other than 201 (2xx or 3xx), which the server passes on from its backend. It fails under
// ack.final-is-backend-answer. Whether the file was complete is the caller's to know: a
// completion while bytes are missing is a false success (ack.final-only-when-complete).
func BeCompletion() types.GomegaMatcher {
	desc := "the backend's answer (any 2xx/3xx other than 201)"
	return &matcher{desc: desc, check: func(a Answer) *failure {
		if a.answered() && a.Status >= 200 && a.Status < 400 && a.Status != http.StatusCreated {
			return nil
		}
		return &failure{clause.AckFinalIsBackendAnswer, desc, a.describe()}
	}}
}

// BeCompletionWith succeeds for a completion with exactly the backend's status and body (the
// body compared without trailing whitespace), e.g. BeCompletionWith(200, "completed").
func BeCompletionWith(status int, body string) types.GomegaMatcher {
	desc := fmt.Sprintf("the backend's answer, status %d, body %s", status, strconv.Quote(body))
	return &matcher{desc: desc, check: func(a Answer) *failure {
		if a.answered() && a.Status == status && strings.TrimRight(a.Body, " \t\r\n") == strings.TrimRight(body, " \t\r\n") {
			return nil
		}
		got := a.describe()
		if a.answered() {
			got = fmt.Sprintf("%d, body %s", a.Status, strconv.Quote(clip(a.Body, 200)))
		}
		return &failure{clause.AckFinalIsBackendAnswer, desc, got}
	}}
}

// BeRefusal succeeds for a refusal a client can act on: a 4xx whose body says why (a
// connection closed without a response, a 5xx or a bare status do not count). It fails under
// rob.malformed-4xx.
func BeRefusal() types.GomegaMatcher {
	desc := "a 4xx answer with a reason"
	return &matcher{desc: desc, check: func(a Answer) *failure {
		switch {
		case !a.answered() || a.Status < 400 || a.Status >= 500:
			return &failure{clause.RobMalformed4xx, desc, a.describe()}
		case strings.TrimSpace(a.Body) == "":
			return &failure{clause.RobErrorReason, desc, fmt.Sprintf("%d with an empty body", a.Status)}
		}
		return nil
	}}
}

// HaveStatus succeeds for an answer with one of the statuses (a response was read). Its
// failure names no clause: which one a status breaks is the caller's to say.
func HaveStatus(statuses ...int) types.GomegaMatcher {
	want := make([]string, len(statuses))
	for i, st := range statuses {
		want[i] = strconv.Itoa(st)
	}
	desc := "status " + strings.Join(want, " or ")
	return &matcher{desc: desc, check: func(a Answer) *failure {
		for _, st := range statuses {
			if a.answered() && a.Status == st {
				return nil
			}
		}
		return &failure{"", desc, a.describe()}
	}}
}

// sameBytes reports whether two sets hold the same bytes.
func sameBytes(a, b *ranges.Set) bool {
	return len(a.Subtract(b)) == 0 && len(b.Subtract(a)) == 0
}

// quoteList writes a range list for a message.
func quoteList(l string) string { return strconv.Quote(l) }

// fmtRanges writes ranges as "9-15, 30-40".
func fmtRanges(rs []ranges.Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
