package trace

import (
	"context"
	"errors"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
)

// errAbandoned is the panic a paused execution is stopped with when the
// session moves elsewhere; the engine turns it into an error and rolls the
// canister back.
var errAbandoned = errors.New("trace: execution abandoned by time travel")

// frame is one canister function on the traced call stack.
type frame struct {
	mod *engine.Module
	fn  uint32
}

// command tells a paused execution what to do next.
type command struct {
	target  int  // pause again after this event
	abandon bool // stop the execution
}

// recorder follows one execution of a session's message: it numbers the
// events (function listener and System API recorder together), keeps the
// call stack, and either records the events or pauses at a target event.
// Every execution of the same message produces the same events, which is
// what makes an event index a position in time.
type recorder struct {
	c       *engine.Canister
	old     *engine.Module // the module running at the start
	upgrade *engine.Module // an upgrade's new module, nil for a message

	// record collects events (the first execution); later executions
	// only count them.
	record    bool
	events    []Event
	maxEvents int

	n      int // events so far
	target int // pause after event target; -1: never
	stack  []frame
	phase  string
	mod    *engine.Module // the module of the running phase
	inst   api.Module     // the running instance
	pages  uint32         // heap size in pages at the last event
	stable map[uint64]struct{}
	// replaced is set once an upgrade's new module runs (or, in a
	// rehearsal, was installed): from then on the heap is a new one.
	replaced bool
	trapped  bool
	stopping bool

	// ctx is the execution's context, kept because SystemCall has none
	// and a paused execution must notice its cancellation.
	ctx    context.Context
	paused chan int // the event index paused at
	resume chan command
}

func newRecorder(ctx context.Context, c *engine.Canister, old, upgrade *engine.Module, target int) *recorder {
	return &recorder{
		c: c, old: old, upgrade: upgrade, target: target,
		stable: make(map[uint64]struct{}),
		ctx:    ctx,
		paused: make(chan int, 1),
		resume: make(chan command),
	}
}

// recorderKey is the context key under which an execution's recorder
// travels to the function listeners.
type recorderKey struct{}

// withRecorder returns ctx carrying r for the listeners, and the listener
// factory so modules compiled under it get the traced variant.
func withRecorder(ctx context.Context, r *recorder) context.Context {
	return context.WithValue(WithListeners(ctx), recorderKey{}, r)
}

// WithListeners returns ctx with the trace function listeners: modules
// loaded (engine.Engine.Load) and canisters restored or upgraded under it
// run the traced variant of their code. Outside a traced execution the
// listeners do nothing, but they still cost a call per function call.
func WithListeners(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, listenerFactory{})
}

// listenerFactory installs one stateless listener on every function the
// canister module defines. Compiled code is cached and shared between
// canisters, so the listener finds its execution's recorder in the call
// context instead of holding one.
type listenerFactory struct{}

func (listenerFactory) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	if def.GoFunction() != nil {
		return nil // host modules (ic0, the meter's): the recorder sees ic0 calls
	}
	return listener{}
}

type listener struct{}

func (listener) Before(ctx context.Context, mod api.Module, def api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	if r, ok := ctx.Value(recorderKey{}).(*recorder); ok {
		r.enter(mod, def, params)
	}
}

func (listener) After(ctx context.Context, mod api.Module, def api.FunctionDefinition, results []uint64) {
	if r, ok := ctx.Value(recorderKey{}).(*recorder); ok {
		r.exit(mod, def, results)
	}
}

func (listener) Abort(ctx context.Context, mod api.Module, _ api.FunctionDefinition, _ error) {
	if r, ok := ctx.Value(recorderKey{}).(*recorder); ok {
		r.abort(mod)
	}
}

func (r *recorder) done() bool { return r.trapped || r.stopping }

func (r *recorder) enter(mod api.Module, def api.FunctionDefinition, params []uint64) {
	if r.done() {
		return
	}
	if len(r.stack) == 0 {
		r.startPhase(mod, def)
	} else {
		r.checkGrow(mod)
	}
	fn, ok := r.mod.OriginalFunc(def.Index())
	if !ok {
		return // the metering rewrite's helpers
	}
	depth := len(r.stack)
	r.stack = append(r.stack, frame{mod: r.mod, fn: fn})
	var args []uint64
	if r.record {
		args = masked(params, def.ParamTypes())
	}
	r.emit(Enter, depth, "", args, nil, false)
}

func (r *recorder) exit(mod api.Module, def api.FunctionDefinition, results []uint64) {
	if r.done() {
		return
	}
	r.checkGrow(mod)
	if _, ok := r.mod.OriginalFunc(def.Index()); !ok || len(r.stack) == 0 {
		return
	}
	var res []uint64
	if r.record {
		res = masked(results, def.ResultTypes())
	}
	r.emit(Exit, len(r.stack)-1, "", nil, res, false)
	r.stack = r.stack[:len(r.stack)-1]
}

func (r *recorder) abort(mod api.Module) {
	if r.done() {
		return
	}
	r.inst = mod
	r.trapped = true
	r.emit(Trap, len(r.stack), "", nil, nil, true)
}

// SystemCall implements ic0.Recorder.
func (r *recorder) SystemCall(name string, params, results []uint64) {
	if r.done() {
		return
	}
	if r.inst != nil {
		r.checkGrow(r.inst)
	}
	trapped := results == nil
	r.noteStable(name, params, results)
	var args, res []uint64
	if r.record {
		f, _ := ic0.Lookup(name)
		args = masked(params, f.Params)
		if !trapped {
			res = masked(results, f.Results)
		}
	}
	idx := r.n
	r.emit(Syscall, len(r.stack), name, args, res, trapped)
	if name == "debug_print" && !trapped && r.record && r.inst != nil {
		if n := len(r.events); n > 0 && r.events[n-1].Index == idx {
			r.events[n-1].Text = ic0.DebugText(r.inst, args[0], args[1])
		}
	}
	if trapped {
		r.trapped = true
		r.emit(Trap, len(r.stack), "", nil, nil, true)
		return
	}
	if grown, old, ok := stableGrow(name, params, results); ok {
		r.emit(Grow, len(r.stack), StableMemory, []uint64{grown}, []uint64{old}, false)
	}
}

// startPhase notes a new entry point (depth 0): its name, the module it
// belongs to and the instance's heap size.
func (r *recorder) startPhase(mod api.Module, def api.FunctionDefinition) {
	r.phase = ""
	for _, n := range def.ExportNames() {
		if p, ok := strings.CutPrefix(n, "canister_"); ok {
			r.phase = p
			break
		}
	}
	if r.upgrade != nil && r.phase != "pre_upgrade" {
		r.replaced = true
	}
	r.mod = r.old
	if r.replaced {
		r.mod = r.upgrade
	}
	r.inst = mod
	r.pages = memPages(mod)
}

// checkGrow emits a Grow event when the heap grew since the last event:
// memory.grow is an instruction, not a call, so it shows at the next
// function boundary.
func (r *recorder) checkGrow(mod api.Module) {
	r.inst = mod
	if p := memPages(mod); p != r.pages {
		old := r.pages
		r.pages = p
		r.emit(Grow, len(r.stack), HeapMemory, []uint64{uint64(p - old)}, []uint64{uint64(old)}, false)
	}
}

func memPages(mod api.Module) uint32 {
	if mem := mod.Memory(); mem != nil {
		return mem.Size() / engine.PageSize
	}
	return 0
}

// noteStable remembers the stable pages a write touches, for checkpoints
// (the stable memory does not list an open message's writes).
func (r *recorder) noteStable(name string, params, results []uint64) {
	var off, size uint64
	switch name {
	case "stable_write":
		off, size = uint64(uint32(params[0])), uint64(uint32(params[2]))
	case "stable64_write":
		off, size = params[0], params[2]
	default:
		return
	}
	if results == nil || size == 0 {
		return
	}
	for p := off / engine.PageSize; p <= (off+size-1)/engine.PageSize; p++ {
		r.stable[p] = struct{}{}
	}
}

// stableGrow reports a successful stable grow call: pages added and the
// old size.
func stableGrow(name string, params, results []uint64) (grown, old uint64, ok bool) {
	switch name {
	case "stable_grow":
		if uint32(results[0]) == ^uint32(0) {
			return 0, 0, false
		}
		return uint64(uint32(params[0])), uint64(uint32(results[0])), uint32(params[0]) != 0
	case "stable64_grow":
		if results[0] == ^uint64(0) {
			return 0, 0, false
		}
		return params[0], results[0], params[0] != 0
	}
	return 0, 0, false
}

// masked copies raw wasm values, keeping only the low 32 bits of i32 and
// f32 values: the engine leaves the upper half of a 32-bit value on the
// stack undefined. The result is never nil.
func masked(vs []uint64, types []api.ValueType) []uint64 {
	out := make([]uint64, len(vs))
	for i, v := range vs {
		if i < len(types) && (types[i] == api.ValueTypeI32 || types[i] == api.ValueTypeF32) {
			v = uint64(uint32(v))
		}
		out[i] = v
	}
	return out
}

// emit numbers an event, records it on the first execution and pauses
// when it is the target. args and results become the event's. final
// marks the trap, after which the execution unwinds and cannot be
// stopped.
func (r *recorder) emit(kind Kind, depth int, name string, args, results []uint64, final bool) {
	idx := r.n
	r.n++
	if r.record && len(r.events) < r.maxEvents {
		ev := Event{Index: idx, Kind: kind, Phase: r.phase, Name: name, Depth: depth,
			Args: args, Results: results}
		if len(r.stack) > 0 {
			top := r.stack[len(r.stack)-1]
			ev.Function = top.mod.FuncLabel(top.fn)
		}
		if ev.Args == nil {
			ev.Args = []uint64{}
		}
		if ev.Results == nil && kind != Syscall {
			ev.Results = []uint64{}
		}
		ev.Instructions, _, _ = r.c.Instructions()
		r.events = append(r.events, ev)
	}
	if idx == r.target {
		r.pause(idx, final)
	}
}

// pause hands the execution to the session until it says where to go.
func (r *recorder) pause(idx int, final bool) {
	r.paused <- idx
	var cmd command
	select {
	case cmd = <-r.resume:
	case <-r.ctx.Done():
		cmd.abandon = true
	}
	if !cmd.abandon {
		r.target = cmd.target
		return
	}
	r.stopping = true
	if !final {
		// A trap unwinds on its own; anything else is stopped here.
		panic(errAbandoned)
	}
}
