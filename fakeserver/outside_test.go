package fakeserver_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// outsideModule is a module outside this one that implements a fakeserver.Store and picks
// the compact range-list form by name: it compiles only if the public API carries no
// internal type.
const outsideModule = `package outside

import (
	"errors"
	"io"
	"io/fs"
	"net/http"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/ranges"
)

// Store is a Store of this module: it keeps nothing.
type Store struct{}

func (Store) Load(id string) (fakeserver.Upload, bool, error) { return nil, false, nil }

func (Store) Create(id string, total int64) (fakeserver.Upload, error) {
	return &upload{total: total}, nil
}

func (Store) OpenFile(name string) (fakeserver.File, error) { return nil, fs.ErrNotExist }

func (Store) Close() error { return nil }

type upload struct {
	total int64
	acked []ranges.Range
}

func (u *upload) Total() int64                             { return u.total }
func (u *upload) Ranges() []ranges.Range                   { return u.acked }
func (u *upload) WriteAt(p []byte, off int64) (int, error) { return len(p), nil }
func (u *upload) Flush() error                             { return nil }

func (u *upload) Commit(added ranges.Range, acked []ranges.Range) error {
	u.acked = append([]ranges.Range(nil), acked...)
	return nil
}

func (u *upload) Finish(name string) (fakeserver.File, error) { return file{}, nil }
func (u *upload) Discard() error                              { return nil }

type file struct{}

func (file) ReadAt(p []byte, off int64) (int, error) { return 0, io.EOF }
func (file) Close() error                            { return nil }
func (file) Size() int64                             { return 0 }
func (file) Path() string                            { return "" }

// Handler is the reference server on Store, with the compact range-list form.
func Handler() (http.Handler, error) {
	f, err := ranges.ParseFormat("compact")
	if err != nil {
		return nil, err
	}
	if f != ranges.FormatCompact {
		return nil, errors.New("compact is not FormatCompact")
	}
	var _ fakeserver.Store = Store{}
	return fakeserver.New(fakeserver.Options{Store: Store{}, RangeFormat: f}), nil
}
`

// TestOutsideModule builds a module outside this one against the public API: it implements
// fakeserver.Store and chooses the compact form with ranges.ParseFormat. It needs the go
// command and the module cache, never the network.
func TestOutsideModule(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not found (%v): cannot build a module outside this one", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/outside\n\ngo 1.26\n\nrequire github.com/upspec/upspec v0.0.0\n\nreplace github.com/upspec/upspec => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "outside.go": outsideModule} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build of a module outside this one: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
