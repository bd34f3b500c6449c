package validation

import (
	"slices"

	"github.com/canscope/canscope/engine/wasm"
)

// A module with a 64-bit memory runs in wasm64 mode, where the System API
// takes and returns heap addresses and sizes as i64: the interface spec's
// "Overview of imports" writes them `I` (i32 in wasm32, i64 in wasm64). The
// replica builds its wasm64 import table from the same list with I = I64
// (get_valid_system_apis_common(I) in
// rs/embedders/src/wasm_utils/validation.rs) and leaves out the functions
// of get_valid_system_apis_32_only. ic0's table holds the wasm32
// signatures; wasm64Signature derives the wasm64 one from it.

// wasm32Only are the functions the replica offers only in wasm32 mode
// (get_valid_system_apis_32_only); a wasm64 module importing one is
// refused as importing a function the runtime does not export.
var wasm32Only = []string{
	"call_cycles_add", "stable_size", "stable_grow", "stable_read", "stable_write",
	"canister_cycle_balance", "msg_cycles_available", "msg_cycles_refunded", "msg_cycles_accept",
}

// fixedI32 lists, per function, the i32 values that are not `I` and stay
// i32 in wasm64 mode: result codes, booleans and enums. Param indices count
// from 0; -1 stands for the result. Every other i32 of ic0's wasm32 table
// is an address or size.
var fixedI32 = map[string][]int{
	"msg_reject_code":                {-1},
	"call_perform":                   {-1},
	"call_with_best_effort_response": {0},
	"performance_counter":            {0},
	"data_certificate_present":       {-1},
	"canister_status":                {-1},
	"is_controller":                  {-1},
	"in_replicated_execution":        {-1},
	"cost_sign_with_ecdsa":           {2, -1},
	"cost_sign_with_schnorr":         {2, -1},
	"cost_vetkd_derive_key":          {2, -1},
	"env_var_name_exists":            {-1},
}

// availableIn reports whether ic0.name exists in the module's mode.
func availableIn(name string, memory64 bool) bool {
	return !memory64 || !slices.Contains(wasm32Only, name)
}

// wasm64Signature turns ic0.name's wasm32 signature into its wasm64 one.
func wasm64Signature(name string, params, results []wasm.ValueType) ([]wasm.ValueType, []wasm.ValueType) {
	keep := fixedI32[name]
	widen := func(ts []wasm.ValueType, result bool) []wasm.ValueType {
		out := slices.Clone(ts)
		for i, t := range out {
			pos := i
			if result {
				pos = -1
			}
			if t == wasm.I32 && !slices.Contains(keep, pos) {
				out[i] = wasm.I64
			}
		}
		return out
	}
	return widen(params, false), widen(results, true)
}
