package doctor

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/upspec/upspec/internal/backend"
	"github.com/upspec/upspec/internal/nginxconf"
	"github.com/upspec/upspec/internal/protocol"
)

// WireOptions configure the wire probes.
type WireOptions struct {
	// Target is the URL segments are posted to, e.g. http://127.0.0.1:8080/upload.
	Target *url.URL
	// Header holds extra headers for every request (e.g. Authorization).
	Header http.Header
	// TLS configures https targets (nil: the system's roots).
	TLS *tls.Config
	// SegmentSize is the largest segment clients send (1 MiB when 0): one segment of this size
	// is sent to see whether client_max_body_size takes it.
	SegmentSize int64
	// FileSize is the largest file clients upload (0: not probed): one small segment of a
	// session of this total is sent to see whether upload_max_file_size takes it.
	FileSize int64
	// FileURL is where a completed file can be fetched: a URL with {name}, e.g.
	// http://host/file/{name} ("": read it from Backend, when given).
	FileURL string
	// Backend is the base URL of the `upspec backend` the deployment's upload_pass reaches:
	// the forms it kept show what the module handed over ("": not read).
	Backend string
	// Timeout bounds every exchange (10 s when 0).
	Timeout time.Duration
	// RunID makes the session IDs unique ("" = random).
	RunID string
}

// Probe sizes.
const (
	firstSegment = 16       // the first probe's segment
	cutSegment   = 32 << 10 // each segment of the interrupted-segment probe
	// cutAfter is how much of a segment is sent before the connection is cut: past the ~8.5
	// KiB the module must have written for upload_cleanup 400 to delete the data file.
	cutAfter = 24 << 10
	// maxAnswer bounds the body read of an answer (and of the completed file fetched).
	maxAnswer = 1 << 20
)

// Probe runs the wire probes against opts.Target and maps what comes back to the directive
// to fix. It sends a few small sessions (their IDs start with "upspec-doctor-"); one of them
// is completed and handed to the deployment's backend. It stops at the first symptom that
// makes the later probes meaningless. The error is a setup problem: the target cannot be
// reached at all.
func Probe(ctx context.Context, opts WireOptions) (Report, error) {
	p, err := newProber(opts)
	if err != nil {
		return Report{}, err
	}
	var r Report
	if !p.first(ctx, &r) {
		if p.unreachable != nil {
			return Report{}, p.unreachable
		}
		return r, nil
	}
	p.segmentSize(ctx, &r)
	p.fileSize(ctx, &r)
	p.interrupted(ctx, &r)
	return r, nil
}

type prober struct {
	opts        WireOptions
	client      *http.Client
	forms       *backend.Client
	runID       string
	n           int
	unreachable error
}

func newProber(opts WireOptions) (*prober, error) {
	if opts.Target == nil || (opts.Target.Scheme != "http" && opts.Target.Scheme != "https") || opts.Target.Host == "" {
		return nil, errors.New("the target must be an http or https URL, e.g. http://127.0.0.1:8080/upload")
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = 1 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.FileURL != "" && !strings.Contains(opts.FileURL, "{name}") {
		return nil, fmt.Errorf("file URL %q: want a URL with {name}", opts.FileURL)
	}
	if opts.FileURL == "" && opts.Backend != "" {
		opts.FileURL = strings.TrimSuffix(opts.Backend, "/") + backend.FilePrefix + "{name}"
	}
	p := &prober{opts: opts, runID: opts.RunID}
	if p.runID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:]) // never fails
		p.runID = hex.EncodeToString(b[:])
	}
	p.client = &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			// A new connection for every exchange: after a module 5xx the connection may stay
			// open without answering (docs/module-behavior.md §10).
			DisableKeepAlives:     true,
			TLSClientConfig:       opts.TLS,
			ResponseHeaderTimeout: opts.Timeout,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if opts.Backend != "" {
		p.forms = backend.NewClient(opts.Backend, opts.Timeout)
	}
	return p, nil
}

// session is one probe session.
type session struct {
	id, name string
	total    int64
}

func (p *prober) session(total int64) session {
	p.n++
	id := fmt.Sprintf("upspec-doctor-%s-%d", p.runID, p.n)
	return session{id: id, name: id + ".bin", total: total}
}

// patternByte is byte i of every probe file: never zero, so that zero-filled holes show.
func patternByte(i int64) byte { return byte(1 + (i*131+7)%251) }

func pattern(start, end int64) []byte {
	b := make([]byte, end-start+1)
	for i := range b {
		b[i] = patternByte(start + int64(i))
	}
	return b
}

// answer is what came back for one request.
type answer struct {
	request  string // the request, for evidence
	status   int
	header   http.Header
	body     []byte
	noAnswer error // the connection ended without an answer
}

func (a answer) String() string {
	if a.noAnswer != nil {
		return a.request + " → no answer (" + a.noAnswer.Error() + ")"
	}
	s := fmt.Sprintf("%s → %d", a.request, a.status)
	if ct := a.header.Get("Content-Type"); ct != "" {
		s += ", " + ct
	}
	if r := a.header.Get(protocol.Range); r != "" {
		s += ", Range: " + clip(r, 80)
	}
	if len(a.body) > 0 {
		s += ", body " + strconv.Quote(clip(string(a.body), 80))
	}
	return s
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// segmentRequest builds the POST of bytes start-end of s.
func (p *prober) segmentRequest(ctx context.Context, s session, start, end int64) (*http.Request, error) {
	body := pattern(start, end)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.opts.Target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	for k, vs := range p.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header[protocol.ContentDisposition] = []string{`attachment; filename="` + s.name + `"`}
	req.Header[protocol.SessionID] = []string{s.id}
	req.Header[protocol.XContentRange] = []string{fmt.Sprintf("bytes %d-%d/%d", start, end, s.total)}
	if end-start+1 > 64<<10 {
		req.Header.Set("Expect", "100-continue") // a 413 comes before the body is sent
	}
	return req, nil
}

func (p *prober) describeSegment(s session, start, end int64) string {
	return fmt.Sprintf("POST %s (Session-ID %s, X-Content-Range: bytes %d-%d/%d, %d bytes)",
		p.opts.Target.Path, s.id, start, end, s.total, end-start+1)
}

// send posts bytes start-end of s and returns the answer.
func (p *prober) send(ctx context.Context, s session, start, end int64) answer {
	a := answer{request: p.describeSegment(s, start, end)}
	req, err := p.segmentRequest(ctx, s, start, end)
	if err != nil {
		a.noAnswer = err
		return a
	}
	return p.do(req, a)
}

func (p *prober) do(req *http.Request, a answer) answer {
	resp, err := p.client.Do(req)
	if err != nil {
		a.noAnswer = unwrapURLError(err)
		return a
	}
	defer resp.Body.Close()
	a.status, a.header = resp.StatusCode, resp.Header
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		a.noAnswer = fmt.Errorf("the answer's body: %w", err)
	}
	return a
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// refused reports whether err means nothing listens at the target.
func refused(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}

func (p *prober) add(r *Report, rule, directive, problem, fix string, evidence ...string) {
	r.Findings = append(r.Findings, Finding{
		Rule: rule, Severity: Error, Source: FromWire, Directive: directive,
		Problem: problem, Fix: fix, Evidence: strings.Join(evidence, "\n"),
	})
}

// first sends a small first segment of a fresh session: a working deployment answers 201 with
// that range. It reports false when the later probes are pointless.
func (p *prober) first(ctx context.Context, r *Report) bool {
	s := p.session(3 * cutSegment)
	a := p.send(ctx, s, 0, firstSegment-1)
	if a.noAnswer != nil && refused(a.noAnswer) {
		p.unreachable = fmt.Errorf("cannot reach %s: %v", p.opts.Target.Redacted(), a.noAnswer)
		return false
	}
	want := fmt.Sprintf("0-%d/%d", firstSegment-1, s.total)
	switch {
	case a.noAnswer != nil:
		p.add(r, "no-answer", "(none)",
			"the first segment of a fresh session got no answer: the connection closed without a response (the module drops malformed requests that way, and a crashed worker too)",
			"read nginx's error log for the request; check that a proxy in front passes the Session-ID, X-Content-Range and Content-Disposition headers unchanged", a.String())
	case a.status == http.StatusCreated:
		if got := a.header.Get(protocol.Range); got != want && !strings.Contains(got, want) {
			r.notef("the first segment got 201 with Range %q, not %q", got, want)
		}
		return true
	case a.status == http.StatusUnsupportedMediaType:
		p.add(r, "resumable-off", "upload_resumable",
			"segments get 415: resumable mode is off (nginx logs \"Content-Type is not multipart/form-data and resumable uploads are off\")",
			"upload_resumable on;", a.String())
	case a.status == http.StatusNotFound || a.status == http.StatusMethodNotAllowed:
		p.add(r, "upload-pass-missing", "upload_pass",
			fmt.Sprintf("segments get %d: the module does not handle the location (no upload_pass), so nginx looks for a static file", a.status),
			"upload_pass @backend; in the location, with location @backend { proxy_pass http://127.0.0.1:4567; }", a.String(), p.options(ctx))
	case a.status == http.StatusInternalServerError || a.status == http.StatusServiceUnavailable:
		p.add(r, "store-unwritable", "upload_store",
			fmt.Sprintf("the first segment gets %d: the module cannot create the data file (the upload_store directory, or its hashed sub-directories, missing or not writable by the worker user; the error log's errno tells which)", a.status),
			"create the upload_store directory and every hashed sub-directory (or drop the levels: upload_store DIR;), owned by the worker user", a.String())
	case a.status == http.StatusRequestEntityTooLarge:
		p.tooLarge(ctx, r, s, a)
	case a.status >= 200 && a.status < 400:
		ev := []string{a.String()}
		if fe := p.formEvidence(ctx, s); fe != "" {
			ev = append(ev, fe)
		}
		p.add(r, "false-success", "upload_state_store",
			fmt.Sprintf("the first segment of an incomplete file got %d, not 201: the module handed the backend a form without the file (its silent failure): the state file cannot be created (upload_state_store missing, its directory or its hashed sub-directory missing or not writable, session IDs too long)", a.status),
			"upload_state_store DIR; with DIR existing and writable by the worker user, without levels", ev...)
	default:
		p.add(r, "unexpected-status", "(none)",
			fmt.Sprintf("the first segment of a fresh session got %d, where the module answers 201", a.status),
			"read nginx's error log for the request", a.String())
	}
	return false
}

// options sends OPTIONS to the target: the module answers 200 with an empty body; nginx
// without upload_pass answers 405.
func (p *prober) options(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, p.opts.Target.String(), nil)
	if err != nil {
		return ""
	}
	for k, vs := range p.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	a := p.do(req, answer{request: "OPTIONS " + p.opts.Target.Path})
	return a.String() + " (the module answers OPTIONS with 200 and an empty body)"
}

// formEvidence describes the forms the backend received for s, or "".
func (p *prober) formEvidence(ctx context.Context, s session) string {
	if p.forms == nil {
		return ""
	}
	forms, err := p.forms.Forms(ctx, s.id)
	switch {
	case err != nil:
		return "the backend's forms could not be read: " + err.Error()
	case len(forms) == 0:
		return "the backend at " + p.opts.Backend + " received no form for session " + s.id
	}
	f := forms[len(forms)-1]
	if f.Empty() {
		return fmt.Sprintf("the backend received, for session %s, a form without any file field (fields: %s)", s.id, namesOrNone(f))
	}
	return fmt.Sprintf("the backend received, for session %s, a form with fields %s", s.id, namesOrNone(f))
}

func namesOrNone(f backend.Form) string {
	if len(f.Fields) == 0 {
		return "none"
	}
	return strings.Join(f.FieldNames(), ", ")
}

// tooLarge tells the two 413s apart: the same small segment in a session of a small total.
func (p *prober) tooLarge(ctx context.Context, r *Report, big session, a answer) {
	small := p.session(2 * firstSegment)
	b := p.send(ctx, small, 0, firstSegment-1)
	if b.noAnswer == nil && b.status == http.StatusCreated {
		p.add(r, "max-file-size", "upload_max_file_size",
			fmt.Sprintf("a segment of a %d-byte file gets 413 and the same segment of a %d-byte file 201: upload_max_file_size is below %d bytes",
				big.total, small.total, big.total),
			"upload_max_file_size 0; (or the largest file to upload)", a.String(), b.String())
		return
	}
	p.add(r, "body-size", "client_max_body_size",
		fmt.Sprintf("a %d-byte segment gets 413 whatever the file's total: client_max_body_size is below it", firstSegment),
		fmt.Sprintf("client_max_body_size %s;", nginxconf.Size(p.opts.SegmentSize)), a.String(), b.String())
}

// segmentSize sends one segment of SegmentSize bytes: 413 means client_max_body_size is
// below it (when a small segment of the same total is taken).
func (p *prober) segmentSize(ctx context.Context, r *Report) {
	size := p.opts.SegmentSize
	s := p.session(size + firstSegment)
	a := p.send(ctx, s, 0, size-1)
	if a.noAnswer != nil || a.status != http.StatusRequestEntityTooLarge {
		if a.noAnswer != nil || a.status != http.StatusCreated {
			r.notef("a segment of %d bytes got an unexpected answer: %s", size, a)
		}
		return
	}
	b := p.send(ctx, s, size, size+firstSegment-1)
	if b.noAnswer == nil && b.status == http.StatusRequestEntityTooLarge {
		p.add(r, "max-file-size", "upload_max_file_size",
			fmt.Sprintf("every segment of a %d-byte file gets 413, a small one too: upload_max_file_size is below %d bytes", s.total, s.total),
			fmt.Sprintf("upload_max_file_size 0; (or at least %s)", nginxconf.Size(s.total)), a.String(), b.String())
		return
	}
	p.add(r, "body-size", "client_max_body_size",
		fmt.Sprintf("a segment of %d bytes gets 413 while a small one of the same file is taken: client_max_body_size is below the segment size", size),
		fmt.Sprintf("client_max_body_size %s;", nginxconf.Size(size)), a.String(), b.String())
}

// fileSize sends a small segment of a session of FileSize bytes.
func (p *prober) fileSize(ctx context.Context, r *Report) {
	if p.opts.FileSize <= 0 {
		return
	}
	s := p.session(p.opts.FileSize)
	a := p.send(ctx, s, 0, min(firstSegment, p.opts.FileSize-1))
	if a.noAnswer == nil && a.status == http.StatusRequestEntityTooLarge {
		p.add(r, "max-file-size", "upload_max_file_size",
			fmt.Sprintf("a small segment of a %d-byte file gets 413: upload_max_file_size is below the files to upload", p.opts.FileSize),
			fmt.Sprintf("upload_max_file_size %s; (or 0: no limit)", nginxconf.Size(p.opts.FileSize)), a.String())
	}
}

// interrupted uploads a file of three segments, the second one first cut off after cutAfter
// bytes and then sent whole, and checks the completion's answer and the completed file: a
// data file deleted by upload_cleanup 400 shows as zeros where the first segment was.
func (p *prober) interrupted(ctx context.Context, r *Report) {
	s := p.session(3 * cutSegment)
	segs := [3][2]int64{{0, cutSegment - 1}, {cutSegment, 2*cutSegment - 1}, {2 * cutSegment, 3*cutSegment - 1}}
	if a := p.send(ctx, s, segs[0][0], segs[0][1]); a.noAnswer != nil || a.status != http.StatusCreated {
		r.notef("the interrupted-segment probe stopped: its first segment got %s", a)
		return
	}
	cut := p.cut(ctx, s, segs[1][0], segs[1][1])
	if a := p.send(ctx, s, segs[1][0], segs[1][1]); a.noAnswer != nil || a.status != http.StatusCreated {
		r.notef("the interrupted-segment probe stopped: the segment resent after the cut got %s", a)
		return
	}
	a := p.send(ctx, s, segs[2][0], segs[2][1])
	switch {
	case a.noAnswer != nil:
		r.notef("the completing segment got no answer: %s", a)
		return
	case a.status == http.StatusBadGateway || a.status == http.StatusGatewayTimeout:
		p.add(r, "backend-down", "upload_pass",
			fmt.Sprintf("the completing segment gets %d: nginx cannot reach the upload_pass backend (down, wrong address, or too slow); the module has already deleted the state, so the whole file must be sent again", a.status),
			"start the backend (upspec backend --listen ADDR --dir DIR) and point upload_pass's location at it: proxy_pass http://ADDR;", a.String())
		return
	case a.status == http.StatusCreated:
		r.notef("the file of session %s was not completed by its last segment: %s", s.id, a)
		return
	case a.status >= 400:
		p.add(r, "backend-error", "upload_pass",
			fmt.Sprintf("the completing segment gets %d: the backend refused the completed file", a.status),
			"read the backend's log; `upspec backend` answers 200 completed", a.String())
		return
	}
	if fe := p.formEvidence(ctx, s); fe != "" && strings.Contains(fe, "without any file field") {
		p.add(r, "false-success", "upload_state_store",
			"the completed file reached the backend as a form without the file (the module's silent failure)",
			"upload_state_store DIR; with DIR existing and writable by the worker user, without levels", a.String(), fe)
		return
	}
	p.checkFile(ctx, r, s, cut)
}

// cut sends the first cutAfter bytes of the segment start-end with the Content-Length of the
// whole segment, ends the sending half of the connection, and waits (bounded) until the server
// closes it: by then the server has finished with the request.
func (p *prober) cut(ctx context.Context, s session, start, end int64) string {
	desc := fmt.Sprintf("%s, cut off after %d bytes", p.describeSegment(s, start, end), cutAfter)
	req, err := p.segmentRequest(ctx, s, start, end)
	if err != nil {
		return desc + ": " + err.Error()
	}
	req.Header.Del("Expect")
	conn, err := p.dial(ctx)
	if err != nil {
		return desc + ": " + err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(p.opts.Timeout))
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", p.opts.Target.RequestURI(), p.opts.Target.Host, end-start+1)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	head.Write(pattern(start, start+cutAfter-1))
	if _, err := conn.Write(head.Bytes()); err != nil {
		return desc + ": " + err.Error()
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(conn, maxAnswer)) // until the server closes, or the deadline
	return desc
}

func (p *prober) dial(ctx context.Context) (net.Conn, error) {
	host := p.opts.Target.Host
	if p.opts.Target.Port() == "" {
		port := "80"
		if p.opts.Target.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(p.opts.Target.Hostname(), port)
	}
	d := &net.Dialer{Timeout: p.opts.Timeout}
	if p.opts.Target.Scheme == "https" {
		cfg := p.opts.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = p.opts.Target.Hostname()
		}
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		return td.DialContext(ctx, "tcp", host)
	}
	return d.DialContext(ctx, "tcp", host)
}

// checkFile fetches the completed file and compares it with what was sent.
func (p *prober) checkFile(ctx context.Context, r *Report, s session, cut string) {
	if p.opts.FileURL == "" {
		r.notef("the completed file was not read (give --file-url or --backend): upload_cleanup with 400 shows only in its bytes")
		return
	}
	u := strings.ReplaceAll(p.opts.FileURL, "{name}", url.PathEscape(s.name))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		r.notef("the completed file: %v", err)
		return
	}
	a := p.do(req, answer{request: "GET " + u})
	if a.noAnswer != nil || a.status != http.StatusOK {
		r.notef("the completed file could not be read: %s", a)
		return
	}
	want := pattern(0, s.total-1)
	if bytes.Equal(a.body, want) {
		return
	}
	zeros := 0
	for zeros < len(a.body) && a.body[zeros] == 0 {
		zeros++
	}
	got := md5.Sum(a.body)
	ev := []string{cut, fmt.Sprintf("GET %s → %d bytes (md5 %x), want %d bytes (md5 %x)", u, len(a.body), got, len(want), md5.Sum(want))}
	if zeros >= cutSegment/2 {
		p.add(r, "cleanup-400", "upload_cleanup",
			fmt.Sprintf("after a segment was cut off mid-body, the completed file starts with %d zero bytes where acknowledged bytes were: upload_cleanup deleted the data file on the cut segment's 400 (module issues #111, #123)", zeros),
			"upload_cleanup without 400 and 499, e.g. upload_cleanup 500-505;", ev...)
		return
	}
	p.add(r, "file-differs", "(none)",
		"the completed file differs from the bytes sent, although every segment was acknowledged",
		"read nginx's error log; check that nothing else writes into upload_store", ev...)
}
