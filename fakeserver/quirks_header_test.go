package fakeserver

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/upspec/upspec/fakeserver/internal/modulestate"
)

func TestParseModuleRange(t *testing.T) {
	tests := []struct {
		in   string
		prev modulestate.Range
		want modulestate.Range
		ok   bool
	}{
		// accepted, docs/module-behavior.md §1.6
		{"bytes 0-1/4", modulestate.Range{}, mr(0, 1, 4), true},
		{"BYTES 0-1/4", modulestate.Range{}, mr(0, 1, 4), true},
		{"ByTeS 2-3/4", modulestate.Range{}, mr(2, 3, 4), true},
		{"bytes 000-001/004", modulestate.Range{}, mr(0, 1, 4), true},
		{"bytes -1/4", modulestate.Range{}, mr(0, 1, 4), true},
		{"bytes 0-/10", modulestate.Range{}, mr(0, 0, 10), true},
		{"bytes 3-3/4", modulestate.Range{}, mr(3, 3, 4), true},
		{"bytes 5000000000-5000000009/6000000000", modulestate.Range{}, mr(5000000000, 5000000009, 6000000000), true},
		{"bytes 0-0/9223372036854775807", modulestate.Range{}, mr(0, 0, 9223372036854775807), true},
		// a start of 2^64-1 wraps to -1 and passes
		{"bytes 18446744073709551615-1/4", modulestate.Range{}, mr(-1, 1, 4), true},
		// an unwritten total keeps the value of an earlier range header of the request
		{"bytes 2-3/", mr(0, 1, 4), mr(2, 3, 4), true},
		// rejected: class E
		{"bytes 2-3/", modulestate.Range{}, modulestate.Range{}, false},
		{"", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes", modulestate.Range{}, modulestate.Range{}, false},
		{"0-1/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes=0-1/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes  0-1/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-1/4 ", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes */4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-1/*", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes +0-1/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-1", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-1/4/5", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-1-2/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0/1-4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 2-1/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 2-4/4", modulestate.Range{}, modulestate.Range{}, false},
		{"bytes 0-0/0", modulestate.Range{}, modulestate.Range{}, false},
		// a total of 2^63 wraps negative
		{"bytes 0-1/9223372036854775808", modulestate.Range{}, modulestate.Range{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseModuleRange(tt.in, tt.prev)
			if ok != tt.ok {
				t.Fatalf("parseModuleRange(%q) ok = %v (%+v), want %v", tt.in, ok, got, tt.ok)
			}
			if ok && got != tt.want {
				t.Errorf("parseModuleRange(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidModuleSessionID(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		id string
		ok bool
	}{
		{"abc-DEF_012", true},
		{string(long), true}, // no length limit in the module
		{"", false},
		{"abc.def", false}, // issue #139
		{"a b", false},
		{"a+b", false},
		{"a/b", false},
		{"a=b", false},
		{"a%20", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := validModuleSessionID(tt.id); got != tt.ok {
			t.Errorf("validModuleSessionID(%.20q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

func TestModuleDisposition(t *testing.T) {
	tests := []struct {
		value  string
		valid  bool
		name   string
		hasNam bool
	}{
		{`attachment; filename="big.TXT"`, true, "big.TXT", true},
		{`attachment, filename="a.bin"`, true, "a.bin", true},
		{`ATTACHMENT; filename=plain.txt`, true, "plain.txt", true},
		{`form-data; name="file"; filename="test.txt"`, true, "test.txt", true},
		{`attachment; filename=a;b.txt`, true, "a", true},
		{`attachment; filename="a"b.txt"`, true, "a", true},
		{`attachment; filename="C:\dir\sub\file.bin"`, true, "file.bin", true},
		{`attachment; filename="/etc/passwd"`, true, "passwd", true},
		{`attachment; filename="/x"`, true, "/x", true}, // a separator in the first position is kept
		{`attachment; filename="\x"`, true, `\x`, true},
		{`attachment; FILENAME="x"`, true, "", false},
		{`attachment; filename*=UTF-8''x`, true, "", false},
		{`attachment`, true, "", false},
		{`attachmentXYZ`, true, "", false},
		{`inline; filename="x"`, false, "x", true},
		{`attach`, false, "", false},
		{``, false, "", false},
	}
	for _, tt := range tests {
		if got := validModuleDisposition(tt.value); got != tt.valid {
			t.Errorf("validModuleDisposition(%q) = %v, want %v", tt.value, got, tt.valid)
		}
		name, ok := moduleFileName(tt.value)
		if name != tt.name || ok != tt.hasNam {
			t.Errorf("moduleFileName(%q) = %q, %v; want %q, %v", tt.value, name, ok, tt.name, tt.hasNam)
		}
	}
}

func TestClassifyModuleHeader(t *testing.T) {
	tests := []struct {
		name string
		want moduleHeaderKind
	}{
		{"Content-Disposition", moduleHeaderDisposition},
		{"content-disposition-extra", moduleHeaderDisposition},
		{"Session-ID", moduleHeaderSession},
		{"Session-Id", moduleHeaderSession},
		{"x-session-id", moduleHeaderSession},
		{"Session-ID-whatever", moduleHeaderSession},
		{"Content-Range", moduleHeaderRange},
		{"X-CONTENT-RANGE", moduleHeaderRange},
		{"Content-Ranges", moduleHeaderRange},
		{"Session", moduleHeaderOther},
		{"X-Session", moduleHeaderOther},
		{"Content-Type", moduleHeaderOther},
		{"Content-Length", moduleHeaderOther},
		{"Range", moduleHeaderOther},
		{"XX-Session-ID", moduleHeaderOther},
	}
	for _, tt := range tests {
		if got := classifyModuleHeader(tt.name); got != tt.want {
			t.Errorf("classifyModuleHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestScanModuleHeaders(t *testing.T) {
	cd := moduleHeader{"Content-Disposition", `attachment; filename="f.bin"`}
	h := func(name, value string) moduleHeader { return moduleHeader{name, value} }
	tests := []struct {
		name    string
		headers []moduleHeader
		cl, max int64
		verdict moduleVerdict
		session string
		rng     modulestate.Range
		file    string
	}{
		{"plain", []moduleHeader{cd, h("Session-ID", "s1"), h("Content-Range", "bytes 0-1/4")}, 2, 0,
			moduleHeadersOK, "s1", mr(0, 1, 4), "f.bin"},
		{"last range wins (X first)", []moduleHeader{cd, h("Session-ID", "s1"), h("X-Content-Range", "bytes 0-1/8"), h("Content-Range", "bytes 4-5/8")}, 2, 0,
			moduleHeadersOK, "s1", mr(4, 5, 8), "f.bin"},
		{"last range wins (plain first)", []moduleHeader{cd, h("Session-ID", "s1"), h("Content-Range", "bytes 4-5/8"), h("X-Content-Range", "bytes 0-1/8")}, 2, 0,
			moduleHeadersOK, "s1", mr(0, 1, 8), "f.bin"},
		{"last session wins", []moduleHeader{cd, h("X-Session-ID", "first1"), h("Session-ID", "second2"), h("Content-Range", "bytes 0-1/4")}, 2, 0,
			moduleHeadersOK, "second2", mr(0, 1, 4), "f.bin"},
		{"prefix names", []moduleHeader{h("Content-Disposition-Extra", `attachment; filename="g"`), h("Session-ID-whatever", "s2"), h("X-Content-Range-2", "BYTES 000-001/004")}, 2, 0,
			moduleHeadersOK, "s2", mr(0, 1, 4), "g"},
		{"invalid after valid drops", []moduleHeader{cd, h("Session-ID", "s1"), h("Content-Range", "bytes 0-1/4"), h("X-Content-Range", "bytes 0-1")}, 2, 0,
			moduleHeadersDrop, "s1", modulestate.Range{}, ""},
		{"invalid before valid drops", []moduleHeader{cd, h("X-Session-ID", "a.b"), h("Session-ID", "ab")}, 2, 0,
			moduleHeadersDrop, "", modulestate.Range{}, ""},
		{"empty session drops", []moduleHeader{cd, h("Session-ID", "")}, 2, 0, moduleHeadersDrop, "", modulestate.Range{}, ""},
		{"inline disposition drops", []moduleHeader{h("Content-Disposition", `inline; filename="x"`), h("Session-ID", "s1")}, 2, 0,
			moduleHeadersDrop, "", modulestate.Range{}, ""},
		{"413 on total", []moduleHeader{cd, h("Content-Range", "bytes 0-1/11")}, 2, 10, moduleHeadersTooLarge, "", modulestate.Range{}, ""},
		{"total equal to max", []moduleHeader{cd, h("Content-Range", "bytes 0-1/10")}, 2, 10, moduleHeadersOK, "", mr(0, 1, 10), "f.bin"},
		{"416 on length", []moduleHeader{cd, h("Content-Range", "bytes 0-3/4")}, 7, 0, moduleHeadersBadLength, "", modulestate.Range{}, ""},
		{"416 without Content-Length", []moduleHeader{cd, h("Content-Range", "bytes 0-3/4")}, -1, 0, moduleHeadersBadLength, "", modulestate.Range{}, ""},
		{"first failing header decides: 416 before drop", []moduleHeader{cd, h("Content-Range", "bytes 0-3/4"), h("Session-ID", "a.b")}, 2, 0,
			moduleHeadersBadLength, "", modulestate.Range{}, ""},
		{"first failing header decides: drop before 416", []moduleHeader{cd, h("Session-ID", "a.b"), h("Content-Range", "bytes 0-3/4")}, 2, 0,
			moduleHeadersDrop, "", modulestate.Range{}, ""},
		{"no disposition: 415", []moduleHeader{h("Session-ID", "s1"), h("Content-Range", "bytes 0-1/4")}, 2, 0,
			moduleHeadersNoDisposition, "s1", mr(0, 1, 4), ""},
		{"wrapped start passes", []moduleHeader{cd, h("Session-ID", "s1"), h("Content-Range", "bytes 18446744073709551615-1/4")}, 3, 0,
			moduleHeadersOK, "s1", mr(-1, 1, 4), "f.bin"},
		{"range without session", []moduleHeader{cd, h("Content-Range", "bytes 0-1/4")}, 2, 0, moduleHeadersOK, "", mr(0, 1, 4), "f.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scanModuleHeaders(tt.headers, tt.cl, tt.max)
			if sc.Verdict != tt.verdict {
				t.Fatalf("verdict = %v (%s), want %v", sc.Verdict, sc.Reason, tt.verdict)
			}
			if sc.Verdict == moduleHeadersDrop && sc.Reason == "" {
				t.Error("a drop without a reason")
			}
			if tt.verdict != moduleHeadersOK && tt.verdict != moduleHeadersNoDisposition {
				return
			}
			if sc.SessionID != tt.session || sc.HasSession != (tt.session != "") {
				t.Errorf("session = %q (%v), want %q", sc.SessionID, sc.HasSession, tt.session)
			}
			if tt.rng != (modulestate.Range{}) && (sc.Range != tt.rng || !sc.HasRange) {
				t.Errorf("range = %+v (%v), want %+v", sc.Range, sc.HasRange, tt.rng)
			}
			if sc.FileName != tt.file {
				t.Errorf("file name = %q, want %q", sc.FileName, tt.file)
			}
		})
	}
}

func TestHeadersInGuessedOrder(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Range", "bytes 4-5/8")
	h.Set("X-Content-Range", "bytes 0-1/8")
	h.Set("X-Session-Id", "a")
	h.Set("Session-Id", "b")
	h.Set("Content-Type", "application/octet-stream")
	h.Add("X-Other", " v ")
	got := headersInGuessedOrder(h)
	want := []moduleHeader{
		{"X-Content-Range", "bytes 0-1/8"},
		{"X-Session-Id", "a"},
		{"Content-Range", "bytes 4-5/8"},
		{"Content-Type", "application/octet-stream"},
		{"Session-Id", "b"},
		{"X-Other", "v"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headersInGuessedOrder = %v, want %v", got, want)
	}
}

// mr returns the module range start-end/total.
func mr(start, end, total int64) modulestate.Range {
	return modulestate.Range{Start: start, End: end, Total: total}
}
