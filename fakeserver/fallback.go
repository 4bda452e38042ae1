package fakeserver

import "net/http"

// serveFallback hands a request for another path to Options.Fallback and keeps its status and
// size for the log line.
func (h *handler) serveFallback(x *exchange) {
	w := &countingWriter{ResponseWriter: x.w, status: http.StatusOK}
	h.opts.Fallback.ServeHTTP(w, x.r)
	x.status, x.out = w.status, w.n
}

// countingWriter records the status and the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
