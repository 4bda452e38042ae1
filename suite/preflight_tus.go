package suite

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/tus"
	"github.com/upspec/upspec/scenarios/wire"
)

// PreflightTus checks, before any tus scenario runs, that the target is the creation URL of a
// tus server: it connects (and shakes hands), then sends an OPTIONS request, which a tus
// server answers 200 or 204 with Tus-Version (or at least some Tus- header: a server that
// leaves Tus-Version out is a finding of the scenarios, not a setup error). Nothing is
// created. The whole check is bounded by PreflightTimeout. A failure is a *PreflightError of
// the classes of Preflight: the target could not be reached or gave no answer, a redirect, an
// answer that says the URL is no tus endpoint (404, 405, 501, or an answer with no Tus-
// header at all), credentials wanted, or another status.
func PreflightTus(ctx context.Context, sc scenarios.Config) error {
	if sc.Target == nil {
		return errors.New("preflight: no target")
	}
	deadline := time.Now().Add(PreflightTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(time.Second))
	defer cancel()
	sc.RequestTimeout = PreflightTimeout
	target := sc.Target.String()
	if err := sc.Client().Reach(ctx); err != nil {
		return connectError(target, err)
	}
	sc.RequestTimeout = max(time.Until(deadline).Round(100*time.Millisecond), time.Second)
	ex := sc.Client().Do(ctx, wire.Request{
		Step:    "preflight",
		Method:  http.MethodOptions,
		Headers: []result.Header{{Name: "Tus-Resumable", Value: tus.Version}},
		Length:  wire.LengthOmit,
	})
	return classifyTusAnswer(target, ex)
}

// classifyTusAnswer turns the exchange of the preflight OPTIONS into nil (a tus server's
// answer) or a *PreflightError.
func classifyTusAnswer(target string, ex result.Exchange) error {
	fail := failer(target)
	const what = "an OPTIONS request"
	status, err := classifyTransport(fail, what, ex)
	if err != nil {
		return err
	}
	resp := ex.Response
	switch s := resp.Status; {
	case s >= 200 && s < 300 && tusHeaders(resp):
		return nil
	case s >= 200 && s < 300:
		return fail(PreflightNotUpload, "answered %s to %s with no Tus- header (a tus server announces Tus-Version): not a tus server; check that --target is the creation URL of a tus server, or leave out --protocol tus",
			status, what)
	case s >= 300 && s < 400:
		return redirectError(fail, target, status, what, resp)
	case s == http.StatusNotFound || s == http.StatusMethodNotAllowed || s == http.StatusNotImplemented:
		return fail(PreflightNotUpload, "answered %s to %s: not the creation URL of a tus server (a mistyped path, or a server of another protocol); check the path of --target",
			status, what)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return fail(PreflightAuth, "answered %s to %s: the endpoint wants credentials; give them with --header \"Authorization: ...\"", status, what)
	}
	return fail(PreflightUnexpected, "answered %s%s to %s, want 200 or 204 with Tus-Version: check --target and the server's log", status, quotedBody(resp), what)
}

// tusHeaders reports whether resp carries a header of the tus protocol.
func tusHeaders(resp *result.Response) bool {
	for _, h := range resp.Headers {
		if strings.HasPrefix(strings.ToLower(h.Name), "tus-") {
			return true
		}
	}
	return false
}
