package scenarios

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/upspec/upspec/scenarios/clause"
)

// backendScenarios returns the backend scenarios (BK): the form the deployment hands to its
// backend for a completed file, as the harness backend received it (Config.Backend).
func backendScenarios() []Scenario {
	return []Scenario{
		{
			ID: "BK-01", Title: "A file completed out of order (last segment first): the backend form's size and digests are the whole file's",
			Family: "backend", Clauses: declare(listChecks(), clause.BkFormWholeFile, clause.SegAnyOrder),
			Labels: []string{LabelNeedsBackendAccess},
			Run: func(t *T) {
				b := requireBackend(t)
				s := t.NewSession("bk01.bin", 24)
				uploadPlanAs(t, s, clause.SegAnyOrder, seg{12, 23}, seg{0, 11})
				if !s.ExpectCompleted("") {
					return
				}
				form := lastForm(t, b, s)
				checkFormWholeFile(t, s, form, seg{0, 11})
			},
		},
	}
}

// requireBackend returns the harness backend's forms, or skips the scenario with the reason
// when the run has none.
func requireBackend(t *T) BackendForms {
	b := t.Config().Backend
	if b == nil {
		t.Skip("no harness backend: give --backend-listen ADDR and point the deployment's upload_pass at http://ADDR/")
	}
	return b
}

// lastForm returns the last form the harness backend received for the session. A completed
// session without a form is a failure of the set-up: the deployment's upload_pass does not
// reach the harness backend, or the Session-ID header did not reach it.
func lastForm(t *T, b BackendForms, s *Session) BackendForm {
	forms, err := b.Forms(t.Context(), s.ID)
	if err != nil {
		t.EngineError("read the forms of the harness backend: %v", err)
	}
	if len(forms) == 0 {
		t.Fatal("the file of session %s was completed, but the harness backend received no form with that Session-ID: "+
			"is the deployment's upload_pass pointed at the harness backend (--backend-listen), and does the Session-ID header reach it?", s.ID)
	}
	f := forms[len(forms)-1]
	t.Note("the harness backend received %d form(s) for session %s; the last one: %s", len(forms), s.ID, describeForm(f))
	return f
}

// describeForm writes a form's fields as `name=value` (values clipped), for notes.
func describeForm(f BackendForm) string {
	if len(f.Fields) == 0 {
		return "no field"
	}
	parts := make([]string, len(f.Fields))
	for i, fl := range f.Fields {
		parts[i] = fl.Name + "=" + quoteText(clipText(fl.Value, 80))
	}
	return strings.Join(parts, ", ")
}

// formFieldKind classifies a form field by the last word of its name (the deployment names
// them, e.g. `size`, `file.size`, `upload_file_md5`, `file_sha1_uc`): "size", "md5", "sha1",
// "sha256", "sha512", "crc32", or "" for a field that carries neither.
func formFieldKind(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	if n := len(words); n > 1 && words[n-1] == "uc" {
		words = words[:n-1]
	}
	if len(words) == 0 {
		return ""
	}
	switch w := words[len(words)-1]; w {
	case "size", "md5", "sha1", "sha256", "sha512", "crc32":
		return w
	}
	return ""
}

// fileDigests returns the size and the digests of the session's whole file, by field kind.
func fileDigests(s *Session) map[string]string {
	data := s.Pattern.Bytes(0, s.Total)
	out := map[string]string{"size": strconv.FormatInt(s.Total, 10)}
	for kind, h := range map[string]hash.Hash{"md5": md5.New(), "sha1": sha1.New(), "sha256": sha256.New(), "sha512": sha512.New()} {
		h.Write(data)
		out[kind] = hex.EncodeToString(h.Sum(nil))
	}
	out["crc32"] = fmt.Sprintf("%08x", crc32.ChecksumIEEE(data))
	return out
}

// checkFormWholeFile checks, under bk.form-whole-file, every field of the form that carries
// the size or a digest of the file against the session's whole file. final is the segment
// that completed the file (for the message when the size is its end + 1).
func checkFormWholeFile(t *T, s *Session, f BackendForm, final seg) {
	if f.Error != "" {
		t.Note("%s: the backend's request was not read whole as a form: %s", clause.BkFormWholeFile, f.Error)
	}
	want := fileDigests(s)
	checked := 0
	for _, fl := range f.Fields {
		kind := formFieldKind(fl.Name)
		if kind == "" {
			continue
		}
		checked++
		t.ran(clause.BkFormWholeFile)
		got := strings.TrimSpace(fl.Value)
		if kind == "size" {
			if got == want["size"] {
				continue
			}
			msg := ""
			if got == strconv.FormatInt(final.end+1, 10) && final.end+1 != s.Total {
				msg = fmt.Sprintf(" (the end + 1 of the final segment %s, not the file's size: module issue #106)", final)
			}
			t.Fail(clause.BkFormWholeFile, fmt.Sprintf("form field %q = %s, the size of the whole file", fl.Name, want["size"]),
				quoteText(clipText(fl.Value, 80))+msg)
			continue
		}
		if got == "" {
			t.Fail(clause.BkFormWholeFile, fmt.Sprintf("form field %q = %s, the %s of the whole file", fl.Name, want[kind], kind),
				"an empty value (the module leaves the digests empty whenever a range header was present: issue #22)")
			continue
		}
		if !strings.EqualFold(got, want[kind]) {
			t.Fail(clause.BkFormWholeFile, fmt.Sprintf("form field %q = %s, the %s of the whole file", fl.Name, want[kind], kind),
				quoteText(clipText(fl.Value, 200)))
		}
	}
	if checked == 0 {
		t.Note("%s: the form carries no size or digest field (fields: %s): nothing to check",
			clause.BkFormWholeFile, firstNonEmpty(strings.Join(f.FieldNames(), ", "), "none"))
	}
}
