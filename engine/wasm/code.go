package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/canscope/canscope/engine/leb128"
)

// BlockType is a block's signature as encoded: BlockEmpty, a value type
// (the negative s33 of its byte), or a non-negative type index.
type BlockType int64

// BlockEmpty is the signature of a block with no params and no results.
const BlockEmpty BlockType = -0x40

// ValueBlock returns the block type of a block yielding one value of type t.
func ValueBlock(t ValueType) BlockType { return BlockType(int64(t) - 0x80) }

// MemArg is a load or store's alignment (log2), memory index and offset.
type MemArg struct {
	Align  uint32
	Memory uint32
	Offset uint64
}

// Instr is one decoded instruction. Which immediate fields are meaningful
// depends on Op. Raw holds the instruction's exact bytes when decoded;
// Encode writes Raw verbatim while it is set, so clear it after changing an
// immediate (instructions built by hand leave it nil).
type Instr struct {
	Op Opcode
	// Index is the first index immediate: label depth (br, br_if, default
	// of br_table), function, local, global, table, type (call_indirect),
	// data or element segment, memory (memory.size/grow/fill) or lane.
	Index uint32
	// Index2 is the second index: the table of call_indirect, the memory
	// of memory.init, the destination/source pair's source of memory.copy
	// and table.copy, the table of table.init.
	Index2 uint32
	Block  BlockType
	Labels []uint32    // br_table targets, without the default
	Types  []ValueType // typed select
	Mem    MemArg
	// Value is an i32/i64 constant (sign-extended) or the bits of an
	// f32/f64 constant.
	Value int64
	// Bytes is the 16-byte immediate of v128.const and i8x16.shuffle, or
	// the heap type byte of ref.null.
	Bytes []byte
	Raw   []byte
}

// LocalDecl declares Count locals of one type.
type LocalDecl struct {
	Count uint32
	Type  ValueType
}

// Body is a decoded function body.
type Body struct {
	Locals []LocalDecl
	// Instrs ends with the function's final end.
	Instrs []Instr

	localsRaw  []byte
	origLocals []LocalDecl
}

// maxLocals is wasmtime's and wazero's limit on locals per function; it
// keeps garbage from declaring billions of locals.
const maxLocals = 50000

// DecodeBody decodes a function body (locals and instructions, as stored in
// Code.Body). Errors give the offset within the body.
func DecodeBody(b []byte) (*Body, error) {
	r := newReader(b, 0)
	n, err := r.count()
	if err != nil {
		return nil, fmt.Errorf("decode body: locals: %w", err)
	}
	body := &Body{Locals: make([]LocalDecl, 0, n)}
	total := uint64(0)
	for i := 0; i < n; i++ {
		c, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("decode body: locals entry %d: %w", i, err)
		}
		t, err := readValueType(r)
		if err != nil {
			return nil, fmt.Errorf("decode body: locals entry %d: %w", i, err)
		}
		if total += uint64(c); total > maxLocals {
			return nil, fmt.Errorf("decode body: more than %d locals", maxLocals)
		}
		body.Locals = append(body.Locals, LocalDecl{c, t})
	}
	body.localsRaw = b[:r.pos]
	body.origLocals = slices.Clone(body.Locals)
	body.Instrs, err = decodeInstrs(r, len(b)/2)
	if err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if !r.done() {
		return nil, fmt.Errorf("decode body: offset %d: %d bytes after the function's final end", r.pos, len(b)-r.pos)
	}
	return body, nil
}

// DecodeExpr decodes a constant expression (a global initializer, segment
// offset or element expression) up to and including its end.
func DecodeExpr(b []byte) ([]Instr, error) {
	r := newReader(b, 0)
	ins, err := decodeInstrs(r, 4)
	if err != nil {
		return nil, fmt.Errorf("decode expression: %w", err)
	}
	if !r.done() {
		return nil, fmt.Errorf("decode expression: %d bytes after end", len(b)-r.pos)
	}
	return ins, nil
}

// decodeInstrs reads instructions until the end that closes the implicit
// outermost block.
func decodeInstrs(r *reader, sizeHint int) ([]Instr, error) {
	out := make([]Instr, 0, sizeHint)
	depth := 0
	for {
		start := r.pos
		in, err := decodeInstr(r)
		if err != nil {
			return nil, fmt.Errorf("offset %d: %w", r.base+start, err)
		}
		in.Raw = r.b[start:r.pos]
		out = append(out, in)
		switch in.Op {
		case OpBlock, OpLoop, OpIf:
			depth++
		case OpElse:
			if depth == 0 {
				return nil, fmt.Errorf("offset %d: else outside if", r.base+start)
			}
		case OpEnd:
			if depth == 0 {
				return out, nil
			}
			depth--
		}
	}
}

func decodeInstr(r *reader) (Instr, error) {
	b, err := r.byte()
	if err != nil {
		return Instr{}, errors.New("missing end of function")
	}
	op := Opcode(b)
	if b == prefixMisc || b == prefixSIMD {
		sub, err := r.u32()
		if err != nil {
			return Instr{}, fmt.Errorf("prefixed opcode 0x%02x: %w", b, err)
		}
		if sub > 0xffff {
			return Instr{}, fmt.Errorf("unknown opcode 0x%02x %d", b, sub)
		}
		op = Opcode(b)<<16 | Opcode(sub)
	}
	info := op.info()
	in := Instr{Op: op}
	switch info.imm {
	case immInvalid:
		if b == prefixSIMD {
			return in, fmt.Errorf("unknown or unsupported SIMD opcode %d (relaxed SIMD is not supported)", op&0xffff)
		}
		return in, fmt.Errorf("unknown opcode %v%s", op, unsupported(b))
	case immNone:
	case immBlock:
		v, err := r.sleb(33)
		if err != nil {
			return in, err
		}
		if v < 0 && v != int64(BlockEmpty) && !validValueType(ValueType(v&0x7f)) {
			return in, fmt.Errorf("%s: invalid block type 0x%02x", info.name, byte(v&0x7f))
		}
		in.Block = BlockType(v)
	case immIndex:
		in.Index, err = r.u32()
	case immIndex2:
		if in.Index, err = r.u32(); err == nil {
			in.Index2, err = r.u32()
		}
	case immBrTable:
		var n int
		if n, err = r.count(); err != nil {
			break
		}
		in.Labels = make([]uint32, n)
		for i := range in.Labels {
			if in.Labels[i], err = r.u32(); err != nil {
				break
			}
		}
		if err == nil {
			in.Index, err = r.u32()
		}
	case immSelectT:
		in.Types, err = decodeVec(r, readValueType)
	case immMem:
		in.Mem, err = readMemArg(r)
	case immMemLane:
		if in.Mem, err = readMemArg(r); err == nil {
			var lane byte
			lane, err = r.byte()
			in.Index = uint32(lane)
		}
	case immMemIndex:
		in.Index, err = r.u32()
	case immI32:
		in.Value, err = r.sleb(32)
	case immI64:
		in.Value, err = r.sleb(64)
	case immF32:
		var bs []byte
		if bs, err = r.bytes(4); err == nil {
			in.Value = int64(uint32(bs[0]) | uint32(bs[1])<<8 | uint32(bs[2])<<16 | uint32(bs[3])<<24)
		}
	case immF64:
		var bs []byte
		if bs, err = r.bytes(8); err == nil {
			var v uint64
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(bs[i])
			}
			in.Value = int64(v)
		}
	case immV128:
		in.Bytes, err = r.bytes(16)
	case immLane:
		var lane byte
		lane, err = r.byte()
		in.Index = uint32(lane)
	case immHeapType:
		var t byte
		if t, err = r.byte(); err == nil && !validRefType(ValueType(t)) {
			err = fmt.Errorf("ref.null of non-reference type 0x%02x", t)
		}
		in.Bytes = []byte{t}
	}
	if err != nil {
		return in, fmt.Errorf("%s: %w", info.name, err)
	}
	return in, nil
}

func readMemArg(r *reader) (MemArg, error) {
	var m MemArg
	align, err := r.u32()
	if err != nil {
		return m, err
	}
	if align&0x40 != 0 { // multi-memory: an explicit memory index follows
		if m.Memory, err = r.u32(); err != nil {
			return m, err
		}
		align &^= 0x40
	}
	if align >= 0x40 {
		return m, fmt.Errorf("alignment exponent %d too large", align)
	}
	m.Align = align
	m.Offset, err = r.uleb(64)
	return m, err
}

// Encode returns the body's bytes: locals then instructions. A body that
// was decoded and not changed encodes to exactly its input.
func (b *Body) Encode() []byte {
	n := 16
	for i := range b.Instrs {
		n += 4 + len(b.Instrs[i].Raw)
	}
	var out []byte
	if b.localsRaw != nil && slices.Equal(b.Locals, b.origLocals) {
		out = append(make([]byte, 0, n+len(b.localsRaw)), b.localsRaw...)
	} else {
		out = binary.AppendUvarint(make([]byte, 0, n), uint64(len(b.Locals)))
		for _, l := range b.Locals {
			out = binary.AppendUvarint(out, uint64(l.Count))
			out = append(out, byte(l.Type))
		}
	}
	return AppendInstrs(out, b.Instrs)
}

// AppendInstrs appends the encoding of instrs to dst.
func AppendInstrs(dst []byte, instrs []Instr) []byte {
	for i := range instrs {
		dst = instrs[i].Append(dst)
	}
	return dst
}

// Append appends the instruction's encoding: Raw if set, otherwise the
// canonical encoding of Op and its immediates.
func (in *Instr) Append(dst []byte) []byte {
	if in.Raw != nil {
		return append(dst, in.Raw...)
	}
	info := in.Op.info()
	if p := in.Op >> 16; p != 0 {
		dst = append(dst, byte(p))
		dst = binary.AppendUvarint(dst, uint64(in.Op&0xffff))
	} else {
		dst = append(dst, byte(in.Op))
	}
	switch info.imm {
	case immBlock:
		dst = leb128.AppendInt(dst, int64(in.Block))
	case immIndex, immMemIndex:
		dst = binary.AppendUvarint(dst, uint64(in.Index))
	case immIndex2:
		dst = binary.AppendUvarint(dst, uint64(in.Index))
		dst = binary.AppendUvarint(dst, uint64(in.Index2))
	case immBrTable:
		dst = binary.AppendUvarint(dst, uint64(len(in.Labels)))
		for _, l := range in.Labels {
			dst = binary.AppendUvarint(dst, uint64(l))
		}
		dst = binary.AppendUvarint(dst, uint64(in.Index))
	case immSelectT:
		dst = appendValueTypes(dst, in.Types)
	case immMem, immMemLane:
		if in.Mem.Memory != 0 {
			dst = binary.AppendUvarint(dst, uint64(in.Mem.Align|0x40))
			dst = binary.AppendUvarint(dst, uint64(in.Mem.Memory))
		} else {
			dst = binary.AppendUvarint(dst, uint64(in.Mem.Align))
		}
		dst = binary.AppendUvarint(dst, in.Mem.Offset)
		if info.imm == immMemLane {
			dst = append(dst, byte(in.Index))
		}
	case immI32:
		dst = leb128.AppendInt(dst, int64(int32(in.Value)))
	case immI64:
		dst = leb128.AppendInt(dst, in.Value)
	case immF32:
		v := uint32(in.Value)
		dst = append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	case immF64:
		v := uint64(in.Value)
		for i := 0; i < 8; i++ {
			dst = append(dst, byte(v>>(8*i)))
		}
	case immV128:
		var v [16]byte
		copy(v[:], in.Bytes)
		dst = append(dst, v[:]...)
	case immLane:
		dst = append(dst, byte(in.Index))
	case immHeapType:
		t := byte(FuncRef)
		if len(in.Bytes) > 0 {
			t = in.Bytes[0]
		}
		dst = append(dst, t)
	}
	return dst
}
