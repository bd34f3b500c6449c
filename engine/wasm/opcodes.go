package wasm

import "fmt"

// Opcode identifies an instruction. Single-byte opcodes are their byte;
// prefixed opcodes are prefix<<16 | sub-opcode (0xFC misc, 0xFD SIMD).
type Opcode uint32

// Prefix bytes of multi-byte opcodes.
const (
	prefixMisc = 0xfc
	prefixSIMD = 0xfd
)

// Opcodes the rewriters in this module and the meter refer to by name.
const (
	OpUnreachable        Opcode = 0x00
	OpNop                Opcode = 0x01
	OpBlock              Opcode = 0x02
	OpLoop               Opcode = 0x03
	OpIf                 Opcode = 0x04
	OpElse               Opcode = 0x05
	OpEnd                Opcode = 0x0b
	OpBr                 Opcode = 0x0c
	OpBrIf               Opcode = 0x0d
	OpBrTable            Opcode = 0x0e
	OpReturn             Opcode = 0x0f
	OpCall               Opcode = 0x10
	OpCallIndirect       Opcode = 0x11
	OpReturnCall         Opcode = 0x12
	OpReturnCallIndirect Opcode = 0x13
	OpDrop               Opcode = 0x1a
	OpSelect             Opcode = 0x1b
	OpTableGet           Opcode = 0x25
	OpTableSet           Opcode = 0x26
	OpLocalGet           Opcode = 0x20
	OpLocalSet           Opcode = 0x21
	OpLocalTee           Opcode = 0x22
	OpGlobalGet          Opcode = 0x23
	OpGlobalSet          Opcode = 0x24
	OpI32Load            Opcode = 0x28
	OpI64Load            Opcode = 0x29
	OpI32Load8U          Opcode = 0x2d
	OpI32Store           Opcode = 0x36
	OpI64Store           Opcode = 0x37
	OpF32Store           Opcode = 0x38
	OpF64Store           Opcode = 0x39
	OpI32Store8          Opcode = 0x3a
	OpI32Store16         Opcode = 0x3b
	OpI64Store8          Opcode = 0x3c
	OpI64Store16         Opcode = 0x3d
	OpI64Store32         Opcode = 0x3e
	OpMemorySize         Opcode = 0x3f
	OpMemoryGrow         Opcode = 0x40
	OpI32Const           Opcode = 0x41
	OpI64Const           Opcode = 0x42
	OpI64Eqz             Opcode = 0x50
	OpI64LtS             Opcode = 0x53
	OpI64LtU             Opcode = 0x54
	OpI64GtS             Opcode = 0x55
	OpI64GtU             Opcode = 0x56
	OpI64LeU             Opcode = 0x58
	OpI64GeS             Opcode = 0x59
	OpI32Add             Opcode = 0x6a
	OpI32Or              Opcode = 0x72
	OpI64Add             Opcode = 0x7c
	OpI64Sub             Opcode = 0x7d
	OpI64RemU            Opcode = 0x82
	OpI64Or              Opcode = 0x84
	OpI64Shl             Opcode = 0x86
	OpI32WrapI64         Opcode = 0xa7
	OpI64ExtendI32S      Opcode = 0xac
	OpI64ExtendI32U      Opcode = 0xad
	OpRefFunc            Opcode = 0xd2
	OpMemoryInit         Opcode = prefixMisc<<16 | 8
	OpDataDrop           Opcode = prefixMisc<<16 | 9
	OpMemoryCopy         Opcode = prefixMisc<<16 | 10
	OpMemoryFill         Opcode = prefixMisc<<16 | 11
	OpTableInit          Opcode = prefixMisc<<16 | 12
	OpElemDrop           Opcode = prefixMisc<<16 | 13
	OpTableCopy          Opcode = prefixMisc<<16 | 14
	OpTableGrow          Opcode = prefixMisc<<16 | 15
	OpTableSize          Opcode = prefixMisc<<16 | 16
	OpTableFill          Opcode = prefixMisc<<16 | 17
)

// immKind is the shape of an instruction's immediates.
type immKind uint8

const (
	immInvalid  immKind = iota
	immNone             // no immediates
	immBlock            // block type
	immIndex            // one u32 (label, function, local, global, table, segment)
	immIndex2           // two u32 (call_indirect, memory.init/copy, table.init/copy)
	immBrTable          // vector of labels and a default
	immSelectT          // vector of value types
	immMem              // memarg
	immMemLane          // memarg and a lane byte
	immMemIndex         // memory index (memory.size/grow, memory.fill)
	immI32              // signed LEB128 i32
	immI64              // signed LEB128 i64
	immF32              // 4 bytes
	immF64              // 8 bytes
	immV128             // 16 bytes (v128.const, i8x16.shuffle)
	immLane             // one lane byte
	immHeapType         // ref.null's heap type
)

type opInfo struct {
	name string
	imm  immKind
}

// plainOps covers the single-byte opcodes of the MVP, sign extension,
// multi-value, reference types and tail calls. Exception handling and GC
// opcodes are absent on purpose: the replica rejects them.
var plainOps = [256]opInfo{
	0x00: {"unreachable", immNone}, 0x01: {"nop", immNone}, 0x02: {"block", immBlock},
	0x03: {"loop", immBlock}, 0x04: {"if", immBlock}, 0x05: {"else", immNone}, 0x0b: {"end", immNone},
	0x0c: {"br", immIndex}, 0x0d: {"br_if", immIndex}, 0x0e: {"br_table", immBrTable},
	0x0f: {"return", immNone}, 0x10: {"call", immIndex}, 0x11: {"call_indirect", immIndex2},
	0x12: {"return_call", immIndex}, 0x13: {"return_call_indirect", immIndex2},
	0x1a: {"drop", immNone}, 0x1b: {"select", immNone}, 0x1c: {"select", immSelectT},
	0x20: {"local.get", immIndex}, 0x21: {"local.set", immIndex}, 0x22: {"local.tee", immIndex},
	0x23: {"global.get", immIndex}, 0x24: {"global.set", immIndex},
	0x25: {"table.get", immIndex}, 0x26: {"table.set", immIndex},
	0x28: {"i32.load", immMem}, 0x29: {"i64.load", immMem}, 0x2a: {"f32.load", immMem},
	0x2b: {"f64.load", immMem}, 0x2c: {"i32.load8_s", immMem}, 0x2d: {"i32.load8_u", immMem},
	0x2e: {"i32.load16_s", immMem}, 0x2f: {"i32.load16_u", immMem}, 0x30: {"i64.load8_s", immMem},
	0x31: {"i64.load8_u", immMem}, 0x32: {"i64.load16_s", immMem}, 0x33: {"i64.load16_u", immMem},
	0x34: {"i64.load32_s", immMem}, 0x35: {"i64.load32_u", immMem}, 0x36: {"i32.store", immMem},
	0x37: {"i64.store", immMem}, 0x38: {"f32.store", immMem}, 0x39: {"f64.store", immMem},
	0x3a: {"i32.store8", immMem}, 0x3b: {"i32.store16", immMem}, 0x3c: {"i64.store8", immMem},
	0x3d: {"i64.store16", immMem}, 0x3e: {"i64.store32", immMem},
	0x3f: {"memory.size", immMemIndex}, 0x40: {"memory.grow", immMemIndex},
	0x41: {"i32.const", immI32}, 0x42: {"i64.const", immI64}, 0x43: {"f32.const", immF32},
	0x44: {"f64.const", immF64},
	0x45: {"i32.eqz", immNone}, 0x46: {"i32.eq", immNone}, 0x47: {"i32.ne", immNone},
	0x48: {"i32.lt_s", immNone}, 0x49: {"i32.lt_u", immNone}, 0x4a: {"i32.gt_s", immNone},
	0x4b: {"i32.gt_u", immNone}, 0x4c: {"i32.le_s", immNone}, 0x4d: {"i32.le_u", immNone},
	0x4e: {"i32.ge_s", immNone}, 0x4f: {"i32.ge_u", immNone},
	0x50: {"i64.eqz", immNone}, 0x51: {"i64.eq", immNone}, 0x52: {"i64.ne", immNone},
	0x53: {"i64.lt_s", immNone}, 0x54: {"i64.lt_u", immNone}, 0x55: {"i64.gt_s", immNone},
	0x56: {"i64.gt_u", immNone}, 0x57: {"i64.le_s", immNone}, 0x58: {"i64.le_u", immNone},
	0x59: {"i64.ge_s", immNone}, 0x5a: {"i64.ge_u", immNone},
	0x5b: {"f32.eq", immNone}, 0x5c: {"f32.ne", immNone}, 0x5d: {"f32.lt", immNone},
	0x5e: {"f32.gt", immNone}, 0x5f: {"f32.le", immNone}, 0x60: {"f32.ge", immNone},
	0x61: {"f64.eq", immNone}, 0x62: {"f64.ne", immNone}, 0x63: {"f64.lt", immNone},
	0x64: {"f64.gt", immNone}, 0x65: {"f64.le", immNone}, 0x66: {"f64.ge", immNone},
	0x67: {"i32.clz", immNone}, 0x68: {"i32.ctz", immNone}, 0x69: {"i32.popcnt", immNone},
	0x6a: {"i32.add", immNone}, 0x6b: {"i32.sub", immNone}, 0x6c: {"i32.mul", immNone},
	0x6d: {"i32.div_s", immNone}, 0x6e: {"i32.div_u", immNone}, 0x6f: {"i32.rem_s", immNone},
	0x70: {"i32.rem_u", immNone}, 0x71: {"i32.and", immNone}, 0x72: {"i32.or", immNone},
	0x73: {"i32.xor", immNone}, 0x74: {"i32.shl", immNone}, 0x75: {"i32.shr_s", immNone},
	0x76: {"i32.shr_u", immNone}, 0x77: {"i32.rotl", immNone}, 0x78: {"i32.rotr", immNone},
	0x79: {"i64.clz", immNone}, 0x7a: {"i64.ctz", immNone}, 0x7b: {"i64.popcnt", immNone},
	0x7c: {"i64.add", immNone}, 0x7d: {"i64.sub", immNone}, 0x7e: {"i64.mul", immNone},
	0x7f: {"i64.div_s", immNone}, 0x80: {"i64.div_u", immNone}, 0x81: {"i64.rem_s", immNone},
	0x82: {"i64.rem_u", immNone}, 0x83: {"i64.and", immNone}, 0x84: {"i64.or", immNone},
	0x85: {"i64.xor", immNone}, 0x86: {"i64.shl", immNone}, 0x87: {"i64.shr_s", immNone},
	0x88: {"i64.shr_u", immNone}, 0x89: {"i64.rotl", immNone}, 0x8a: {"i64.rotr", immNone},
	0x8b: {"f32.abs", immNone}, 0x8c: {"f32.neg", immNone}, 0x8d: {"f32.ceil", immNone},
	0x8e: {"f32.floor", immNone}, 0x8f: {"f32.trunc", immNone}, 0x90: {"f32.nearest", immNone},
	0x91: {"f32.sqrt", immNone}, 0x92: {"f32.add", immNone}, 0x93: {"f32.sub", immNone},
	0x94: {"f32.mul", immNone}, 0x95: {"f32.div", immNone}, 0x96: {"f32.min", immNone},
	0x97: {"f32.max", immNone}, 0x98: {"f32.copysign", immNone},
	0x99: {"f64.abs", immNone}, 0x9a: {"f64.neg", immNone}, 0x9b: {"f64.ceil", immNone},
	0x9c: {"f64.floor", immNone}, 0x9d: {"f64.trunc", immNone}, 0x9e: {"f64.nearest", immNone},
	0x9f: {"f64.sqrt", immNone}, 0xa0: {"f64.add", immNone}, 0xa1: {"f64.sub", immNone},
	0xa2: {"f64.mul", immNone}, 0xa3: {"f64.div", immNone}, 0xa4: {"f64.min", immNone},
	0xa5: {"f64.max", immNone}, 0xa6: {"f64.copysign", immNone},
	0xa7: {"i32.wrap_i64", immNone}, 0xa8: {"i32.trunc_f32_s", immNone},
	0xa9: {"i32.trunc_f32_u", immNone}, 0xaa: {"i32.trunc_f64_s", immNone},
	0xab: {"i32.trunc_f64_u", immNone}, 0xac: {"i64.extend_i32_s", immNone},
	0xad: {"i64.extend_i32_u", immNone}, 0xae: {"i64.trunc_f32_s", immNone},
	0xaf: {"i64.trunc_f32_u", immNone}, 0xb0: {"i64.trunc_f64_s", immNone},
	0xb1: {"i64.trunc_f64_u", immNone}, 0xb2: {"f32.convert_i32_s", immNone},
	0xb3: {"f32.convert_i32_u", immNone}, 0xb4: {"f32.convert_i64_s", immNone},
	0xb5: {"f32.convert_i64_u", immNone}, 0xb6: {"f32.demote_f64", immNone},
	0xb7: {"f64.convert_i32_s", immNone}, 0xb8: {"f64.convert_i32_u", immNone},
	0xb9: {"f64.convert_i64_s", immNone}, 0xba: {"f64.convert_i64_u", immNone},
	0xbb: {"f64.promote_f32", immNone}, 0xbc: {"i32.reinterpret_f32", immNone},
	0xbd: {"i64.reinterpret_f64", immNone}, 0xbe: {"f32.reinterpret_i32", immNone},
	0xbf: {"f64.reinterpret_i64", immNone},
	0xc0: {"i32.extend8_s", immNone}, 0xc1: {"i32.extend16_s", immNone},
	0xc2: {"i64.extend8_s", immNone}, 0xc3: {"i64.extend16_s", immNone},
	0xc4: {"i64.extend32_s", immNone},
	0xd0: {"ref.null", immHeapType}, 0xd1: {"ref.is_null", immNone}, 0xd2: {"ref.func", immIndex},
}

// miscOps are the 0xFC-prefixed opcodes: saturating truncation, bulk
// memory and table instructions.
var miscOps = [...]opInfo{
	0: {"i32.trunc_sat_f32_s", immNone}, 1: {"i32.trunc_sat_f32_u", immNone},
	2: {"i32.trunc_sat_f64_s", immNone}, 3: {"i32.trunc_sat_f64_u", immNone},
	4: {"i64.trunc_sat_f32_s", immNone}, 5: {"i64.trunc_sat_f32_u", immNone},
	6: {"i64.trunc_sat_f64_s", immNone}, 7: {"i64.trunc_sat_f64_u", immNone},
	8: {"memory.init", immIndex2}, 9: {"data.drop", immIndex}, 10: {"memory.copy", immIndex2},
	11: {"memory.fill", immMemIndex}, 12: {"table.init", immIndex2}, 13: {"elem.drop", immIndex},
	14: {"table.copy", immIndex2}, 15: {"table.grow", immIndex}, 16: {"table.size", immIndex},
	17: {"table.fill", immIndex},
}

// simdOps are the 0xFD-prefixed fixed-width SIMD opcodes (relaxed SIMD is
// not accepted, as on the replica).
var simdOps = [256]opInfo{
	0: {"v128.load", immMem}, 1: {"v128.load8x8_s", immMem}, 2: {"v128.load8x8_u", immMem},
	3: {"v128.load16x4_s", immMem}, 4: {"v128.load16x4_u", immMem}, 5: {"v128.load32x2_s", immMem},
	6: {"v128.load32x2_u", immMem}, 7: {"v128.load8_splat", immMem}, 8: {"v128.load16_splat", immMem},
	9: {"v128.load32_splat", immMem}, 10: {"v128.load64_splat", immMem}, 11: {"v128.store", immMem},
	12: {"v128.const", immV128}, 13: {"i8x16.shuffle", immV128}, 14: {"i8x16.swizzle", immNone},
	15: {"i8x16.splat", immNone}, 16: {"i16x8.splat", immNone}, 17: {"i32x4.splat", immNone},
	18: {"i64x2.splat", immNone}, 19: {"f32x4.splat", immNone}, 20: {"f64x2.splat", immNone},
	21: {"i8x16.extract_lane_s", immLane}, 22: {"i8x16.extract_lane_u", immLane},
	23: {"i8x16.replace_lane", immLane}, 24: {"i16x8.extract_lane_s", immLane},
	25: {"i16x8.extract_lane_u", immLane}, 26: {"i16x8.replace_lane", immLane},
	27: {"i32x4.extract_lane", immLane}, 28: {"i32x4.replace_lane", immLane},
	29: {"i64x2.extract_lane", immLane}, 30: {"i64x2.replace_lane", immLane},
	31: {"f32x4.extract_lane", immLane}, 32: {"f32x4.replace_lane", immLane},
	33: {"f64x2.extract_lane", immLane}, 34: {"f64x2.replace_lane", immLane},
	35: {"i8x16.eq", immNone}, 36: {"i8x16.ne", immNone}, 37: {"i8x16.lt_s", immNone},
	38: {"i8x16.lt_u", immNone}, 39: {"i8x16.gt_s", immNone}, 40: {"i8x16.gt_u", immNone},
	41: {"i8x16.le_s", immNone}, 42: {"i8x16.le_u", immNone}, 43: {"i8x16.ge_s", immNone},
	44: {"i8x16.ge_u", immNone},
	45: {"i16x8.eq", immNone}, 46: {"i16x8.ne", immNone}, 47: {"i16x8.lt_s", immNone},
	48: {"i16x8.lt_u", immNone}, 49: {"i16x8.gt_s", immNone}, 50: {"i16x8.gt_u", immNone},
	51: {"i16x8.le_s", immNone}, 52: {"i16x8.le_u", immNone}, 53: {"i16x8.ge_s", immNone},
	54: {"i16x8.ge_u", immNone},
	55: {"i32x4.eq", immNone}, 56: {"i32x4.ne", immNone}, 57: {"i32x4.lt_s", immNone},
	58: {"i32x4.lt_u", immNone}, 59: {"i32x4.gt_s", immNone}, 60: {"i32x4.gt_u", immNone},
	61: {"i32x4.le_s", immNone}, 62: {"i32x4.le_u", immNone}, 63: {"i32x4.ge_s", immNone},
	64: {"i32x4.ge_u", immNone},
	65: {"f32x4.eq", immNone}, 66: {"f32x4.ne", immNone}, 67: {"f32x4.lt", immNone},
	68: {"f32x4.gt", immNone}, 69: {"f32x4.le", immNone}, 70: {"f32x4.ge", immNone},
	71: {"f64x2.eq", immNone}, 72: {"f64x2.ne", immNone}, 73: {"f64x2.lt", immNone},
	74: {"f64x2.gt", immNone}, 75: {"f64x2.le", immNone}, 76: {"f64x2.ge", immNone},
	77: {"v128.not", immNone}, 78: {"v128.and", immNone}, 79: {"v128.andnot", immNone},
	80: {"v128.or", immNone}, 81: {"v128.xor", immNone}, 82: {"v128.bitselect", immNone},
	83: {"v128.any_true", immNone},
	84: {"v128.load8_lane", immMemLane}, 85: {"v128.load16_lane", immMemLane},
	86: {"v128.load32_lane", immMemLane}, 87: {"v128.load64_lane", immMemLane},
	88: {"v128.store8_lane", immMemLane}, 89: {"v128.store16_lane", immMemLane},
	90: {"v128.store32_lane", immMemLane}, 91: {"v128.store64_lane", immMemLane},
	92: {"v128.load32_zero", immMem}, 93: {"v128.load64_zero", immMem},
	94: {"f32x4.demote_f64x2_zero", immNone}, 95: {"f64x2.promote_low_f32x4", immNone},
	96: {"i8x16.abs", immNone}, 97: {"i8x16.neg", immNone}, 98: {"i8x16.popcnt", immNone},
	99: {"i8x16.all_true", immNone}, 100: {"i8x16.bitmask", immNone},
	101: {"i8x16.narrow_i16x8_s", immNone}, 102: {"i8x16.narrow_i16x8_u", immNone},
	103: {"f32x4.ceil", immNone}, 104: {"f32x4.floor", immNone}, 105: {"f32x4.trunc", immNone},
	106: {"f32x4.nearest", immNone}, 107: {"i8x16.shl", immNone}, 108: {"i8x16.shr_s", immNone},
	109: {"i8x16.shr_u", immNone}, 110: {"i8x16.add", immNone}, 111: {"i8x16.add_sat_s", immNone},
	112: {"i8x16.add_sat_u", immNone}, 113: {"i8x16.sub", immNone},
	114: {"i8x16.sub_sat_s", immNone}, 115: {"i8x16.sub_sat_u", immNone},
	116: {"f64x2.ceil", immNone}, 117: {"f64x2.floor", immNone}, 118: {"i8x16.min_s", immNone},
	119: {"i8x16.min_u", immNone}, 120: {"i8x16.max_s", immNone}, 121: {"i8x16.max_u", immNone},
	122: {"f64x2.trunc", immNone}, 123: {"i8x16.avgr_u", immNone},
	124: {"i16x8.extadd_pairwise_i8x16_s", immNone}, 125: {"i16x8.extadd_pairwise_i8x16_u", immNone},
	126: {"i32x4.extadd_pairwise_i16x8_s", immNone}, 127: {"i32x4.extadd_pairwise_i16x8_u", immNone},
	128: {"i16x8.abs", immNone}, 129: {"i16x8.neg", immNone}, 130: {"i16x8.q15mulr_sat_s", immNone},
	131: {"i16x8.all_true", immNone}, 132: {"i16x8.bitmask", immNone},
	133: {"i16x8.narrow_i32x4_s", immNone}, 134: {"i16x8.narrow_i32x4_u", immNone},
	135: {"i16x8.extend_low_i8x16_s", immNone}, 136: {"i16x8.extend_high_i8x16_s", immNone},
	137: {"i16x8.extend_low_i8x16_u", immNone}, 138: {"i16x8.extend_high_i8x16_u", immNone},
	139: {"i16x8.shl", immNone}, 140: {"i16x8.shr_s", immNone}, 141: {"i16x8.shr_u", immNone},
	142: {"i16x8.add", immNone}, 143: {"i16x8.add_sat_s", immNone}, 144: {"i16x8.add_sat_u", immNone},
	145: {"i16x8.sub", immNone}, 146: {"i16x8.sub_sat_s", immNone}, 147: {"i16x8.sub_sat_u", immNone},
	148: {"f64x2.nearest", immNone}, 149: {"i16x8.mul", immNone}, 150: {"i16x8.min_s", immNone},
	151: {"i16x8.min_u", immNone}, 152: {"i16x8.max_s", immNone}, 153: {"i16x8.max_u", immNone},
	155: {"i16x8.avgr_u", immNone},
	156: {"i16x8.extmul_low_i8x16_s", immNone}, 157: {"i16x8.extmul_high_i8x16_s", immNone},
	158: {"i16x8.extmul_low_i8x16_u", immNone}, 159: {"i16x8.extmul_high_i8x16_u", immNone},
	160: {"i32x4.abs", immNone}, 161: {"i32x4.neg", immNone}, 163: {"i32x4.all_true", immNone},
	164: {"i32x4.bitmask", immNone},
	167: {"i32x4.extend_low_i16x8_s", immNone}, 168: {"i32x4.extend_high_i16x8_s", immNone},
	169: {"i32x4.extend_low_i16x8_u", immNone}, 170: {"i32x4.extend_high_i16x8_u", immNone},
	171: {"i32x4.shl", immNone}, 172: {"i32x4.shr_s", immNone}, 173: {"i32x4.shr_u", immNone},
	174: {"i32x4.add", immNone}, 177: {"i32x4.sub", immNone}, 181: {"i32x4.mul", immNone},
	182: {"i32x4.min_s", immNone}, 183: {"i32x4.min_u", immNone}, 184: {"i32x4.max_s", immNone},
	185: {"i32x4.max_u", immNone}, 186: {"i32x4.dot_i16x8_s", immNone},
	188: {"i32x4.extmul_low_i16x8_s", immNone}, 189: {"i32x4.extmul_high_i16x8_s", immNone},
	190: {"i32x4.extmul_low_i16x8_u", immNone}, 191: {"i32x4.extmul_high_i16x8_u", immNone},
	192: {"i64x2.abs", immNone}, 193: {"i64x2.neg", immNone}, 195: {"i64x2.all_true", immNone},
	196: {"i64x2.bitmask", immNone},
	199: {"i64x2.extend_low_i32x4_s", immNone}, 200: {"i64x2.extend_high_i32x4_s", immNone},
	201: {"i64x2.extend_low_i32x4_u", immNone}, 202: {"i64x2.extend_high_i32x4_u", immNone},
	203: {"i64x2.shl", immNone}, 204: {"i64x2.shr_s", immNone}, 205: {"i64x2.shr_u", immNone},
	206: {"i64x2.add", immNone}, 209: {"i64x2.sub", immNone}, 213: {"i64x2.mul", immNone},
	214: {"i64x2.eq", immNone}, 215: {"i64x2.ne", immNone}, 216: {"i64x2.lt_s", immNone},
	217: {"i64x2.gt_s", immNone}, 218: {"i64x2.le_s", immNone}, 219: {"i64x2.ge_s", immNone},
	220: {"i64x2.extmul_low_i32x4_s", immNone}, 221: {"i64x2.extmul_high_i32x4_s", immNone},
	222: {"i64x2.extmul_low_i32x4_u", immNone}, 223: {"i64x2.extmul_high_i32x4_u", immNone},
	224: {"f32x4.abs", immNone}, 225: {"f32x4.neg", immNone}, 227: {"f32x4.sqrt", immNone},
	228: {"f32x4.add", immNone}, 229: {"f32x4.sub", immNone}, 230: {"f32x4.mul", immNone},
	231: {"f32x4.div", immNone}, 232: {"f32x4.min", immNone}, 233: {"f32x4.max", immNone},
	234: {"f32x4.pmin", immNone}, 235: {"f32x4.pmax", immNone},
	236: {"f64x2.abs", immNone}, 237: {"f64x2.neg", immNone}, 239: {"f64x2.sqrt", immNone},
	240: {"f64x2.add", immNone}, 241: {"f64x2.sub", immNone}, 242: {"f64x2.mul", immNone},
	243: {"f64x2.div", immNone}, 244: {"f64x2.min", immNone}, 245: {"f64x2.max", immNone},
	246: {"f64x2.pmin", immNone}, 247: {"f64x2.pmax", immNone},
	248: {"i32x4.trunc_sat_f32x4_s", immNone}, 249: {"i32x4.trunc_sat_f32x4_u", immNone},
	250: {"f32x4.convert_i32x4_s", immNone}, 251: {"f32x4.convert_i32x4_u", immNone},
	252: {"i32x4.trunc_sat_f64x2_s_zero", immNone}, 253: {"i32x4.trunc_sat_f64x2_u_zero", immNone},
	254: {"f64x2.convert_low_i32x4_s", immNone}, 255: {"f64x2.convert_low_i32x4_u", immNone},
}

func (op Opcode) info() opInfo {
	switch prefix, sub := op>>16, op&0xffff; {
	case prefix == 0 && op < 256:
		return plainOps[op]
	case prefix == prefixMisc && int(sub) < len(miscOps):
		return miscOps[sub]
	case prefix == prefixSIMD && sub < 256:
		return simdOps[sub]
	}
	return opInfo{}
}

// Known reports whether the decoder accepts this opcode.
func (op Opcode) Known() bool { return op.info().imm != immInvalid }

// String returns the text-format mnemonic, e.g. "i32.add".
func (op Opcode) String() string {
	if info := op.info(); info.imm != immInvalid {
		return info.name
	}
	if op>>16 != 0 {
		return fmt.Sprintf("opcode(0x%02x %d)", byte(op>>16), op&0xffff)
	}
	return fmt.Sprintf("opcode(0x%02x)", uint32(op))
}

// OpcodeByName returns the opcode with the given text-format mnemonic. For
// "select" it returns the untyped form.
func OpcodeByName(name string) (Opcode, bool) {
	for i, info := range plainOps {
		if info.name == name && info.imm != immInvalid {
			return Opcode(i), true
		}
	}
	for i, info := range miscOps {
		if info.name == name {
			return prefixMisc<<16 | Opcode(i), true
		}
	}
	for i, info := range simdOps {
		if info.name == name && info.imm != immInvalid {
			return prefixSIMD<<16 | Opcode(i), true
		}
	}
	return 0, false
}

// unsupported explains opcodes the decoder rejects on purpose.
func unsupported(b byte) string {
	switch b {
	case 0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f:
		return " (exception handling is not supported; the IC does not accept it)"
	case 0x14, 0x15, 0xd3, 0xd4, 0xd5, 0xd6, 0xfb:
		return " (typed function references and GC are not supported; the IC does not accept them)"
	case 0xfe:
		return " (threads and atomics are not supported; the IC does not accept them)"
	}
	return ""
}
