package wire

import "io"

// Alphabet is the 62-byte cycle every test file is made of: byte i of a file with seed s is
// Alphabet[(i+s) mod 62]. A shell makes the same bytes with
// `yes "$ALPHABET" | tr -d '\n' | tail -c +$(( (S+SEED)%62 + 1 )) | head -c LEN`.
const Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Pattern is the content of a test file: an endless cycle of Alphabet shifted by Seed. Any
// byte range of any size can be made without holding the file in memory.
type Pattern struct {
	Seed int `json:"seed"`
}

// offset returns the Alphabet index of file byte i.
func (p Pattern) offset(i int64) int {
	m := (i + int64(p.Seed)%int64(len(Alphabet))) % int64(len(Alphabet))
	if m < 0 {
		m += int64(len(Alphabet))
	}
	return int(m)
}

// Byte returns byte i of the file.
func (p Pattern) Byte(i int64) byte { return Alphabet[p.offset(i)] }

// Bytes returns n bytes of the file from offset start. n <= 0 gives an empty slice.
func (p Pattern) Bytes(start, n int64) []byte {
	if n <= 0 {
		return []byte{}
	}
	b := make([]byte, n)
	p.fill(b, start)
	return b
}

// fill writes the file bytes from offset start into b.
func (p Pattern) fill(b []byte, start int64) {
	o := p.offset(start)
	for i := 0; i < len(b); {
		k := copy(b[i:], Alphabet[o:])
		i += k
		o = 0
	}
}

// Reader returns a reader of n bytes of the file from offset start. It holds no more than
// its caller's buffer in memory, so a segment of any size can be streamed.
func (p Pattern) Reader(start, n int64) io.Reader {
	if n < 0 {
		n = 0
	}
	return &patternReader{p: p, off: start, left: n}
}

type patternReader struct {
	p    Pattern
	off  int64
	left int64
}

func (r *patternReader) Read(b []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > r.left {
		b = b[:r.left]
	}
	r.p.fill(b, r.off)
	r.off += int64(len(b))
	r.left -= int64(len(b))
	return len(b), nil
}
