package doctor

import (
	"regexp"
	"strings"

	"github.com/upspec/upspec/internal/nginxconf"
)

// scope is a block of the configuration with its parents, for inherited directives: a
// directive not set in a block comes from the nearest enclosing block that sets it (array
// directives such as upload_set_form_field and add_header too: all of them, from that block).
type scope struct {
	block  *nginxconf.Directive // nil for the main context
	main   []*nginxconf.Directive
	parent *scope
}

func (s *scope) directives() []*nginxconf.Directive {
	if s.block == nil {
		return s.main
	}
	return s.block.Block
}

// lookup returns the directives named name that apply in s: those of the nearest block that
// has any.
func (s *scope) lookup(name string) []*nginxconf.Directive {
	for c := s; c != nil; c = c.parent {
		var out []*nginxconf.Directive
		for _, d := range c.directives() {
			if d.Name == name && !d.IsBlock {
				out = append(out, d)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// last returns the last directive named name that applies in s, or nil.
func (s *scope) last(name string) *nginxconf.Directive {
	ds := s.lookup(name)
	if len(ds) == 0 {
		return nil
	}
	return ds[len(ds)-1]
}

func (s *scope) child(b *nginxconf.Directive) *scope { return &scope{block: b, parent: s} }

// servers returns the server blocks of every http block, as scopes.
func servers(cfg *nginxconf.Config) []*scope {
	top := &scope{main: cfg.Directives}
	var out []*scope
	for _, h := range cfg.Find("http") {
		hs := top.child(h)
		for _, s := range h.Find("server") {
			if s.IsBlock {
				out = append(out, hs.child(s))
			}
		}
	}
	return out
}

// locationMatch is how a location directive matches a URI.
type locationMatch struct {
	modifier string // "", "=", "^~", "~", "~*", "@"
	pattern  string
	re       *regexp.Regexp // for ~ and ~*; nil when the pattern is not valid RE2
}

func parseLocation(d *nginxconf.Directive) locationMatch {
	switch len(d.Args) {
	case 1:
		a := d.Args[0]
		switch {
		case strings.HasPrefix(a, "@"):
			return locationMatch{modifier: "@", pattern: a}
		case strings.HasPrefix(a, "="):
			return locationMatch{modifier: "=", pattern: a[1:]}
		}
		return locationMatch{pattern: a}
	case 2:
		m := locationMatch{modifier: d.Args[0], pattern: d.Args[1]}
		switch m.modifier {
		case "~":
			m.re, _ = regexp.Compile(m.pattern)
		case "~*":
			m.re, _ = regexp.Compile("(?i)" + m.pattern)
		}
		return m
	}
	return locationMatch{modifier: "?"}
}

// selectLocation returns the location nginx chooses for uri among the locations of s (and
// the locations nested in them), or nil: an exact match; else the longest prefix, unless a
// regular expression matches first (the prefix location's own nested regular expressions are
// tried before the enclosing ones; `^~` skips the regular expressions).
func selectLocation(s *scope, uri string) *scope {
	var best *scope
	bestLen := -1
	var regexes []*scope
	for _, d := range s.directives() {
		if d.Name != "location" || !d.IsBlock {
			continue
		}
		m := parseLocation(d)
		switch m.modifier {
		case "=":
			if m.pattern == uri {
				return s.child(d)
			}
		case "", "^~":
			if strings.HasPrefix(uri, m.pattern) && len(m.pattern) > bestLen {
				best, bestLen = s.child(d), len(m.pattern)
			}
		case "~", "~*":
			if m.re != nil {
				regexes = append(regexes, s.child(d))
			}
		}
	}
	if best != nil {
		if nested := selectLocation(best, uri); nested != nil {
			return nested
		}
		if parseLocation(best.block).modifier == "^~" {
			return best
		}
	}
	for _, r := range regexes {
		if parseLocation(r.block).re.MatchString(uri) {
			if nested := selectLocation(r, uri); nested != nil {
				return nested
			}
			return r
		}
	}
	return best
}

// describe writes a location (or server) for evidence: `location = /upload` at file:line.
func describe(s *scope) string {
	if s == nil || s.block == nil {
		return "the main context"
	}
	return strings.TrimSpace(s.block.Name+" "+strings.Join(s.block.Args, " ")) + " (" + s.block.Pos() + ")"
}
