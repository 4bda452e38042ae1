package fakeserver

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// testDeviation is a deviation made in a test, the way a scripted fault will be: a name and
// the decision points it wraps.
type testDeviation struct {
	n    string
	wrap func(name string, b *behavior)
}

func (d testDeviation) name() string { return d.n }

func (d testDeviation) install(b *behavior, _ *handler) { d.wrap(d.n, b) }

// startDeviating starts a server with opts whose behaviour also has devs, installed after the
// quirks, and returns it with the log lines it writes.
func startDeviating(t *testing.T, opts Options, devs ...deviation) (*Server, <-chan string) {
	t.Helper()
	lines := make(chan string, 100)
	opts.Logf = func(format string, args ...any) { lines <- fmt.Sprintf(format, args...) }
	srv := NewUnstartedServer(opts)
	srv.handler.b = newBehavior(srv.handler, append(srv.handler.deviations(), devs...))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, lines
}

// truncReader returns the first n bytes of r, then fails as a connection reset would.
type truncReader struct {
	r io.Reader
	n int64
}

func (c *truncReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, fmt.Errorf("cut: %w", io.ErrUnexpectedEOF)
	}
	p = p[:min(int64(len(p)), c.n)]
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// TestDeviationsPlugIn: deviations of the kinds a fault plan needs plug into the behaviour
// without a change to the handler, and the log says which one shaped each answer.
func TestDeviationsPlugIn(t *testing.T) {
	refuseSecond := testDeviation{"refuse-segment-2", func(name string, b *behavior) {
		overlap := b.overlap
		n := 0
		b.overlap = func(x *exchange, s *session, r ranges.Range) ([]ranges.Range, *failure) {
			if n++; n == 2 {
				x.by(name)
				return nil, fail(kindDeviation, http.StatusServiceUnavailable, "refused by the test")
			}
			return overlap(x, s, r)
		}
	}}
	dropAfterStore := testDeviation{"drop-after-store", func(name string, b *behavior) {
		respond := b.respond
		b.respond = func(x *exchange, rp response) response {
			if rp = respond(x, rp); rp.outcome == answerRanges && x.rng == "bytes 6-11/24" {
				x.by(name)
				rp.outcome = dropConnection
			}
			return rp
		}
	}}
	cutBody := testDeviation{"cut-body-after-3", func(name string, b *behavior) {
		body := b.body
		b.body = func(x *exchange, r ranges.Range, rd io.Reader) io.Reader {
			rd = body(x, r, rd)
			if r.Start == 12 {
				x.by(name)
				return &truncReader{r: rd, n: 3}
			}
			return rd
		}
	}}
	srv, lines := startDeviating(t, Options{}, refuseSecond, dropAfterStore, cutBody)
	steps := []struct {
		start, end int64
		want       string // qAnswer's String, or "dropped"
		by         string // the log's by= part, "" for none
	}{
		{0, 5, `201 "0-5/24"`, ""},
		{0, 5, `503 "refused by the test\n"`, "refuse-segment-2"},
		{6, 11, "dropped", "drop-after-store"},
		{12, 17, `400 "the body is shorter than Content-Length\n"`, "cut-body-after-3"},
		{18, 23, `201 "0-11/24,18-23/24"`, ""},
	}
	for i, st := range steps {
		h, b := qSeg("dev", 0, st.start, st.end, 24, "dev.bin")
		got := qSend(t, srv.Addr, h, b)
		if got.String() != st.want {
			t.Fatalf("step %d: %v, want %s", i, got, st.want)
		}
		line := <-lines
		if by := logBy(line); by != st.by {
			t.Errorf("step %d: log line %q: by %q, want %q", i, line, by, st.by)
		}
	}
}

// logBy returns the by= part of a log line.
func logBy(line string) string {
	_, by, ok := strings.Cut(line, " by=")
	if !ok {
		return ""
	}
	return by
}

// TestQuirksMarkAnswers: an answer a quirk shaped names the quirk in the log; the reference's
// answers name none.
func TestQuirksMarkAnswers(t *testing.T) {
	tests := []struct {
		quirks QuirkSet
		steps  [][]string
		by     []string
	}{
		{NewQuirkSet(DropOnMalformed), [][]string{{"Session-ID: a.b", "X-Content-Range: bytes 0-1/4"}}, []string{"drop-on-malformed"}},
		{NewQuirkSet(FalseSuccess), [][]string{
			{"Session-ID: m1", "X-Content-Range: bytes 0-1/4"},
			{"Session-ID: m1", "X-Content-Range: bytes 0-1/8"},
		}, []string{"", "false-success"}},
		{NewQuirkSet(EmptyDigests), [][]string{{"Session-ID: m2", "X-Content-Range: bytes 0-1/2"}}, []string{""}},
		{QuirkSet{}, [][]string{
			{"Session-ID: a.b", "X-Content-Range: bytes 0-1/4"},
			{"Session-ID: m1", "X-Content-Range: bytes 0-1/4"},
			{"Session-ID: m1", "X-Content-Range: bytes 0-1/8"},
		}, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.quirks.String(), func(t *testing.T) {
			srv, lines := startDeviating(t, Options{Quirks: tt.quirks})
			for i, st := range tt.steps {
				qSend(t, srv.Addr, append([]string{ct, cd}, st...), "ab")
				if line := <-lines; logBy(line) != tt.by[i] {
					t.Errorf("step %d: log line %q, want by=%q", i, line, tt.by[i])
				}
			}
		})
	}
}

// TestQuirkFiles: each quirk is declared in its own file, quirk_<name>.go, with its registry
// entry; handler.go holds no quirk: no QuirkSet test and no quirk name.
func TestQuirkFiles(t *testing.T) {
	fset := token.NewFileSet()
	for _, q := range Quirks() {
		file := "quirk_" + strings.ReplaceAll(string(q), "-", "_") + ".go"
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		declared := false
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 1 && vs.Names[0].Name == quirkConstName(q) {
				if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Value == `"`+string(q)+`"` {
					declared = true
				}
			}
			return true
		})
		if !declared {
			t.Errorf("%s is not declared in %s as %s", q, file, quirkConstName(q))
		}
		def, _ := q.info()
		if def.install == nil {
			t.Errorf("%s has no install", q)
		}
	}
	src, err := os.ReadFile("handler.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), "Has(") {
		t.Error("handler.go tests a QuirkSet")
	}
	for _, q := range Quirks() {
		for _, name := range []string{string(q), quirkConstName(q)} {
			if strings.Contains(string(src), name) {
				t.Errorf("handler.go names the quirk %s (%q)", q, name)
			}
		}
	}
}

// quirkConstName returns the Go name of q's constant: drop-on-malformed is DropOnMalformed.
func quirkConstName(q Quirk) string {
	var b strings.Builder
	for _, w := range strings.Split(string(q), "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
