package wire

import (
	"bytes"
	"io"
	"testing"
)

func TestPatternBytes(t *testing.T) {
	tests := []struct {
		name  string
		p     Pattern
		start int64
		n     int64
		want  string
	}{
		{"start of seed 0", Pattern{}, 0, 5, "01234"},
		{"wraps the alphabet", Pattern{}, 60, 4, "yz01"},
		{"seed shifts", Pattern{Seed: 1}, 61, 3, "012"},
		{"seed above the alphabet", Pattern{Seed: 62 + 10}, 0, 2, "AB"},
		{"negative seed", Pattern{Seed: -1}, 0, 2, "z0"},
		{"large offset", Pattern{}, 5_000_000_000, 3, string([]byte{Alphabet[5_000_000_000%62], Alphabet[5_000_000_001%62], Alphabet[5_000_000_002%62]})},
		{"empty", Pattern{}, 7, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.p.Bytes(tc.start, tc.n)); got != tc.want {
				t.Errorf("Bytes(%d, %d) = %q, want %q", tc.start, tc.n, got, tc.want)
			}
			got, err := io.ReadAll(tc.p.Reader(tc.start, tc.n))
			if err != nil || string(got) != tc.want {
				t.Errorf("Reader(%d, %d) = %q, %v, want %q", tc.start, tc.n, got, err, tc.want)
			}
		})
	}
}

func TestPatternReaderMatchesBytes(t *testing.T) {
	p := Pattern{Seed: 17}
	want := p.Bytes(3, 100_000)
	for i, b := range want {
		if b != p.Byte(3+int64(i)) {
			t.Fatalf("Bytes and Byte differ at %d", i)
		}
	}
	// Read through an odd-sized buffer so that reads end mid-alphabet.
	var got bytes.Buffer
	if _, err := io.CopyBuffer(&got, struct{ io.Reader }{p.Reader(3, 100_000)}, make([]byte, 37)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("Reader differs from Bytes")
	}
}
