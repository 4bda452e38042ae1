package grade

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

// Family is the family of every client clause in the reports.
const Family = "client"

// maxExchanges bounds the exchanges a clause's record carries.
const maxExchanges = 400

// Run builds the report of a grade: a scenario per client clause (its ID is the clause's),
// with its verdict, findings, notes and the exchanges of the sessions that are its evidence,
// built from the journal. meta.Duration is left as given.
func Run(meta reports.Meta, ev Evidence, results []Result) *reports.Run {
	sessions := sessionsOf(ev)
	return buildRun(meta, results, func(ids []string) ([]result.Exchange, int) {
		var xs []result.Exchange
		for _, s := range sessions {
			if slices.Contains(ids, s.id) {
				for i := range s.segs {
					if len(xs) < maxExchanges {
						xs = append(xs, Exchange(&s.segs[i], meta.Target))
					}
				}
			}
		}
		return xs, exchangeCount(sessions, ids)
	})
}

// TusRun builds the report of a grade of a tus client (JudgeTus), as Run does: the
// exchanges of a clause are the requests of the uploads that are its evidence.
func TusRun(meta reports.Meta, ev Evidence, results []Result) *reports.Run {
	uploads := tusUploadsOf(ev)
	return buildRun(meta, results, func(ids []string) ([]result.Exchange, int) {
		var xs []result.Exchange
		n := 0
		for _, u := range uploads {
			if !slices.Contains(ids, u.id) {
				continue
			}
			n += len(u.reqs)
			for i := range u.reqs {
				if len(xs) < maxExchanges {
					xs = append(xs, TusExchange(&u.reqs[i], meta.Target))
				}
			}
		}
		return xs, n
	})
}

// buildRun makes the report of results; exchanges returns the exchanges of the sessions
// given (at most maxExchanges) and how many there are.
func buildRun(meta reports.Meta, results []Result, exchanges func([]string) ([]result.Exchange, int)) *reports.Run {
	clauses := make([]scenarios.Clause, 0, len(results))
	defs := make([]scenarios.Scenario, 0, len(results))
	rs := make([]scenarios.Result, 0, len(results))
	for _, r := range results {
		c := r.Clause
		clauses = append(clauses, scenarios.Clause{ID: string(c.ID), Level: c.Level, Section: c.Section, Title: c.Title, Text: c.Text})
		defs = append(defs, scenarios.Scenario{ID: string(c.ID), Title: c.Title, Family: Family, Clauses: []string{string(c.ID)}})
		xs, n := exchanges(r.Sessions)
		if xs == nil {
			xs = []result.Exchange{}
		}
		res := scenarios.Result{
			ScenarioID: string(c.ID),
			Title:      c.Title,
			Level:      c.Level,
			Clauses:    []string{string(c.ID)},
			Verdict:    r.Verdict,
			Findings:   slices.Clone(r.Findings),
			Notes:      slices.Clone(r.Notes),
			SkipReason: r.SkipReason,
			Exchanges:  xs,
		}
		if n > maxExchanges {
			res.Notes = append(res.Notes, fmt.Sprintf("%d exchanges of %d shown; the JSON journal (%sjournal) holds them all", maxExchanges, n, fakeserver.DefaultAdminPrefix))
		}
		rs = append(rs, res)
	}
	return reports.Catalogue{Scenarios: defs, Clauses: clauses}.FromResults(meta, rs)
}

func exchangeCount(ss []*session, ids []string) int {
	n := 0
	for _, s := range ss {
		if slices.Contains(ids, s.id) {
			n += len(s.segs)
		}
	}
	return n
}

// Exchange is a journal entry as an exchange of the result model: the request's protocol
// headers as sent, the body bytes the server read, the answer (status and the range list or
// body), the outcome, the fault that shaped it; base is the URL of the segment endpoint.
func Exchange(e *fakeserver.JournalEntry, base string) result.Exchange {
	q := result.Request{Method: e.Method, Target: e.Path, Proto: "HTTP/1.1", URL: base, BodyLen: e.ContentLength, BodySent: e.BodyRead, BodyPlanned: e.ContentLength}
	add := func(name, value string) {
		if value != "" {
			q.Headers = append(q.Headers, result.Header{Name: name, Value: value})
		}
	}
	add(orText(e.RangeHeader, "X-Content-Range"), e.Range)
	add(orText(e.SessionHeader, "Session-ID"), e.Session)
	add("Content-Disposition", e.Disposition)
	add("Content-Type", e.ContentType)
	if e.ContentLength >= 0 {
		add("Content-Length", strconv.FormatInt(e.ContentLength, 10))
	}
	x := result.Exchange{
		Step:      step(e),
		Session:   e.Session,
		LocalAddr: e.Remote,
		Request:   q,
		Start:     e.Time,
		Duration:  e.Duration,
	}
	var notes []string
	if e.Fault != "" {
		notes = append(notes, "fault "+e.Fault)
	}
	if e.Reason != "" {
		notes = append(notes, "reason: "+e.Reason)
	}
	if e.Status != 0 {
		x.Outcome = result.OutcomeAnswered
		rp := &result.Response{Status: e.Status, StatusLine: fmt.Sprintf("HTTP/1.1 %d %s", e.Status, http.StatusText(e.Status)), Body: e.Answer, BodyLen: int64(len(e.Answer))}
		if e.Status == http.StatusCreated {
			rp.Headers = append(rp.Headers, result.Header{Name: "Range", Value: e.Answer})
		}
		x.Response = rp
	} else {
		switch e.Outcome {
		case fakeserver.OutcomeReset:
			x.Outcome = result.OutcomeReset
		case fakeserver.OutcomeStalled:
			x.Outcome = result.OutcomeTimeout
		default:
			x.Outcome = result.OutcomeClosed
		}
	}
	x.Error = strings.Join(notes, "; ")
	return x
}

// TusExchange is a tus journal entry as an exchange of the result model: the request's
// method, path and tus headers as the journal has them, the body bytes the server read, the
// answer (its status, Upload-Offset or reason), the outcome and the fault that shaped it;
// base is the URL of the grading mock.
func TusExchange(e *fakeserver.JournalEntry, base string) result.Exchange {
	x := Exchange(e, base)
	q := result.Request{Method: e.Method, Target: e.Path, Proto: "HTTP/1.1", URL: base, BodyLen: max(e.ContentLength, 0), BodySent: e.BodyRead, BodyPlanned: max(e.ContentLength, 0)}
	if e.Range != "" {
		q.Headers = append(q.Headers, result.Header{Name: "Upload-Offset", Value: e.Range})
	}
	if e.ContentType != "" {
		q.Headers = append(q.Headers, result.Header{Name: "Content-Type", Value: e.ContentType})
	}
	if e.ContentLength >= 0 {
		q.Headers = append(q.Headers, result.Header{Name: "Content-Length", Value: strconv.FormatInt(e.ContentLength, 10)})
	}
	x.Request = q
	if x.Response != nil {
		rp := &result.Response{Status: e.Status, StatusLine: x.Response.StatusLine}
		if _, ok := tusOffset(e); ok {
			rp.Headers = append(rp.Headers, result.Header{Name: "Upload-Offset", Value: e.Answer})
		} else if e.Answer != "" {
			rp.Body, rp.BodyLen = e.Answer, int64(len(e.Answer))
		}
		x.Response = rp
	}
	return x
}

func orText(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// Meta returns the metadata of a grade's report: the grading mock's endpoint as target, the
// profile "grade", the time it started and how long it ran. What a grade judges is the client,
// not the mock: the report does not call its target the embedded reference server.
func Meta(target string, strict bool, start time.Time, d time.Duration) reports.Meta {
	return reports.Meta{Target: target, Profile: "grade", Strict: strict, Start: start, Duration: d}
}
