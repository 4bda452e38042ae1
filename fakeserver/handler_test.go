package fakeserver

import (
	"fmt"
	"net/textproto"
	"strings"
	"testing"

	"github.com/upspec/upspec/internal/protocol"
	"github.com/upspec/upspec/ranges"
)

func TestHeaderKeysCanonical(t *testing.T) {
	for key, name := range map[string]string{
		keyContentRange:  protocol.ContentRange,
		keyXContentRange: protocol.XContentRange,
		keySessionID:     protocol.SessionID,
		keyXSessionID:    protocol.XSessionID,
		keyDisposition:   protocol.ContentDisposition,
	} {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != key {
			t.Errorf("canonical %q = %q, the handler uses %q", name, c, key)
		}
	}
}

// without returns the segment's headers minus those whose name starts with prefix, plus extra.
func (q segReq) without(prefix string, extra ...string) segReq {
	var hs []string
	for _, h := range q.headers {
		if !strings.HasPrefix(strings.ToLower(h), strings.ToLower(prefix)) {
			hs = append(hs, h)
		}
	}
	q.headers = append(hs, extra...)
	return q
}

// with returns the segment plus extra headers.
func (q segReq) with(extra ...string) segReq {
	q.headers = append(append([]string(nil), q.headers...), extra...)
	return q
}

// TestRejections checks every error answer: status and a one-line text/plain reason, and that
// nothing was acknowledged (a following valid segment starts the session afresh).
func TestRejections(t *testing.T) {
	body := []byte("abcd")
	seg := segment("rej", 0, 3, 8, "r.bin", body)
	tests := []struct {
		name   string
		opts   Options
		req    segReq
		status int
		reason string
	}{
		{"PUT", Options{}, func() segReq { q := seg; q.method = "PUT"; return q }(), 405, "method PUT"},
		{"GET on the endpoint", Options{}, segReq{method: "GET"}, 405, "method GET"},
		{"no Content-Type", Options{}, seg.without("Content-Type"), 400, "missing Content-Type"},
		{"multipart", Options{}, seg.without("Content-Type", "Content-Type: multipart/form-data; boundary=x"), 415, "multipart"},
		{"MULTIPART prefix", Options{}, seg.without("Content-Type", "Content-Type: MULTIPART/FORM-DATA-x; boundary=x"), 415, "multipart"},
		{"range without bytes", Options{}, seg.without("X-Content-Range", "X-Content-Range: 0-3/8"), 400, "malformed range"},
		{"range with =", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes=0-3/8"), 400, "malformed range"},
		{"range two spaces", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes  0-3/8"), 400, "malformed range"},
		{"range start > end", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 3-0/8"), 400, "malformed range"},
		{"range end >= total", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 0-3/3"), 400, "malformed range"},
		{"range total 0", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 0-0/0"), 400, "malformed range"},
		{"range empty number", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes -3/8"), 400, "malformed range"},
		{"range star", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes */8"), 400, "malformed range"},
		{"range total 2^63", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 0-3/9223372036854775808"), 400, "malformed range"},
		{"range start 2^64-1", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 18446744073709551615-3/8"), 400, "malformed range"},
		{"range huge digits", Options{}, seg.without("X-Content-Range", "X-Content-Range: bytes 0-3/"+strings.Repeat("9", 400)), 400, "malformed range"},
		{"ranges disagree", Options{}, seg.with("Content-Range: bytes 4-7/8"), 400, "disagree"},
		{"ranges disagree, same name", Options{}, seg.with("x-content-range: bytes 4-7/8"), 400, "disagree"},
		{"session with a dot", Options{}, seg.without("Session-ID", "Session-ID: abc.def"), 400, "invalid session ID"},
		{"session empty", Options{}, seg.without("Session-ID", "Session-ID: "), 400, "invalid session ID"},
		{"session 250 chars", Options{}, seg.without("Session-ID", "Session-ID: "+strings.Repeat("s", 250)), 400, "invalid session ID"},
		{"session non-ASCII", Options{}, seg.without("Session-ID", "Session-ID: s\xc3\xa9"), 400, "invalid session ID"},
		{"sessions disagree", Options{}, seg.with("X-Session-ID: other"), 400, "disagree"},
		{"disposition inline", Options{}, seg.without("Content-Disposition", `Content-Disposition: inline; filename="x"`), 400, "neither attachment nor form-data"},
		{"disposition attachmentx", Options{}, seg.without("Content-Disposition", `Content-Disposition: attachmentx; filename="x"`), 400, "neither attachment nor form-data"},
		{"dispositions disagree", Options{}, seg.with(`Content-Disposition: attachment; filename="y"`), 400, "disagree"},
		{"no disposition", Options{}, seg.without("Content-Disposition"), 415, "missing Content-Disposition"},
		{"total above MaxFileSize", Options{MaxFileSize: 7}, seg, 413, "total 8"},
		{"segment above MaxSegmentSize", Options{MaxSegmentSize: 3}, seg, 413, "segment of 4 bytes"},
		{"Content-Length too long", Options{}, seg.without("Content-Length", "Content-Length: 5").withBody("abcde"), 416, "Content-Length 5"},
		{"Content-Length too short", Options{}, seg.without("Content-Length", "Content-Length: 3").withBody("abc"), 416, "Content-Length 3"},
		{"Content-Length 0", Options{}, seg.without("Content-Length", "Content-Length: 0").withBody(""), 416, "Content-Length 0"},
		{"no Content-Length", Options{}, seg.without("Content-Length").withBody(""), 416, "missing Content-Length"},
		{"chunked", Options{}, seg.without("Content-Length", "Transfer-Encoding: chunked").withBody("4\r\nabcd\r\n0\r\n\r\n"), 416, "chunked"},
		{"session without range", Options{}, seg.without("X-Content-Range"), 400, "without a Content-Range"},
		{"range without session", Options{}, seg.without("Session-ID"), 400, "without a Session-ID"},
		{"neither", Options{}, seg.without("Session-ID").without("X-Content-Range"), 400, "needs a Content-Range and a Session-ID"},
		// the order of checks: a malformed range wins over a missing disposition, 416 over 415
		{"malformed before 415", Options{}, seg.without("Content-Disposition").without("X-Content-Range", "X-Content-Range: nope"), 400, "malformed range"},
		{"416 before 415", Options{}, seg.without("Content-Disposition").without("Content-Length", "Content-Length: 1").withBody("a"), 416, "Content-Length 1"},
		{"413 before 416", Options{MaxFileSize: 7}, seg.without("Content-Length", "Content-Length: 1").withBody("a"), 413, "total 8"},
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					opts := tt.opts
					opts.Store = sk.make(t)
					srv := startServer(t, opts)
					expectErrorReply(t, do(t, srv, tt.req), tt.status, tt.reason)
					if opts.MaxFileSize != 0 {
						return
					}
					// Nothing was acknowledged: a valid segment starts the session.
					if got := send(t, srv, "rej", 0, 4, 5, 8, "r.bin"); got.status != 201 || got.body != "4-5/8" {
						t.Errorf("after the rejection: %d %q, want 201 4-5/8", got.status, got.body)
					}
				})
			}
		})
	}
}

// withBody replaces the body (the headers stay as they are).
func (q segReq) withBody(b string) segReq { q.body = b; return q }

func TestOptionsAndUnknownPaths(t *testing.T) {
	srv := startServer(t, Options{})
	got := do(t, srv, segReq{method: "OPTIONS"})
	if got.status != 200 || got.body != "" || got.header.Get("Content-Length") != "0" {
		t.Errorf("OPTIONS: %d %q %v", got.status, got.body, got.header)
	}
	expectErrorReply(t, do(t, srv, segReq{method: "POST", target: "/elsewhere"}), 404, "not found")
	expectErrorReply(t, do(t, srv, segReq{method: "DELETE"}), 405, "method DELETE")
}

// TestAccepted covers the accepted shapes of headers: aliases in any case, identical repeats,
// blanks, leading zeros, both list forms, dispositions.
func TestAccepted(t *testing.T) {
	base := func(extra ...string) segReq {
		return segReq{headers: append([]string{"Content-Type: application/octet-stream", "Content-Length: 2"}, extra...), body: "ab"}
	}
	disp := `Content-Disposition: attachment; filename="a.bin"`
	tests := []struct {
		name string
		opts Options
		req  segReq
		want string
	}{
		{"X- aliases", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "X-Session-ID: s"), "0-1/4"},
		{"plain names", Options{}, base(disp, "Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"lower case", Options{}, base(strings.ToLower(disp), "content-range: bytes 0-1/4", "session-id: s"), "0-1/4"},
		{"upper case", Options{}, base("CONTENT-DISPOSITION: attachment; filename=a", "X-CONTENT-RANGE: BYTES 0-1/4", "X-SESSION-ID: s"), "0-1/4"},
		{"both aliases equal", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "Content-Range: bytes 0-1/4", "Session-ID: s", "X-Session-ID: s"), "0-1/4"},
		{"aliases equal in value", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "Content-Range: BYTES 000-001/004", "Session-ID: s"), "0-1/4"},
		{"repeated header", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "X-Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"trailing blanks", Options{}, base(disp, "X-Content-Range: bytes 0-1/4  ", "Session-ID: s "), "0-1/4"},
		{"leading zeros", Options{}, base(disp, "X-Content-Range: bytes 000-001/004", "Session-ID: s"), "0-1/4"},
		{"form-data", Options{}, base(`Content-Disposition: form-data; name="file"; filename="x"`, "X-Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"attachment comma", Options{}, base(`Content-Disposition: attachment, filename="x"`, "X-Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"no filename", Options{}, base(`Content-Disposition: attachment`, "X-Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"compact form", Options{RangeFormat: ranges.FormatCompact}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: s"), "0-1/4"},
		{"session of 249", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: "+strings.Repeat("s", 249)), "0-1/4"},
		// An empty value is what browsers send for a file of unknown type; the module takes it
		// like any non-multipart type (docs/module-behavior.md §9).
		{"empty Content-Type", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: s").without("Content-Type", "Content-Type:"), "0-1/4"},
		{"blank Content-Type", Options{}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: s").without("Content-Type", "Content-Type:   "), "0-1/4"},
		{"empty Content-Type, module", Options{Quirks: profileQuirks(t, ProfileModule)}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: s").without("Content-Type", "Content-Type:"), "0-1/4"},
		{"empty Content-Type, module 2020", Options{Quirks: profileQuirks(t, ProfileModule2020)}, base(disp, "X-Content-Range: bytes 0-1/4", "Session-ID: s").without("Content-Type", "Content-Type:"), "0-1/4"},
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					opts := tt.opts
					opts.Store = sk.make(t)
					srv := startServer(t, opts)
					got := do(t, srv, tt.req)
					if got.status != 201 || got.body != tt.want || got.header.Get("Range") != tt.want {
						t.Fatalf("%d %q Range %q, want 201 %q", got.status, got.body, got.header.Get("Range"), tt.want)
					}
				})
			}
		})
	}
}

// profileQuirks returns the quirks of the profile called name.
func profileQuirks(t *testing.T, name string) QuirkSet {
	t.Helper()
	p, err := ParseProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Quirks
}

// TestRangeLists checks the lists of 201s: merging, ordering, both forms, large offsets.
func TestRangeLists(t *testing.T) {
	type step struct{ start, end int64 }
	tests := []struct {
		name   string
		format ranges.Format
		total  int64
		steps  []step
		want   []string
	}{
		{"merge overlap", ranges.FormatModule, 24, []step{{9, 15}, {14, 20}}, []string{"9-15/24", "9-20/24"}},
		{"merge adjacent", ranges.FormatModule, 24, []step{{0, 5}, {9, 15}, {6, 8}}, []string{"0-5/24", "0-5/24,9-15/24", "0-15/24"}},
		{"sorted", ranges.FormatModule, 24, []step{{20, 21}, {0, 1}, {10, 11}}, []string{"20-21/24", "0-1/24,20-21/24", "0-1/24,10-11/24,20-21/24"}},
		{"compact", ranges.FormatCompact, 24, []step{{0, 5}, {9, 15}}, []string{"0-5/24", "0-5,9-15/24"}},
		{"single bytes", ranges.FormatModule, 4, []step{{0, 0}, {0, 0}, {2, 2}, {1, 1}}, []string{"0-0/4", "0-0/4", "0-0/4,2-2/4", "0-2/4"}},
		{"probe repeated", ranges.FormatModule, 10, []step{{0, 1}, {0, 1}, {0, 1}}, []string{"0-1/10", "0-1/10", "0-1/10"}},
		{"large offsets", ranges.FormatModule, 5000000010, []step{{5000000000, 5000000009}, {0, 9}},
			[]string{"5000000000-5000000009/5000000010", "0-9/5000000010,5000000000-5000000009/5000000010"}},
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					srv := startServer(t, Options{Store: sk.make(t), RangeFormat: tt.format})
					for i, st := range tt.steps {
						got := send(t, srv, "lists", 3, st.start, st.end, tt.total, "l.bin")
						if got.status != 201 || got.body != tt.want[i] {
							t.Fatalf("step %d (%d-%d): %d %q, want 201 %q", i, st.start, st.end, got.status, got.body, tt.want[i])
						}
					}
				})
			}
		})
	}
}

// TestLargeTotalSparseInMemory: a 5 000 000 010-byte total with a few small segments holds a
// few bytes only.
func TestLargeTotalSparseInMemory(t *testing.T) {
	st := NewMemoryStore()
	srv := startServer(t, Options{Store: st})
	for _, r := range [][2]int64{{0, 9}, {2500000000, 2500000009}, {5000000000, 5000000009}} {
		if got := send(t, srv, "big", 1, r[0], r[1], 5000000010, "big.bin"); got.status != 201 {
			t.Fatalf("%v: %d %q", r, got.status, got.body)
		}
	}
	u, ok, err := st.Load("big")
	if err != nil || !ok {
		t.Fatalf("Load: %v %v", ok, err)
	}
	if n := u.(*memUpload).data.held(); n != 30 {
		t.Errorf("%d bytes held for 30 bytes written", n)
	}
}

// TestAcknowledgedBytesImmutable: bytes inside acknowledged ranges are never rewritten.
func TestAcknowledgedBytesImmutable(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			if got := send(t, srv, "imm", 0, 0, 5, 12, "imm.bin"); got.body != "0-5/12" {
				t.Fatalf("first: %d %q", got.status, got.body)
			}
			// Seed 7: other bytes for 0-11; only 6-11 are new.
			got := send(t, srv, "imm", 7, 0, 11, 12, "imm.bin")
			if got.status != 200 {
				t.Fatalf("second: %d %q", got.status, got.body)
			}
			want := string(pattern(0, 0, 5)) + string(pattern(7, 6, 11))
			if f := get(t, srv, "/file/imm.bin"); f.body != want {
				t.Fatalf("file %q, want %q", f.body, want)
			}
		})
	}
}

// TestCompletedFileNames: the stored name is the path-stripped filename; a name that cannot
// be a file falls back to the session ID; nothing outside the store is reachable.
func TestCompletedFileNames(t *testing.T) {
	tests := []struct {
		disposition string
		stored      string
	}{
		{`attachment; filename="C:\dir\sub\win.bin"`, "win.bin"},
		{`attachment; filename="/etc/passwd"`, "passwd"},
		{`attachment; filename=plain.txt`, "plain.txt"},
		{`attachment; filename=a;b.txt`, "a"},
		{`attachment, FILENAME="upper.txt"`, "upper.txt"},
		{`attachment; filename=".."`, "sid-dotdot"},
		{`attachment; filename="dir/"`, "sid-empty"},
		{`attachment`, "sid-none"},
	}
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			srv := startServer(t, Options{Store: sk.make(t)})
			for i, tt := range tests {
				sid := tt.stored
				if !strings.HasPrefix(sid, "sid-") {
					sid = fmt.Sprintf("name%d", i)
				}
				q := segment(sid, 0, 3, 4, "x", pattern(i, 0, 3)).without("Content-Disposition", "Content-Disposition: "+tt.disposition)
				if got := do(t, srv, q); got.status != 200 {
					t.Fatalf("%s: %d %q", tt.disposition, got.status, got.body)
				}
				if f := get(t, srv, "/file/"+tt.stored); f.status != 200 || f.body != string(pattern(i, 0, 3)) {
					t.Errorf("%s: GET /file/%s: %d %q", tt.disposition, tt.stored, f.status, f.body)
				}
			}
			for _, p := range []string{"/file/", "/file/..", "/file/.", "/file/%2e%2e", "/file/..%2fsessions", "/file/a%2Fb", "/file/a%5Cb", "/file/a%00b", "/file/missing", "/file/../etc/passwd", "/file/sessions"} {
				if f := get(t, srv, p); f.status != 404 {
					t.Errorf("GET %s: %d %q, want 404", p, f.status, f.body)
				}
			}
			got := do(t, srv, segReq{method: "POST", target: "/file/win.bin", headers: []string{"Content-Length: 0"}})
			expectErrorReply(t, got, 405, "method POST")
		})
	}
}

func TestParseDisposition(t *testing.T) {
	tests := []struct {
		in   string
		name string
		ok   bool
	}{
		{`attachment; filename="a.bin"`, "a.bin", true},
		{`attachment, filename="a.bin"`, "a.bin", true},
		{`  ATTACHMENT;filename=a.bin`, "a.bin", true},
		{`form-data; name="file"; filename="x"`, "x", true},
		{`attachment; filename="a;b.txt"`, "a;b.txt", true},
		{`attachment; filename=a;b.txt`, "a", true},
		{`attachment; filename=a.txt  `, "a.txt", true},
		{`attachment; filename="unterminated`, "unterminated", true},
		{`attachment; filename="C:\dir\file.bin"`, "file.bin", true},
		{`attachment; xfilename="no"; filename="yes"`, "yes", true},
		{`attachment; filename*=UTF-8''x`, "", true},
		{`attachment`, "", true},
		{`attachment;`, "", true},
		{`inline; filename="x"`, "", false},
		{`attachments; filename="x"`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		name, ok := parseDisposition(tt.in)
		if name != tt.name || ok != tt.ok {
			t.Errorf("parseDisposition(%q) = %q %v, want %q %v", tt.in, name, ok, tt.name, tt.ok)
		}
	}
}

func TestLogf(t *testing.T) {
	lines := make(chan string, 10)
	srv := startServer(t, Options{Logf: func(format string, args ...any) { lines <- fmt.Sprintf(format, args...) }})
	send(t, srv, "logged", 0, 0, 5, 24, "l.bin")
	line := <-lines
	for _, part := range []string{"POST /upload", "session=logged", "range=bytes 0-5/24", "status=201", "in=6", "out=6"} {
		if !strings.Contains(line, part) {
			t.Errorf("log line %q lacks %q", line, part)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("log line %q spans lines", line)
	}
}
