// Package backend is the upload_pass backend of a resumable-upload deployment: the program the
// module hands each completed file to, as a multipart form (docs/module-behavior.md §2.3).
//
// A Backend answers every form with 200 `completed` and keeps it, keyed by the Session-ID
// header (every original request header reaches the backend unchanged). With a directory
// (Options.Dir) it also takes the file: it copies the file named by the form's path field into
// the directory under the form's name field (stripped to its last path element, confined to the
// directory with os.Root), removes the original unless told to keep it, serves it at
// GET /file/<name>, and compares the form's size and digest fields with the file's real size,
// MD5 and SHA-1. In resumable mode the module sends empty digests and the size of the last
// segment, so those differences are recorded, not treated as errors.
//
// The conformance suite's harness backend is a Backend without a directory.
package backend

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upspec/upspec/internal/protocol"
)

// Answer of a Backend to every form it could take.
const (
	Status = http.StatusOK
	Body   = "completed"
)

// Paths a Backend serves besides the forms it takes (POST, any path).
const (
	// FormsPath serves the kept forms as JSON: `GET FormsPath?session=<ID>` for one session,
	// `GET FormsPath` for every form.
	FormsPath = "/.upspec/forms"
	// FilePrefix serves a stored file: `GET /file/<name>`.
	FilePrefix = "/file/"
)

// Names of the form fields the module is configured to send (upload_set_form_field and
// upload_aggregate_form_field in the configuration `upspec nginx-conf` writes), in that order.
const (
	FieldName        = "name"         // $upload_file_name
	FieldContentType = "content_type" // $upload_content_type
	FieldPath        = "path"         // $upload_tmp_path
	FieldSize        = "size"         // $upload_file_size (aggregate)
	FieldMD5         = "md5"          // $upload_file_md5 (aggregate)
	FieldSHA1        = "sha1"         // $upload_file_sha1 (aggregate)
)

// Fields returns the names of the fields the module is configured to send, in order: the
// ones set when the final segment starts, then the aggregate ones.
func Fields() (set, aggregate []string) {
	return []string{FieldName, FieldContentType, FieldPath}, []string{FieldSize, FieldMD5, FieldSHA1}
}

// Limits of a Backend.
const (
	// MaxFieldValue is how much of a form field's value is kept; the rest is counted.
	MaxFieldValue = 4096
	// maxFormBody bounds the body of one form.
	maxFormBody = 256 << 20
	// maxKeptForms bounds the forms kept; the oldest sessions are forgotten first.
	maxKeptForms = 4096
)

// Field is one part of a form received by a Backend.
type Field struct {
	Name     string `json:"name"`
	Value    string `json:"value"`              // at most MaxFieldValue bytes
	Size     int64  `json:"size"`               // the length of the whole value
	FileName string `json:"filename,omitempty"` // a file part: its filename parameter
}

// Form is one request received by a Backend.
type Form struct {
	SessionID   string    `json:"session_id"` // the Session-ID (or X-Session-ID) header; "" without one
	Method      string    `json:"method"`
	Target      string    `json:"target"` // the request target, e.g. "/done?x=1"
	ContentType string    `json:"content_type"`
	Fields      []Field   `json:"fields"`
	Error       string    `json:"error,omitempty"` // why the body could not be read as a form
	Received    time.Time `json:"received"`
	// File is what became of the file the form names (only with a directory).
	File *StoredFile `json:"file,omitempty"`
}

// Field returns the first field named name (exact match).
func (f Form) Field(name string) (Field, bool) {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl, true
		}
	}
	return Field{}, false
}

// FieldNames returns the names of the fields, in order, for messages.
func (f Form) FieldNames() []string {
	names := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		names[i] = fl.Name
	}
	return names
}

// Empty reports whether the form carries no file field at all: only the closing boundary, or
// the module's single dummy field. The module sends such a form for its silent failures
// (docs/module-behavior.md §2.6): a state file it cannot create, a total that differs, a
// segment without a session ID.
func (f Form) Empty() bool {
	for _, fl := range f.Fields {
		if fl.Name != DummyField {
			return false
		}
	}
	return f.Error == ""
}

// DummyField is the name of the only field of a form the module sends when no field was
// produced.
const DummyField = "<ngx_upload_module_dummy>"

// StoredFile is what a Backend with a directory did with the file a form names.
type StoredFile struct {
	Name   string `json:"name"`            // the stored name: the form's name, path-stripped
	Source string `json:"source"`          // the form's path field
	Stored bool   `json:"stored"`          // the file is in the directory
	Error  string `json:"error,omitempty"` // why it is not
	Size   int64  `json:"size"`            // the real size of the file
	MD5    string `json:"md5"`             // its real digests, hex
	SHA1   string `json:"sha1"`
	// Differences lists the size and digest fields of the form that differ from the file.
	Differences []Difference `json:"differences,omitempty"`
}

// Difference is a size or digest field of a form that differs from the stored file.
type Difference struct {
	Field string `json:"field"`
	Form  string `json:"form"` // the value in the form
	File  string `json:"file"` // the value of the file
	Why   string `json:"why,omitempty"`
}

// Options configure a Backend.
type Options struct {
	// Dir is the directory completed files are moved to and served from; "" = keep the
	// forms only (the suite's harness backend).
	Dir string
	// KeepSource copies the file named by the form's path field instead of moving it.
	KeepSource bool
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
	// Received, when set, is called with each form once it is kept (and its file stored).
	Received func(Form)
}

// Backend is an upload_pass backend: an http.Handler, safe for concurrent use. Use New or
// Open.
type Backend struct {
	opts  Options
	root  *os.Root // nil without a directory
	mu    sync.Mutex
	forms map[string][]Form
	order []string // session IDs in the order first seen, for forgetting the oldest
	kept  int
	store sync.Mutex // serialises the writing of stored files
}

// New returns a Backend that keeps forms and no file (the suite's harness backend).
func New() *Backend {
	return &Backend{opts: Options{Now: time.Now}, forms: map[string][]Form{}}
}

// Open returns a Backend with opts; it fails when Options.Dir cannot be opened as a
// directory.
func Open(opts Options) (*Backend, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Backend{opts: opts, forms: map[string][]Form{}}
	if opts.Dir != "" {
		root, err := os.OpenRoot(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("backend: open the directory: %w", err)
		}
		b.root = root
	}
	return b, nil
}

// Close releases the directory. The Backend still keeps forms after it, but stores no file.
func (b *Backend) Close() error {
	b.store.Lock()
	defer b.store.Unlock()
	if b.root == nil {
		return nil
	}
	err := b.root.Close()
	b.root = nil
	if err != nil {
		return fmt.Errorf("backend: close the directory: %w", err)
	}
	return nil
}

// Forms returns the forms received with the Session-ID header id, oldest first (copies).
func (b *Backend) Forms(_ context.Context, id string) ([]Form, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return copyForms(b.forms[id]), nil
}

// All returns every kept form, by session in the order first seen, oldest first (copies).
func (b *Backend) All() []Form {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Form
	for _, id := range b.order {
		out = append(out, copyForms(b.forms[id])...)
	}
	return out
}

func copyForms(in []Form) []Form {
	out := make([]Form, len(in))
	for i, f := range in {
		f.Fields = append([]Field(nil), f.Fields...)
		if f.File != nil {
			c := *f.File
			c.Differences = append([]Difference(nil), c.Differences...)
			f.File = &c
		}
		out[i] = f
	}
	return out
}

// Len returns how many forms are kept.
func (b *Backend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kept
}

// ServeHTTP takes a form (POST, any path) and answers 200 `completed`, or 500 with the reason
// when the file it names cannot be stored; serves the kept forms at FormsPath and the stored
// files under FilePrefix.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case r.URL.Path == FormsPath && get:
		b.serveForms(w, r)
	case strings.HasPrefix(r.URL.Path, FilePrefix) && get:
		b.serveFile(w, r, strings.TrimPrefix(r.URL.Path, FilePrefix))
	case r.Method == http.MethodPost:
		f := readForm(r, b.opts.Now())
		if b.opts.Dir != "" && !f.Empty() && f.Error == "" {
			f.File = b.storeFile(f)
		}
		b.keep(f)
		if b.opts.Received != nil {
			b.opts.Received(f)
		}
		if f.File != nil && !f.File.Stored {
			http.Error(w, "the backend could not store the file: "+f.File.Error, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(Body)))
		w.WriteHeader(Status)
		_, _ = io.WriteString(w, Body) // a client that left cannot be told
	default:
		w.Header().Set("Allow", "POST")
		http.Error(w, "the backend takes forms (POST), and serves GET "+FilePrefix+"<name> and "+FormsPath, http.StatusMethodNotAllowed)
	}
}

// formsAnswer is the JSON answer of FormsPath.
type formsAnswer struct {
	Session string `json:"session"`
	Forms   []Form `json:"forms"`
}

func (b *Backend) serveForms(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("session")
	var forms []Form
	if q.Has("session") {
		forms, _ = b.Forms(r.Context(), id) // never fails
	} else {
		forms = b.All()
	}
	if forms == nil {
		forms = []Form{}
	}
	data, err := json.Marshal(formsAnswer{Session: id, Forms: forms})
	if err != nil {
		http.Error(w, fmt.Sprintf("encode the forms: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data) // a client that left cannot be told
	}
}

func (b *Backend) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if b.opts.Dir == "" {
		http.Error(w, "this backend keeps no files (no directory)", http.StatusNotFound)
		return
	}
	if err := checkName(name); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	b.store.Lock()
	root := b.root
	var (
		f   *os.File
		err error
	)
	if root != nil {
		f, err = root.Open(name)
	} else {
		err = os.ErrClosed
	}
	b.store.Unlock()
	if err != nil {
		http.Error(w, "no file "+strconv.Quote(name), http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, "no file "+strconv.Quote(name), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// checkName refuses a stored name that is not one plain path element.
func checkName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("file name %q: not a file name", name)
	case strings.ContainsAny(name, "/\\\x00"):
		return fmt.Errorf("file name %q: more than one path element", name)
	}
	return nil
}

// storeFile moves (or, with KeepSource, copies) the file named by the form's path field into
// the directory under the form's name field (its last path element), computes its real size
// and digests, and compares them with the form's fields.
func (b *Backend) storeFile(f Form) *StoredFile {
	nameField, _ := f.Field(FieldName)
	pathField, _ := f.Field(FieldPath)
	sf := &StoredFile{Name: protocol.BaseName(nameField.Value), Source: pathField.Value}
	if pathField.Value == "" {
		sf.Error = fmt.Sprintf("the form has no %q field (the file's path): set it with upload_set_form_field %s $upload_tmp_path", FieldPath, FieldPath)
		return sf
	}
	if err := checkName(sf.Name); err != nil {
		sf.Error = fmt.Sprintf("the form's %q field: %v", FieldName, err)
		return sf
	}
	if err := b.storeIn(sf); err != nil {
		sf.Error = err.Error()
		return sf
	}
	sf.Stored = true
	sf.Differences = compare(f, sf)
	return sf
}

// storeIn puts sf.Source into the directory as sf.Name, through a temporary name: renamed when
// it is to be moved and the directory is on the same filesystem, copied otherwise (and then
// removed when it is to be moved). The rename's last element is the backend's own temporary
// name, which rename(2) does not follow; everything else goes through os.Root. It fills in the
// size and the digests, read from the stored file.
func (b *Backend) storeIn(sf *StoredFile) error {
	st, err := os.Stat(sf.Source)
	if err != nil {
		return fmt.Errorf("the uploaded file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("the uploaded file %s is not a regular file", sf.Source)
	}
	b.store.Lock()
	defer b.store.Unlock()
	if b.root == nil {
		return errors.New("the backend is closed")
	}
	tmp := ".upspec-" + sf.Name + ".part"
	moved := !b.opts.KeepSource && os.Rename(sf.Source, filepath.Join(b.opts.Dir, tmp)) == nil
	if !moved {
		if err := b.copyTo(sf.Source, tmp); err != nil {
			return err
		}
	}
	if err := b.digest(tmp, sf); err != nil {
		_ = b.root.Remove(tmp)
		return err
	}
	if err := b.root.Rename(tmp, sf.Name); err != nil {
		_ = b.root.Remove(tmp)
		return fmt.Errorf("store %s: %w", sf.Name, err)
	}
	if !moved && !b.opts.KeepSource {
		if err := os.Remove(sf.Source); err != nil && !errors.Is(err, fs.ErrNotExist) {
			sf.Error = fmt.Sprintf("stored, but the original was not removed: %v", err)
		}
	}
	return nil
}

// copyTo copies the file at src to name in the directory.
func (b *Backend) copyTo(src, name string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open the uploaded file: %w", err)
	}
	defer in.Close()
	out, err := b.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = b.root.Remove(name)
		return fmt.Errorf("copy the uploaded file: %w", err)
	}
	return nil
}

// digest reads name in the directory and sets the size and the digests of sf.
func (b *Backend) digest(name string, sf *StoredFile) error {
	f, err := b.root.Open(name)
	if err != nil {
		return fmt.Errorf("read the stored file: %w", err)
	}
	defer f.Close()
	m, s := md5.New(), sha1.New()
	n, err := io.Copy(io.MultiWriter(m, s), f)
	if err != nil {
		return fmt.Errorf("read the stored file: %w", err)
	}
	sf.Size, sf.MD5, sf.SHA1 = n, hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil))
	return nil
}

// compare lists the size and digest fields of f that differ from the stored file.
func compare(f Form, sf *StoredFile) []Difference {
	var out []Difference
	check := func(name, file, emptyWhy, otherWhy string) {
		fl, ok := f.Field(name)
		if !ok {
			return
		}
		got := strings.TrimSpace(fl.Value)
		if strings.EqualFold(got, file) {
			return
		}
		why := otherWhy
		if got == "" {
			why = emptyWhy
		}
		out = append(out, Difference{Field: name, Form: fl.Value, File: file, Why: why})
	}
	check(FieldSize, strconv.FormatInt(sf.Size, 10), "an empty size",
		"in resumable mode the module sends the end + 1 of the final segment, not the file's size (module issue #106)")
	const noDigest = "in resumable mode the module leaves the digests empty (module issue #22)"
	check(FieldMD5, sf.MD5, noDigest, "the file differs from what the module digested")
	check(FieldSHA1, sf.SHA1, noDigest, "the file differs from what the module digested")
	return out
}

// keep records a form, forgetting the oldest sessions beyond maxKeptForms.
func (b *Backend) keep(f Form) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, seen := b.forms[f.SessionID]; !seen {
		b.order = append(b.order, f.SessionID)
	}
	b.forms[f.SessionID] = append(b.forms[f.SessionID], f)
	b.kept++
	for b.kept > maxKeptForms && len(b.order) > 1 {
		old := b.order[0]
		b.order = b.order[1:]
		b.kept -= len(b.forms[old])
		delete(b.forms, old)
	}
}

// readForm reads a request as the module's form: every part's name and value (the first
// MaxFieldValue bytes), keyed by the Session-ID header.
func readForm(r *http.Request, now time.Time) Form {
	f := Form{
		SessionID:   sessionIDOf(r.Header),
		Method:      r.Method,
		Target:      r.URL.RequestURI(),
		ContentType: r.Header.Get("Content-Type"),
		Fields:      []Field{},
		Received:    now,
	}
	body := io.LimitReader(r.Body, maxFormBody)
	defer func() { _, _ = io.Copy(io.Discard, body) }() // read to the end: the connection stays usable
	mt, params, err := mime.ParseMediaType(f.ContentType)
	switch {
	case err != nil:
		f.Error = fmt.Sprintf("Content-Type %q: %v", f.ContentType, err)
		return f
	case mt != "multipart/form-data" || params["boundary"] == "":
		f.Error = fmt.Sprintf("Content-Type %q: not multipart/form-data with a boundary", f.ContentType)
		return f
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			f.Error = fmt.Sprintf("read the form: %v", err)
			return f
		}
		field := Field{Name: p.FormName(), FileName: p.FileName()}
		var kept strings.Builder
		n, err := io.Copy(&kept, io.LimitReader(p, MaxFieldValue))
		if err == nil {
			var rest int64
			rest, err = io.Copy(io.Discard, p)
			n += rest
		}
		field.Value, field.Size = kept.String(), n
		f.Fields = append(f.Fields, field)
		if err != nil {
			f.Error = fmt.Sprintf("read the form field %q: %v", field.Name, err)
			return f
		}
	}
}

// sessionIDOf returns the Session-ID header, else the X-Session-ID header.
func sessionIDOf(h http.Header) string {
	if v := h.Get(protocol.SessionID); v != "" {
		return v
	}
	return h.Get(protocol.XSessionID)
}
