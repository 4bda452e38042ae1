package doctor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/upspec/upspec/internal/backend"
	"github.com/upspec/upspec/internal/nginxconf"
)

// ConfigOptions describe the uploads a configuration must take.
type ConfigOptions struct {
	// UploadPath is the URI segments are posted to ("/upload" when empty).
	UploadPath string
	// PagePath is the URI of the page that uploads ("/" when empty): when no location of the
	// upload server serves it, the page comes from another origin and needs CORS headers.
	PagePath string
	// SegmentSize is the largest segment clients send (1 MiB when 0).
	SegmentSize int64
	// FileSize is the largest file clients upload (0: not checked).
	FileSize int64
	// SessionIDLength is the length of the shortest session ID clients use (0: not checked).
	SessionIDLength int
}

func (o ConfigOptions) withDefaults() ConfigOptions {
	if o.UploadPath == "" {
		o.UploadPath = "/upload"
	}
	if o.PagePath == "" {
		o.PagePath = "/"
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = 1 << 20
	}
	return o
}

// defaultBodySize is nginx's client_max_body_size when none is set.
const defaultBodySize = 1 << 20

// CheckConfig checks the location(s) of cfg that take segments at opts.UploadPath (the
// location nginx selects for that path): in every server where that location has upload_pass;
// when none has, in every server where it sets any upload_ directive; when none does either,
// the module is not configured for the path, which is one finding.
func CheckConfig(cfg *nginxconf.Config, opts ConfigOptions) Report {
	opts = opts.withDefaults()
	var r Report
	for _, d := range cfg.Unresolved {
		r.notef("%s: include %s: the included files are not in the input (give the output of `nginx -T`)", d.Pos(), d.Arg(0))
	}
	srvs := servers(cfg)
	if len(srvs) == 0 {
		r.Findings = append(r.Findings, Finding{
			Rule: "no-server", Severity: Error, Source: FromConfig, Directive: "server",
			Problem:  "the configuration has no server block in an http block",
			Fix:      "give the whole configuration (`nginx -T` prints it), or write one with `upspec nginx-conf`",
			Evidence: fmt.Sprintf("files read: %s", strings.Join(cfg.Files, ", ")),
		})
		return r
	}
	type target struct{ srv, loc *scope }
	var withPass, withUpload, all []target
	for _, s := range srvs {
		loc := selectLocation(s, opts.UploadPath)
		t := target{s, loc}
		all = append(all, t)
		switch {
		case loc == nil:
		case loc.last("upload_pass") != nil:
			withPass = append(withPass, t)
		case hasUploadDirective(loc.block):
			withUpload = append(withUpload, t)
		}
	}
	checked := withPass
	if len(checked) == 0 {
		checked = withUpload // a location meant for uploads, without upload_pass
	}
	if len(checked) == 0 {
		// The module is not configured for the path at all: one problem, not one per directive.
		var ev []string
		for _, t := range all {
			if t.loc == nil {
				ev = append(ev, describe(t.srv)+": no location serves "+opts.UploadPath)
			} else {
				ev = append(ev, describe(t.srv)+": "+opts.UploadPath+" goes to "+describe(t.loc)+", which sets no upload_ directive")
			}
		}
		r.Findings = append(r.Findings, Finding{
			Rule: "no-location", Severity: Error, Source: FromConfig, Directive: "location",
			Problem:  fmt.Sprintf("no location that serves %s configures the module", opts.UploadPath),
			Fix:      fmt.Sprintf("add `location = %s { upload_resumable on; ... upload_pass @backend; }` to the server (the whole block: `upspec nginx-conf`)", opts.UploadPath),
			Evidence: strings.Join(ev, "\n"),
		})
		return r
	}
	for _, t := range checked {
		r.Findings = append(r.Findings, checkLocation(t.srv, t.loc, opts)...)
	}
	return r
}

// hasUploadDirective reports whether a block sets any directive of the module.
func hasUploadDirective(b *nginxconf.Directive) bool {
	for _, d := range b.Block {
		if strings.HasPrefix(d.Name, "upload_") {
			return true
		}
	}
	return false
}

// rule is one check of the location that takes segments.
type rule func(c *check) []Finding

// check is what the rules look at: a server and the location it selects for the upload path
// (never nil).
type check struct {
	srv, loc *scope
	opts     ConfigOptions
}

// where returns the evidence prefix: the location checked.
func (c *check) where() string { return describe(c.loc) }

// applied returns the scope directives are looked up in: the location checked.
func (c *check) applied() *scope { return c.loc }

func (c *check) finding(rule string, sev Severity, directive, problem, fix, evidence string) Finding {
	return Finding{Rule: rule, Severity: sev, Source: FromConfig, Directive: directive, Problem: problem, Fix: fix, Evidence: evidence}
}

// rules returns every configuration rule, in the order their findings are reported.
func rules() []rule {
	return []rule{
		ruleResumable, ruleUploadPass, ruleStores, ruleStoreLevels, ruleStateLevels, ruleBodySize,
		ruleCleanup, ruleFormFields, ruleMaxFileSize, ruleStoreAccess, ruleCORS,
	}
}

func checkLocation(srv, loc *scope, opts ConfigOptions) []Finding {
	c := &check{srv: srv, loc: loc, opts: opts}
	var out []Finding
	for _, r := range rules() {
		out = append(out, r(c)...)
	}
	return out
}

func ruleResumable(c *check) []Finding {
	d := c.applied().last("upload_resumable")
	switch {
	case d == nil:
		return []Finding{c.finding("resumable-off", Error, "upload_resumable",
			"upload_resumable is not set, and it is off by default: every segment gets 415 (\"Content-Type is not multipart/form-data and resumable uploads are off\")",
			"upload_resumable on;", c.where()+" has no upload_resumable")}
	case d.Arg(0) != "on":
		return []Finding{c.finding("resumable-off", Error, "upload_resumable",
			"upload_resumable is off: every segment gets 415 (\"Content-Type is not multipart/form-data and resumable uploads are off\")",
			"upload_resumable on;", d.Pos()+": upload_resumable "+strings.Join(d.Args, " "))}
	}
	return nil
}

func ruleUploadPass(c *check) []Finding {
	if c.applied().last("upload_pass") != nil {
		return nil
	}
	return []Finding{c.finding("upload-pass-missing", Error, "upload_pass",
		"no upload_pass: the module does not handle the location, and nginx answers segments as a static file (404, or 405)",
		"upload_pass @backend; with location @backend { proxy_pass http://127.0.0.1:4567; } (the backend: `upspec backend`)",
		c.where()+" has no upload_pass")}
}

func ruleStores(c *check) []Finding {
	var out []Finding
	if c.applied().last("upload_store") == nil {
		out = append(out, c.finding("store-missing", Error, "upload_store",
			"no upload_store: data files go to <prefix>/proxy_temp with levels 1 2, whose hashed sub-directories do not exist (500 or 503 on the first segment)",
			"upload_store /var/lib/upspec/store; (an existing directory, writable by the worker user, without levels)",
			c.where()+" has no upload_store"))
	}
	if c.applied().last("upload_state_store") == nil {
		out = append(out, c.finding("state-store-missing", Error, "upload_state_store",
			"no upload_state_store: state files go to <prefix>/proxy_temp/e/at/, which does not exist, so every segment is a false success (200 from the backend with an empty form) and no file is ever delivered",
			"upload_state_store /var/lib/upspec/state; (an existing directory, writable by the worker user, without levels)",
			c.where()+" has no upload_state_store"))
	}
	return out
}

// levelsOf returns the hash levels of a store directive, or an error naming a bad one.
func levelsOf(d *nginxconf.Directive) ([]int, error) {
	var levels []int
	for _, a := range d.Args[min(1, len(d.Args)):] {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > 2 {
			return nil, fmt.Errorf("level %q", a)
		}
		levels = append(levels, n)
	}
	return levels, nil
}

func ruleStoreLevels(c *check) []Finding {
	d := c.applied().last("upload_store")
	if d == nil || len(d.Args) < 2 {
		return nil
	}
	levels, err := levelsOf(d)
	if err != nil {
		return nil // nginx -t refuses it
	}
	width := 0
	for _, l := range levels {
		width += l
	}
	ev := d.Pos() + ": upload_store " + strings.Join(d.Args, " ")
	out := []Finding{c.finding("store-levels", Warning, "upload_store",
		fmt.Sprintf("upload_store has hash levels %s: the module never creates the hashed sub-directories, and a segment whose session ID ends in characters without a directory gets 500 or 503",
			strings.Join(d.Args[1:], " ")),
		fmt.Sprintf("upload_store %s; (no levels), or create every sub-directory first: %s", d.Arg(0), nginxconf.LevelDirs(d.Arg(0), levels)),
		ev)}
	if n := c.opts.SessionIDLength; n > 0 && n < width {
		out = append(out, c.finding("session-id-short", Error, "upload_store",
			fmt.Sprintf("session IDs of %d characters are shorter than the %d characters the hash levels take: the directory names take characters from the store path", n, width),
			fmt.Sprintf("upload_store %s; (no levels), or session IDs of at least %d characters", d.Arg(0), width), ev))
	}
	return out
}

// stateDir returns the hashed sub-directory every state file `<id>.state` goes to.
func stateDir(levels []int) string {
	name := ".state"
	var parts []string
	end := len(name)
	for _, l := range levels {
		parts = append(parts, name[end-l:end])
		end -= l
	}
	return strings.Join(parts, "/")
}

func ruleStateLevels(c *check) []Finding {
	d := c.applied().last("upload_state_store")
	if d == nil || len(d.Args) < 2 {
		return nil
	}
	levels, err := levelsOf(d)
	if err != nil || len(levels) > 3 {
		return nil
	}
	sub := stateDir(levels)
	return []Finding{c.finding("state-levels", Warning, "upload_state_store",
		fmt.Sprintf("upload_state_store has hash levels %s: they hash on the \".state\" suffix, so every state file goes to %s/%s/, which the module never creates (without it every segment is a false success)",
			strings.Join(d.Args[1:], " "), d.Arg(0), sub),
		fmt.Sprintf("upload_state_store %s; (no levels), or mkdir -p %s/%s", d.Arg(0), d.Arg(0), sub),
		d.Pos()+": upload_state_store "+strings.Join(d.Args, " "))}
}

// parseSize reads an nginx size: 1024, 64k, 1m, 2g (either case).
func parseSize(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}

func ruleBodySize(c *check) []Finding {
	d := c.applied().last("client_max_body_size")
	limit, ev := int64(defaultBodySize), c.where()+" has no client_max_body_size: nginx's default is 1m"
	if d != nil {
		n, ok := parseSize(d.Arg(0))
		if !ok {
			return nil
		}
		limit, ev = n, d.Pos()+": client_max_body_size "+d.Arg(0)
	}
	if limit == 0 || limit >= c.opts.SegmentSize {
		return nil
	}
	return []Finding{c.finding("body-size", Error, "client_max_body_size",
		fmt.Sprintf("client_max_body_size (%s) is below the segment size (%s): larger segments get 413 before the module runs",
			nginxconf.Size(limit), nginxconf.Size(c.opts.SegmentSize)),
		fmt.Sprintf("client_max_body_size %s;", nginxconf.Size(c.opts.SegmentSize)), ev)}
}

// statusRange reads an upload_cleanup item: 400, or 500-505.
func statusRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, lo <= hi
}

func ruleCleanup(c *check) []Finding {
	d := c.applied().last("upload_cleanup")
	if d == nil {
		return nil
	}
	var bad, keep []string
	for _, a := range d.Args {
		lo, hi, ok := statusRange(a)
		if ok && ((lo <= 400 && 400 <= hi) || (lo <= 499 && 499 <= hi)) {
			bad = append(bad, a)
			continue
		}
		keep = append(keep, a)
	}
	if len(bad) == 0 {
		return nil
	}
	fix := "remove 400 and 499: upload_cleanup " + strings.Join(keep, " ") + ";"
	if len(keep) == 0 {
		fix = "upload_cleanup 500-505; (or no upload_cleanup)"
	}
	return []Finding{c.finding("cleanup-400", Error, "upload_cleanup",
		fmt.Sprintf("upload_cleanup covers 400 or 499 (%s): a segment cut off mid-body ends with 400 (499 when the client leaves), the module deletes the data file while the state file keeps the earlier ranges, and the completed file has zeros where acknowledged bytes were (module issues #111, #123)",
			strings.Join(bad, " ")),
		fix, d.Pos()+": upload_cleanup "+strings.Join(d.Args, " "))}
}

func ruleFormFields(c *check) []Finding {
	fields := c.applied().lookup("upload_set_form_field")
	has := func(variable string) bool {
		for _, f := range fields {
			if strings.Contains(f.Arg(1), variable) {
				return true
			}
		}
		return false
	}
	var out []Finding
	for _, need := range []struct{ name, variable, why string }{
		{backend.FieldName, "$upload_file_name", "the file's name"},
		{backend.FieldPath, "$upload_tmp_path", "where the completed file is"},
	} {
		if has(need.variable) {
			continue
		}
		ev := c.where() + " has no upload_set_form_field"
		if len(fields) > 0 {
			ev = fmt.Sprintf("%s: the upload_set_form_field directives set %s, none with %s", fields[0].Pos(), fieldNames(fields), need.variable)
		}
		out = append(out, c.finding("form-field-"+need.name, Warning, "upload_set_form_field",
			fmt.Sprintf("the form handed to the backend lacks %s (%s): the backend cannot take the file", need.variable, need.why),
			fmt.Sprintf("upload_set_form_field %s \"%s\";", need.name, need.variable), ev))
	}
	return out
}

func fieldNames(ds []*nginxconf.Directive) string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Arg(0)
	}
	return strings.Join(names, ", ")
}

func ruleMaxFileSize(c *check) []Finding {
	d := c.applied().last("upload_max_file_size")
	if d == nil || c.opts.FileSize <= 0 {
		return nil
	}
	n, ok := parseSize(d.Arg(0))
	if !ok || n == 0 || n >= c.opts.FileSize {
		return nil
	}
	return []Finding{c.finding("max-file-size", Error, "upload_max_file_size",
		fmt.Sprintf("upload_max_file_size (%s) is below the files to upload (%s): every segment of a larger file gets 413",
			nginxconf.Size(n), nginxconf.Size(c.opts.FileSize)),
		fmt.Sprintf("upload_max_file_size %s; (or 0: no limit)", nginxconf.Size(c.opts.FileSize)),
		d.Pos()+": upload_max_file_size "+d.Arg(0))}
}

func ruleStoreAccess(c *check) []Finding {
	if c.applied().last("upload_store_access") != nil {
		return nil
	}
	return []Finding{c.finding("store-access", Warning, "upload_store_access",
		"no upload_store_access: the module creates data files with mode 0600 for the nginx worker user, so a backend running as another user cannot read the file at its path",
		"upload_store_access user:rw group:rw all:r; (or run the backend as the worker user)",
		c.where()+" has no upload_store_access")}
}

// corsHeader returns the value of a header the upload location adds (upload_add_header or
// add_header), or "".
func (c *check) corsHeader(name string) (string, bool) {
	for _, dn := range []string{"upload_add_header", "add_header"} {
		for _, d := range c.applied().lookup(dn) {
			if strings.EqualFold(d.Arg(0), name) {
				return d.Arg(1), true
			}
		}
	}
	return "", false
}

func ruleCORS(c *check) []Finding {
	page := selectLocation(c.srv, c.opts.PagePath)
	if page != nil && page.block != c.loc.block {
		return nil // the page comes from the same origin
	}
	ev := fmt.Sprintf("no location of this server but the upload one serves the page (%s)", c.opts.PagePath)
	origin, ok := c.corsHeader("Access-Control-Allow-Origin")
	if !ok {
		return []Finding{c.finding("cors", Warning, "upload_add_header",
			"the page is not served by this server, so it comes from another origin, and the upload answers carry no Access-Control-Allow-Origin: a browser refuses them",
			"serve the page from this server (location / { root ...; }), or: upload_add_header Access-Control-Allow-Origin https://page.example; "+
				"upload_add_header Access-Control-Expose-Headers Range; upload_add_header Access-Control-Allow-Headers \"Content-Disposition, Content-Type, Session-ID, X-Content-Range\";",
			ev)}
	}
	expose, _ := c.corsHeader("Access-Control-Expose-Headers")
	if origin != "" && !strings.Contains(strings.ToLower(expose), "range") {
		return []Finding{c.finding("cors-range", Warning, "upload_add_header",
			"the page comes from another origin and Access-Control-Expose-Headers does not list Range: the page cannot read the ranges received",
			"upload_add_header Access-Control-Expose-Headers Range;", ev+"; Access-Control-Allow-Origin "+origin)}
	}
	return nil
}
