package engine

import (
	"fmt"
	"math"

	"github.com/canscope/canscope/engine/wasm"
)

// Global is the value of one wasm global as a snapshot stores it.
type Global struct {
	// Type is wasm.I32, wasm.I64, wasm.F32, wasm.F64 or wasm.V128.
	Type wasm.ValueType
	// Bits is the value's bit pattern (the low 64 bits of a v128):
	// an i32 or f32 in the low 32 bits, f32/f64 as IEEE 754 bits.
	Bits uint64
	// High holds the upper 64 bits of a v128.
	High uint64
}

// I32 returns an i32 global.
func I32(v int32) Global { return Global{Type: wasm.I32, Bits: uint64(uint32(v))} }

// I64 returns an i64 global.
func I64(v int64) Global { return Global{Type: wasm.I64, Bits: uint64(v)} }

// F32 returns an f32 global.
func F32(v float32) Global { return Global{Type: wasm.F32, Bits: uint64(math.Float32bits(v))} }

// F64 returns an f64 global.
func F64(v float64) Global { return Global{Type: wasm.F64, Bits: math.Float64bits(v)} }

// String renders the value like the dfx metadata does, e.g. "i32:42".
func (g Global) String() string {
	switch g.Type {
	case wasm.I32:
		return fmt.Sprintf("i32:%d", int32(uint32(g.Bits)))
	case wasm.I64:
		return fmt.Sprintf("i64:%d", int64(g.Bits))
	case wasm.F32:
		return fmt.Sprintf("f32:%g", math.Float32frombits(uint32(g.Bits)))
	case wasm.F64:
		return fmt.Sprintf("f64:%g", math.Float64frombits(g.Bits))
	case wasm.V128:
		return fmt.Sprintf("v128:%#016x%016x", g.High, g.Bits)
	}
	return fmt.Sprintf("%s:%#x", g.Type, g.Bits)
}

// Page is one 64 KiB page of heap or stable memory.
type Page struct {
	// Index is the page number: the page holds bytes
	// [Index*65536, (Index+1)*65536).
	Index uint64
	// Data holds the page bytes; shorter data is zero-padded.
	Data []byte
}

// PageSize is the size of the pages of State (the wasm page size).
const PageSize = 65536

// State is a canister's complete state, the contents of a snapshot. The
// engine starts from one (Engine.Restore) and hands one back
// (Canister.State); pages absent from HeapPages or StablePages are zero.
type State struct {
	// Module is the wasm module as installed (possibly gzipped); nil for a
	// canister without code.
	Module []byte
	// HeapSize is the wasm heap size in bytes (a multiple of PageSize).
	HeapSize uint64
	// HeapPages holds the heap pages that are not all zero, in any order.
	HeapPages []Page
	// StableSize is the stable memory size in bytes (a multiple of
	// PageSize).
	StableSize uint64
	// StablePages holds the stable memory pages that are not all zero.
	StablePages []Page
	// Globals follow the replica's snapshot order: the module's exported
	// globals in export order, then every other mutable global in index
	// order, then the replica's instruction counter (an i64). A State
	// from Canister.State always carries the counter entry; Restore
	// accepts lists with or without it.
	Globals []Global
	// CertifiedData is the data set with ic0.certified_data_set.
	CertifiedData []byte
	// GlobalTimer is the timer deadline in ns since the epoch; 0 means
	// inactive.
	GlobalTimer uint64
	// CanisterVersion counts successful installs, upgrades and updates
	// of the canister's code or settings.
	CanisterVersion uint64
	// Cycles is the cycle balance; zero means ic0.DefaultCycles.
	Cycles uint64
}
