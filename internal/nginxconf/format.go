package nginxconf

import (
	"strings"
)

// Format writes directives as nginx configuration, indented by four spaces per block level,
// quoting the arguments that need it. Parsing the result gives the same directives.
func Format(ds []*Directive) string {
	var b strings.Builder
	formatBlock(&b, ds, 0)
	return b.String()
}

func formatBlock(b *strings.Builder, ds []*Directive, depth int) {
	for _, d := range ds {
		b.WriteString(strings.Repeat("    ", depth))
		b.WriteString(Quote(d.Name))
		for _, a := range d.Args {
			b.WriteByte(' ')
			b.WriteString(Quote(a))
		}
		if !d.IsBlock {
			b.WriteString(";\n")
			continue
		}
		b.WriteString(" {\n")
		formatBlock(b, d.Block, depth+1)
		b.WriteString(strings.Repeat("    ", depth))
		b.WriteString("}\n")
	}
}

// Quote returns s as one nginx word: as it is when it reads back unchanged, else in double
// quotes with `"` and `\` escaped. (A word starting with `nginx:` is quoted too: Parse
// skips the lines `nginx -T` prints before its dump.)
func Quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n;{}\"'\\#") && !strings.HasPrefix(s, "nginx:") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
