package ic0

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/meter"
)

// A module with a 64-bit memory runs in wasm64 mode, where the System API
// takes and returns heap addresses and sizes as i64: the interface spec's
// "Overview of imports" writes them `I` (i32 in wasm32, i64 in wasm64). The
// replica builds its wasm64 import table from the same list with I = I64
// (get_valid_system_apis_common(I) in
// rs/embedders/src/wasm_utils/validation.rs; the linker's syscalls::<I>,
// rs/embedders/src/wasmtime_embedder/linker.rs) and leaves out the
// functions of get_valid_system_apis_32_only.
//
// canscope serves them with the wasm32 implementations through an adapter
// (wasm64Impl): an `I` value below 2^32 reaches the implementation
// unchanged, so every rule, charge and text is the wasm32 one; a value of
// 2^32 or more can address nothing in a heap of at most 4 GiB (the
// largest canscope runs, see meter.LoweredMaxPages), and the adapter
// fails the call the way the replica's first range check does, with the
// full 64-bit values in its text.

// wasm32Only are the functions the replica offers only in wasm32 mode
// (get_valid_system_apis_32_only); a wasm64 module importing one is
// refused as importing a function the runtime does not export.
var wasm32Only = []string{
	"call_cycles_add", "stable_size", "stable_grow", "stable_read", "stable_write",
	"canister_cycle_balance", "msg_cycles_available", "msg_cycles_refunded", "msg_cycles_accept",
}

// fixedI32 lists, per function, the i32 values that are not `I` and stay
// i32 in wasm64 mode: result codes, booleans and enums. Param indices count
// from 0; -1 stands for the result. Every other i32 of the wasm32 table is
// an address, a size, a table index or a callback environment.
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

// LookupMode returns ic0.name as a module of that mode imports it: for
// memory64 with its wasm64 signature, and false for a function wasm64
// mode does not offer.
func LookupMode(name string, memory64 bool) (Function, bool) {
	if !memory64 {
		return Lookup(name)
	}
	for _, f := range wasm64Table() {
		if f.Name == name {
			f.impl = nil
			return f, true
		}
	}
	return Function{}, false
}

// wasm64Table is the wasm64 System API: every function of the wasm32
// table but wasm32Only, with `I` params and results widened and the
// adapter around its implementation.
var wasm64Table = sync.OnceValue(func() []Function {
	var out []Function
	for _, f := range functionTable() {
		if slices.Contains(wasm32Only, f.Name) {
			continue
		}
		keep := fixedI32[f.Name]
		var wide []int
		params := slices.Clone(f.Params)
		for i, t := range params {
			if t == i32 && !slices.Contains(keep, i) {
				params[i] = i64
				wide = append(wide, i)
			}
		}
		results := slices.Clone(f.Results)
		for i, t := range results {
			if t == i32 && !slices.Contains(keep, -1) {
				results[i] = i64
			}
		}
		f.Params, f.Results = params, results
		f.impl = wasm64Impl(f.Name, f.impl, wide)
		out = append(out, f)
	}
	return out
})

// instantiate64 defines the meter.Wasm64SystemAPI host module, which a
// lowered wasm64 module imports its System API from.
func (h *Host) instantiate64(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(meter.Wasm64SystemAPI)
	for _, f := range wasm64Table() {
		b.NewFunctionBuilder().
			WithGoModuleFunction(h.hostFunc(f), f.Params, f.Results).
			WithName(f.Name).
			Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate host module %s: %w", meter.Wasm64SystemAPI, err)
	}
	return nil
}

// rangeCheck is one of the replica's range checks of a function's
// arguments, in its order: [addr, addr+size) inside the heap, or inside the
// data the function copies from (data names the function that returns its
// length from the first prefix params).
type rangeCheck struct {
	part       string
	addr, size int    // param indices; size -1: fixed
	fixed      uint64 // the size when size is -1
	data       string
	prefix     int
}

func heapRange(part string, addr, size int) rangeCheck {
	return rangeCheck{part: part, addr: addr, size: size}
}

func cyclesAt(addr int) []rangeCheck {
	return []rangeCheck{{part: "heap", addr: addr, size: -1, fixed: 16}}
}

func copyOf(part, data string, prefix int) []rangeCheck {
	return []rangeCheck{heapRange("heap", prefix, prefix+2), {part: part, addr: prefix + 1, size: prefix + 2, data: data, prefix: prefix}}
}

// wideChecks are the range checks of the functions with `I` addresses and
// sizes, as their wasm32 implementations make them (copyOut, readHeap,
// writeCycles) and as the replica's system_api.rs does with usize values.
var wideChecks = map[string][]rangeCheck{
	"msg_arg_data_copy":                copyOf("payload", "msg_arg_data_size", 0),
	"msg_caller_copy":                  copyOf("id", "msg_caller_size", 0),
	"msg_caller_info_data_copy":        copyOf("data", "msg_caller_info_data_size", 0),
	"msg_caller_info_signer_copy":      copyOf("signer", "msg_caller_info_signer_size", 0),
	"msg_reject_msg_copy":              copyOf("msg", "msg_reject_msg_size", 0),
	"msg_method_name_copy":             copyOf("name", "msg_method_name_size", 0),
	"canister_self_copy":               copyOf("id", "canister_self_size", 0),
	"subnet_self_copy":                 copyOf("id", "subnet_self_size", 0),
	"root_key_copy":                    copyOf("root_key", "root_key_size", 0),
	"data_certificate_copy":            copyOf("certificate", "data_certificate_size", 0),
	"env_var_name_copy":                copyOf("name", "env_var_name_size", 1),
	"env_var_value_copy":               append([]rangeCheck{heapRange("heap", 0, 1)}, copyOf("value", "env_var_value_size", 2)...),
	"env_var_name_exists":              {heapRange("heap", 0, 1)},
	"env_var_value_size":               {heapRange("heap", 0, 1)},
	"msg_reply_data_append":            {heapRange("", 0, 1)},
	"msg_reject":                       {heapRange("", 0, 1)},
	"call_data_append":                 {heapRange("", 0, 1)},
	"certified_data_set":               {heapRange("", 0, 1)},
	"is_controller":                    {heapRange("", 0, 1)},
	"call_new":                         {heapRange("callee_src", 0, 1), heapRange("method_name", 2, 3)},
	"cost_sign_with_ecdsa":             {heapRange("key_name", 0, 1), cyclesAt(3)[0]},
	"cost_sign_with_schnorr":           {heapRange("key_name", 0, 1), cyclesAt(3)[0]},
	"cost_vetkd_derive_key":            {heapRange("key_name", 0, 1), cyclesAt(3)[0]},
	"msg_cycles_available128":          cyclesAt(0),
	"msg_cycles_refunded128":           cyclesAt(0),
	"canister_cycle_balance128":        cyclesAt(0),
	"canister_liquid_cycle_balance128": cyclesAt(0),
	"cost_create_canister":             cyclesAt(0),
	"msg_cycles_accept128":             cyclesAt(2),
	"cycles_burn128":                   cyclesAt(2),
	"mint_cycles128":                   cyclesAt(2),
	"cost_call":                        cyclesAt(2),
	"cost_http_request":                cyclesAt(2),
}

// sizeCharge is the byte charge a function makes before its range checks
// (linker.rs: charge_for_cpu_and_mem with the usize size, saturating):
// the sum of the size params times factor.
type sizeCharge struct {
	sizes  []int
	factor uint64
}

// wideCharges are the byte charges of the functions of wideChecks that
// charge their size, as their wasm32 implementations do: copies 1 per
// byte, payload that leaves the sandbox byteTransmissionCost per byte.
var wideCharges = func() map[string]sizeCharge {
	out := map[string]sizeCharge{
		"msg_reply_data_append":  {[]int{1}, byteTransmissionCost},
		"msg_reject":             {[]int{1}, byteTransmissionCost},
		"call_data_append":       {[]int{1}, byteTransmissionCost},
		"call_new":               {[]int{1, 3}, 1},
		"certified_data_set":     {[]int{1}, 1},
		"is_controller":          {[]int{1}, 1},
		"cost_sign_with_ecdsa":   {[]int{1}, 1},
		"cost_sign_with_schnorr": {[]int{1}, 1},
		"cost_vetkd_derive_key":  {[]int{1}, 1},
	}
	for name, checks := range wideChecks {
		if strings.HasSuffix(name, "_copy") {
			out[name] = sizeCharge{[]int{checks[len(checks)-1].size}, 1}
		}
	}
	return out
}()

// Params that are not addresses: callback table indices, which the
// replica's call_new and call_on_cleanup narrow with
// `try_into().unwrap_or(u32::MAX)` ("A valid function index should be
// much smaller than u32::max"), and callback environments, kept as u64.
var (
	funcIndexParams = map[string][]int{"call_new": {4, 6}, "call_on_cleanup": {0}}
	envParams       = map[string][]int{"call_new": {5, 7}, "call_on_cleanup": {1}}
)

// wasm64Impl wraps a wasm32 implementation for the wasm64 signature; wide
// are the indices of its `I` params.
func wasm64Impl(name string, impl func(*Host, api.Module, []uint64), wide []int) func(*Host, api.Module, []uint64) {
	if len(wide) == 0 {
		return impl
	}
	fnIdx, envs := funcIndexParams[name], envParams[name]
	checks := wideChecks[name]
	return func(h *Host, mod api.Module, s []uint64) {
		var env [2]uint64
		for k, i := range envs {
			env[k] = s[i]
			s[i] = uint64(uint32(s[i]))
		}
		for _, i := range fnIdx {
			s[i] = min(s[i], math.MaxUint32)
		}
		for _, i := range wide {
			if s[i] > math.MaxUint32 && !slices.Contains(envs, i) {
				h.wideArgs(name, mod, s, checks)
			}
		}
		impl(h, mod, s)
		if len(envs) > 0 && h.pending != nil {
			// The implementation stored the low 32 bits.
			switch name {
			case "call_new":
				h.pending.ReplyEnv, h.pending.RejectEnv = env[0], env[1]
			case "call_on_cleanup":
				h.pending.CleanupEnv = env[0]
			}
		}
	}
}

// wideArgs fails a call with an `I` argument of 2^32 or more, which no
// range in a heap of at most 4 GiB (or in any data the System API copies
// from) contains: it runs the function's range checks with the 64-bit
// values, so the first that fails traps with the replica's text. Functions
// that never trap on a bad range (debug_print, trap) print or trap with
// their placeholder instead.
func (h *Host) wideArgs(name string, mod api.Module, s []uint64, checks []rangeCheck) {
	switch name {
	case "debug_print", "trap":
		// Their charges grow with the size, capped (debug_print) or not
		// (trap): trap pays the part above 2^32-1 here, and both then run
		// with both values at 2^32-1, outside every heap, as the
		// replica's usize values are.
		if name == "trap" && s[1] > math.MaxUint32 {
			h.charge(s[1] - math.MaxUint32)
		}
		s[0], s[1] = min(s[0], math.MaxUint32), min(s[1], math.MaxUint32)
		return
	}
	if name == "env_var_name_size" || name == "env_var_name_copy" {
		// The variable index is `I` too; the replica's check comes first.
		if vs := h.envVars(); s[0] >= uint64(len(vs)) {
			panic(ContractViolation("Environment variable index out of bounds: index %d, length %d.", s[0], len(vs)))
		}
	}
	if c, ok := wideCharges[name]; ok {
		// The replica charges the full size first: a size beyond the
		// instructions left ends the message there (charge_direct_fee).
		n := uint64(0)
		for _, i := range c.sizes {
			n = satAdd(n, s[i])
		}
		hi, lo := bits.Mul64(n, c.factor)
		if hi != 0 {
			lo = math.MaxUint64
		}
		h.charge(lo)
	}
	heapLen := heapSize(mod)
	for _, c := range checks {
		size := c.fixed
		if c.size >= 0 {
			size = s[c.size]
		}
		n := heapLen
		if c.data != "" {
			// The data's length, from its size function.
			st := make([]uint64, max(c.prefix, 1))
			copy(st, s[:c.prefix])
			implOf(c.data)(h, mod, st)
			n = st[0]
		}
		subslice(name, c.part, s[c.addr], size, n)
	}
	// Not reached for the functions above: a wide value fails a check.
	panic(ContractViolation("ic0.%s: an argument of %d or more is outside the wasm64 heap", name, uint64(math.MaxUint32)+1))
}

// satAdd adds without wrapping, as the replica's saturating_add.
func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// implOf returns the wasm32 implementation of ic0.name.
func implOf(name string) func(*Host, api.Module, []uint64) {
	for _, f := range functionTable() {
		if f.Name == name {
			return f.impl
		}
	}
	panic("ic0: no function " + name)
}
