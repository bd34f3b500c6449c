package meter

// This file holds every instruction cost the rewrite charges, each with its
// source in github.com/dfinity/ic. System API charges live with the System
// API, in engine/ic0's function table.
//
//   - instructionCosts: rs/embedders/src/wasm_utils/instrumentation.rs,
//     function instruction_to_cost (wasm32 values). Instructions not
//     listed cost defaultCost, as its final `_ => 1` arm says.
//   - dynamic costs: the same file, functions injections and
//     export_additional_symbols: memory.fill, memory.copy, memory.init,
//     table.fill, table.copy and table.init additionally cost their size
//     operand (bytes or elements), charged at run time.
//   - per-function base cost: injections starts every function's first
//     block at cost 1 ("even empty functions should consume at least some
//     fuel").

// defaultCost is instruction_to_cost's fallback.
const defaultCost = 1

// functionEntryCost is added to the first block of every function.
const functionEntryCost = 1

// instructionCosts maps an instruction's mnemonic to its static cost where
// that differs from defaultCost. For 64-bit memories the replica charges 2
// for every load and store (see memory64Cost).
var instructionCosts = map[string]uint64{
	// Block structure costs nothing: it only delimits code.
	"block": 0, "loop": 0, "else": 0, "end": 0,

	// Integer division and remainder.
	"i32.div_s": 10, "i32.div_u": 10, "i32.rem_s": 10, "i32.rem_u": 10,
	"i64.div_s": 10, "i64.div_u": 10, "i64.rem_s": 10, "i64.rem_u": 10,

	// Floating point arithmetic.
	"f32.add": 2, "f32.sub": 2, "f32.mul": 2, "f32.ceil": 2, "f32.floor": 2, "f32.trunc": 2, "f32.nearest": 2,
	"f64.add": 2, "f64.sub": 2, "f64.mul": 2, "f64.ceil": 2, "f64.floor": 2, "f64.trunc": 2, "f64.nearest": 2,
	"f32.div": 3, "f64.div": 5,
	"f32.min": 18, "f32.max": 18, "f64.min": 18, "f64.max": 18,
	"f32.copysign": 2, "f64.copysign": 3,
	"f32.sqrt": 5, "f64.sqrt": 8,
	"f32.eq": 3, "f32.ne": 3, "f32.lt": 3, "f32.gt": 3, "f32.le": 3, "f32.ge": 3,
	"f64.eq": 3, "f64.ne": 3, "f64.lt": 3, "f64.gt": 3, "f64.le": 3, "f64.ge": 3,

	// Conversions.
	"f32.convert_i32_s": 3, "f64.convert_i64_s": 3, "f32.convert_i64_s": 3, "f64.convert_i32_s": 3,
	"f64.convert_i32_u": 16, "f32.convert_i64_u": 16, "f32.convert_i32_u": 16, "f64.convert_i64_u": 16,
	"i64.trunc_sat_f32_s": 20, "i64.trunc_sat_f32_u": 20, "i64.trunc_sat_f64_s": 20, "i64.trunc_sat_f64_u": 20,
	"i32.trunc_sat_f32_s": 20, "i32.trunc_sat_f32_u": 20, "i32.trunc_sat_f64_s": 20, "i32.trunc_sat_f64_u": 20,
	"i32.trunc_f32_s": 20, "i32.trunc_f32_u": 20, "i32.trunc_f64_s": 20, "i32.trunc_f64_u": 20,
	"i64.trunc_f32_s": 20, "i64.trunc_f32_u": 20, "i64.trunc_f64_s": 20, "i64.trunc_f64_u": 20,

	// Globals, tables, memory management.
	"global.get": 2, "global.set": 2,
	"table.get": 5, "table.set": 5,
	"table.grow": 300, "memory.grow": 300,
	"memory.size": 20, "table.size": 100,

	// Bulk memory and table operations (static part; the size is charged
	// at run time on top).
	"memory.fill": 100, "memory.copy": 100, "table.fill": 100, "table.copy": 100,
	"memory.init": 100, "table.init": 100,
	"data.drop": 300, "elem.drop": 300,

	// Calls and branches.
	"call": 5, "call_indirect": 10, "return_call": 3, "return_call_indirect": 60,
	"if": 2, "br": 2, "br_if": 2, "br_table": 2,

	// References.
	"ref.is_null": 5, "ref.func": 130,

	// SIMD.
	"i8x16.shuffle": 3,
	"i8x16.lt_u":    2, "i8x16.gt_u": 2, "i16x8.lt_u": 2, "i16x8.gt_u": 2, "i32x4.lt_u": 2, "i32x4.gt_u": 2,
	"i8x16.popcnt": 3, "i8x16.shl": 3, "i8x16.shr_s": 3, "i8x16.shr_u": 2,
	"i16x8.extadd_pairwise_i8x16_u": 2, "i16x8.extmul_high_i8x16_s": 2, "i16x8.extmul_high_i8x16_u": 2,
	"i32x4.extadd_pairwise_i16x8_u": 3,
	"i16x8.shl":                     2, "i16x8.shr_s": 2, "i16x8.shr_u": 2,
	"i32x4.shl": 2, "i32x4.shr_s": 2, "i32x4.shr_u": 2, "i32x4.mul": 2,
	"i32x4.extmul_low_i16x8_s": 2, "i32x4.extmul_high_i16x8_s": 2,
	"i32x4.extmul_low_i16x8_u": 2, "i32x4.extmul_high_i16x8_u": 2,
	"i64x2.shl": 2, "i64x2.shr_s": 3, "i64x2.shr_u": 2, "i64x2.mul": 4,
	"f32x4.ceil": 2, "f32x4.floor": 2, "f32x4.trunc": 2, "f32x4.nearest": 2,
	"f32x4.abs": 2, "f32x4.neg": 2, "f32x4.sqrt": 5, "f32x4.add": 2, "f32x4.sub": 2, "f32x4.mul": 2,
	"f32x4.div": 10, "f32x4.min": 4, "f32x4.max": 4,
	"f64x2.ceil": 2, "f64x2.floor": 2, "f64x2.trunc": 2, "f64x2.nearest": 2,
	"f64x2.abs": 2, "f64x2.neg": 2, "f64x2.sqrt": 14, "f64x2.add": 2, "f64x2.sub": 2, "f64x2.mul": 2,
	"f64x2.div": 12, "f64x2.min": 4, "f64x2.max": 5,
	"i32x4.trunc_sat_f32x4_s": 2, "i32x4.trunc_sat_f32x4_u": 4, "f32x4.convert_i32x4_u": 4,
	"i32x4.trunc_sat_f64x2_s_zero": 2, "i32x4.trunc_sat_f64x2_u_zero": 3,
}

// memory64Cost is the cost of loads and stores (including SIMD ones) on a
// 64-bit main memory; instruction_to_cost charges 1 for them on wasm32.
const memory64Cost = 2
