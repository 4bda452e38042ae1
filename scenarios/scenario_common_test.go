package scenarios

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios/clause"
	"github.com/upspec/upspec/scenarios/wire"
)

func answered(status int, body string) Answer {
	return Answer{Exchange: result.Exchange{Outcome: result.OutcomeAnswered, Response: &result.Response{Status: status, Body: body}},
		Status: status, Body: body}
}

// TestExpectRefused pins how a request that must not be acknowledged is judged: a false
// success is a MUST finding, a closed connection a SHOULD finding that says so.
func TestExpectRefused(t *testing.T) {
	tests := []struct {
		name       string
		a          Answer
		incomplete bool
		want       clause.ID // "" = no finding
		level      Level
		got        string // substring of result.Finding.Got
	}{
		{"4xx with a reason", answered(400, "malformed range"), true, "", 0, ""},
		{"4xx without a reason", answered(400, ""), true, clause.RobMalformed4xx, SHOULD, "empty body"},
		{"closed", Answer{Exchange: result.Exchange{Outcome: result.OutcomeClosed}}, true, clause.RobMalformed4xx, SHOULD, "connection closed without a response (class E)"},
		{"reset", Answer{Exchange: result.Exchange{Outcome: result.OutcomeReset, Error: "ECONNRESET"}}, true, clause.RobMalformed4xx, SHOULD, "class E"},
		{"false success", answered(200, "ok"), true, clause.AckFinalOnlyWhenComplete, MUST, "200"},
		{"201", answered(201, "0-5/24"), true, clause.EncBodyMatchesRange, MUST, "201"},
		{"5xx", answered(500, "oops"), true, clause.RobMalformed4xx, SHOULD, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.a.Response != nil {
				tt.a.Response.StatusLine = "HTTP/1.1 " + strconv.Itoa(tt.a.Status)
			}
			tr := NewT(context.Background(), Config{}.WithDefaults(), Scenario{ID: "MF-99", Clauses: clause.Strings(clause.RobMalformed4xx)})
			expectRefused(tr, tt.a, clause.EncBodyMatchesRange, clause.RobMalformed4xx, tt.incomplete)
			fs := tr.Findings()
			if tt.want == "" {
				if len(fs) != 0 {
					t.Fatalf("findings %v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("%d findings %v, want one of %s", len(fs), fs, tt.want)
			}
			f := fs[0]
			if f.Clause != string(tt.want) || f.Level != tt.level || !strings.Contains(f.Got, tt.got) {
				t.Errorf("finding %s (%s) got %q; want %s (%s) with %q", f.Clause, f.Level, f.Got, tt.want, tt.level, tt.got)
			}
		})
	}
}

func TestBytesWon(t *testing.T) {
	first, second := wire.Pattern{Seed: 0}, wire.Pattern{Seed: 5}
	data := append(first.Bytes(0, 4), second.Bytes(4, 3)...)
	data = append(data, '#')
	tests := []struct {
		data []byte
		want string
	}{
		{nil, "an empty file"},
		{first.Bytes(0, 10), "0-9 first"},
		{data, "0-3 first, 4-6 second, 7-7 neither"},
	}
	for _, tt := range tests {
		if got := bytesWon(tt.data, first, second); got != tt.want {
			t.Errorf("bytesWon(%q) = %q, want %q", tt.data, got, tt.want)
		}
	}
}
