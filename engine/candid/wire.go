package candid

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"

	"github.com/canscope/canscope/engine/leb128"
)

// Byte-level encodings of the wire format: LEB128 and SLEB128 numbers
// of any size (64-bit ones through engine/leb128, shared with the wasm
// parser), little-endian fixed-width numbers.

// lebValue converts complete LEB128 bytes to a number, taking the small
// path when the value fits a machine word.
func lebValue(b []byte, signed bool) *big.Int {
	if len(b) <= 9 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<7 | uint64(b[i]&0x7f)
		}
		bits := 7 * uint(len(b))
		if signed && b[len(b)-1]&0x40 != 0 {
			return big.NewInt(int64(u<<(64-bits)) >> (64 - bits))
		}
		return new(big.Int).SetUint64(u)
	}
	v := new(big.Int)
	digit := new(big.Int)
	for i := len(b) - 1; i >= 0; i-- {
		v.Lsh(v, 7)
		v.Or(v, digit.SetUint64(uint64(b[i]&0x7f)))
	}
	if signed && b[len(b)-1]&0x40 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), 7*uint(len(b))))
	}
	return v
}

func (d *decoder) byte() (byte, error) {
	if d.pos >= len(d.b) {
		return 0, d.errf("unexpected end of message")
	}
	c := d.b[d.pos]
	d.pos++
	return c, nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.pos {
		return nil, d.errf("need %d bytes, %d left", n, len(d.b)-d.pos)
	}
	b := d.b[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) uleb64() (uint64, error) {
	v, n, err := leb128.Uint(d.b[d.pos:], 64)
	d.pos += n
	return v, d.lebErr(err, "LEB128")
}

// lebErr words a leb128 error at the decoder's position.
func (d *decoder) lebErr(err error, kind string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, leb128.ErrTruncated):
		return d.errf("unexpected end of message")
	}
	return d.errf("%s number overflows 64 bits", kind)
}

func (d *decoder) uleb32() (uint32, error) {
	v, err := d.uleb64()
	if err == nil && v > math.MaxUint32 {
		err = d.errf("field id %d overflows 32 bits", v)
	}
	return uint32(v), err
}

// count reads a length that must be satisfiable by the remaining input
// (each counted item takes at least one byte).
func (d *decoder) count(what string) (int, error) {
	n, err := d.uleb64()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)-d.pos) {
		return 0, d.errf("%s %d exceeds the %d bytes left", what, n, len(d.b)-d.pos)
	}
	return int(n), nil
}

func (d *decoder) sleb64() (int64, error) {
	v, n, err := leb128.Int(d.b[d.pos:], 64)
	d.pos += n
	return v, d.lebErr(err, "SLEB128")
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

// fixedSize returns the byte width of a fixed-size number kind.
func fixedSize(k Kind) int {
	switch k {
	case Nat8, Int8:
		return 1
	case Nat16, Int16:
		return 2
	case Nat32, Int32, Float32:
		return 4
	}
	return 8
}

func appendLE(out []byte, u uint64, n int) []byte {
	for i := 0; i < n; i++ {
		out = append(out, byte(u>>(8*i)))
	}
	return out
}

// appendBigLEB appends the LEB128 encoding of n (SLEB128 when signed),
// through engine/leb128's machine-word path when n fits 64 bits.
func appendBigLEB(out []byte, n *big.Int, signed bool) []byte {
	switch {
	case !signed && n.IsUint64():
		return binary.AppendUvarint(out, n.Uint64())
	case signed && n.IsInt64():
		return leb128.AppendInt(out, n.Int64())
	}
	// Rsh on a negative big.Int rounds toward minus infinity, an
	// arithmetic shift, which is what SLEB128 needs.
	x := new(big.Int).Set(n)
	mask := big.NewInt(0x7f)
	digit := new(big.Int)
	for {
		c := byte(digit.And(x, mask).Uint64())
		x.Rsh(x, 7)
		last := x.Sign() == 0 && (!signed || c&0x40 == 0)
		if signed && x.IsInt64() && x.Int64() == -1 && c&0x40 != 0 {
			last = true
		}
		if last {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}
