package suite

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
	"github.com/upspec/upspec/scenarios/wire"
)

// PreflightTimeout bounds the preflight: the connection, the TLS handshake, one segment and
// its whole answer.
const PreflightTimeout = 5 * time.Second

// PreflightClass names what the preflight found wrong with a target.
type PreflightClass string

// The classes of a failed preflight.
const (
	PreflightRefused     PreflightClass = "refused"     // nothing listens on the port
	PreflightUnreachable PreflightClass = "unreachable" // no such host, no route, a connect that timed out
	PreflightNoAnswer    PreflightClass = "no-answer"   // connected, but no complete answer in time (silent, dripping, a stalled body)
	PreflightClosed      PreflightClass = "closed"      // the connection was closed or reset without an answer
	PreflightTLS         PreflightClass = "tls"         // the TLS handshake failed
	PreflightRedirect    PreflightClass = "redirect"    // a 3xx answer
	PreflightNotUpload   PreflightClass = "not-upload"  // 404, 405 or 501: not an upload endpoint
	PreflightTooLarge    PreflightClass = "too-large"   // 413: the segment is larger than the deployment takes
	PreflightCompleted   PreflightClass = "completed"   // a 2xx other than 201 to a partial segment
	PreflightAuth        PreflightClass = "auth"        // 401 or 403
	PreflightUnexpected  PreflightClass = "unexpected"  // any other answer that is not 201
	PreflightMalformed   PreflightClass = "not-http"    // an answer that is not HTTP
)

// PreflightError is a failed preflight: its class and a one-line message for a person that
// names what came back and the likely cause.
type PreflightError struct {
	Class PreflightClass
	Msg   string
}

func (e *PreflightError) Error() string { return e.Msg }

// Preflight checks, before any scenario runs, that the target is a resumable upload endpoint:
// it sends one segment of a fresh session (the first --segment-size bytes of a file twice
// that size, as the scenarios do) and wants the answer every incomplete upload gets, a 201.
// The whole check is bounded by PreflightTimeout. Anything else is a *PreflightError: the
// target refused the connection or never answered, the TLS handshake failed (the cause in
// words), a redirect (with its Location), an answer that says the URL is no upload endpoint
// (404, 405, 501), a 413 (the segment is too large for the deployment), a 2xx other than 201
// (the upload module's resumable mode is off, or a backend answers everything), or any other
// status. seq makes the session ID unique within the run.
func Preflight(ctx context.Context, sc scenarios.Config, seq int) error {
	if sc.Target == nil {
		return errors.New("preflight: no target")
	}
	// The exchanges' own deadlines end the preflight (and say so); the context is a backstop.
	deadline := time.Now().Add(PreflightTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(time.Second))
	defer cancel()
	sc.RequestTimeout = PreflightTimeout
	target := sc.Target.String()

	if err := sc.Client().Reach(ctx); err != nil {
		return connectError(target, err)
	}
	sc.RequestTimeout = max(time.Until(deadline).Round(100*time.Millisecond), time.Second)
	size := sc.SegmentSize
	if size <= 0 {
		size = scenarios.DefaultSegmentSize
	}
	session := fmt.Sprintf("%s-preflight-%d", sc.RunID, seq)
	ex := sc.Client().Do(ctx, wire.Request{
		Step:    "preflight",
		Session: session,
		Headers: []result.Header{
			{Name: "Content-Type", Value: "application/octet-stream"},
			{Name: "Content-Disposition", Value: `attachment; filename="upspec-preflight.bin"`},
			{Name: "X-Content-Range", Value: fmt.Sprintf("bytes 0-%d/%d", size-1, 2*size)},
			{Name: "Session-ID", Value: session},
		},
		Pattern: &wire.Pattern{},
		BodyLen: size,
	})
	return classifyAnswer(target, size, ex)
}

// bytesRead finds the count of response bytes in the error of a timed-out exchange.
var bytesRead = regexp.MustCompile(`\((\d+) response bytes read\)`)

// classifyAnswer turns the exchange of the preflight segment into nil (a complete 201) or a
// *PreflightError.
func classifyAnswer(target string, size int64, ex result.Exchange) error {
	fail := failer(target)
	what := fmt.Sprintf("a first segment of %d bytes", size)
	status, err := classifyTransport(fail, what, ex)
	if err != nil {
		return err
	}
	resp := ex.Response
	switch s := resp.Status; {
	case s == http.StatusCreated:
		return nil
	case s >= 300 && s < 400:
		return redirectError(fail, target, status, what, resp)
	case s == http.StatusNotFound || s == http.StatusMethodNotAllowed || s == http.StatusNotImplemented:
		return fail(PreflightNotUpload, "answered %s to %s: not an upload endpoint (a mistyped path, a static file server, or a location without upload_pass); check the path of --target",
			status, what)
	case s == http.StatusRequestEntityTooLarge:
		return fail(PreflightTooLarge, "answered %s to %s: the segment is too large for the deployment (client_max_body_size); give a smaller --segment-size or raise the limit",
			status, what)
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return fail(PreflightAuth, "answered %s to %s: the endpoint wants credentials; give them with --header \"Authorization: ...\"", status, what)
	case s >= 200 && s < 300:
		return fail(PreflightCompleted, "answered %s to %s of an incomplete file, want 201 with the range received: resumable mode is off (upload_resumable on?), or a backend that answers everything is behind --target",
			status, what)
	}
	return fail(PreflightUnexpected, "answered %s%s to %s, want 201 with the range received: check --target and the deployment's error log", status, quotedBody(resp), what)
}

// failer returns the constructor of the preflight errors of target.
func failer(target string) func(class PreflightClass, format string, args ...any) error {
	return func(class PreflightClass, format string, args ...any) error {
		return &PreflightError{Class: class, Msg: fmt.Sprintf("preflight: target %s ", target) + fmt.Sprintf(format, args...)}
	}
}

// redirectError is the failure of a 3xx answer, with its Location resolved against target.
func redirectError(fail func(PreflightClass, string, ...any) error, target, status, what string, resp *result.Response) error {
	loc, ok := resp.Header("Location")
	if !ok || loc == "" {
		return fail(PreflightRedirect, "answered %s to %s, without a Location: point --target at the upload endpoint itself", status, what)
	}
	if base, err := url.Parse(target); err == nil {
		if u, err := base.Parse(loc); err == nil {
			loc = u.String()
		}
	}
	return fail(PreflightRedirect, "answered %s to %s, to Location %s: an upload is not redirected; point --target at the final URL", status, what, loc)
}

// quotedBody is ` (body "...")` with the start of resp's body, or "" without one.
func quotedBody(resp *result.Response) string {
	body := strings.Join(strings.Fields(resp.Body), " ")
	if body == "" {
		return ""
	}
	return fmt.Sprintf(" (body %q)", clip(body, 80))
}

// classifyTransport returns the status text of an exchange that got a whole answer, else the
// failure of the exchange: no answer in time, a closed connection, not HTTP, a body cut short.
func classifyTransport(fail func(PreflightClass, string, ...any) error, what string, ex result.Exchange) (string, error) {
	switch ex.Outcome {
	case result.OutcomeTimeout:
		if m := bytesRead.FindStringSubmatch(ex.Error); m != nil && m[1] != "0" {
			return "", fail(PreflightNoAnswer, "gave no complete answer to %s within %s, only %s bytes of one: the server answers too slowly (a byte at a time?); check that the server is healthy",
				what, PreflightTimeout, m[1])
		}
		return "", fail(PreflightNoAnswer, "gave no complete answer to %s within %s, not a byte of one: the server accepts connections but does not answer; check that --target is the upload endpoint and that the server is healthy",
			what, PreflightTimeout)
	case result.OutcomeClosed, result.OutcomeReset:
		return "", fail(PreflightClosed, "closed the connection without an answer to %s (%s): check that --target is the upload endpoint (a proxy or a server that drops requests?)",
			what, ex.Error)
	case result.OutcomeAnswered:
	default:
		if strings.Contains(ex.Error, "malformed response head") {
			return "", fail(PreflightMalformed, "answered %s with something that is not HTTP/1.1 (%s): check the scheme and port of --target", what, clip(ex.Error, 120))
		}
		return "", fail(PreflightClosed, "gave no answer to %s: %s", what, clip(ex.Error, 200))
	}
	resp := ex.Response
	status := resp.StatusLine
	if i := strings.IndexByte(status, ' '); i >= 0 {
		status = strings.TrimSpace(status[i+1:])
	}
	if status == "" {
		status = strconv.Itoa(resp.Status)
	}
	if ex.Error != "" && strings.Contains(ex.Error, "cut short") {
		return "", fail(PreflightNoAnswer, "answered %s to %s but never finished the body (%s): a stalled server, or a Content-Length it does not send",
			status, what, ex.Error)
	}
	return status, nil
}

// connectError describes a failed connection or TLS handshake (the error of wire.Client.Reach).
func connectError(target string, err error) error {
	var re *wire.ReachError
	handshake := false
	if errors.As(err, &re) {
		handshake = re.Handshake
		err = re.Err
	}
	fail := failer(target)
	if handshake {
		return fail(PreflightTLS, "failed the TLS handshake: %s", tlsCause(err))
	}
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(PreflightRefused, "refused the connection: nothing listens on that port; check --target and that the server is running")
	case errors.As(err, &dnsErr):
		return fail(PreflightUnreachable, "cannot be reached: no such host (%s); check the host name in --target", dnsErr.Err)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fail(PreflightUnreachable, "did not accept a connection within %s: a firewall drops it, or the host or port is wrong; check --target", PreflightTimeout)
	}
	return fail(PreflightUnreachable, "cannot be reached: %v; check --target and that the server is running", err)
}

// tlsCause says in words why a TLS handshake failed, and what to do about it.
func tlsCause(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var ne net.Error
	switch {
	case errors.As(err, &unknown):
		return "its certificate is signed by an unknown authority; give the CA certificate with --ca-file, or --insecure to skip verification"
	case errors.As(err, &host):
		return fmt.Sprintf("its certificate is not valid for that host name (%v); use a host name the certificate names in --target, or --insecure", host.Error())
	case errors.As(err, &invalid):
		return fmt.Sprintf("its certificate is not valid (%v); renew it, or --insecure", invalid.Error())
	case errors.As(err, &record):
		return "the server does not speak TLS on that port (an http:// server?); use an http:// URL, or the TLS port"
	case errors.As(err, &alert):
		return fmt.Sprintf("the server refused the handshake (%v); check the TLS settings of the server", alert)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no handshake within %s: the server accepted the connection but does not answer TLS (a stalled server, or not a TLS port)", PreflightTimeout)
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return "the server closed the connection during the handshake (not a TLS port, or a TLS version or cipher it does not take)"
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
