package result

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	must := Finding{Level: MUST}
	should := Finding{Level: SHOULD}
	tests := []struct {
		name     string
		level    Level
		findings []Finding
		skipped  bool
		strict   bool
		want     Verdict
	}{
		{"clean MUST scenario", MUST, nil, false, false, Pass},
		{"clean SHOULD scenario", SHOULD, nil, false, false, Pass},
		{"clean INFO scenario", INFO, nil, false, false, Info},
		{"failed MUST", MUST, []Finding{must}, false, false, Fail},
		{"failed MUST and SHOULD", MUST, []Finding{should, must}, false, false, Fail},
		{"failed SHOULD only", MUST, []Finding{should}, false, false, NonStrict},
		{"failed SHOULD, strict", MUST, []Finding{should}, false, true, Fail},
		{"skipped", MUST, nil, true, false, Skipped},
		{"skipped INFO", INFO, nil, true, false, Skipped},
		{"failed MUST, then skipped", MUST, []Finding{must}, true, false, Fail},
		{"engine error beside a failed MUST", MUST, []Finding{must, {Level: MUST, Engine: true}}, false, false, Error},
		{"engine error in an INFO scenario", INFO, []Finding{{Level: MUST, Engine: true}}, false, false, Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.level, tc.findings, tc.skipped, tc.strict); got != tc.want {
				t.Errorf("Decide = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestVerdictOrder(t *testing.T) {
	vs := append(ScenarioVerdicts(), NotRun, Verdict("MAYBE"))
	for i := 1; i < len(vs); i++ {
		if vs[i-1].Rank() >= vs[i].Rank() {
			t.Errorf("%s ranks %d, not before %s (%d)", vs[i-1], vs[i-1].Rank(), vs[i], vs[i].Rank())
		}
	}
	classes := map[string]bool{}
	for _, v := range vs[:len(vs)-1] {
		if c := v.Class(); c == "unknown" || classes[c] {
			t.Errorf("%s: class %q is unknown or shared", v, c)
		} else {
			classes[c] = true
		}
	}
	if !Fail.Failed() || NonStrict.Failed() || Pass.Failed() || Error.Failed() {
		t.Error("only FAIL fails the run")
	}
}

func TestLevelText(t *testing.T) {
	for _, l := range []Level{MUST, SHOULD, INFO} {
		b, err := json.Marshal(Finding{Level: l})
		if err != nil {
			t.Fatal(err)
		}
		var back Finding
		if err := json.Unmarshal(b, &back); err != nil || back.Level != l {
			t.Errorf("%s: %s read back as %s, %v", l, b, back.Level, err)
		}
	}
	if _, err := Level(7).MarshalText(); err == nil {
		t.Error("MarshalText(7): no error")
	}
	if l, err := ParseLevel(" should "); err != nil || l != SHOULD {
		t.Errorf(`ParseLevel(" should ") = %s, %v`, l, err)
	}
	if _, err := ParseLevel("MAY"); err == nil {
		t.Error(`ParseLevel("MAY"): no error`)
	}
}

func TestDescribe(t *testing.T) {
	answered := func(line string, hs ...Header) *Response {
		return &Response{Status: 201, StatusLine: line, Headers: hs}
	}
	tests := []struct {
		name string
		x    Exchange
		want string
	}{
		{"201 with Range", Exchange{Outcome: OutcomeAnswered, Response: answered("HTTP/1.1 201 Created", Header{"range", "0-5/24"})},
			"201 Created, Range: 0-5/24"},
		{"HTTP/1.0", Exchange{Outcome: OutcomeAnswered, Response: answered("HTTP/1.0 201 Created")}, "201 Created"},
		{"no status line", Exchange{Outcome: OutcomeAnswered, Response: &Response{Status: 409}}, "409"},
		{"body", Exchange{Outcome: OutcomeAnswered, Response: &Response{Status: 200, StatusLine: "HTTP/1.1 200 OK", Body: "completed\n"}},
			`200 OK, body "completed"`},
		{"long body clipped on a rune", Exchange{Outcome: OutcomeAnswered, Response: &Response{Status: 400, StatusLine: "HTTP/1.1 400 Bad Request",
			Body: string(make([]byte, 119)) + "é"}}, `400 Bad Request, body "` + strings.Repeat(`\x00`, 119) + `…"`},
		{"answered without a record", Exchange{Outcome: OutcomeAnswered}, "answered"},
		{"closed", Exchange{Outcome: OutcomeClosed}, "connection closed without a response (0 bytes)"},
		{"reset", Exchange{Outcome: OutcomeReset, Error: "ECONNRESET"}, "connection reset without a response (ECONNRESET)"},
		{"reset, no error text", Exchange{Outcome: OutcomeReset}, "connection reset without a response"},
		{"timeout", Exchange{Outcome: OutcomeTimeout, Error: "10s"}, "no response within the time limit (10s)"},
		{"aborted", Exchange{Outcome: OutcomeAborted, Error: "interrupted"}, "request interrupted by the client (no answer awaited)"},
		{"error", Exchange{Outcome: OutcomeError, Error: "connection refused"}, "error: connection refused"},
		{"unknown", Exchange{Outcome: "odd"}, "odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.x.Describe(); got != tt.want {
				t.Errorf("Describe() = %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	r := &Response{Headers: []Header{{"Range", "0-5/24"}, {"X-A", "1"}, {"x-a", "2"}}}
	if v, ok := r.Header("RANGE"); !ok || v != "0-5/24" {
		t.Errorf("Header(RANGE) = %q, %v", v, ok)
	}
	if vs := r.Values("X-a"); len(vs) != 2 || vs[0] != "1" || vs[1] != "2" {
		t.Errorf("Values(X-a) = %q", vs)
	}
	var none *Response
	if _, ok := none.Header("Range"); ok || none.Values("Range") != nil {
		t.Error("a nil response has headers")
	}
	q := Request{Method: "POST", Target: "/upload", Proto: "HTTP/1.1", Headers: []Header{{"content-length", "6"}}}
	if v, ok := q.Header("Content-Length"); !ok || v != "6" || q.RequestLine() != "POST /upload HTTP/1.1" {
		t.Errorf("request header %q, %v; line %q", v, ok, q.RequestLine())
	}
	if (Exchange{}).Status() != 0 || (Exchange{Response: &Response{Status: 201}}).Status() != 201 {
		t.Error("Status")
	}
}

func TestClassify(t *testing.T) {
	want := map[Verdict]ExpectOutcome{Fail: Known, NonStrict: Known, Pass: Stale, Info: Stale, Skipped: ExpectNone, NotRun: ExpectNone}
	for v, o := range want {
		if got := Classify(v); got != o {
			t.Errorf("Classify(%s) = %q, want %q", v, got, o)
		}
	}
	if got := (Expectation{Issue: "#4", Reason: "r"}).Describe(); got != "(#4) r" {
		t.Errorf("Describe = %q", got)
	}
	if got := (Expectation{Reason: "r"}).Describe(); got != "r" {
		t.Errorf("Describe = %q", got)
	}
	if Known.Class() != "known" || Stale.Class() != "stale" {
		t.Error("outcome classes")
	}
}

func TestIDLabel(t *testing.T) {
	tests := []struct {
		labels []string
		id     string
		ok     bool
	}{
		{[]string{"range-strings", IDLabel("RS-01")}, "RS-01", true},
		{[]string{"id:", "id:CP-02", "id:CP-03"}, "CP-02", true},
		{[]string{"range-strings", "RS-01"}, "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		if id, ok := IDFromLabels(tt.labels); id != tt.id || ok != tt.ok {
			t.Errorf("IDFromLabels(%q) = %q, %v; want %q, %v", tt.labels, id, ok, tt.id, tt.ok)
		}
	}
}
