package validation

import "github.com/canscope/canscope/engine/wasm"

// complexity weights instructions by how long they take to compile
// (validation.rs wasm_function_complexity); unlisted instructions cost 1.
var complexity = func() map[wasm.Opcode]int {
	w := map[wasm.Opcode]int{}
	set := func(cost int, names ...string) {
		for _, n := range names {
			op, ok := wasm.OpcodeByName(n)
			if !ok {
				panic("validation: unknown instruction " + n)
			}
			w[op] = cost
		}
	}
	// memory.grow and table.grow become calls after instrumentation.
	set(50, "block", "loop", "if", "br", "br_if", "br_table", "call", "call_indirect", "memory.grow", "table.grow")
	set(14, "table.get")
	set(8, "ref.func")
	set(7, "table.set")
	set(6, "ref.is_null")
	set(5, "table.fill", "i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s", "i32.trunc_f64_u",
		"i64.extend_i32_s", "i64.extend_i32_u", "i64.trunc_f32_s", "i64.trunc_f32_u", "i64.trunc_f64_s",
		"i64.trunc_f64_u", "f32.convert_i32_s", "f32.convert_i32_u", "f32.convert_i64_s", "f32.convert_i64_u",
		"f32.demote_f64", "f64.convert_i32_s", "f64.convert_i32_u", "f64.convert_i64_s", "f64.convert_i64_u")
	set(4, "f32.neg", "f32.abs", "f64.neg", "f64.abs", "table.copy", "table.init", "memory.copy")
	set(3, "f32.copysign", "f64.copysign", "f64.eq", "i32.rem_u", "i32.rem_s", "i64.rem_u", "i64.rem_s",
		"i32.div_u", "i32.div_s", "i64.div_u", "i64.div_s", "memory.fill", "i32.load", "i64.load", "f32.load",
		"f64.load", "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u", "i64.load8_s", "i64.load8_u",
		"i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u", "i32.trunc_sat_f32_s",
		"i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u", "i64.trunc_sat_f32_s",
		"i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u")
	set(2, "global.get", "i32.popcnt", "i64.popcnt", "memory.size", "i32.store", "i32.store16",
		"i32.store8", "i64.store", "i64.store32", "i64.store16", "i64.store8", "f64.store", "f32.store",
		"i32.eqz", "i32.eq", "i32.ne", "i32.lt_s", "i32.lt_u", "i32.gt_s", "i32.gt_u", "i32.le_s", "i32.le_u",
		"i32.ge_s", "i32.ge_u", "i64.eqz", "i64.eq", "i64.ne", "i64.lt_s", "i64.lt_u", "i64.gt_s", "i64.gt_u",
		"i64.le_s", "i64.le_u", "i64.ge_s", "i64.ge_u", "f32.eq", "f32.ne", "f32.lt", "f32.gt", "f32.le",
		"f32.ge", "f64.ne", "f64.lt", "f64.gt", "f64.le", "f64.ge", "f32.ceil", "f64.ceil", "f32.floor",
		"f64.floor", "f32.sqrt", "f64.sqrt", "f32.trunc", "f64.trunc", "i32.reinterpret_f32",
		"i64.reinterpret_f64", "f32.reinterpret_i32", "f64.reinterpret_i64", "i32.wrap_i64",
		"i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s", "f64.promote_f32")
	return w
}()

// selectUntyped is the plain select (wasmparser's Select, cost 2); the
// typed select (0x1c) costs 1.
const selectUntyped wasm.Opcode = 0x1b

func instructionComplexity(op wasm.Opcode) int {
	if op == selectUntyped {
		return 2
	}
	if c, ok := complexity[op]; ok {
		return c
	}
	return 1
}
