// Package bytesize reads byte counts written for people: 1048576, 64k, 10M, 1MiB, 1.5GB.
// Every flag of upspec that takes a size takes this form.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is a byte count as a flag value (pflag.Value and flag.Value): it reads 1048576, 64k,
// 10M, 1MiB, 1GiB or 1.5GB (Parse) and prints the number of bytes.
type Value int64

// String is the number of bytes.
func (b *Value) String() string { return strconv.FormatInt(int64(*b), 10) }

// Type names the value kind in the flag usage.
func (b *Value) Type() string { return "size" }

// Set parses a size.
func (b *Value) Set(s string) error {
	n, err := Parse(s)
	if err != nil {
		return err
	}
	*b = Value(n)
	return nil
}

// Parse reads a non-negative byte count with an optional suffix: K, M, G, T, KiB,
// MiB, GiB, TiB (powers of 1024; also lower case), KB, MB, GB, TB (powers of 1000), B.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, suffix := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("size %q does not start with a number (e.g. 1048576, 10M, 1GiB)", s)
	}
	var mult float64
	switch strings.ToLower(suffix) {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	default:
		return 0, fmt.Errorf("size %q has an unknown unit %q (use K, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB, TB)", s, suffix)
	}
	if !strings.Contains(num, ".") {
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v > math.MaxInt64/int64(mult) {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return v * int64(mult), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is not a number", s)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}
