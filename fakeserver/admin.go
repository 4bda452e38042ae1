package fakeserver

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/upspec/upspec/internal/protocol"
)

// maxAdminBody bounds the body of an admin request (a fault plan).
const maxAdminBody = 1 << 20

// adminAPI serves the admin API under Options.AdminPrefix, all in JSON:
//
//	GET    journal[?session=ID][&since=SEQ]  the journal (JournalPage)
//	GET    sessions                          the sessions in memory ({"sessions": [...]})
//	GET    sessions/ID                       one session (SessionInfo), 404 when none
//	DELETE sessions/ID                       forget it, as a server that lost it
//	POST   reset                             Admin.Reset
//	GET    files                             the completed files ({"files": [...]})
//	GET    faults                            the fault plan and its counts ({"rules": [...]})
//	POST   faults                            add rules: {"rules": ["RULE", ...]} or text, one per line
//	DELETE faults[?plan=NAME]                remove the rules of a plan ("*": all; default "")
//
// Anything else under the prefix is a JSON 404 (or 405 for a method an endpoint does not
// take). Nothing of a request becomes a path: a session ID is checked against the protocol's
// grammar and looked up through the store, which keeps to its own directory.
type adminAPI struct {
	a      AdminBackend
	prefix string
}

// AdminBackend is what the admin API reads and changes: *Admin for this package's server;
// the reference tus server has its own (its sessions are its uploads).
type AdminBackend interface {
	JournalPage(f JournalFilter) JournalPage
	Sessions() []SessionInfo
	Session(id string) (SessionInfo, bool)
	ForgetSession(id string) bool
	Reset()
	Files() []CompletedFile
	Faults() []FaultStatus
	AddFaults(rules ...FaultRule)
	ClearFaults(plan string) int
}

// NewAdminHandler returns the admin API of b under the URL prefix (ending with a slash): the
// endpoints of adminAPI, in JSON. It answers only paths under prefix.
func NewAdminHandler(prefix string, b AdminBackend) http.Handler {
	return &adminAPI{a: b, prefix: prefix}
}

func newAdminAPI(h *handler) http.Handler { return NewAdminHandler(h.opts.AdminPrefix, &Admin{h: h}) }

// adminError is the JSON body of a refused admin request.
type adminError struct {
	Error string `json:"error"`
}

func (api *adminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sub := strings.TrimPrefix(r.URL.Path, api.prefix)
	switch {
	case sub == "journal":
		if allow(w, r, http.MethodGet) {
			api.journal(w, r)
		}
	case sub == "sessions":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, map[string]any{"sessions": api.a.Sessions()})
		}
	case strings.HasPrefix(sub, "sessions/"):
		if allow(w, r, http.MethodGet, http.MethodDelete) {
			api.session(w, r, strings.TrimPrefix(sub, "sessions/"))
		}
	case sub == "reset":
		if allow(w, r, http.MethodPost) {
			api.a.Reset()
			writeJSON(w, http.StatusOK, map[string]any{"reset": true})
		}
	case sub == "files":
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, map[string]any{"files": api.a.Files()})
		}
	case sub == "faults":
		if allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
			api.faults(w, r)
		}
	default:
		writeJSON(w, http.StatusNotFound, adminError{fmt.Sprintf("no admin endpoint %s %s (see %sjournal, sessions, files, faults, reset)", r.Method, r.URL.Path, api.prefix)})
	}
}

// allow answers 405 unless r's method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || r.Method == http.MethodHead && m == http.MethodGet {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, adminError{fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(methods, ", "))})
	return false
}

func (api *adminAPI) journal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := JournalFilter{Session: q.Get("session")}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, adminError{fmt.Sprintf("since=%s: want a sequence number, 0 or more", quoteValue(v))})
			return
		}
		f.Since = n
	}
	writeJSON(w, http.StatusOK, api.a.JournalPage(f))
}

func (api *adminAPI) session(w http.ResponseWriter, r *http.Request, id string) {
	if !protocol.ValidSessionID(id) {
		writeJSON(w, http.StatusBadRequest, adminError{fmt.Sprintf("invalid session ID %s: it must match [A-Za-z0-9_-]{1,%d}", quoteValue(id), protocol.MaxSessionIDLen)})
		return
	}
	if r.Method == http.MethodDelete {
		if !api.a.ForgetSession(id) {
			writeJSON(w, http.StatusNotFound, adminError{fmt.Sprintf("no session %s", id)})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"forgotten": id})
		return
	}
	info, ok := api.a.Session(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, adminError{fmt.Sprintf("no session %s", id)})
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (api *adminAPI) faults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		texts, err := readRules(w, r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{oneLine(err.Error())})
			return
		}
		rules, err := ParseFaultRules(texts...)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{oneLine(err.Error())})
			return
		}
		api.a.AddFaults(rules...)
	case http.MethodDelete:
		n := api.a.ClearFaults(r.URL.Query().Get("plan"))
		writeJSON(w, http.StatusOK, map[string]any{"removed": n, "rules": api.a.Faults()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": api.a.Faults()})
}

// readRules reads the rules of a POST: JSON {"rules": [...]} or text, one rule per line
// (blank lines and lines starting with # skipped).
func readRules(w http.ResponseWriter, r *http.Request) ([]string, error) {
	body := http.MaxBytesReader(w, r.Body, maxAdminBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var req struct {
			Rules []string `json:"rules"`
		}
		dec := json.NewDecoder(body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, fmt.Errorf("the body is not {\"rules\": [\"RULE\", ...]}: %w", err)
		}
		if len(req.Rules) == 0 {
			return nil, errors.New("no rules: give {\"rules\": [\"RULE\", ...]}")
		}
		return req.Rules, nil
	}
	var rules []string
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), maxAdminBody)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			rules = append(rules, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the rules: %w", err)
	}
	if len(rules) == 0 {
		return nil, errors.New("no rules: give one rule per line, or JSON {\"rules\": [...]}")
	}
	return rules, nil
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error": "cannot encode the answer"}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client that left cannot be told
}
