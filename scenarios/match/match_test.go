package match

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onsi/gomega/types"
)

// created is a 201 whose Range header and body are list.
func created(list string) Answer {
	return Answer{Status: 201, Header: http.Header{"Range": {list}}, Body: list}
}

// TestMatchers shows every matcher passing and failing, with its whole failure message.
func TestMatchers(t *testing.T) {
	closed := Answer{Summary: "connection closed without a response (0 bytes)"}
	tests := []struct {
		name    string
		matcher types.GomegaMatcher
		actual  any
		ok      bool
		message string // the failure message when !ok
	}{
		{"segment answer", BeSegmentAnswer("0-5/24,9-15/24"), created("0-5/24,9-15/24"), true, ""},
		{"segment answer, compact form", BeSegmentAnswer("0-5/24,9-15/24"), created("0-5,9-15/24"), true, ""},
		{"segment answer, unmerged items", BeSegmentAnswer("0-15/24"), created("0-5/24,6-15/24"), true, ""},
		{"segment answer, trailing whitespace in the body", BeSegmentAnswer("0-5/24"),
			Answer{Status: 201, Header: http.Header{"Range": {"0-5/24"}}, Body: "0-5/24 \n"}, true, ""},
		{"segment answer: a 200", BeSegmentAnswer("0-5/24"), Answer{Status: 200, Body: "completed"}, false,
			"Expected: 201 Created listing exactly \"0-5/24\"\nGot: 200 OK, body \"completed\"\nClause: ack.201-while-incomplete"},
		{"segment answer: no response", BeSegmentAnswer("0-5/24"), closed, false,
			"Expected: 201 Created listing exactly \"0-5/24\"\nGot: connection closed without a response (0 bytes)\nClause: ack.201-while-incomplete"},
		{"segment answer: no Range header", BeSegmentAnswer("0-5/24"), Answer{Status: 201, Body: "0-5/24"}, false,
			"Expected: 201 Created listing exactly \"0-5/24\"\nGot: 201 without a Range header\nClause: ack.range-header"},
		{"segment answer: a Range header that is no list", BeSegmentAnswer("0-5/24"), created("bytes 0-5"), false,
			"Expected: 201 Created listing exactly \"0-5/24\"\nGot: Range: \"bytes 0-5\" (range list \"bytes 0-5\": blank \" \" at offset 5 (a list has no blanks))\nClause: ack.range-header"},
		{"segment answer: a body that differs", BeSegmentAnswer("0-5/24"),
			Answer{Status: 201, Header: http.Header{"Range": {"0-5/24"}}, Body: "0-4/24"}, false,
			"Expected: the 201 body equal to the Range header \"0-5/24\"\nGot: body \"0-4/24\"\nClause: ack.body-equals-header"},
		{"segment answer: other bytes", BeSegmentAnswer("0-5/24,9-15/24"), created("0-5/24,9-12/24,20-23/24"), false,
			"Expected: 201 Created listing exactly \"0-5/24,9-15/24\"\nGot: Range: 0-5/24,9-12/24,20-23/24 (missing 13-15; not expected 20-23)\nClause: ack.list-exact"},
		{"segment answer: another total", BeSegmentAnswer("0-5/24"), created("0-5/25"), false,
			"Expected: 201 Created listing exactly \"0-5/24\"\nGot: Range: 0-5/25 (total 25, not 24)\nClause: ack.list-exact"},
		{"completion", BeCompletion(), Answer{Status: 200, Body: "completed"}, true, ""},
		{"completion: a 201", BeCompletion(), created("0-5/24"), false,
			"Expected: the backend's answer (any 2xx/3xx other than 201)\nGot: 201 Created, Range: 0-5/24\nClause: ack.final-is-backend-answer"},
		{"completion with", BeCompletionWith(200, "completed"), Answer{Status: 200, Body: "completed\n"}, true, ""},
		{"completion with: another body", BeCompletionWith(200, "completed"), Answer{Status: 200, Body: "upload ok"}, false,
			"Expected: the backend's answer, status 200, body \"completed\"\nGot: 200, body \"upload ok\"\nClause: ack.final-is-backend-answer"},
		{"refusal", BeRefusal(), Answer{Status: 409, Body: "overlapping segment in flight"}, true, ""},
		{"refusal: no response", BeRefusal(), closed, false,
			"Expected: a 4xx answer with a reason\nGot: connection closed without a response (0 bytes)\nClause: rob.malformed-4xx"},
		{"refusal: no reason", BeRefusal(), Answer{Status: 400}, false,
			"Expected: a 4xx answer with a reason\nGot: 400 with an empty body\nClause: rob.error-reason"},
		{"refusal: a 500", BeRefusal(), Answer{Status: 500, Body: "oops"}, false,
			"Expected: a 4xx answer with a reason\nGot: 500 Internal Server Error, body \"oops\"\nClause: rob.malformed-4xx"},
		{"status", HaveStatus(405, 200), Answer{Status: 200}, true, ""},
		{"status: another", HaveStatus(405), Answer{Status: 201, Header: http.Header{"Range": {"0-1/2"}}}, false,
			"Expected: status 405\nGot: 201 Created, Range: 0-1/2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := tt.matcher.Match(tt.actual)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if ok != tt.ok {
				t.Fatalf("Match = %v, want %v (%s)", ok, tt.ok, tt.matcher.FailureMessage(tt.actual))
			}
			if !ok {
				if got := tt.matcher.FailureMessage(tt.actual); got != tt.message {
					t.Errorf("FailureMessage:\n%s\nwant:\n%s", got, tt.message)
				}
				return
			}
			neg := tt.matcher.NegatedFailureMessage(tt.actual)
			if !strings.HasPrefix(neg, "Expected: not ") {
				t.Errorf("NegatedFailureMessage = %q, want it to start with %q", neg, "Expected: not ")
			}
		})
	}
}

// stringAnswerer is an Answerer, as the suite's scenarios.Answer is.
type stringAnswerer string

func (s stringAnswerer) MatchAnswer() Answer {
	return Answer{Status: 201, Header: http.Header{"Range": {string(s)}}, Body: string(s)}
}

// TestActualTypes: an *http.Response (its body put back for the next reader), an Answer, a
// *Answer and an Answerer are read; anything else is an error that says what is wanted.
func TestActualTypes(t *testing.T) {
	resp := &http.Response{StatusCode: 201, Header: http.Header{"Range": {"0-5/24"}}, Body: io.NopCloser(strings.NewReader("0-5/24"))}
	a := created("0-5/24")
	for _, actual := range []any{resp, a, &a, stringAnswerer("0-5/24")} {
		ok, err := BeSegmentAnswer("0-5/24").Match(actual)
		if err != nil || !ok {
			t.Errorf("%T: Match = %v, %v", actual, ok, err)
		}
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "0-5/24" {
		t.Errorf("the response body after matching is %q, want it put back", b)
	}
	for _, actual := range []any{nil, 201, (*http.Response)(nil), (*Answer)(nil)} {
		_, err := BeRefusal().Match(actual)
		if err == nil || !strings.Contains(err.Error(), "want an *http.Response, a match.Answer or a match.Answerer") {
			t.Errorf("%T: error %v", actual, err)
		}
	}
}

func TestBeSegmentAnswerPanicsOnABadList(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `match.BeSegmentAnswer("0-5")`) {
			t.Errorf("recover() = %v", r)
		}
	}()
	BeSegmentAnswer("0-5")
}
