package ic0

import (
	"context"
	"fmt"
	"reflect"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/meter"
)

// ModuleName is the import module of the System API.
const ModuleName = "ic0"

// Host serves the ic0 module to one canister. It is single-threaded like the
// canister: Begin and End bracket each execution, and the current message
// is a field the host functions read.
type Host struct {
	state *State
	env   *Env

	msg   *Message
	meter Meter
	rec   Recorder
	// wasm64: the executing module runs in wasm64 mode (SetWasm64).
	wasm64 bool
	// pending is the call being assembled between call_new and call_perform.
	pending *OutgoingCall
	// unmetered counts charges when the engine supplies no Meter.
	unmetered countingMeter
	// limits are the stable page limits and dirty page overhead (SetLimits);
	// pages is the stable memory use of the running execution.
	limits meter.Limits
	pages  pageUse
	// logUsed is the part of the canister log this execution filled.
	logUsed uint64
	// prints are the execution's debug prints (bounded, prints.go).
	prints printLog
	// cert is the execution's data certificate once made (certificate).
	cert     []byte
	certMade bool
}

// NewHost returns a host that serves the System API over state and env.
// A nil state means NewState(), a nil env DefaultEnv().
func NewHost(state *State, env *Env) *Host {
	if state == nil {
		state = NewState()
	}
	if env == nil {
		env = DefaultEnv()
	}
	return &Host{state: state, env: env, limits: meter.DefaultLimits()}
}

// State returns the state the host changes.
func (h *Host) State() *State { return h.state }

// Env returns the environment the host reads.
func (h *Host) Env() *Env { return h.env }

// SetEnv replaces the environment between messages; nil means
// DefaultEnv().
func (h *Host) SetEnv(env *Env) {
	if env == nil {
		env = DefaultEnv()
	}
	h.env = env
}

// Instantiate defines and instantiates the "ic0" host module in r, with
// every function of Functions(), and its wasm64 twin
// (meter.Wasm64SystemAPI). Instantiate it once per runtime, before the
// canister module.
func (h *Host) Instantiate(ctx context.Context, r wazero.Runtime) (api.Module, error) {
	b := r.NewHostModuleBuilder(ModuleName)
	for _, f := range functionTable() {
		b.NewFunctionBuilder().
			WithGoModuleFunction(h.hostFunc(f), f.Params, f.Results).
			WithName(f.Name).
			Export(f.Name)
	}
	mod, err := b.Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("instantiate host module %s: %w", ModuleName, err)
	}
	// The same functions with the wasm64 signatures, for lowered wasm64
	// modules (wasm64.go).
	if err := h.instantiate64(ctx, r); err != nil {
		return nil, err
	}
	return mod, nil
}

// SetWasm64 says whether the module executing next runs in wasm64 mode
// (a 64-bit memory), where the replica charges instructions more cycles
// (call_perform's reservation for the callback, cost_call).
func (h *Host) SetWasm64(wasm64 bool) { h.wasm64 = wasm64 }

// Begin starts an execution of msg. meter may be nil (no limit; System API
// charges are still counted for performance_counter); rec may be nil.
func (h *Host) Begin(msg *Message, meter Meter, rec Recorder) {
	h.msg = msg
	h.unmetered = countingMeter{}
	if meter == nil {
		meter = &h.unmetered
	}
	h.meter = meter
	h.rec = rec
	h.pending = nil
	h.cert, h.certMade = nil, false
	h.pages.accessed.reset()
	h.pages.dirty.reset()
	h.pages.accessLimit = pageLimit(h.limits.StableAccessedPages, msg.Context)
	h.pages.dirtyLimit = pageLimit(h.limits.StableDirtyPages, msg.Context)
	h.pages.bytesRead, h.pages.bytesWritten = 0, 0
	h.logUsed = 0
	h.prints.reset()
}

// End finishes the current execution. A call assembled with call_new but
// never performed is dropped, as the replica does.
func (h *Host) End() {
	if h.msg != nil {
		h.msg.DebugPrints = append(h.msg.DebugPrints, h.prints.rest()...)
		h.prints.reset()
	}
	h.msg = nil
	h.meter = nil
	h.rec = nil
	h.pending = nil
}

// Message returns the current message, or nil between executions.
func (h *Host) Message() *Message { return h.msg }

// hostFunc wraps one System API function: charge its fixed cost, enforce the
// context table, run it, and report it to the recorder.
func (h *Host) hostFunc(f Function) api.GoModuleFunc {
	nParams, nResults := len(f.Params), len(f.Results)
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		msg := h.msg
		if msg == nil {
			panic(ContractViolation("ic0.%s called outside a message execution", f.Name))
		}
		if !f.sized {
			h.charge(f.Overhead)
		}
		if !f.Contexts.Has(msg.Context) {
			panic(notAllowed(f.Name, msg.Context))
		}
		if h.rec == nil {
			f.impl(h, mod, stack)
			return
		}
		h.callRecorded(&f, mod, stack, nParams, nResults)
	}
}

// callRecorded runs f and reports it to the recorder; a call that traps is
// reported with nil results before the trap unwinds.
func (h *Host) callRecorded(f *Function, mod api.Module, stack []uint64, nParams, nResults int) {
	var params [8]uint64
	copy(params[:], stack[:nParams])
	done := false
	defer func() {
		if !done {
			h.rec.SystemCall(f.Name, params[:nParams], nil)
		}
	}()
	f.impl(h, mod, stack)
	done = true
	h.rec.SystemCall(f.Name, params[:nParams], stack[:nResults])
}

// SliceMeter is a Meter that also models deterministic time slicing:
// CheckCharge returns the trap the replica raises for a charge of n
// instructions at this point (SliceOverrun), or nil.
type SliceMeter interface {
	Meter
	CheckCharge(n uint64) *Trap
}

// charge adds n instructions to the message and traps when over the limit.
func (h *Host) charge(n uint64) {
	if s, ok := h.meter.(SliceMeter); ok {
		if t := s.CheckCharge(n); t != nil {
			panic(t)
		}
	}
	if !h.meter.Charge(n) {
		panic(InstructionLimit(h.meter.Limit()))
	}
}

// countingMeter is the meter of executions without a limit.
type countingMeter struct{ used uint64 }

// Charge counts n instructions; there is no limit.
func (m *countingMeter) Charge(n uint64) bool { m.used += n; return true }

// Used returns the instructions charged so far.
func (m *countingMeter) Used() uint64 { return m.used }

// Limit returns the largest count, standing for "no limit".
func (m *countingMeter) Limit() uint64 { return ^uint64(0) }

// heap returns the canister's memory 0, nil when it declares none.
// wazero returns a typed nil for a module without memory, hence reflect.
func heap(mod api.Module) api.Memory {
	m := mod.Memory()
	if m == nil {
		return nil
	}
	if v := reflect.ValueOf(m); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return m
}

// heapSize returns the heap size in bytes.
func heapSize(mod api.Module) uint64 { return memSize(heap(mod)) }

// memSize returns the size of mem in bytes, 0 for no memory.
func memSize(mem api.Memory) uint64 { return MemoryBytes(mem) }

// MemoryBytes returns the size of a wasm memory in bytes, 0 for nil.
// wazero's Memory.Size is a uint32, so a full 4 GiB heap (65,536 pages,
// which the replica allows) reads as 0 there; Grow(0) returns the page
// count, which fits.
func MemoryBytes(mem api.Memory) uint64 {
	if mem == nil {
		return 0
	}
	if n := mem.Size(); n != 0 {
		return uint64(n)
	}
	if pages, ok := mem.Grow(0); ok {
		return uint64(pages) * 65536
	}
	return 0
}

// subslice checks that [src, src+size) lies inside a slice of length n,
// trapping with the replica's text (valid_subslice) otherwise:
// `ic0.<name> <part>: src=.. + length=.. exceeds the slice size=..`.
// The text is built only on failure: this runs on every copy.
func subslice(name, part string, src, size, n uint64) {
	if src+size >= src && src+size <= n {
		return
	}
	if part != "" {
		part = " " + part
	}
	t := ContractViolation("ic0.%s%s: src=%d + length=%d exceeds the slice size=%d", name, part, src, size, n)
	// valid_subslice raises a ToolchainContractViolation, whose help is
	// ErrorHelp::ToolchainError (rs/interfaces/src/execution_environment/errors.rs).
	t.Suggestion = ToolchainHelp
	panic(t)
}

// ToolchainHelp is the replica's ErrorHelp::ToolchainError text, the help
// of contract violations a CDK rather than the canister author causes.
const ToolchainHelp = "This is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister."

// readHeap returns a view of size heap bytes at src (no copy), trapping like
// the replica when the range is outside the heap.
func readHeap(mod api.Module, name, part string, src, size uint32) []byte {
	mem := heap(mod)
	subslice(name, part, uint64(src), uint64(size), memSize(mem))
	if size == 0 {
		return nil
	}
	b, _ := mem.Read(src, size)
	return b
}

// copyOut implements the `<name>_copy(dst, offset, size)` idiom: copy
// data[offset:offset+size] to the heap at dst.
func copyOut(mod api.Module, name string, what string, dst, offset, size uint32, data []byte) {
	mem := heap(mod)
	subslice(name, "heap", uint64(dst), uint64(size), memSize(mem))
	subslice(name, what, uint64(offset), uint64(size), uint64(len(data)))
	if size == 0 {
		return
	}
	mem.Write(dst, data[offset:offset+size])
}

// writeCycles stores a 128-bit amount at dst (16 bytes, little-endian).
func writeCycles(mod api.Module, name string, dst uint32, c Cycles) {
	mem := heap(mod)
	subslice(name, "heap", uint64(dst), 16, memSize(mem))
	mem.Write(dst, c.bytes())
}
