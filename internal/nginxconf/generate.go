package nginxconf

import (
	"bytes"
	_ "embed"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"text/template"

	"github.com/upspec/upspec/internal/backend"
)

// Params are the choices of a generated configuration.
type Params struct {
	Listen      string // address nginx listens on, e.g. "8080" or "127.0.0.1:8080"
	ServerName  string // server_name ("_" when empty)
	UploadPath  string // the location segments are posted to, e.g. "/upload"
	StoreDir    string // upload_store: the data files
	StateDir    string // upload_state_store: the state files
	StoreLevels []int  // hash levels of upload_store (none: the recommended layout)
	Backend     string // host:port of the upload_pass backend (`upspec backend`)
	MaxFileSize int64  // upload_max_file_size in bytes (0: no limit)
	SegmentSize int64  // the largest segment a client sends: client_max_body_size
	StaticRoot  string // the directory of the page, served at / ("" = no page)
}

// DefaultParams are the parameters of docs/nginx.conf: the layout of the original deployment
// (the backend on localhost:4567, the page on the same host).
func DefaultParams() Params {
	return Params{
		Listen:      "8080",
		ServerName:  "_",
		UploadPath:  "/upload",
		StoreDir:    "/var/lib/upspec/store",
		StateDir:    "/var/lib/upspec/state",
		Backend:     "127.0.0.1:4567",
		MaxFileSize: 0,
		SegmentSize: 1 << 20,
		StaticRoot:  "/var/www/upspec",
	}
}

// Validate reports the first parameter that cannot make a working configuration.
func (p Params) Validate() error {
	switch {
	case p.Listen == "":
		return fmt.Errorf("listen: empty")
	case !strings.HasPrefix(p.UploadPath, "/") || strings.ContainsAny(p.UploadPath, " \t\r\n;{}\"'#"):
		return fmt.Errorf("upload path %q: must start with / and hold no blank, quote, ';', '{', '}' or '#'", p.UploadPath)
	case !path.IsAbs(p.StoreDir) || !path.IsAbs(p.StateDir):
		return fmt.Errorf("store and state directories must be absolute paths (got %q and %q)", p.StoreDir, p.StateDir)
	case p.StoreDir == p.StateDir:
		return fmt.Errorf("store and state directories must differ (both %q)", p.StoreDir)
	case len(p.StoreLevels) > 3:
		return fmt.Errorf("hash levels %v: at most three", p.StoreLevels)
	case p.SegmentSize <= 0:
		return fmt.Errorf("segment size %d: must be positive", p.SegmentSize)
	case p.MaxFileSize < 0:
		return fmt.Errorf("max file size %d: must not be negative", p.MaxFileSize)
	case p.StaticRoot != "" && !path.IsAbs(p.StaticRoot):
		return fmt.Errorf("static root %q: must be an absolute path", p.StaticRoot)
	}
	for _, l := range p.StoreLevels {
		if l < 1 || l > 2 {
			return fmt.Errorf("hash levels %v: each level is 1 or 2 characters", p.StoreLevels)
		}
	}
	if _, port, err := net.SplitHostPort(p.Backend); err != nil || port == "" {
		return fmt.Errorf("backend %q: want host:port", p.Backend)
	}
	for _, s := range []string{p.Listen, p.ServerName, p.StoreDir, p.StateDir, p.Backend, p.StaticRoot} {
		if strings.ContainsAny(s, " \t\r\n;{}\"'#") {
			return fmt.Errorf("%q: holds a blank, a quote, ';', '{', '}' or '#'", s)
		}
	}
	return nil
}

// Size writes a byte count as nginx reads it: 1m, 64k, or bytes.
func Size(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "g"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "m"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// SessionIDChars are the characters a session ID may hold, hence the names of the hashed
// directories a store with levels needs.
const SessionIDChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"

// LevelDirs returns the bash command that creates the hashed sub-directories of a store with
// levels (the module never creates them): each level takes that many characters from the end
// of the session ID, and a session ID may end in any of SessionIDChars, so one level of 1 needs
// 64 directories and levels 1 2 need 64 + 64³. "" without levels.
func LevelDirs(dir string, levels []int) string {
	if len(levels) == 0 {
		return ""
	}
	const anyChar = "{{0..9},{a..z},{A..Z},_,-}"
	parts := []string{dir}
	for _, l := range levels {
		parts = append(parts, strings.Repeat(anyChar, l))
	}
	return "bash -c 'mkdir -p -- " + strings.Join(parts, "/") + "'"
}

//go:embed nginx.conf.tmpl
var confTemplate string

var tmpl = template.Must(template.New("nginx.conf").Parse(confTemplate))

// Generate writes the configuration for p.
func Generate(p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if p.ServerName == "" {
		p.ServerName = "_"
	}
	set, agg := backend.Fields()
	vars := map[string]string{
		backend.FieldName: "$upload_file_name", backend.FieldContentType: "$upload_content_type",
		backend.FieldPath: "$upload_tmp_path", backend.FieldSize: "$upload_file_size",
		backend.FieldMD5: "$upload_file_md5", backend.FieldSHA1: "$upload_file_sha1",
	}
	field := func(names []string) [][2]string {
		out := make([][2]string, len(names))
		for i, n := range names {
			out[i] = [2]string{n, vars[n]}
		}
		return out
	}
	levels := make([]string, len(p.StoreLevels))
	for i, l := range p.StoreLevels {
		levels[i] = strconv.Itoa(l)
	}
	var b bytes.Buffer
	err := tmpl.Execute(&b, map[string]any{
		"P":           p,
		"Levels":      strings.Join(levels, " "),
		"LevelDirs":   LevelDirs(p.StoreDir, p.StoreLevels),
		"BodySize":    Size(p.SegmentSize),
		"MaxFileSize": Size(p.MaxFileSize),
		"SetFields":   field(set),
		"AggFields":   field(agg),
		"FilePrefix":  backend.FilePrefix,
	})
	if err != nil {
		return "", fmt.Errorf("generate: %w", err)
	}
	return b.String(), nil
}
