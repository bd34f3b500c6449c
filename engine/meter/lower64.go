package meter

import (
	"errors"
	"fmt"
	"math"

	"github.com/canscope/canscope/engine/wasm"
)

// wazero v1.12.0 has no memory64 (engine/RATIONALE.md, "Running wasm64"),
// so the rewrite lowers a wasm64 module's 64-bit main memory to a 32-bit
// one of the same contents, for heaps up to 4 GiB:
//
//   - every load and store narrows its i64 address: kept when it fits in
//     32 bits, else made 2^32-1 (or, for a 1-byte access at offset 0,
//     trapped on), so that it traps as out of bounds; the 32-bit engine's
//     own bounds check then covers
//     address+offset+size against the heap exactly as the replica's
//     64-bit check does for a heap of at most 4 GiB. A memarg offset of
//     2^32 or more always traps;
//   - memory.size widens its result; memory.grow fails (-1) where the
//     replica's does (its maximum, update_memories in
//     rs/embedders/src/wasm_utils/instrumentation.rs caps a memory64
//     maximum at the wasm64 heap limit) and stops the run with
//     HeapLimitError where the replica would grow past 4 GiB;
//   - memory.fill/copy/init check their i64 operands as the replica's
//     bounds check would and wrap them;
//   - data segment offsets become i32.const;
//   - the System API imports move to module Wasm64SystemAPI, where the
//     host serves ic0 with the wasm64 signatures (I = i64).
//
// The out-of-bounds trap is the engine's own: an i32.load8_u at
// 0xffffffff+0xffffffff, which every memory of at most 4 GiB refuses with
// the same trap a wasm32 canister gets ("heap out of bounds" on the
// replica, TrapCode::HeapOutOfBounds, for wasm64 too).
//
// The lowering runs after the metering injection: the replica charges
// the wasm64 module's own instructions at its wasm64 costs (Cost with
// mem64), and the lowering's instructions are charged nothing.

// Names of the lowering's host interface.
const (
	// Wasm64SystemAPI is the import module a lowered module's System API
	// imports move to; its functions take and return the wasm64
	// signatures.
	Wasm64SystemAPI = "ic0 wasm64"
	// HeapLimit is the imported function (param i64: the heap size in
	// bytes the instruction needs) a lowered module calls where the IC
	// would give it a heap above 4 GiB; the host stops the run with
	// HeapLimitError.
	HeapLimit = "wasm64_heap_limit"
)

// Heap sizes of the lowering, in 64 KiB wasm pages.
const (
	// LoweredMaxPages is the largest heap a lowered module runs: 4 GiB.
	LoweredMaxPages = 65536
	// Wasm64MaxPages is the replica's wasm64 heap limit,
	// MAX_WASM64_MEMORY_IN_BYTES = 18 GiB (the same value as
	// snapshots.MaxWasm64HeapBytes, which cites its source), in pages: the
	// maximum update_memories gives a memory64 without a smaller one.
	Wasm64MaxPages = 18 << 30 / 65536
)

// Wasm64DirtyPageOverheadMultiplier is how many times the dirty page
// overhead a wasm64 canister pays per dirty heap page
// (WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER, rs/config/src/embedders.rs,
// applied in rs/embedders/src/wasmtime_embedder.rs).
const Wasm64DirtyPageOverheadMultiplier = 4

// HeapLimitError stops a lowered module that needs a heap above 4 GiB,
// which the IC would give it (up to its 18 GiB wasm64 limit).
type HeapLimitError struct {
	// Bytes is the heap size the instruction needed.
	Bytes uint64
}

// Error says what was needed and what canscope can run.
func (e *HeapLimitError) Error() string {
	return fmt.Sprintf("the wasm64 module needs a heap of %d bytes (%.2f GiB), which the IC allows (wasm64 heaps up to 18 GiB): canscope runs wasm64 heaps up to 4 GiB, so this execution cannot be reproduced offline", e.Bytes, float64(e.Bytes)/(1<<30))
}

// ErrWasm64Heap is wrapped by Instrument's errors for a wasm64 module
// canscope cannot lower: an initial heap or a data segment beyond 4 GiB.
var ErrWasm64Heap = errors.New("canscope runs wasm64 heaps up to 4 GiB")

// lowerMemory makes memory 0 a 32-bit memory and returns the replica's
// maximum in pages.
func lowerMemory(m *wasm.Module) (uint64, error) {
	if len(m.Memories) == 0 {
		return 0, errors.New("lower wasm64: the 64-bit memory is imported") // validation refuses memory imports first
	}
	mems := append([]wasm.Limits(nil), m.Memories...)
	l := &mems[0]
	if l.Min > LoweredMaxPages {
		return 0, fmt.Errorf("wasm64 module declares an initial heap of %d pages (%.2f GiB): %w", l.Min, float64(l.Min)/(1<<14), ErrWasm64Heap)
	}
	replicaMax := uint64(Wasm64MaxPages)
	if l.HasMax {
		replicaMax = min(replicaMax, l.Max)
	}
	l.Is64 = false
	if l.HasMax && l.Max > LoweredMaxPages {
		// The grow path stops the run past 4 GiB (HeapLimit); a lower
		// declared maximum fails the grow like the replica.
		l.HasMax = false
	}
	m.SetMemories(mems)
	return replicaMax, nil
}

// lowerData turns the i64.const offsets of active segments into i32.const.
func lowerData(m *wasm.Module) error {
	if len(m.Data) == 0 {
		return nil
	}
	data := append([]wasm.Data(nil), m.Data...)
	for i := range data {
		d := &data[i]
		if d.Mode != wasm.ModeActive {
			continue
		}
		off, err := constOffset(d.Offset)
		if err != nil {
			return fmt.Errorf("wasm64 data segment %d: %w", i, err)
		}
		d.Offset = off
	}
	return m.SetData(data)
}

// lowerTables makes the 64-bit tables (table64, which moc emits beside
// memory64) 32-bit ones and returns which were 64-bit. Their element
// offsets become i32.const.
func lowerTables(m *wasm.Module) ([]bool, error) {
	is64 := make([]bool, m.NumImported(wasm.KindTable)+len(m.Tables))
	any64 := false
	tables := append([]wasm.TableType(nil), m.Tables...)
	for i := range tables {
		if tables[i].Limits.Is64 {
			is64[m.NumImported(wasm.KindTable)+i], any64 = true, true
			tables[i].Limits.Is64 = false
			if tables[i].Limits.Min > math.MaxUint32 || (tables[i].Limits.HasMax && tables[i].Limits.Max > math.MaxUint32) {
				return nil, fmt.Errorf("lower wasm64: table %d has more than 2^32 entries", i)
			}
		}
	}
	if !any64 {
		return is64, nil
	}
	m.SetTables(tables)
	elems := append([]wasm.Element(nil), m.Elements...)
	for i := range elems {
		e := &elems[i]
		if e.Mode() != wasm.ModeActive || int(e.Table) >= len(is64) || !is64[e.Table] {
			continue
		}
		off, err := constOffset(e.Offset)
		if err != nil {
			return nil, fmt.Errorf("lower wasm64: element segment %d: %w", i, err)
		}
		e.Offset = off
	}
	return is64, m.SetElements(elems)
}

// constOffset turns a segment offset `i64.const v` into `i32.const v`.
func constOffset(expr []byte) ([]byte, error) {
	ins, err := wasm.DecodeExpr(expr)
	if err != nil || len(ins) != 2 || ins[0].Op != wasm.OpI64Const {
		// The replica too takes only constant offsets (get_data:
		// "complex initialization expressions for data segments are
		// not supported!").
		return nil, errors.New("the offset is not an i64.const")
	}
	off := uint64(ins[0].Value)
	if off > math.MaxUint32 {
		return nil, fmt.Errorf("offset %d: %w", off, ErrWasm64Heap)
	}
	return wasm.AppendInstrs(nil, []wasm.Instr{{Op: wasm.OpI32Const, Value: int64(int32(uint32(off)))}, {Op: wasm.OpEnd}}), nil
}

// lowerImports moves the System API imports to Wasm64SystemAPI.
func lowerImports(imports []wasm.Import) {
	for i := range imports {
		if imports[i].Module == "ic0" {
			imports[i].Module = Wasm64SystemAPI
		}
	}
}

// lowering rewrites one function body's memory instructions.
type lowering struct {
	limitFunc  uint32 // index of the HeapLimit import
	table64    []bool // which tables were 64-bit
	replicaMax uint64 // the replica's maximum heap in pages
	out        []wasm.Instr
	// scratch locals, allocated on first use
	locals []wasm.LocalDecl
	next   uint32
	byType map[wasm.ValueType][]uint32
}

// local returns the k-th scratch local of type t.
func (l *lowering) local(t wasm.ValueType, k int) uint32 {
	have := l.byType[t]
	for len(have) <= k {
		have = append(have, l.next)
		l.next++
		l.locals = append(l.locals, wasm.LocalDecl{Count: 1, Type: t})
	}
	l.byType[t] = have
	return have[k]
}

func (l *lowering) emit(ins ...wasm.Instr) { l.out = append(l.out, ins...) }

func op(o wasm.Opcode) wasm.Instr                        { return wasm.Instr{Op: o} }
func idx(o wasm.Opcode, i uint32) wasm.Instr             { return wasm.Instr{Op: o, Index: i} }
func i64c(v int64) wasm.Instr                            { return wasm.Instr{Op: wasm.OpI64Const, Value: v} }
func blockOf(o wasm.Opcode, b wasm.BlockType) wasm.Instr { return wasm.Instr{Op: o, Block: b} }

// oob traps as an out-of-bounds heap access does.
func (l *lowering) oob() {
	l.emit(wasm.Instr{Op: wasm.OpI32Const, Value: -1},
		wasm.Instr{Op: wasm.OpI32Load8U, Mem: wasm.MemArg{Offset: math.MaxUint32}},
		op(wasm.OpDrop), op(wasm.OpUnreachable))
}

// narrowAddr pushes local a (an i64 address) as the i32 address of the
// access in: a itself when it fits in 32 bits, else 2^32-1, where every
// access of at least 2 bytes, or at an offset, is past the end of any heap
// of at most 4 GiB and traps there, as out of bounds. Branch-free, it
// costs less than checkAddr's branch (the heap loop of
// BenchmarkComputeWasm64); a 1-byte access at offset 0 could still read
// byte 2^32-1 of a full 4 GiB heap, so those take checkAddr.
func (l *lowering) narrowAddr(a uint32, in wasm.Instr) {
	if in.Mem.Offset == 0 && singleByte(in.Op) {
		l.checkAddr(a)
		l.emit(idx(wasm.OpLocalGet, a), op(wasm.OpI32WrapI64))
		return
	}
	l.emit(idx(wasm.OpLocalGet, a), op(wasm.OpI32WrapI64), wasm.Instr{Op: wasm.OpI32Const, Value: -1},
		idx(wasm.OpLocalGet, a), i64c(math.MaxUint32), op(wasm.OpI64LeU), op(wasm.OpSelect))
}

// singleByte reports the memory accesses of one byte.
func singleByte(o wasm.Opcode) bool {
	switch o {
	case 0x2c, 0x2d, 0x30, 0x31, wasm.OpI32Store8, wasm.OpI64Store8: // load8_s/u, store8
		return true
	case 0xfd<<16 | 7, 0xfd<<16 | 84, 0xfd<<16 | 88: // v128.load8_splat, load8_lane, store8_lane
		return true
	}
	return false
}

// checkAddr traps when local a (i64) does not fit in 32 bits.
func (l *lowering) checkAddr(a uint32) {
	l.emit(idx(wasm.OpLocalGet, a), i64c(math.MaxUint32), op(wasm.OpI64GtU),
		blockOf(wasm.OpIf, wasm.BlockEmpty))
	l.oob()
	l.emit(op(wasm.OpEnd))
}

// checkRange checks the i64 range [local a, local a + local n) as the
// replica's bulk memory bounds check does: outside the heap it traps; a
// range inside the heap that 32 bits cannot express (only at a heap of
// exactly 4 GiB) stops the run with HeapLimitError, never silently wraps.
func (l *lowering) checkRange(a, n uint32) {
	size := l.local(wasm.I64, 3)
	l.emit(idx(wasm.OpLocalGet, a), idx(wasm.OpLocalGet, n), op(wasm.OpI64Or),
		i64c(math.MaxUint32), op(wasm.OpI64GtU),
		blockOf(wasm.OpIf, wasm.BlockEmpty),
		idx(wasm.OpMemorySize, 0), op(wasm.OpI64ExtendI32U), i64c(16), op(wasm.OpI64Shl), idx(wasm.OpLocalSet, size),
		idx(wasm.OpLocalGet, a), idx(wasm.OpLocalGet, size), op(wasm.OpI64GtU),
		idx(wasm.OpLocalGet, n), idx(wasm.OpLocalGet, size), idx(wasm.OpLocalGet, a), op(wasm.OpI64Sub), op(wasm.OpI64GtU),
		op(wasm.OpI32Or),
		blockOf(wasm.OpIf, wasm.BlockEmpty))
	l.oob()
	l.emit(op(wasm.OpEnd),
		idx(wasm.OpLocalGet, a), idx(wasm.OpLocalGet, n), op(wasm.OpI64Add), idx(wasm.OpCall, l.limitFunc),
		op(wasm.OpEnd))
}

// storeValue returns the type of the value a store-like memory
// instruction takes above its address, and whether op is one.
func storeValue(o wasm.Opcode) (wasm.ValueType, bool) {
	switch o {
	case wasm.OpI32Store, wasm.OpI32Store8, wasm.OpI32Store16:
		return wasm.I32, true
	case wasm.OpI64Store, wasm.OpI64Store8, wasm.OpI64Store16, wasm.OpI64Store32:
		return wasm.I64, true
	case wasm.OpF32Store:
		return wasm.F32, true
	case wasm.OpF64Store:
		return wasm.F64, true
	}
	if o>>16 == 0xfd {
		// v128.store (11), load_lane (84..87) and store_lane (88..91)
		// take a v128 above the address.
		if sub := o & 0xffff; sub == 11 || (sub >= 84 && sub <= 91) {
			return wasm.V128, true
		}
	}
	return 0, false
}

// lowerInstrs rewrites a body's instructions.
func (l *lowering) lowerInstrs(ins []wasm.Instr) error {
	for _, in := range ins {
		switch {
		case isMemoryAccess(in.Op):
			if in.Mem.Memory != 0 {
				return fmt.Errorf("lower wasm64: %v on memory %d (the IC allows one memory)", in.Op, in.Mem.Memory)
			}
			t, store := storeValue(in.Op)
			if in.Mem.Offset > math.MaxUint32 {
				// addr+offset >= 2^32 is beyond every heap canscope runs
				// (and its access beyond every heap of at most 4 GiB).
				l.emit(op(wasm.OpDrop))
				if store {
					l.emit(op(wasm.OpDrop))
				}
				l.oob()
				continue
			}
			a := l.local(wasm.I64, 0)
			if store {
				v := l.local(t, 0)
				if t == wasm.I64 {
					v = l.local(t, 1) // the address holds I64 0
				}
				l.emit(idx(wasm.OpLocalSet, v), idx(wasm.OpLocalSet, a))
				l.narrowAddr(a, in)
				l.emit(idx(wasm.OpLocalGet, v), in)
				continue
			}
			l.emit(idx(wasm.OpLocalSet, a))
			l.narrowAddr(a, in)
			l.emit(in)
		case in.Op == wasm.OpMemorySize:
			l.emit(in, op(wasm.OpI64ExtendI32U))
		case in.Op == wasm.OpMemoryGrow:
			l.grow(in)
		case in.Op == wasm.OpMemoryFill:
			// d: i64, val: i32, n: i64
			d, n, v := l.local(wasm.I64, 0), l.local(wasm.I64, 2), l.local(wasm.I32, 0)
			l.emit(idx(wasm.OpLocalSet, n), idx(wasm.OpLocalSet, v), idx(wasm.OpLocalSet, d))
			l.checkRange(d, n)
			l.emit(idx(wasm.OpLocalGet, d), op(wasm.OpI32WrapI64), idx(wasm.OpLocalGet, v),
				idx(wasm.OpLocalGet, n), op(wasm.OpI32WrapI64), in)
		case in.Op == wasm.OpMemoryCopy:
			// d: i64, s: i64, n: i64
			d, s, n := l.local(wasm.I64, 0), l.local(wasm.I64, 1), l.local(wasm.I64, 2)
			l.emit(idx(wasm.OpLocalSet, n), idx(wasm.OpLocalSet, s), idx(wasm.OpLocalSet, d))
			l.checkRange(d, n)
			l.checkRange(s, n)
			l.emit(idx(wasm.OpLocalGet, d), op(wasm.OpI32WrapI64), idx(wasm.OpLocalGet, s), op(wasm.OpI32WrapI64),
				idx(wasm.OpLocalGet, n), op(wasm.OpI32WrapI64), in)
		case in.Op == wasm.OpMemoryInit:
			// d: i64, s: i32, n: i32 (the segment side stays 32-bit)
			d, n64 := l.local(wasm.I64, 0), l.local(wasm.I64, 2)
			s, n := l.local(wasm.I32, 0), l.local(wasm.I32, 1)
			l.emit(idx(wasm.OpLocalTee, n), op(wasm.OpI64ExtendI32U), idx(wasm.OpLocalSet, n64),
				idx(wasm.OpLocalSet, s), idx(wasm.OpLocalSet, d))
			l.checkRange(d, n64)
			l.emit(idx(wasm.OpLocalGet, d), op(wasm.OpI32WrapI64), idx(wasm.OpLocalGet, s), idx(wasm.OpLocalGet, n), in)
		case (in.Op == wasm.OpCallIndirect || in.Op == wasm.OpReturnCallIndirect) && l.is64Table(in.Index2):
			// The i64 table index on top: wrapped, or 2^32-1 (beyond
			// every table) when it does not fit, so the call traps as the
			// replica's does for an index past the table.
			l.tableIndex()
			l.emit(in)
		case in.Op == wasm.OpTableSize && l.is64Table(in.Index):
			l.emit(in, op(wasm.OpI64ExtendI32U))
		case (in.Op == wasm.OpTableGet) && l.is64Table(in.Index):
			l.tableIndex()
			l.emit(in)
		case isTableOp(in.Op) && l.is64Table(in.Index):
			return fmt.Errorf("lower wasm64: %v on a 64-bit table is not supported (moc does not emit it)", in.Op)
		case in.Op>>16 == 0xfe:
			return fmt.Errorf("lower wasm64: atomic instruction %v (the IC does not enable threads)", in.Op)
		default:
			l.emit(in)
		}
	}
	return nil
}

func (l *lowering) is64Table(t uint32) bool { return int(t) < len(l.table64) && l.table64[t] }

// tableIndex narrows the i64 table index on top of the stack.
func (l *lowering) tableIndex() {
	t := l.local(wasm.I64, 0)
	l.emit(idx(wasm.OpLocalSet, t),
		wasm.Instr{Op: wasm.OpI32Const, Value: -1},
		idx(wasm.OpLocalGet, t), op(wasm.OpI32WrapI64),
		idx(wasm.OpLocalGet, t), i64c(math.MaxUint32), op(wasm.OpI64GtU),
		op(wasm.OpSelect))
}

// isTableOp reports the table instructions with a table index operand
// other than call_indirect, table.size and table.get.
func isTableOp(o wasm.Opcode) bool {
	switch o {
	case wasm.OpTableSet, wasm.OpTableGrow, wasm.OpTableFill, wasm.OpTableCopy, wasm.OpTableInit:
		return true
	}
	return false
}

// grow lowers memory.grow (delta: i64, result: i64).
func (l *lowering) grow(in wasm.Instr) {
	d, cur := l.local(wasm.I64, 0), l.local(wasm.I64, 1)
	l.emit(idx(wasm.OpLocalSet, d),
		idx(wasm.OpMemorySize, 0), op(wasm.OpI64ExtendI32U), idx(wasm.OpLocalSet, cur),
		blockOf(wasm.OpBlock, wasm.ValueBlock(wasm.I64)),
		// Beyond the replica's maximum: -1, as there.
		i64c(int64(l.replicaMax)), idx(wasm.OpLocalGet, cur), op(wasm.OpI64Sub), idx(wasm.OpLocalGet, d), op(wasm.OpI64LtU),
		blockOf(wasm.OpIf, wasm.BlockEmpty), i64c(-1), idx(wasm.OpBr, 1), op(wasm.OpEnd))
	if l.replicaMax > LoweredMaxPages {
		// Beyond 4 GiB where the replica would grow: stop the run.
		l.emit(i64c(LoweredMaxPages), idx(wasm.OpLocalGet, cur), op(wasm.OpI64Sub), idx(wasm.OpLocalGet, d), op(wasm.OpI64LtU),
			blockOf(wasm.OpIf, wasm.BlockEmpty),
			idx(wasm.OpLocalGet, cur), idx(wasm.OpLocalGet, d), op(wasm.OpI64Add), i64c(16), op(wasm.OpI64Shl),
			idx(wasm.OpCall, l.limitFunc), op(wasm.OpEnd))
	}
	l.emit(idx(wasm.OpLocalGet, d), op(wasm.OpI32WrapI64), in, op(wasm.OpI64ExtendI32S), op(wasm.OpEnd))
}

// lowerBody lowers one function body of a function with nParams
// parameters, adding the scratch locals it needs.
func lowerBody(body *wasm.Body, nParams int, limitFunc uint32, replicaMax uint64, table64 []bool) error {
	next := uint32(nParams)
	for _, d := range body.Locals {
		next += d.Count
	}
	l := &lowering{limitFunc: limitFunc, replicaMax: replicaMax, table64: table64, next: next,
		byType: map[wasm.ValueType][]uint32{}, out: make([]wasm.Instr, 0, len(body.Instrs)+len(body.Instrs)/4)}
	if err := l.lowerInstrs(body.Instrs); err != nil {
		return err
	}
	body.Instrs = l.out
	if len(l.locals) > 0 {
		body.Locals = append(append([]wasm.LocalDecl(nil), body.Locals...), l.locals...)
	}
	return nil
}
