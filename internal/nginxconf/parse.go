// Package nginxconf reads and writes nginx configuration: a small tokenizer and parser of
// nginx's syntax (directives, blocks, quoting, comments, and the includes of `nginx -T`
// output), and the generator of a known-good configuration for the module in resumable mode.
package nginxconf

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// Directive is one directive of a configuration: `name arg...;` or `name arg... { ... }`.
type Directive struct {
	Name    string
	Args    []string     // unquoted and unescaped
	IsBlock bool         // the directive has a block, possibly empty
	Block   []*Directive // the directives of the block
	File    string       // the file it was read from ("" when unknown)
	Line    int          // its line in that file, from 1
}

// Pos returns "file:line" (or "line N") for messages.
func (d *Directive) Pos() string {
	if d.File == "" {
		return fmt.Sprintf("line %d", d.Line)
	}
	return fmt.Sprintf("%s:%d", d.File, d.Line)
}

// Arg returns the i-th argument, or "".
func (d *Directive) Arg(i int) string {
	if i < len(d.Args) {
		return d.Args[i]
	}
	return ""
}

// Find returns the directives named name directly in the block, in order.
func (d *Directive) Find(name string) []*Directive { return find(d.Block, name) }

func find(ds []*Directive, name string) []*Directive {
	var out []*Directive
	for _, c := range ds {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Config is a parsed configuration: the main file's directives, with the includes expanded
// where the included files are part of the input.
type Config struct {
	Directives []*Directive
	// Files are the files of the input (one, or each file of an `nginx -T` dump), in order.
	Files []string
	// Unresolved lists the include directives whose files were not part of the input.
	Unresolved []*Directive
}

// Find returns the top-level directives named name.
func (c *Config) Find(name string) []*Directive { return find(c.Directives, name) }

// dumpMarker starts each file in the output of `nginx -T`.
const dumpMarker = "# configuration file "

// maxIncludeDepth bounds nested includes (nginx itself has no bound; a loop would not end).
const maxIncludeDepth = 16

// maxExpanded bounds the directives the includes of a dump may expand to (a file included
// twice by each of a chain of files grows exponentially).
const maxExpanded = 1 << 20

// maxInput bounds the configuration read.
const maxInput = 64 << 20

// Parse reads a configuration: a plain file (name is used in positions), or the output of
// `nginx -T`, whose files each start with a `# configuration file PATH:` line. In a dump,
// every include directive is replaced by the directives of the files it matches (a glob, taken
// relative to the main file's directory when not absolute); a glob that matches none of them
// includes nothing, as in nginx; a file name that is not in the dump stays in place and is
// listed in Unresolved. In a plain file every include is listed in Unresolved.
func Parse(data []byte, name string) (*Config, error) {
	if len(data) > maxInput {
		return nil, fmt.Errorf("the configuration is larger than %d bytes", maxInput)
	}
	files := splitDump(data, name)
	parsed := make(map[string][]*Directive, len(files))
	cfg := &Config{}
	for _, f := range files {
		ds, err := parseFile(f.data, f.name, f.firstLine)
		if err != nil {
			return nil, err
		}
		if _, dup := parsed[f.name]; !dup {
			cfg.Files = append(cfg.Files, f.name)
		}
		parsed[f.name] = ds
	}
	if len(files) == 0 {
		return cfg, nil
	}
	main := files[0].name
	x := expander{files: parsed, order: cfg.Files, dir: path.Dir(main), dump: len(files) > 1 || files[0].marked}
	ds, err := x.expand(parsed[main], 0)
	if err != nil {
		return nil, err
	}
	cfg.Directives, cfg.Unresolved = ds, x.unresolved
	return cfg, nil
}

// dumpFile is one file of the input.
type dumpFile struct {
	name      string
	data      []byte
	firstLine int  // the line of the input its data starts on (positions in a dump are per file)
	marked    bool // it came with a dump marker
}

// splitDump cuts the output of `nginx -T` into its files; other input is one file.
func splitDump(data []byte, name string) []dumpFile {
	var files []dumpFile
	lines := bytes.SplitAfter(data, []byte("\n"))
	var cur *dumpFile
	for _, ln := range lines {
		t := strings.TrimRight(string(ln), "\r\n")
		if strings.HasPrefix(t, dumpMarker) && strings.HasSuffix(t, ":") {
			files = append(files, dumpFile{name: strings.TrimSuffix(strings.TrimPrefix(t, dumpMarker), ":"), firstLine: 1, marked: true})
			cur = &files[len(files)-1]
			continue
		}
		if cur == nil {
			if strings.TrimSpace(t) == "" || strings.HasPrefix(t, "nginx: ") {
				continue // the lines nginx -t prints before the dump
			}
			files = append(files, dumpFile{name: name, firstLine: 1})
			cur = &files[len(files)-1]
		}
		cur.data = append(cur.data, ln...)
	}
	return files
}

// expander replaces include directives by the files they match.
type expander struct {
	files      map[string][]*Directive
	order      []string
	dir        string
	dump       bool // the input is an `nginx -T` dump: includes are expanded
	unresolved []*Directive
	expanded   int // directives produced so far
}

func (x *expander) expand(ds []*Directive, depth int) ([]*Directive, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("includes nested deeper than %d (a loop?)", maxIncludeDepth)
	}
	var out []*Directive
	if x.expanded += len(ds); x.expanded > maxExpanded {
		return nil, fmt.Errorf("the includes expand to more than %d directives", maxExpanded)
	}
	for _, d := range ds {
		if d.Name == "include" && !d.IsBlock && len(d.Args) == 1 && !x.dump {
			x.unresolved = append(x.unresolved, d)
		} else if d.Name == "include" && !d.IsBlock && len(d.Args) == 1 {
			matched, err := x.include(d, depth)
			if err != nil {
				return nil, err
			}
			if matched != nil {
				out = append(out, matched...)
				continue
			}
			x.unresolved = append(x.unresolved, d)
		}
		if d.IsBlock {
			c := *d
			block, err := x.expand(d.Block, depth)
			if err != nil {
				return nil, err
			}
			c.Block = block
			d = &c
		}
		out = append(out, d)
	}
	return out, nil
}

// include returns the expanded directives of the files the include matches, in the order of
// the dump (nginx sorts the glob's matches), or nil when none matches.
func (x *expander) include(d *Directive, depth int) ([]*Directive, error) {
	pattern := d.Args[0]
	if !path.IsAbs(pattern) {
		pattern = path.Join(x.dir, pattern)
	}
	var out []*Directive
	found := false
	for _, name := range x.order {
		ok, err := path.Match(pattern, name)
		if err != nil {
			return nil, fmt.Errorf("%s: include %q: %v", d.Pos(), d.Args[0], err)
		}
		if !ok {
			continue
		}
		found = true
		ds, err := x.expand(x.files[name], depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	if !found {
		if strings.ContainsAny(d.Args[0], "*?[") {
			return []*Directive{}, nil // a glob that matches no file: nginx includes nothing
		}
		return nil, nil
	}
	if out == nil {
		out = []*Directive{}
	}
	return out, nil
}

// parseFile parses the directives of one file.
func parseFile(data []byte, name string, firstLine int) ([]*Directive, error) {
	p := &parser{lx: lexer{data: data, line: firstLine, file: name}}
	ds, err := p.block(false)
	if err != nil {
		return nil, err
	}
	return ds, nil
}

type parser struct{ lx lexer }

// block parses directives up to the end of the input (top level) or the closing brace.
func (p *parser) block(nested bool) ([]*Directive, error) {
	ds := []*Directive{}
	var cur *Directive
	for {
		tok, err := p.lx.next()
		if err != nil {
			return nil, err
		}
		switch tok.kind {
		case tokEOF:
			if cur != nil {
				return nil, p.lx.errorf(tok.line, "unexpected end of file, expecting \";\" or \"}\" after %q", cur.Name)
			}
			if nested {
				return nil, p.lx.errorf(tok.line, "unexpected end of file, expecting \"}\"")
			}
			return ds, nil
		case tokWord:
			if cur == nil { // a name may be quoted, even empty: `'' close;` in a map block
				cur = &Directive{Name: tok.text, Args: []string{}, File: p.lx.file, Line: tok.line}
				continue
			}
			cur.Args = append(cur.Args, tok.text)
		case tokSemicolon:
			if cur == nil {
				return nil, p.lx.errorf(tok.line, "unexpected \";\"")
			}
			ds = append(ds, cur)
			cur = nil
		case tokOpen:
			if cur == nil {
				return nil, p.lx.errorf(tok.line, "unexpected \"{\"")
			}
			block, err := p.block(true)
			if err != nil {
				return nil, err
			}
			cur.IsBlock, cur.Block = true, block
			ds = append(ds, cur)
			cur = nil
		case tokClose:
			if cur != nil {
				return nil, p.lx.errorf(tok.line, "unexpected \"}\" after %q, expecting \";\"", cur.Name)
			}
			if !nested {
				return nil, p.lx.errorf(tok.line, "unexpected \"}\"")
			}
			return ds, nil
		}
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokSemicolon
	tokOpen
	tokClose
)

type token struct {
	kind   tokKind
	text   string
	quoted bool
	line   int
}

// lexer cuts nginx's syntax into tokens, as ngx_conf_read_token does: blanks separate words;
// `;`, `{` and `}` end them; `#` at the start of a word comments out the rest of the line;
// a word that starts with a quote runs to the matching quote; a backslash escapes the next
// character (`\"`, `\'`, `\\` become the character, `\t`, `\r`, `\n` the control character,
// others stay as written); `${name}` is part of a word.
type lexer struct {
	data []byte
	pos  int
	line int
	file string
}

func (lx *lexer) errorf(line int, format string, args ...any) error {
	where := fmt.Sprintf("line %d", line)
	if lx.file != "" {
		where = fmt.Sprintf("%s:%d", lx.file, line)
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		switch {
		case c == '\n':
			lx.line++
			lx.pos++
		case isBlank(c):
			lx.pos++
		case c == '#':
			for lx.pos < len(lx.data) && lx.data[lx.pos] != '\n' {
				lx.pos++
			}
		case c == ';':
			lx.pos++
			return token{kind: tokSemicolon, line: lx.line}, nil
		case c == '{':
			lx.pos++
			return token{kind: tokOpen, line: lx.line}, nil
		case c == '}':
			lx.pos++
			return token{kind: tokClose, line: lx.line}, nil
		case c == '"' || c == '\'':
			return lx.quoted(c)
		default:
			return lx.word()
		}
	}
	return token{kind: tokEOF, line: lx.line}, nil
}

// unescape appends the character escaped by a backslash.
func unescape(b *strings.Builder, c byte) {
	switch c {
	case '"', '\'', '\\':
		b.WriteByte(c)
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'n':
		b.WriteByte('\n')
	default:
		b.WriteByte('\\')
		b.WriteByte(c)
	}
}

func (lx *lexer) quoted(q byte) (token, error) {
	start := lx.line
	lx.pos++
	var b strings.Builder
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		lx.pos++
		switch {
		case c == '\\' && lx.pos < len(lx.data):
			e := lx.data[lx.pos]
			lx.pos++
			if e == '\n' {
				lx.line++
			}
			unescape(&b, e)
		case c == q:
			if lx.pos < len(lx.data) {
				if n := lx.data[lx.pos]; !isBlank(n) && n != ';' && n != '{' && n != '}' {
					return token{}, lx.errorf(lx.line, "unexpected %q after a quoted string", n)
				}
			}
			return token{kind: tokWord, text: b.String(), quoted: true, line: start}, nil
		default:
			if c == '\n' {
				lx.line++
			}
			b.WriteByte(c)
		}
	}
	return token{}, lx.errorf(start, "unterminated quoted string")
}

func (lx *lexer) word() (token, error) {
	start := lx.line
	var b strings.Builder
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		switch {
		case isBlank(c) || c == ';' || c == '}':
			return token{kind: tokWord, text: b.String(), line: start}, nil
		case c == '{':
			if !strings.HasSuffix(b.String(), "$") {
				return token{kind: tokWord, text: b.String(), line: start}, nil
			}
			// ${name}: up to the closing brace, part of the word.
			end := bytes.IndexByte(lx.data[lx.pos:], '}')
			if end < 0 {
				return token{}, lx.errorf(start, "unterminated variable name after \"${\"")
			}
			v := lx.data[lx.pos : lx.pos+end+1]
			if bytes.ContainsAny(v[1:], " \t\r\n;{") {
				return token{}, lx.errorf(start, "invalid variable name %q", v)
			}
			b.Write(v)
			lx.pos += end + 1
		case c == '\\' && lx.pos+1 < len(lx.data):
			e := lx.data[lx.pos+1]
			if e == '\n' {
				lx.line++
			}
			unescape(&b, e)
			lx.pos += 2
		default:
			b.WriteByte(c)
			lx.pos++
		}
	}
	return token{kind: tokWord, text: b.String(), line: start}, nil
}
