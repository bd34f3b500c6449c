// Package leb128 reads and writes the LEB128 numbers of the WebAssembly
// binary format and of Candid's wire format: one implementation for
// engine/wasm and engine/candid, which once each had their own.
//
// Reading follows the WebAssembly rule (core spec 5.2.2, "Integers"): a
// number of N bits takes at most ceil(N/7) bytes, and the unused bits of
// the last byte are zero (unsigned) or copies of the sign bit (signed).
// For N = 64 this is also what Candid's decoders accept. Unsigned
// encoding is encoding/binary's AppendUvarint; signed encoding is not
// binary's varint (which zig-zags), hence AppendInt.
package leb128

import "errors"

var (
	// ErrTruncated: the input ends inside a number.
	ErrTruncated = errors.New("unexpected end of input")
	// ErrTooLarge: the number takes more bytes or bits than allowed.
	ErrTooLarge = errors.New("integer too large")
)

// Uint reads an unsigned LEB128 number of at most bits bits (1 to 64)
// from the start of b. n is the count of bytes read, including the
// offending one on ErrTooLarge.
func Uint(b []byte, bits uint) (v uint64, n int, err error) {
	var shift uint
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		if i >= len(b) {
			return 0, i, ErrTruncated
		}
		c := b[i]
		if i == maxBytes-1 {
			// The last permitted byte may only carry the remaining bits.
			rem := bits - shift
			if c&0x80 != 0 || (rem < 7 && c>>rem != 0) {
				return 0, i + 1, ErrTooLarge
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
	}
}

// Int reads a signed LEB128 number of at most bits bits (1 to 64) from
// the start of b, like Uint.
func Int(b []byte, bits uint) (v int64, n int, err error) {
	var shift uint
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		if i >= len(b) {
			return 0, i, ErrTruncated
		}
		c := b[i]
		if i == maxBytes-1 {
			// Unused bits of the last byte must be a sign extension.
			rem := bits - shift
			if c&0x80 != 0 {
				return 0, i + 1, ErrTooLarge
			}
			if rem < 7 {
				high := int8(c<<1) >> rem // bits rem-1..6, which must all equal the sign bit
				if high != 0 && high != -1 {
					return 0, i + 1, ErrTooLarge
				}
			}
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1, nil
		}
	}
}

// AppendInt appends the canonical signed LEB128 encoding of v.
func AppendInt(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
