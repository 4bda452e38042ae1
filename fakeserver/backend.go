package fakeserver

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
)

// answer is a completion answer: the backend's status, headers and body, kept for retries.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// builtinAnswer is the built-in backend's answer: 200 text/plain `completed`.
func builtinAnswer() *answer {
	return &answer{
		status: http.StatusOK,
		header: http.Header{"Content-Type": {"text/plain"}},
		body:   []byte("completed"),
	}
}

// hopHeaders returns the hop-by-hop headers a proxy neither forwards nor relays.
func hopHeaders() [9]string {
	return [...]string{
		"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade",
	}
}

// backendRequest builds the POST to UploadPass with form as its body: the client's headers
// pass through, as the module's proxy_pass passes them, except the hop-by-hop ones and the
// framing of the original body.
func (h *handler) backendRequest(ctx context.Context, r *http.Request, form *bytes.Buffer, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opts.UploadPass, form)
	if err != nil {
		return nil, fmt.Errorf("request to %s: %w", h.opts.UploadPass, err)
	}
	for k, vs := range r.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders() {
		req.Header.Del(k)
	}
	req.Header.Del("Expect")
	req.Header.Del("Content-Length")
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// passToBackend hands the completed file to UploadPass as the module's multipart form
// (fields name, content_type, path, size, md5, sha1, in this order) and returns the backend's
// answer. The digests are computed here (the module leaves them empty).
func (h *handler) passToBackend(x *exchange, hd *segmentHeaders, f File) (*answer, error) {
	md5sum, sha1sum, err := h.digests(f)
	if err != nil {
		return nil, err
	}
	ff := h.b.form(x, hd, formFields{size: f.Size(), md5: md5sum, sha1: sha1sum})
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for _, kv := range [...][2]string{
		{"name", hd.fileName},
		{"content_type", hd.contentType},
		{"path", f.Path()},
		{"size", strconv.FormatInt(ff.size, 10)},
		{"md5", ff.md5},
		{"sha1", ff.sha1},
	} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("form: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("form: %w", err)
	}
	return h.post(x.r.Context(), x.r, &form, mw.FormDataContentType())
}

// passEmpty hands the backend a form without the file, as the module does for its silent
// failures: a single empty dummy field.
func (h *handler) passEmpty(ctx context.Context, r *http.Request) (*answer, error) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	if err := mw.WriteField("<ngx_upload_module_dummy>", ""); err != nil {
		return nil, fmt.Errorf("form: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("form: %w", err)
	}
	return h.post(ctx, r, &form, mw.FormDataContentType())
}

// post sends form to UploadPass and keeps the answer.
func (h *handler) post(ctx context.Context, r *http.Request, form *bytes.Buffer, contentType string) (*answer, error) {
	req, err := h.backendRequest(ctx, r, form, contentType)
	if err != nil {
		return nil, err
	}
	resp, err := h.opts.BackendClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", h.opts.UploadPass, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", h.opts.UploadPass, err)
	}
	if len(body) > maxBackendAnswer {
		return nil, fmt.Errorf("the answer of %s is larger than %d bytes", h.opts.UploadPass, maxBackendAnswer)
	}
	header := resp.Header.Clone()
	for _, k := range hopHeaders() {
		header.Del(k)
	}
	header.Del("Content-Length")
	return &answer{status: resp.StatusCode, header: header, body: body}, nil
}

// digests returns the hex MD5 and SHA-1 of f, read through a pooled buffer.
func (h *handler) digests(f File) (string, string, error) {
	bp := h.pool.Get().(*[]byte)
	defer h.pool.Put(bp)
	m, s := md5.New(), sha1.New()
	w := io.MultiWriter(m, s)
	if _, err := io.CopyBuffer(w, io.NewSectionReader(f, 0, f.Size()), *bp); err != nil && !errors.Is(err, io.EOF) {
		return "", "", fmt.Errorf("digest of the completed file: %w", err)
	}
	return hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), nil
}
