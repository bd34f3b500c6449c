package leb128

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestUint(t *testing.T) {
	tests := []struct {
		in   []byte
		bits uint
		want uint64
		n    int
		err  error
	}{
		{[]byte{0x00}, 32, 0, 1, nil},
		{[]byte{0xe5, 0x8e, 0x26}, 32, 624485, 3, nil},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x00}, 32, 0, 5, nil},               // padded, within 5 bytes
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32, 0, 5, ErrTooLarge}, // a sixth byte
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, math.MaxUint32, 5, nil},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 32, 0, 5, ErrTooLarge}, // bit 32 set
		{binary.AppendUvarint(nil, math.MaxUint64), 64, math.MaxUint64, 10, nil},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 64, 0, 10, ErrTooLarge},
		{[]byte{0x80, 0x80}, 64, 0, 2, ErrTruncated},
		{nil, 64, 0, 0, ErrTruncated},
	}
	for _, tt := range tests {
		v, n, err := Uint(tt.in, tt.bits)
		if !errors.Is(err, tt.err) || n != tt.n || (err == nil && v != tt.want) {
			t.Errorf("Uint(% x, %d) = %d, %d, %v; want %d, %d, %v", tt.in, tt.bits, v, n, err, tt.want, tt.n, tt.err)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   []byte
		bits uint
		want int64
		err  error
	}{
		{[]byte{0x7f}, 32, -1, nil},
		{[]byte{0xc0, 0xbb, 0x78}, 32, -123456, nil},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x07}, 32, math.MaxInt32, nil},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, 32, math.MinInt32, nil},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x4f}, 32, 0, ErrTooLarge}, // unused bits not a sign extension
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7e}, 64, 0, ErrTooLarge},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, 64, math.MinInt64, nil},
		{[]byte{0xff}, 64, 0, ErrTruncated},
	}
	for _, tt := range tests {
		v, _, err := Int(tt.in, tt.bits)
		if !errors.Is(err, tt.err) || (err == nil && v != tt.want) {
			t.Errorf("Int(% x, %d) = %d, %v; want %d, %v", tt.in, tt.bits, v, err, tt.want, tt.err)
		}
	}
}

// TestAppendIntRoundTrip checks AppendInt against Int at the edges.
func TestAppendIntRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 624485, -123456, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		b := AppendInt(nil, v)
		got, n, err := Int(b, 64)
		if err != nil || got != v || n != len(b) {
			t.Errorf("AppendInt(%d) = % x, read back %d, %d, %v", v, b, got, n, err)
		}
	}
}
