package fakeserver

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/upspec/upspec/ranges"
)

// TestForgetInFlight: a segment in flight when its session is forgotten is not
// acknowledged: it gets a 500, and the next segment starts the session afresh.
func TestForgetInFlight(t *testing.T) {
	srv := startServer(t, Options{})
	send(t, srv, "fi", 0, 0, 7, 24, "fi.bin")
	q := segment("fi", 8, 15, 24, "fi.bin", pattern(0, 8, 15))
	c := dial(t, srv.Addr)
	w := q.wire(srv.Addr)
	if _, err := io.WriteString(c, w[:len(w)-3]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the segment in flight", func() bool {
		info, ok := srv.Session("fi")
		return ok && len(info.InFlight) == 1 && info.InFlight[0] == ranges.Range{Start: 8, End: 15}
	})
	if !srv.ForgetSession("fi") {
		t.Fatal("ForgetSession found no session")
	}
	if _, err := io.WriteString(c, w[len(w)-3:]); err != nil {
		t.Fatal(err)
	}
	got := readReply(t, bufio.NewReader(c))
	if got.status != 500 || !strings.Contains(got.body, "forgotten") {
		t.Errorf("the segment in flight got %d %q, want a 500 saying the session was forgotten", got.status, got.body)
	}
	if _, ok := srv.Session("fi"); ok {
		t.Error("the forgotten session is still there")
	}
	if got := send(t, srv, "fi", 0, 16, 23, 24, "fi.bin"); got.body != "16-23/24" {
		t.Errorf("the next segment got %q, want a new session", got.body)
	}
	if srv.ForgetSession("a/b") || srv.ForgetSession("never") {
		t.Error("ForgetSession found a session that is not there")
	}
}

// TestSessionFromStore: Session reads a session the server has not seen since it started
// from the store, as its next segment would.
func TestSessionFromStore(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	first := startServer(t, Options{Store: st})
	send(t, first, "kept", 0, 0, 7, 24, "k.bin")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := NewDirStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Store: st2})
	if n := len(srv.Sessions()); n != 0 {
		t.Errorf("a new server holds %d sessions in memory", n)
	}
	info, ok := srv.Session("kept")
	if !ok || info.List != "0-7/24" || info.State != SessionIncomplete {
		t.Errorf("Session(kept) = %+v, %v", info, ok)
	}
	if _, ok := srv.Session("other"); ok {
		t.Error("Session(other) found a session")
	}
}

// TestHandlerAdmin: the handler of New has the same admin face as a Server.
func TestHandlerAdmin(t *testing.T) {
	h := New(Options{Faults: MustParseFaultRules("status=502")})
	ts := httptest.NewServer(h)
	defer ts.Close()
	srv := &Server{URL: ts.URL, Addr: strings.TrimPrefix(ts.URL, "http://")}
	if got := send(t, srv, "h1", 0, 0, 1, 4, "h.bin"); got.status != 502 {
		t.Errorf("status %d, want the fault's 502", got.status)
	}
	if es := h.Admin().Journal(JournalFilter{}); len(es) != 1 || es[0].Fault != "status=502" {
		t.Errorf("journal %+v", es)
	}
	if fs := h.Admin().Faults(); len(fs) != 1 || fs[0].Fired != 1 {
		t.Errorf("faults %+v", fs)
	}
}

// TestFaultsOutsideHandler: the handler knows the fault plan only as a deviation: handler.go
// uses no name declared in faults.go but the plan's type and constructor.
func TestFaultsOutsideHandler(t *testing.T) {
	fset := token.NewFileSet()
	faults, err := parser.ParseFile(fset, "faults.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, d := range faults.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declared[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					declared[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						declared[n.Name] = true
					}
				}
			}
		}
	}
	if len(declared) < 20 {
		t.Fatalf("faults.go declares only %d names", len(declared))
	}
	handler, err := parser.ParseFile(fset, "handler.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"faultPlans": true, "newFaultPlans": true}
	ast.Inspect(handler, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && declared[id.Name] && !allowed[id.Name] {
			t.Errorf("handler.go uses %s of faults.go at %v", id.Name, fset.Position(id.Pos()))
		}
		return true
	})
}
