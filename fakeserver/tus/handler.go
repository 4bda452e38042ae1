package tus

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// Protocol words of tus 1.0.0.
const (
	// Version is the protocol version the server speaks (Tus-Resumable, Tus-Version).
	Version = "1.0.0"
	// Extensions is the Tus-Extension the server announces (expiration only while uploads
	// expire).
	Extensions = "creation,creation-with-upload,creation-defer-length,expiration,checksum,termination,concatenation"
	// ChecksumAlgorithms is the Tus-Checksum-Algorithm the server announces.
	ChecksumAlgorithms = "sha1,md5,sha256"
	// OffsetOctetStream is the Content-Type of a body of bytes at an offset (PATCH, and a
	// creating POST that carries the first bytes).
	OffsetOctetStream = "application/offset+octet-stream"
	// StatusChecksumMismatch is the status of a PATCH whose Upload-Checksum does not match.
	StatusChecksumMismatch = 460
)

// methods is the Allow header of a 405: what an upload URL or the creation URL answers.
const methods = "OPTIONS, POST, HEAD, PATCH, DELETE, GET"

// newChecksum returns the hash of a Tus-Checksum-Algorithm name, nil if unsupported.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// handler is the tus protocol over a Store.
type handler struct {
	opts Options
	base string // opts.Path, ending with a slash

	mu      sync.Mutex
	entries map[string]*entry // uploads loaded from the store
	gone    map[string]bool   // uploads terminated or expired while the server ran: 410
	// goneOrder holds the keys of gone, oldest first: past goneLimit of them the oldest is
	// dropped, and that upload then gets 404 (which the protocol allows as well as 410).
	goneOrder []string
	goneLimit int
	wg        sync.WaitGroup // requests in progress

	journal *fakeserver.Journal   // every request answered but the admin API's (mock.go)
	faults  *fakeserver.FaultPlan // the scripted faults (mock.go)
	files   fileList              // the uploads completed
	admin   http.Handler          // the admin API under opts.AdminPrefix
	stop    chan struct{}         // closed when the server closes: faults stop waiting
	stopped sync.Once
}

// entry is one upload as the handler holds it.
type entry struct {
	up Upload

	mu      sync.Mutex // guards busy and removed
	busy    bool       // a request is writing the upload's bytes (the claim)
	removed bool       // terminated or expired: the in-progress request commits nothing
}

func newHandler(opts Options) *handler {
	opts = opts.withDefaults()
	h := &handler{opts: opts, base: opts.Path, entries: map[string]*entry{}, gone: map[string]bool{}, goneLimit: maxGone,
		journal: fakeserver.NewJournal(opts.JournalSize), faults: fakeserver.NewFaultPlan(opts.Faults), stop: make(chan struct{})}
	h.admin = fakeserver.NewAdminHandler(opts.AdminPrefix, &Admin{h: h})
	return h
}

// wait waits for the requests in progress; a fault's wait ends at once.
func (h *handler) wait() {
	h.stopped.Do(func() { close(h.stop) })
	h.wg.Wait()
}

// errGone and errUnknown are the lookup failures: 410 and 404.
var (
	errGone    = errors.New("the upload was terminated or expired")
	errUnknown = errors.New("no such upload")
)

// lookup returns the entry of upload id.
func (h *handler) lookup(id string) (*entry, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.entries[id]; ok {
		return e, nil
	}
	if h.gone[id] {
		return nil, errGone
	}
	up, err := h.opts.Store.Load(id)
	if errors.Is(err, ErrNotFound) {
		return nil, errUnknown
	}
	if err != nil {
		return nil, err
	}
	e := &entry{up: up}
	h.entries[id] = e
	return e, nil
}

// maxGone is how many terminated or expired uploads the server remembers, to answer them 410
// rather than 404: a bound on what a long-running server keeps of uploads it removed.
const maxGone = 1 << 16

// forget removes the entry of id and records it as gone. The caller holds e.mu and has set
// e.removed.
func (h *handler) forget(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.entries, id)
	if h.gone[id] {
		return
	}
	h.gone[id] = true
	h.goneOrder = append(h.goneOrder, id)
	if len(h.goneOrder) > h.goneLimit {
		delete(h.gone, h.goneOrder[0])
		h.goneOrder[0] = ""
		h.goneOrder = h.goneOrder[1:]
	}
}

// expired reports whether info is an incomplete upload past its expiry.
func (h *handler) expired(info Info) bool {
	return !info.Complete() && !info.Expires.IsZero() && h.opts.now().After(info.Expires)
}

// expireIfDue removes e's upload when it expired and no request holds it; the caller holds
// e.mu. It reports whether the upload is gone.
func (h *handler) expireIfDue(e *entry) bool {
	if e.removed {
		return true
	}
	info := e.up.Info()
	if e.busy || !h.expired(info) {
		return false
	}
	e.removed = true
	h.forget(info.ID)
	_ = e.up.Remove()
	return true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.wg.Add(1)
	defer h.wg.Done()
	p := r.URL.Path
	inBase := p == h.base || p+"/" == h.base || strings.HasPrefix(p, h.base)
	if !inBase && strings.HasPrefix(p, h.opts.AdminPrefix) {
		h.admin.ServeHTTP(w, r) // not journalled
		return
	}
	x := &exchange{ResponseWriter: w, h: h, r: r, seq: h.journal.Next(), start: time.Now(),
		body: &countReader{r: r.Body}, outcome: fakeserver.OutcomeAnswered, total: -1}
	r.Body = x.body
	w = x
	defer func() {
		if x.status == 0 && x.outcome == fakeserver.OutcomeAnswered {
			x.outcome = fakeserver.OutcomeDropped // the handler ended without an answer
		}
		x.record()
		if h.opts.Logf != nil {
			h.opts.Logf("%s", fakeserver.JournalLine(&x.entry, x.out))
		}
	}()
	var id string
	switch {
	case p == h.base || p+"/" == h.base:
	case strings.HasPrefix(p, h.base) && !strings.Contains(p[len(h.base):], "/"):
		id = p[len(h.base):]
	default:
		if h.opts.Fallback != nil {
			h.opts.Fallback.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	x.upload = id
	method := r.Method
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" && method == http.MethodPost {
		method = strings.ToUpper(strings.TrimSpace(o))
	}
	hd := w.Header()
	hd.Set("Tus-Resumable", Version)
	if method == http.MethodOptions {
		h.options(w)
		return
	}
	if method != http.MethodGet && r.Header.Get("Tus-Resumable") != Version {
		hd.Set("Tus-Version", Version)
		fail(w, http.StatusPreconditionFailed, "unsupported Tus-Resumable %q: this server speaks %s", r.Header.Get("Tus-Resumable"), Version)
		return
	}
	if id == "" {
		if method != http.MethodPost {
			hd.Set("Allow", "OPTIONS, POST")
			fail(w, http.StatusMethodNotAllowed, "the creation URL takes POST (and OPTIONS)")
			return
		}
		h.create(w, r)
		return
	}
	if !validID.MatchString(id) {
		fail(w, http.StatusNotFound, "no such upload")
		return
	}
	e, err := h.lookup(id)
	if err == nil && method == http.MethodPatch {
		var ok bool
		if e, ok, err = h.patchFault(x, id, e); !ok {
			return
		}
	}
	if err != nil {
		lookupFailed(w, err)
		return
	}
	if x.fault != nil && x.effect.Action == "status" && x.effect.Early {
		faultAnswer(x)
		return
	}
	info := e.up.Info()
	x.total, x.fileName = info.Length, metadataValue(info.Metadata, "filename")
	switch method {
	case http.MethodHead:
		h.head(w, r, e)
	case http.MethodPatch:
		h.patch(w, r, e)
	case http.MethodDelete:
		h.terminate(w, e)
	case http.MethodGet:
		h.get(w, r, e)
	default:
		hd.Set("Allow", methods)
		fail(w, http.StatusMethodNotAllowed, "an upload URL takes %s", methods)
	}
}

// patchFault fires the fault plan for a PATCH of upload e: forget and restart act at once
// (the upload is looked up again), the others when the body is read or the answer written.
// ok is false when the request is answered (an unknown plan).
func (h *handler) patchFault(x *exchange, id string, e *entry) (*entry, bool, error) {
	info := e.up.Info()
	x.total = info.Length
	start, ok := parseLength(x.r.Header.Get("Upload-Offset"))
	if !ok {
		start = info.Offset
	}
	total := info.Length
	if n, ok := parseLength(x.r.Header.Get("Upload-Length")); ok && total < 0 {
		total = n
	}
	if !h.pickFault(x, id, start, total) {
		return nil, false, nil
	}
	if x.fault == nil {
		return e, true, nil
	}
	switch x.effect.Action {
	case "forget":
		h.forgetUpload(id)
	case "restart":
		h.restart()
	default:
		return e, true, nil
	}
	e, err := h.lookup(id)
	return e, true, err
}

// lookupFailed answers a failed lookup: 410, 404 or 500.
func lookupFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errGone):
		fail(w, http.StatusGone, "%v", err)
	case errors.Is(err, errUnknown):
		fail(w, http.StatusNotFound, "%v", err)
	default:
		fail(w, http.StatusInternalServerError, "%v", err)
	}
}

// fail answers status with a one-line text body, the journal's reason.
func fail(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if x := exchangeOf(w); x != nil && x.reason == "" {
		x.reason = msg
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Del("Upload-Offset")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

func (h *handler) options(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Tus-Version", Version)
	ext := Extensions
	if h.opts.Expiration < 0 {
		ext = strings.Replace(ext, ",expiration", "", 1)
	}
	hd.Set("Tus-Extension", ext)
	if h.opts.MaxSize > 0 {
		hd.Set("Tus-Max-Size", strconv.FormatInt(h.opts.MaxSize, 10))
	}
	hd.Set("Tus-Checksum-Algorithm", ChecksumAlgorithms)
	w.WriteHeader(http.StatusNoContent)
}

// uploadURL is the absolute URL of upload id, on the host the request named.
func (h *handler) uploadURL(r *http.Request, id string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + h.base + id
}

// idOf returns the ID of the upload that URL ref (absolute, or a path) names on this server.
func (h *handler) idOf(ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || !strings.HasPrefix(u.Path, h.base) {
		return "", false
	}
	id := u.Path[len(h.base):]
	return id, validID.MatchString(id)
}

// parseLength parses a non-negative decimal length (digits only).
func parseLength(v string) (int64, bool) {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// validMetadata reports whether v is an Upload-Metadata value: comma-separated pairs of a
// key (not empty, without spaces and commas, unique) and an optional base64 value.
func validMetadata(v string) bool {
	if v == "" {
		return true
	}
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(v, ",") {
		pair = strings.TrimSpace(pair)
		key, val, _ := strings.Cut(pair, " ")
		if key == "" || seen[key] || strings.ContainsAny(val, " ") {
			return false
		}
		seen[key] = true
		if _, err := base64.StdEncoding.DecodeString(val); err != nil {
			return false
		}
	}
	return true
}

// newID returns a new upload ID: 128 random bits in hex.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// create answers a POST to the creation URL (creation, creation-defer-length,
// creation-with-upload, concatenation).
func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	info := Info{ID: newID(), Length: -1}
	ul, dl := r.Header.Get("Upload-Length"), r.Header.Get("Upload-Defer-Length")
	var parts []*entry
	switch concat := r.Header.Get("Upload-Concat"); {
	case concat == "partial":
		info.Partial = true
	case strings.HasPrefix(concat, "final;"):
		if ul != "" || dl != "" {
			fail(w, http.StatusBadRequest, "a final upload takes no Upload-Length nor Upload-Defer-Length: its length is its partials'")
			return
		}
		refs := strings.Fields(strings.TrimPrefix(concat, "final;"))
		if len(refs) == 0 {
			fail(w, http.StatusBadRequest, "Upload-Concat: final; names no partial upload")
			return
		}
		var total int64
		for _, ref := range refs {
			id, ok := h.idOf(ref)
			var e *entry
			var err error
			if ok {
				e, err = h.lookup(id)
			}
			if !ok || err != nil || !e.up.Info().Partial {
				fail(w, http.StatusBadRequest, "Upload-Concat: %q is not a partial upload of this server", ref)
				return
			}
			pi := e.up.Info()
			if total >= 0 && pi.Length >= 0 {
				total += pi.Length
			} else {
				total = -1
			}
			info.Parts = append(info.Parts, id)
			parts = append(parts, e)
		}
		info.Final, info.Length = true, total
		if h.opts.MaxSize > 0 && total > h.opts.MaxSize {
			fail(w, http.StatusRequestEntityTooLarge, "the final upload's length %d exceeds Tus-Max-Size %d", total, h.opts.MaxSize)
			return
		}
	case concat != "":
		fail(w, http.StatusBadRequest, "Upload-Concat %q is neither partial nor final;<URLs>", concat)
		return
	}
	if !info.Final {
		switch {
		case ul != "" && dl != "":
			fail(w, http.StatusBadRequest, "Upload-Length and Upload-Defer-Length exclude each other")
			return
		case ul != "":
			n, ok := parseLength(ul)
			if !ok {
				fail(w, http.StatusBadRequest, "Upload-Length %q is not a non-negative integer", ul)
				return
			}
			if h.opts.MaxSize > 0 && n > h.opts.MaxSize {
				fail(w, http.StatusRequestEntityTooLarge, "Upload-Length %d exceeds Tus-Max-Size %d", n, h.opts.MaxSize)
				return
			}
			info.Length = n
		case dl != "":
			if dl != "1" {
				fail(w, http.StatusBadRequest, "Upload-Defer-Length must be 1, not %q", dl)
				return
			}
		default:
			fail(w, http.StatusBadRequest, "a creating POST needs Upload-Length (or Upload-Defer-Length: 1)")
			return
		}
		if h.opts.Expiration > 0 {
			info.Expires = h.opts.now().Add(h.opts.Expiration).UTC()
		}
	}
	md := r.Header.Get("Upload-Metadata")
	if !validMetadata(md) {
		fail(w, http.StatusBadRequest, "Upload-Metadata %q is not comma-separated pairs of a key and a base64 value", md)
		return
	}
	info.Metadata = md
	withBody := !info.Final && r.Header.Get("Content-Type") == OffsetOctetStream
	var sum *checksum
	x := exchangeOf(w)
	if withBody {
		var ok bool
		if sum, ok = parseChecksum(w, r); !ok {
			return
		}
		if !h.pickFault(x, info.ID, 0, info.Length) {
			return
		}
		switch {
		case x.fault == nil:
		case x.effect.Action == "restart":
			h.restart()
		case x.effect.Action == "status" && x.effect.Early:
			faultAnswer(x)
			return
		}
	}
	if x != nil {
		x.upload, x.total, x.fileName = info.ID, info.Length, metadataValue(md, "filename")
	}
	up, err := h.opts.Store.Create(info)
	if err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	e := &entry{up: up, busy: withBody}
	h.mu.Lock()
	h.entries[info.ID] = e
	h.mu.Unlock()
	hd := w.Header()
	hd.Set("Location", h.uploadURL(r, info.ID))
	if info.Final {
		h.concatenate(e, parts)
	}
	if withBody {
		info, ok := h.receive(w, r, e, info, sum)
		if !ok {
			return
		}
		hd.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
		setExpires(hd, info)
	} else {
		setExpires(hd, e.up.Info())
	}
	w.WriteHeader(http.StatusCreated)
}

// setExpires sets Upload-Expires for an incomplete upload that expires.
func setExpires(hd http.Header, info Info) {
	if !info.Complete() && !info.Expires.IsZero() {
		hd.Set("Upload-Expires", info.Expires.UTC().Format(http.TimeFormat))
	}
}

// concatenate makes the final upload of e from its partials once they are all complete; parts
// nil: they are looked up. It does nothing while a partial is incomplete, and nothing twice.
func (h *handler) concatenate(e *entry, parts []*entry) {
	e.mu.Lock()
	info := e.up.Info()
	if e.busy || e.removed || !info.Final || info.Complete() {
		e.mu.Unlock()
		return
	}
	e.busy = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.busy = false
		e.mu.Unlock()
	}()
	if parts == nil {
		for _, id := range info.Parts {
			p, err := h.lookup(id)
			if err != nil {
				return
			}
			parts = append(parts, p)
		}
	}
	var infos []Info
	var total int64
	for _, p := range parts {
		pi := p.up.Info()
		if !pi.Complete() {
			return
		}
		infos = append(infos, pi)
		total += pi.Length
	}
	var off int64
	for i, p := range parts {
		n, err := io.Copy(io.NewOffsetWriter(e.up, off), io.NewSectionReader(p.up, 0, infos[i].Length))
		if err != nil || n != infos[i].Length {
			return
		}
		off += n
	}
	if e.up.Flush() != nil {
		return
	}
	info.Length, info.Offset = total, total
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.removed {
		_ = e.up.Commit(info)
	}
}

func (h *handler) head(w http.ResponseWriter, _ *http.Request, e *entry) {
	h.concatenate(e, nil)
	e.mu.Lock()
	gone := h.expireIfDue(e)
	e.mu.Unlock()
	if gone {
		fail(w, http.StatusGone, "%v", errGone)
		return
	}
	info := e.up.Info()
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	if !info.Final || info.Complete() {
		hd.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	}
	switch {
	case info.Length >= 0:
		hd.Set("Upload-Length", strconv.FormatInt(info.Length, 10))
	case !info.Final:
		hd.Set("Upload-Defer-Length", "1")
	}
	if info.Metadata != "" {
		hd.Set("Upload-Metadata", info.Metadata)
	}
	if info.Partial {
		hd.Set("Upload-Concat", "partial")
	}
	if info.Final {
		// The partials' URLs as paths, the form the client may send them in.
		refs := make([]string, len(info.Parts))
		for i, id := range info.Parts {
			refs[i] = h.base + id
		}
		hd.Set("Upload-Concat", "final;"+strings.Join(refs, " "))
	}
	setExpires(hd, info)
	w.WriteHeader(http.StatusOK)
}

// checksum is a PATCH's Upload-Checksum: the algorithm's hash and the digest it must give.
type checksum struct {
	h    hash.Hash
	want []byte
}

// parseChecksum reads Upload-Checksum; without one it returns nil. A malformed one or an
// unsupported algorithm is answered 400 (ok false).
func parseChecksum(w http.ResponseWriter, r *http.Request) (*checksum, bool) {
	v := r.Header.Get("Upload-Checksum")
	if v == "" {
		return nil, true
	}
	alg, enc, _ := strings.Cut(strings.TrimSpace(v), " ")
	hs := newChecksum(alg)
	if hs == nil {
		fail(w, http.StatusBadRequest, "Upload-Checksum: algorithm %q is not supported (Tus-Checksum-Algorithm: %s)", alg, ChecksumAlgorithms)
		return nil, false
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil || len(want) != hs.Size() {
		fail(w, http.StatusBadRequest, "Upload-Checksum: %q is not the base64 of a %s digest", enc, alg)
		return nil, false
	}
	return &checksum{h: hs, want: want}, true
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request, e *entry) {
	if ct := r.Header.Get("Content-Type"); ct != OffsetOctetStream {
		fail(w, http.StatusUnsupportedMediaType, "a PATCH body is Content-Type: %s, not %q", OffsetOctetStream, ct)
		return
	}
	off, ok := parseLength(r.Header.Get("Upload-Offset"))
	if !ok {
		fail(w, http.StatusBadRequest, "Upload-Offset %q is not a non-negative integer", r.Header.Get("Upload-Offset"))
		return
	}
	sum, ok := parseChecksum(w, r)
	if !ok {
		return
	}
	// The claim: checks and the claim under the entry's lock, before the body is read, so that
	// 100 Continue (sent by the first read) means this PATCH holds the upload.
	e.mu.Lock()
	if h.expireIfDue(e) {
		e.mu.Unlock()
		fail(w, http.StatusGone, "%v", errGone)
		return
	}
	info := e.up.Info()
	status, msg := h.admit(r, info, off)
	if status == 0 && e.busy {
		status, msg = http.StatusConflict, "another request is writing this upload; ask HEAD for its offset and try again"
	}
	if status != 0 {
		e.mu.Unlock()
		fail(w, status, "%s", msg)
		return
	}
	if ul := r.Header.Get("Upload-Length"); ul != "" && info.Length < 0 {
		info.Length, _ = parseLength(ul) // admit checked it
	}
	e.busy = true
	e.mu.Unlock()
	info, ok = h.receive(w, r, e, info, sum)
	if !ok {
		return
	}
	hd := w.Header()
	hd.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	setExpires(hd, info)
	w.WriteHeader(http.StatusNoContent)
}

// admit checks a PATCH at offset off against the upload; it returns 0 or the refusal.
func (h *handler) admit(r *http.Request, info Info, off int64) (int, string) {
	if info.Final {
		return http.StatusForbidden, "a final upload takes no PATCH: its bytes are its partials'"
	}
	if off != info.Offset {
		return http.StatusConflict, fmt.Sprintf("Upload-Offset %d is not the upload's offset %d", off, info.Offset)
	}
	length := info.Length
	if ul := r.Header.Get("Upload-Length"); ul != "" {
		n, ok := parseLength(ul)
		switch {
		case !ok:
			return http.StatusBadRequest, fmt.Sprintf("Upload-Length %q is not a non-negative integer", ul)
		case info.Length >= 0 && n != info.Length:
			return http.StatusBadRequest, fmt.Sprintf("Upload-Length %d differs from the upload's length %d", n, info.Length)
		case n < info.Offset:
			return http.StatusBadRequest, fmt.Sprintf("Upload-Length %d is below the bytes received, %d", n, info.Offset)
		case h.opts.MaxSize > 0 && n > h.opts.MaxSize:
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("Upload-Length %d exceeds Tus-Max-Size %d", n, h.opts.MaxSize)
		}
		length = n
	}
	if room := h.room(length, off); room >= 0 && r.ContentLength > room {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the body's %d bytes go past the upload's length (%d bytes left)", r.ContentLength, room)
	}
	return 0, ""
}

// room is how many bytes may follow offset off of an upload of length (-1: deferred); -1:
// no limit.
func (h *handler) room(length, off int64) int64 {
	switch {
	case length >= 0:
		return length - off
	case h.opts.MaxSize > 0:
		return h.opts.MaxSize - off
	}
	return -1
}

// receive streams the body of r, held by the claim of e, into the upload from info.Offset and
// commits what it stored; it releases the claim. Without a checksum an interrupted body keeps
// the bytes that arrived; with one, only a whole body whose digest matches is stored. It
// answers the failures itself (ok false) and returns the committed Info.
func (h *handler) receive(w http.ResponseWriter, r *http.Request, e *entry, info Info, sum *checksum) (Info, bool) {
	body := io.Reader(r.Body)
	x := exchangeOf(w)
	if x != nil && x.fault != nil {
		switch fe := x.effect; fe.Action {
		case "status", "reset-after": // nothing of the body is stored
			e.mu.Lock()
			e.busy = false
			e.mu.Unlock()
			if fe.Action == "status" {
				drain(r.Body, -1)
				faultAnswer(x)
			} else {
				drain(r.Body, fe.N)
				x.drop(true)
			}
			return info, false
		case "keep":
			body = io.LimitReader(r.Body, fe.N)
		case "stall":
			body = &stallReader{x: x, r: r.Body, left: fe.N}
		}
	}
	n, over, rerr := h.copyBody(w, body, e.up, info.Offset, h.room(info.Length, info.Offset), sum)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.busy = false
	if e.removed {
		fail(w, http.StatusGone, "%v", errGone)
		return info, false
	}
	keep := rerr == nil && !over
	switch {
	case keep && sum != nil && !bytes.Equal(sum.h.Sum(nil), sum.want):
		fail(w, StatusChecksumMismatch, "Checksum Mismatch: the body's digest is not Upload-Checksum's; nothing was stored")
		return info, false
	case sum == nil && !over:
		keep = true // an interrupted body keeps what arrived
	}
	if keep {
		info.Offset += n
		if info.Complete() {
			info.Expires = time.Time{}
		} else if h.opts.Expiration > 0 {
			info.Expires = h.opts.now().Add(h.opts.Expiration).UTC()
		}
		if err := e.up.Flush(); err != nil {
			fail(w, http.StatusInternalServerError, "%v", err)
			return e.up.Info(), false
		}
		if err := e.up.Commit(info); err != nil {
			fail(w, http.StatusInternalServerError, "%v", err)
			return e.up.Info(), false
		}
		if info.Complete() {
			h.completed(info)
		}
	}
	if keep && x != nil && x.fault != nil && x.effect.Action == "keep" {
		if x.effect.Reset {
			x.drop(true)
		} else {
			drain(r.Body, -1)
			faultAnswer(x)
		}
		return info, false
	}
	switch {
	case over:
		fail(w, http.StatusRequestEntityTooLarge, "the body goes past the upload's length; nothing was stored")
		return info, false
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		fail(w, http.StatusRequestTimeout, "the body stalled for %v; the bytes received are kept (offset %d)", h.opts.BodyReadTimeout, e.up.Info().Offset)
		return info, false
	case rerr != nil:
		fail(w, http.StatusBadRequest, "reading the body: %v; offset %d", rerr, e.up.Info().Offset)
		return info, false
	}
	return info, true
}

// copyBody writes body into up from off, at most room bytes (-1: no limit); over
// reports a body longer than that. Every read has BodyReadTimeout.
func (h *handler) copyBody(w http.ResponseWriter, body io.Reader, up Upload, off, room int64, sum *checksum) (n int64, over bool, err error) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 64<<10)
	for {
		_ = rc.SetReadDeadline(time.Now().Add(h.opts.BodyReadTimeout))
		m, rerr := body.Read(buf)
		if m > 0 {
			if room >= 0 && n+int64(m) > room {
				return n, true, nil
			}
			if _, werr := up.WriteAt(buf[:m], off+n); werr != nil {
				return n, false, werr
			}
			if sum != nil {
				sum.h.Write(buf[:m])
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, false, nil
		}
		if rerr != nil {
			return n, false, rerr
		}
	}
}

func (h *handler) terminate(w http.ResponseWriter, e *entry) {
	e.mu.Lock()
	if e.removed {
		e.mu.Unlock()
		fail(w, http.StatusGone, "%v", errGone)
		return
	}
	e.removed = true
	id := e.up.Info().ID
	h.forget(id)
	e.mu.Unlock()
	if err := e.up.Remove(); err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// get serves the bytes received so far (all of them once the upload is complete): an upspec
// addition to tus, so that a suite can read back what it sent.
func (h *handler) get(w http.ResponseWriter, r *http.Request, e *entry) {
	h.concatenate(e, nil)
	e.mu.Lock()
	gone := h.expireIfDue(e)
	e.mu.Unlock()
	if gone {
		fail(w, http.StatusGone, "%v", errGone)
		return
	}
	info := e.up.Info()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	hd.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(e.up, 0, info.Offset))
}

// countReader counts the body bytes read, for the journal.
type countReader struct {
	r io.ReadCloser
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) Close() error { return c.r.Close() }
