package fakeserver_test

// Benchmarks of the reference server over real loopback TCP, each beside a plain handler that
// reads the body into io.Discard and answers 201, measured in the same run and served by the
// same http.Server configuration. The client is a minimal HTTP/1.1 client on one keep-alive
// connection, so that its own cost stays small next to the server's.
//
//	go test -run='^$' -bench='Ingest/seg=1MiB' -benchtime=1000x -count=5 ./fakeserver/  # 1 GiB a run
//	go test -run='^$' -bench='Ingest/seg=64KiB|Probe' -benchtime=2s -count=5 ./fakeserver/
//
// A run of 1000 segments of 1 MiB writes 1 GiB, the size the targets name. Much longer runs
// of the data directory (several GiB) also measure the kernel writing dirty pages back to the
// disk on the same two cores: at 3 GiB a run the data directory loses 15-25% on the
// development machine, while the plain handler, which writes nothing, does not.
//
// Compare each fakeserver figure with the plain one of the same group: ingest of 1 MiB
// segments into a data directory should reach 70% of the plain handler's MB/s, and 2-byte
// probes 60% of its req/s.
//
// Before each ingest run, as many bytes as the run will send are written to a scratch file and
// removed again (for every target alike), so that the run writes into page-cache pages the
// kernel has handed out before. On a virtual machine whose memory is backed lazily by the host,
// the first touch of a guest page costs several times the write itself (1 GiB into fresh page
// cache: about 0.5 GB/s; into recycled pages: about 1.8 GB/s, measured with dd on the
// development machine); without the warm-up the figures measure that, not the server.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/upspec/upspec/fakeserver"
)

// benchTimeout bounds every request of a benchmark.
const benchTimeout = 30 * time.Second

// benchTarget is one server under measurement.
type benchTarget struct {
	name string
	// handler returns the handler to serve; dir is a fresh directory for its data.
	handler func(b *testing.B, dir string) http.Handler
}

func benchTargets() []benchTarget {
	return []benchTarget{
		{"plain", func(*testing.B, string) http.Handler { return plainHandler() }},
		{"memory", func(*testing.B, string) http.Handler {
			return fakeserver.New(fakeserver.Options{Store: fakeserver.NewMemoryStore()})
		}},
		{"dir", func(b *testing.B, dir string) http.Handler {
			st, err := fakeserver.NewDirStore(dir, false)
			if err != nil {
				b.Fatalf("NewDirStore: %v", err)
			}
			b.Cleanup(func() { closeIfCloser(st) })
			return fakeserver.New(fakeserver.Options{Store: st})
		}},
	}
}

// plainHandler reads the body into io.Discard and answers 201 with a fixed range list: the
// least an HTTP server can do per segment.
func plainHandler() http.Handler {
	const body = "0-0/1"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Range"] = []string{body}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, body)
	})
}

func closeIfCloser(v any) {
	if c, ok := v.(io.Closer); ok {
		_ = c.Close()
	}
}

// startBenchServer serves h on a free loopback port with the timeouts of `upspec serve` and
// returns the address; the server is closed when the benchmark ends.
func startBenchServer(b *testing.B, h http.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	b.Cleanup(func() {
		_ = srv.Close()
		<-done
		closeIfCloser(h)
	})
	return ln.Addr().String()
}

// rawClient is a minimal HTTP/1.1 client on one keep-alive connection.
type rawClient struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	hdr  []byte
	buf  []byte
	body []byte // the last response body
}

func dialRaw(b testing.TB, addr string) *rawClient {
	b.Helper()
	conn, err := net.DialTimeout("tcp", addr, benchTimeout)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	return &rawClient{addr: addr, conn: conn, br: bufio.NewReaderSize(conn, 4096), buf: make([]byte, 512)}
}

// post sends one segment and reads the answer; it returns the status code.
func (c *rawClient) post(sid string, start, end, total int64, body []byte) (int, error) {
	h := c.hdr[:0]
	h = append(h, "POST /upload HTTP/1.1\r\nHost: "...)
	h = append(h, c.addr...)
	h = append(h, "\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\""...)
	h = append(h, sid...)
	h = append(h, ".bin\"\r\nX-Content-Range: bytes "...)
	h = strconv.AppendInt(h, start, 10)
	h = append(h, '-')
	h = strconv.AppendInt(h, end, 10)
	h = append(h, '/')
	h = strconv.AppendInt(h, total, 10)
	h = append(h, "\r\nSession-ID: "...)
	h = append(h, sid...)
	h = append(h, "\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	h = append(h, "\r\n\r\n"...)
	c.hdr = h
	if err := c.conn.SetDeadline(time.Now().Add(benchTimeout)); err != nil {
		return 0, fmt.Errorf("deadline: %w", err)
	}
	var err error
	if len(body) <= 4096 {
		_, err = c.conn.Write(append(h, body...))
	} else {
		bufs := net.Buffers{h, body}
		_, err = bufs.WriteTo(c.conn)
	}
	if err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	return c.readResponse()
}

func (c *rawClient) readResponse() (int, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("status line %q", line)
	}
	cl := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if cl, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("content-length %q", v)
			}
		}
	}
	if cl < 0 || cl > len(c.buf) {
		return 0, fmt.Errorf("status %d: content-length %d not supported by the benchmark client", status, cl)
	}
	c.body = c.buf[:cl]
	if _, err := io.ReadFull(c.br, c.body); err != nil {
		return 0, fmt.Errorf("body: %w", err)
	}
	return status, nil
}

// errStatus reports an unexpected status.
func errStatus(status int, body []byte) error {
	return fmt.Errorf("status %d %q", status, body)
}

// BenchmarkIngest sends the segments of files one after another over one keep-alive
// connection (ascending order; a file of benchFileSize bytes, then the next session), so that
// the per-file costs (creating the session's files, completion) are spread the same way for
// every segment size. b.SetBytes makes MB/s the segment throughput.
func BenchmarkIngest(b *testing.B) {
	const benchFileSize = 64 << 20
	for _, seg := range []int64{1 << 20, 64 << 10} {
		body := bytes.Repeat([]byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!?"), int(seg/64))
		for _, tgt := range benchTargets() {
			b.Run(fmt.Sprintf("seg=%s/%s", sizeName(seg), tgt.name), func(b *testing.B) {
				dir := b.TempDir()
				warmPageCache(b, dir, int64(b.N)*seg)
				addr := startBenchServer(b, tgt.handler(b, dir))
				c := dialRaw(b, addr)
				perFile := int(benchFileSize / seg)
				b.SetBytes(seg)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					file, k := i/perFile, int64(i%perFile)
					sid := "ingest-" + strconv.Itoa(file)
					status, err := c.post(sid, k*seg, (k+1)*seg-1, benchFileSize, body)
					if err != nil {
						b.Fatalf("segment %d of %s: %v", k, sid, err)
					}
					if status != http.StatusCreated && !(status == http.StatusOK && k == int64(perFile)-1) {
						b.Fatalf("segment %d of %s: %v", k, sid, errStatus(status, c.body))
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

// BenchmarkProbe sends 2-byte probes (`bytes 0-1/1048576`) of one session over one keep-alive
// connection: the first one opens the session, every further one retransmits an acknowledged
// range and gets the range list back.
func BenchmarkProbe(b *testing.B) {
	const total = 1 << 20
	body := []byte("01")
	for _, tgt := range benchTargets() {
		b.Run(tgt.name, func(b *testing.B) {
			addr := startBenchServer(b, tgt.handler(b, b.TempDir()))
			c := dialRaw(b, addr)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				status, err := c.post("probe-1", 0, 1, total, body)
				if err != nil {
					b.Fatalf("probe %d: %v", i, err)
				}
				if status != http.StatusCreated {
					b.Fatalf("probe %d: %v", i, errStatus(status, c.body))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// warmPageCache writes n bytes (at most 8 GiB) to a scratch file in dir and removes it.
func warmPageCache(b *testing.B, dir string, n int64) {
	b.Helper()
	n = min(n, 8<<30)
	if n < 64<<20 {
		return
	}
	p := filepath.Join(dir, "warm-up")
	f, err := os.Create(p)
	if err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	buf := make([]byte, 1<<20)
	for off := int64(0); off < n; off += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	if err := os.Remove(p); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
}

func sizeName(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10)
	}
}

// TestBenchClient checks the benchmark client against the plain handler and the reference
// server, so that a broken client cannot produce figures.
func TestBenchClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: fakeserver.New(fakeserver.Options{}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c := dialRaw(t, ln.Addr().String())
	steps := []struct {
		start, end int64
		status     int
		body       string
	}{
		{0, 5, 201, "0-5/24"},
		{9, 15, 201, "0-5/24,9-15/24"},
		{0, 1, 201, "0-5/24,9-15/24"},
		{16, 23, 201, "0-5/24,9-23/24"},
		{6, 8, 200, "completed"},
	}
	content := []byte("0123456789ABCDEFGHIJKLMN")
	for _, s := range steps {
		status, err := c.post("benchclient-1", s.start, s.end, 24, content[s.start:s.end+1])
		if err != nil {
			t.Fatal(err)
		}
		if status != s.status || string(c.body) != s.body {
			t.Fatalf("bytes %d-%d/24: %d %q, want %d %q", s.start, s.end, status, c.body, s.status, s.body)
		}
	}
}
