package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/canscope/canscope/engine/leb128"
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
	v, n, err := leb128.Uint(r.b[r.pos:], bits)
	r.pos += n
	return v, r.lebErr(err)
}

// sleb reads a signed LEB128 value of at most bits bits.
func (r *reader) sleb(bits uint) (int64, error) {
	v, n, err := leb128.Int(r.b[r.pos:], bits)
	r.pos += n
	return v, r.lebErr(err)
}

// lebErr words a leb128 error with the offset of the byte at fault.
func (r *reader) lebErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, leb128.ErrTruncated):
		return errEOF
	}
	return fmt.Errorf("integer too large at offset %d", r.offset()-1)
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

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
