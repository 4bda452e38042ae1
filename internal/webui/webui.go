// Package webui holds the browser side of upspec: the JavaScript client of the protocol
// (js/upspec-uploader.js, an ES module without dependencies) and the demo page that
// `upspec serve` shows at / (index.html, upload.css, js/demo.js, and js/server-view.js, which reads
// what the server saw from its admin API), embedded in the binary.
// The library's tests (test/, run by `node --test`) are not embedded.
package webui

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed index.html upload.css js/upspec-uploader.js js/demo.js js/server-view.js
var files embed.FS

// FS returns the embedded page and library, rooted at the page's directory.
func FS() fs.FS { return files }

// Handler serves the files of fsys for GET and HEAD: "/" is index.html, a directory without
// one is listed. Every other request, and a path that names nothing in fsys, goes to next (nil:
// 404), so that the page never hides the server's own answers.
func Handler(fsys fs.FS, next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !exists(fsys, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache") // a reload gets the current page
		files.ServeHTTP(w, r)
	})
}

// exists reports whether the URL path names a file or directory of fsys.
func exists(fsys fs.FS, urlPath string) bool {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		name = "."
	}
	_, err := fs.Stat(fsys, name)
	return err == nil || !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid)
}
