package fakeserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/upspec/upspec/ranges"
)

// This file holds the module's ordinary uploads (docs/module-behavior.md §1.2, §1.7, §9), used
// by the drop-on-malformed quirk, whose grammar tells them apart from segments: a request that
// is no segment is stored as one whole file and handed to the backend with a real form, and
// the backend's answer comes back (class B).
//
//   - multipart/form-data with a boundary: an RFC 1867 form upload; the range and session
//     headers are ignored, the first file part is stored under a temp-numbered name;
//   - a Session-ID and no range header: the whole body is the file, stored under the
//     session's name (no state is kept: the session's segments are not touched);
//   - neither: the whole body, under a temp-numbered name.

// errShortUpload marks the body of an ordinary upload that broke off or stalled.
var errShortUpload = errors.New("the body is shorter than Content-Length")

// maxOrdinaryUpload bounds the file part of a multipart upload, which is read into memory.
const maxOrdinaryUpload = 64 << 20

// ordinaryUploads stores the module's ordinary uploads of one handler.
type ordinaryUploads struct {
	h *handler
	n atomic.Int64 // the last temp number given
}

// tempName returns the next temp-numbered name: 10 digits, as the module names its files.
func (o *ordinaryUploads) tempName() string {
	return fmt.Sprintf("%010d", o.n.Add(1))
}

// multipartBoundary returns the boundary parameter of a multipart/form-data Content-Type, or ""
// when it has none (or the value does not parse).
func multipartBoundary(contentType string) string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return params["boundary"]
}

// serve stores the body of x as one file and returns the answer: the backend's (answered as
// a completion), or an error status when the body cannot be read or stored.
func (o *ordinaryUploads) serve(x *exchange) response {
	r := x.r
	rc := http.NewResponseController(x.w)
	in := deadlineReader{r: r.Body, rc: rc, timeout: o.h.opts.BodyReadTimeout}
	read := false // the body was read whole
	defer func() {
		// The connection's later reads are under the server's own timeouts; after a body that
		// broke off, the expired deadline keeps the server from waiting for the rest of it.
		if read {
			_ = rc.SetReadDeadline(time.Time{}) // a connection without deadlines has none to clear
		}
	}()
	ct := r.Header.Get("Content-Type")
	hd := segmentHeaders{contentType: ct}
	var body io.Reader
	var size int64
	var name string
	if boundary := multipartBoundary(ct); hasPrefixFold(ct, "multipart/form-data") && boundary != "" {
		part, err := filePart(multipart.NewReader(in, boundary))
		if err != nil {
			return response{outcome: answerStatus, status: http.StatusBadRequest, reason: oneLine(fmt.Sprintf("multipart body: %v", err))}
		}
		read = true
		if part == nil {
			return o.pass(x, &hd, nil)
		}
		hd.contentType, hd.fileName = part.contentType, part.fileName
		body, size, name = bytes.NewReader(part.data), int64(len(part.data)), o.tempName()
	} else {
		if r.ContentLength <= 0 || len(r.TransferEncoding) > 0 {
			// the module's check of a request without a range (§1.8 step 8)
			return response{outcome: answerStatus, status: http.StatusBadRequest, reason: "Content-Length 0 or absent and no range header"}
		}
		hd.session = x.session
		if v := r.Header.Get(keyDisposition); v != "" {
			hd.fileName, _ = moduleFileName(v)
		}
		body, size, name = in, r.ContentLength, x.session
		if name == "" || !validFileName(name) {
			name = o.tempName()
		}
	}
	if size == 0 {
		return o.pass(x, &hd, nil)
	}
	f, err := o.store(x, name, body, size)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, errShortUpload) {
			status = http.StatusBadRequest
		}
		return response{outcome: answerStatus, status: status, reason: oneLine(err.Error())}
	}
	read = true
	return o.pass(x, &hd, f)
}

// pass hands f (nil: a form without a file) to the backend and returns its answer.
func (o *ordinaryUploads) pass(x *exchange, hd *segmentHeaders, f File) response {
	h := o.h
	if f != nil {
		defer f.Close()
	}
	if h.opts.UploadPass == "" {
		return response{outcome: answerCompletion, answer: builtinAnswer()}
	}
	var a *answer
	var err error
	if f == nil {
		a, err = h.passEmpty(x.r.Context(), x.r)
	} else {
		a, err = h.passToBackend(x, hd, f)
	}
	if err != nil {
		return response{outcome: answerStatus, status: http.StatusBadGateway, reason: oneLine(fmt.Sprintf("backend: %v", err))}
	}
	return response{outcome: answerCompletion, answer: a}
}

// store writes size bytes of body into the store as the completed file name.
func (o *ordinaryUploads) store(x *exchange, name string, body io.Reader, size int64) (File, error) {
	h := o.h
	u, err := h.opts.Store.Create("ordinary-"+o.tempName(), size)
	if err != nil {
		return nil, fmt.Errorf("cannot store the upload: %w", err)
	}
	if err := o.copyInto(x, u, body, size); err != nil {
		_ = u.Discard() // nothing of it was acknowledged
		return nil, err
	}
	all := ranges.Range{Start: 0, End: size - 1}
	if err := u.Flush(); err != nil {
		_ = u.Discard()
		return nil, fmt.Errorf("cannot store the upload: %w", err)
	}
	if err := u.Commit(all, []ranges.Range{all}); err != nil {
		_ = u.Discard()
		return nil, fmt.Errorf("cannot store the upload: %w", err)
	}
	f, err := u.Finish(name)
	if err != nil {
		return nil, fmt.Errorf("cannot finish the upload: %w", err)
	}
	return f, nil
}

// copyInto copies size bytes of body into u through a pooled buffer.
func (o *ordinaryUploads) copyInto(x *exchange, u Upload, body io.Reader, size int64) error {
	bp := o.h.pool.Get().(*[]byte)
	defer o.h.pool.Put(bp)
	buf := *bp
	for off := int64(0); off < size; {
		n, err := io.ReadFull(body, buf[:min(int64(len(buf)), size-off)])
		if n > 0 {
			if _, werr := u.WriteAt(buf[:n], off); werr != nil {
				return fmt.Errorf("cannot store the upload: %w", werr)
			}
			off += int64(n)
			x.in += int64(n)
		}
		if err != nil && off < size {
			return fmt.Errorf("%w: %w", errShortUpload, err)
		}
	}
	return nil
}

// formFile is the file part of a multipart upload.
type formFile struct {
	fileName, contentType string
	data                  []byte
}

// filePart returns the first part of mr that carries a file name, read whole (at most
// maxOrdinaryUpload bytes), or nil when there is none; the other parts are read and dropped.
func filePart(mr *multipart.Reader) (*formFile, error) {
	var found *formFile
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		if found != nil || p.FileName() == "" {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, err
			}
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, maxOrdinaryUpload+1))
		if err != nil {
			return nil, err
		}
		if len(data) > maxOrdinaryUpload {
			return nil, errors.New("the file part is larger than " + strconv.Itoa(maxOrdinaryUpload) + " bytes")
		}
		found = &formFile{fileName: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data}
	}
}

// deadlineReader reads a request body with a deadline on every read, as the handler's readBody
// does: a client that stalls longer than timeout ends the read with a timeout error.
type deadlineReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	if err := d.rc.SetReadDeadline(time.Now().Add(d.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, fmt.Errorf("set read deadline: %w", err)
	}
	return d.r.Read(p)
}
