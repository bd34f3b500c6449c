package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// errEOF reports input that ends inside a value.
var errEOF = errors.New("unexpected end of input")

// reader decodes the primitive encodings of the binary format. base is the
// absolute offset of b[0] in the module, so errors can name file offsets.
type reader struct {
	b    []byte
	pos  int
	base int
}

func newReader(b []byte, base int) *reader { return &reader{b: b, base: base} }

// offset returns the absolute module offset of the next unread byte.
func (r *reader) offset() int { return r.base + r.pos }

func (r *reader) done() bool { return r.pos >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, errEOF
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s, nil
}

// uleb reads an unsigned LEB128 value of at most bits bits.
func (r *reader) uleb(bits uint) (uint64, error) {
	var v uint64
	var shift uint
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == maxBytes-1 {
			// The last permitted byte may only carry the remaining bits.
			rem := bits - shift
			if c&0x80 != 0 || (rem < 7 && c>>rem != 0) {
				return 0, fmt.Errorf("integer too large at offset %d", r.offset()-1)
			}
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
		shift += 7
	}
}

// sleb reads a signed LEB128 value of at most bits bits.
func (r *reader) sleb(bits uint) (int64, error) {
	var v int64
	var shift uint
	maxBytes := int((bits + 6) / 7)
	for i := 0; ; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == maxBytes-1 {
			// Unused bits of the last byte must be a sign extension.
			rem := bits - shift
			if c&0x80 != 0 {
				return 0, fmt.Errorf("integer too large at offset %d", r.offset()-1)
			}
			if rem < 7 {
				high := int8(c<<1) >> rem // bits rem-1..6, which must all equal the sign bit
				if high != 0 && high != -1 {
					return 0, fmt.Errorf("integer too large at offset %d", r.offset()-1)
				}
			}
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

// count reads a vector length and rejects lengths that cannot fit in the
// remaining input (each element takes at least one byte), so garbage cannot
// make the parser allocate gigabytes.
func (r *reader) count() (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if int(n) > len(r.b)-r.pos {
		return 0, fmt.Errorf("vector length %d exceeds remaining %d bytes", n, len(r.b)-r.pos)
	}
	return int(n), nil
}

func (r *reader) name() (string, error) {
	n, err := r.count()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("name at offset %d is not valid UTF-8", r.offset()-n)
	}
	return string(b), nil
}

// appendSLEB appends the canonical signed LEB128 encoding of v.
// Unsigned LEB128 is encoding/binary's uvarint, so binary.AppendUvarint
// writes it; signed LEB128 is not binary's varint (which zig-zags).
func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
