package ic0

import (
	"slices"
	"sync"

	"github.com/tetratelabs/wazero/api"
)

// Function describes one ic0 function: its wasm32 signature, where it may
// be called, and its fixed cost.
type Function struct {
	Name    string
	Params  []api.ValueType
	Results []api.ValueType
	// Contexts are the contexts the function may be called in; elsewhere it
	// traps with `"ic0_<name>" cannot be executed in <context> mode`.
	Contexts ContextSet
	// Overhead is the fixed instruction charge per call (replica
	// system_api_complexity::overhead); byte-proportional charges are
	// added by the function itself.
	Overhead uint64

	impl func(h *Host, mod api.Module, stack []uint64)
	// sized: the implementation charges Overhead together with its size
	// in one charge, as the replica's stable read/write replacements do
	// (one decr_instruction_counter call; it matters for slicing).
	sized bool
}

// Functions returns every ic0 function canscope serves, in the order of the
// interface specification. A canister importing anything else from "ic0"
// cannot run on the IC.
func Functions() []Function {
	fs := slices.Clone(functionTable())
	for i := range fs {
		fs[i].impl = nil
	}
	return fs
}

// functionTable is the table built once; it is never modified.
var functionTable = sync.OnceValue(functions)

// Lookup returns the description of the ic0 function name.
func Lookup(name string) (Function, bool) {
	for _, f := range functionTable() {
		if f.Name == name {
			f.impl = nil
			return f, true
		}
	}
	return Function{}, false
}

// Allowed reports whether ic0.<name> may be called in context c. Unknown
// names are never allowed.
func Allowed(name string, c Context) bool {
	f, ok := Lookup(name)
	return ok && f.Contexts.Has(c)
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// sig is shorthand for a list of value types.
func sig(t ...api.ValueType) []api.ValueType { return t }

// functions is THE System API table: signature, contexts as the interface
// specification writes them (see contextsOf), overhead from the replica's
// system_api_complexity.rs, and the implementation. Everything else about
// a function lives in its implementation in the file of its group.
func functions() []Function {
	fn := func(name string, params, results []api.ValueType, where string, overhead uint64,
		impl func(*Host, api.Module, []uint64)) Function {
		return Function{Name: name, Params: params, Results: results,
			Contexts: contextsOf(where), Overhead: overhead, impl: impl}
	}
	const (
		msgArgs   = "I U RQ NRQ TQ CQ Ry CRy F"
		callerInf = "U RQ NRQ CQ Ry Rt CRy CRt C CC F"
		replying  = "U RQ NRQ TQ CQ Ry Rt CRy CRt"
		cyclesIn  = "U RQ Rt Ry"
		calling   = "U CQ Ry Rt CRy CRt T"
		cyclesOut = "U Ry Rt T"
		anyStart  = "* s"
	)
	return []Function{
		// Message: arguments, caller, replies (msg.go).
		fn("msg_arg_data_size", sig(), sig(i32), msgArgs, 500, (*Host).msgArgDataSize),
		fn("msg_arg_data_copy", sig(i32, i32, i32), sig(), msgArgs, 500, (*Host).msgArgDataCopy),
		fn("msg_caller_size", sig(), sig(i32), "*", 500, (*Host).msgCallerSize),
		fn("msg_caller_copy", sig(i32, i32, i32), sig(), "*", 500, (*Host).msgCallerCopy),
		fn("msg_caller_info_data_size", sig(), sig(i32), callerInf, 500, (*Host).msgEmptySize),
		fn("msg_caller_info_data_copy", sig(i32, i32, i32), sig(), callerInf, 500, (*Host).msgCallerInfoDataCopy),
		fn("msg_caller_info_signer_size", sig(), sig(i32), callerInf, 500, (*Host).msgEmptySize),
		fn("msg_caller_info_signer_copy", sig(i32, i32, i32), sig(), callerInf, 500, (*Host).msgCallerInfoSignerCopy),
		fn("msg_reject_code", sig(), sig(i32), "Ry Rt CRy CRt C", 500, (*Host).msgRejectCode),
		fn("msg_reject_msg_size", sig(), sig(i32), "Rt CRt", 500, (*Host).msgRejectMsgSize),
		fn("msg_reject_msg_copy", sig(i32, i32, i32), sig(), "Rt CRt", 500, (*Host).msgRejectMsgCopy),
		fn("msg_deadline", sig(), sig(i64), "U Q CQ Ry Rt CRy CRt", 500, (*Host).msgDeadline),
		fn("msg_reply_data_append", sig(i32, i32), sig(), replying, 500, (*Host).msgReplyDataAppend),
		fn("msg_reply", sig(), sig(), replying, 500, (*Host).msgReply),
		fn("msg_reject", sig(i32, i32), sig(), replying, 500, (*Host).msgReject),
		fn("msg_method_name_size", sig(), sig(i32), "F", 500, (*Host).msgMethodNameSize),
		fn("msg_method_name_copy", sig(i32, i32, i32), sig(), "F", 500, (*Host).msgMethodNameCopy),
		fn("accept_message", sig(), sig(), "F", 500, (*Host).acceptMessage),

		// Cycles (cycles.go).
		fn("msg_cycles_available128", sig(i32), sig(), cyclesIn, 500, (*Host).msgCyclesAvailable128),
		fn("msg_cycles_refunded128", sig(i32), sig(), "Rt Ry", 500, (*Host).msgCyclesRefunded128),
		fn("msg_cycles_accept128", sig(i64, i64, i32), sig(), cyclesIn, 500, (*Host).msgCyclesAccept128),
		fn("cycles_burn128", sig(i64, i64, i32), sig(), "I G U RQ Ry Rt C T", 500, (*Host).cyclesBurn128),
		fn("canister_cycle_balance128", sig(i32), sig(), "*", 500, (*Host).canisterCycleBalance128),
		fn("canister_liquid_cycle_balance128", sig(i32), sig(), "*", 500, (*Host).canisterCycleBalance128),
		fn("mint_cycles128", sig(i64, i64, i32), sig(), "U Ry Rt", 0, (*Host).mintCycles128),

		// The canister and its subnet (canister.go).
		fn("canister_self_size", sig(), sig(i32), "*", 500, (*Host).canisterSelfSize),
		fn("canister_self_copy", sig(i32, i32, i32), sig(), "*", 500, (*Host).canisterSelfCopy),
		fn("canister_status", sig(), sig(i32), "*", 500, (*Host).canisterStatus),
		fn("canister_version", sig(), sig(i64), "*", 500, (*Host).canisterVersion),
		fn("subnet_self_size", sig(), sig(i32), "*", 500, (*Host).subnetSelfSize),
		fn("subnet_self_copy", sig(i32, i32, i32), sig(), "*", 500, (*Host).subnetSelfCopy),

		// Inter-canister calls (calls.go).
		fn("call_new", sig(i32, i32, i32, i32, i32, i32, i32, i32), sig(), calling, 1500, (*Host).callNew),
		fn("call_on_cleanup", sig(i32, i32), sig(), calling, 500, (*Host).callOnCleanup),
		fn("call_data_append", sig(i32, i32), sig(), calling, 500, (*Host).callDataAppend),
		fn("call_with_best_effort_response", sig(i32), sig(), calling, 500, (*Host).callWithBestEffortResponse),
		fn("call_cycles_add128", sig(i64, i64), sig(), cyclesOut, 500, (*Host).callCyclesAdd128),
		fn("call_perform", sig(), sig(i32), calling, 5000, (*Host).callPerform),

		// Stable memory (stable.go).
		// With wasm-native stable memory (the replica's default) the stable
		// calls are replaced by injected functions
		// (system_api_replacements.rs): size charges nothing, grow charges
		// overhead_native::STABLE_GROW (100, in try_grow_stable_memory,
		// linker.rs), read and write overhead_native (20) plus a byte each.
		fn("stable64_size", sig(), sig(i64), anyStart, 0, (*Host).stable64Size),
		fn("stable64_grow", sig(i64), sig(i64), anyStart, 100, (*Host).stable64Grow),
		sized(fn("stable64_write", sig(i64, i64, i64), sig(), anyStart, 20, (*Host).stable64Write)),
		sized(fn("stable64_read", sig(i64, i64, i64), sig(), anyStart, 20, (*Host).stable64Read)),

		// Certification (certified.go).
		fn("root_key_size", sig(), sig(i32), "I G U RQ Ry Rt C T", 500, (*Host).rootKeySize),
		fn("root_key_copy", sig(i32, i32, i32), sig(), "I G U RQ Ry Rt C T", 500, (*Host).rootKeyCopy),
		fn("certified_data_set", sig(i32, i32), sig(), "I G U Ry Rt T", 500, (*Host).certifiedDataSet),
		fn("data_certificate_present", sig(), sig(i32), "*", 500, (*Host).dataCertificatePresent),
		fn("data_certificate_size", sig(), sig(i32), "NRQ CQ", 500, (*Host).dataCertificateSize),
		fn("data_certificate_copy", sig(i32, i32, i32), sig(), "NRQ CQ", 500, (*Host).dataCertificateCopy),

		// Time, timers, counters, controllers (misc.go).
		fn("time", sig(), sig(i64), "*", 500, (*Host).time),
		fn("global_timer_set", sig(i64), sig(i64), "I G U Ry Rt C T", 500, (*Host).globalTimerSet),
		fn("performance_counter", sig(i32), sig(i64), anyStart, 200, (*Host).performanceCounter),
		fn("instruction_counter", sig(), sig(i64), anyStart, 200, (*Host).instructionCounter),
		fn("is_controller", sig(i32, i32), sig(i32), anyStart, 1000, (*Host).isController),
		fn("in_replicated_execution", sig(), sig(i32), anyStart, 500, (*Host).inReplicatedExecution),

		// Cycles fees of the cost_* calls (fees.go; instruction costs are engine/meter/costs.go).
		fn("cost_call", sig(i64, i64, i32), sig(), anyStart, 500, (*Host).costCall),
		fn("cost_create_canister", sig(i32), sig(), anyStart, 500, (*Host).costCreateCanister),
		fn("cost_http_request", sig(i64, i64, i32), sig(), anyStart, 500, (*Host).costHTTPRequest),
		fn("cost_sign_with_ecdsa", sig(i32, i32, i32, i32), sig(i32), anyStart, 500, (*Host).costSignWithECDSA),
		fn("cost_sign_with_schnorr", sig(i32, i32, i32, i32), sig(i32), anyStart, 500, (*Host).costSignWithSchnorr),
		fn("cost_vetkd_derive_key", sig(i32, i32, i32, i32), sig(i32), anyStart, 500, (*Host).costVetKDDeriveKey),

		// Environment variables (envvars.go).
		fn("env_var_count", sig(), sig(i32), "*", 500, (*Host).envVarCount),
		fn("env_var_name_size", sig(i32), sig(i32), "*", 500, (*Host).envVarNameSize),
		fn("env_var_name_copy", sig(i32, i32, i32, i32), sig(), "*", 500, (*Host).envVarNameCopy),
		fn("env_var_name_exists", sig(i32, i32), sig(i32), "*", 500, (*Host).envVarNameExists),
		fn("env_var_value_size", sig(i32, i32), sig(i32), "*", 500, (*Host).envVarValueSize),
		fn("env_var_value_copy", sig(i32, i32, i32, i32, i32), sig(), "*", 500, (*Host).envVarValueCopy),

		// Debugging (misc.go).
		fn("debug_print", sig(i32, i32), sig(), anyStart, 100, (*Host).debugPrint),
		fn("trap", sig(i32, i32), sig(), anyStart, 500, (*Host).trap),

		// Only for wasm32 (I = i32): the 64-bit cycle calls and the 32-bit
		// stable memory calls.
		fn("msg_cycles_available", sig(), sig(i64), cyclesIn, 500, (*Host).msgCyclesAvailable),
		fn("msg_cycles_refunded", sig(), sig(i64), "Rt Ry", 500, (*Host).msgCyclesRefunded),
		fn("msg_cycles_accept", sig(i64), sig(i64), cyclesIn, 500, (*Host).msgCyclesAccept),
		fn("canister_cycle_balance", sig(), sig(i64), "*", 500, (*Host).canisterCycleBalance),
		fn("call_cycles_add", sig(i64), sig(), cyclesOut, 500, (*Host).callCyclesAdd),
		fn("mint_cycles", sig(i64), sig(i64), "U Ry Rt", 0, (*Host).mintCycles),
		fn("stable_size", sig(), sig(i32), anyStart, 0, (*Host).stableSize),
		fn("stable_grow", sig(i32), sig(i32), anyStart, 100, (*Host).stableGrow),
		sized(fn("stable_write", sig(i32, i32, i32), sig(), anyStart, 20, (*Host).stableWrite32)),
		sized(fn("stable_read", sig(i32, i32, i32), sig(), anyStart, 20, (*Host).stableRead32)),
	}
}

// sized marks a function that charges its overhead with its size.
func sized(f Function) Function {
	f.sized = true
	return f
}

// Byte charges beyond the fixed overhead (replica linker.rs): one
// instruction per byte copied, and byteTransmissionCost per byte of payload
// that leaves the sandbox (replies, rejects, call arguments, logs).
const byteTransmissionCost = 50
