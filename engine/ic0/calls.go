package ic0

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/principal"
)

// rejectSysTransient is the reject code call_perform returns: the call was
// not made (SYS_TRANSIENT), which is how canscope completes every call.
const rejectSysTransient = 2

// maxBestEffortTimeout caps call_with_best_effort_response (seconds).
const maxBestEffortTimeout = 300

// building returns the call under construction or traps.
func (h *Host) building(name string) *OutgoingCall {
	if h.pending == nil {
		panic(ContractViolation("ic0.%s called when no call is under construction.", name))
	}
	return h.pending
}

// callNew: call_new(callee_src, callee_size, name_src, name_size, reply_fun,
// reply_env, reject_fun, reject_env) starts a call. A call started earlier
// and not performed is discarded.
func (h *Host) callNew(mod api.Module, s []uint64) {
	calleeSrc, calleeSize := uint32(s[0]), uint32(s[1])
	nameSrc, nameSize := uint32(s[2]), uint32(s[3])
	h.charge(uint64(calleeSize) + uint64(nameSize))
	callee := readHeap(mod, "call_new", "callee_src", calleeSrc, calleeSize)
	name := readHeap(mod, "call_new", "method_name", nameSrc, nameSize)
	h.pending = &OutgoingCall{
		Callee:    append([]byte{}, callee...),
		Method:    string(name),
		ReplyFn:   uint64(uint32(s[4])),
		ReplyEnv:  uint64(uint32(s[5])),
		RejectFn:  uint64(uint32(s[6])),
		RejectEnv: uint64(uint32(s[7])),
	}
}

// callOnCleanup: call_on_cleanup(fun, env), at most once per call.
func (h *Host) callOnCleanup(_ api.Module, s []uint64) {
	c := h.building("call_on_cleanup")
	if c.HasCleanup {
		panic(ContractViolation("ic0.call_on_cleanup: can be called at most once between `ic0.call_new` and `ic0.call_perform`"))
	}
	c.CleanupFn, c.CleanupEnv, c.HasCleanup = uint64(uint32(s[0])), uint64(uint32(s[1])), true
}

// callDataAppend: call_data_append(src, size) appends to the call argument.
func (h *Host) callDataAppend(mod api.Module, s []uint64) {
	src, size := uint32(s[0]), uint32(s[1])
	h.charge(byteTransmissionCost * uint64(size))
	c := h.building("call_data_append")
	data := readHeap(mod, "call_data_append", "", src, size)
	if len(c.Arg)+len(data) > maxReplySize {
		panic(ContractViolation("ic0.call_data_append: payload size (%d) cannot be larger than %d.", len(c.Arg)+len(data), maxReplySize))
	}
	c.Arg = append(c.Arg, data...)
}

// callWithBestEffortResponse: call_with_best_effort_response(timeout)
// makes the call best-effort, at most once per call; the timeout is capped
// at 300 s.
func (h *Host) callWithBestEffortResponse(_ api.Module, s []uint64) {
	c := h.building("call_with_best_effort_response")
	if c.BestEffort {
		panic(ContractViolation("ic0_call_with_best_effort_response failed because it can be called at most once between `ic0.call_new` and `ic0.call_perform`."))
	}
	c.BestEffort = true
	c.TimeoutSeconds = min(uint32(s[0]), maxBestEffortTimeout)
}

// addCycles moves n cycles from the balance to the call under
// construction, trapping when the balance is too small.
func (h *Host) addCycles(name string, n Cycles) {
	c := h.building(name)
	if h.state.Cycles.Less(n) {
		panic(&Trap{Code: CodeCanisterOutOfCycles, Reason: "Canister " + principal.Text(h.env.CanisterID) +
			" is out of cycles: please top up the canister with at least " +
			n.Sub(h.state.Cycles).String() + " additional cycles"})
	}
	h.state.Cycles = h.state.Cycles.Sub(n)
	c.Cycles = c.Cycles.Add(n)
}

// callCyclesAdd128: call_cycles_add128(high, low).
func (h *Host) callCyclesAdd128(_ api.Module, s []uint64) {
	h.addCycles("call_cycles_add128", Cycles{High: s[0], Low: s[1]})
}

// callCyclesAdd: call_cycles_add(amount), the 64-bit predecessor.
func (h *Host) callCyclesAdd(_ api.Module, s []uint64) {
	h.addCycles("call_cycles_add", CyclesFrom(s[0]))
}

// callPerform: call_perform() -> i32 records the call in Message.Calls.
// It first withdraws the call's fees (CallFees) as the replica's
// push_output_request does (rs/system_api/src/lib.rs): when the balance
// does not cover them it returns SYS_TRANSIENT, the attached cycles go back
// to the balance and the call is not made — the IC's own failure. Then,
// when Message.Perform makes it, it returns 0 and the cycles go with the
// call; otherwise it returns SYS_TRANSIENT: the call is not made offline,
// fees and cycles go back to the balance and no callback will run (see
// OutgoingCall).
func (h *Host) callPerform(_ api.Module, s []uint64) {
	c := h.building("call_perform")
	h.pending = nil
	c.Performed = true
	fees := callFees(uint64(len(c.Method))+uint64(len(c.Arg)), h.wasm64)
	if need := fees.Total(); h.state.Cycles.Less(need) {
		// CanisterOutOfCyclesError (no freezing threshold offline).
		c.OutOfCycles = "Canister " + principal.Text(h.env.CanisterID) + " is out of cycles: please top up the canister with at least " +
			need.Sub(h.state.Cycles).String() + " additional cycles"
		h.fail(c, s)
		return
	}
	if h.msg.Perform != nil && h.msg.Perform(c) {
		h.state.Cycles = h.state.Cycles.Sub(fees.Total())
		c.Fees = fees
		h.msg.Calls = append(h.msg.Calls, *c)
		s[0] = 0
		return
	}
	h.fail(c, s)
}

// fail completes call_perform with SYS_TRANSIENT: the call is not made and
// its cycles go back to the balance.
func (h *Host) fail(c *OutgoingCall, s []uint64) {
	h.state.Cycles = h.state.Cycles.Add(c.Cycles)
	c.RejectCode = rejectSysTransient
	h.msg.Calls = append(h.msg.Calls, *c)
	s[0] = rejectSysTransient
}
