package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
)

// ErrNoModule is returned by lifecycle calls that need installed code.
var ErrNoModule = errors.New("the canister has no module installed")

// ErrInstalled is returned by Install on a canister that has code.
var ErrInstalled = errors.New("the canister already has a module: use Reinstall or Upgrade")

// budget counts a message's instructions against its limit over the
// executions it consists of (start and init; pre_upgrade, start and
// post_upgrade). It is the ic0.Meter System API calls charge, and it
// models the replica's deterministic time slicing (dts.go).
type budget struct {
	limit uint64
	used  uint64         // finished executions, and charges when unmetered
	cur   *meter.Counter // the running execution's counter when metered
	// slices is the running execution's counter, metered or not, which
	// out_of_instructions refills.
	slices *meter.Counter
	phases []Phase // one per finished execution
	// slice is the replica's deterministic time slicing slice (0: the
	// execution runs in one slice, as queries do); dts is the running
	// execution's slicing state (dts.go). Not to be confused with slices,
	// canscope's own metering slices.
	slice uint64
	dts   slicing
	// use collects what the executions used, for the headroom report.
	use usage
	// ring is the running execution's event ring on a traced canister.
	ring *EventRing
}

// begin starts an execution of inc with what is left of the limit.
func (b *budget) begin(inc *incarnation) {
	b.slices = inc.meter
	b.use.heapMax = inc.mod.heapMax()
	if inc.mod.metered {
		b.cur = inc.meter
		b.cur.Set(b.limit - min(b.used, b.limit))
	} else if b.slices != nil {
		// Counting slices only: the limit applies to System API charges.
		b.slices.Set(math.MaxInt64)
	}
	b.dts = newSlicing(b.used, b.limit, b.slice)
}

// end adds the finished execution's instructions.
func (b *budget) end() {
	if b.cur != nil {
		b.used += b.cur.Used()
	}
	b.cur, b.slices = nil, nil
}

// Charge implements ic0.Meter.
func (b *budget) Charge(n uint64) bool {
	if b.ring != nil {
		b.ring.drain() // the records before the charge count without it
	}
	b.use.largestCharge = max(b.use.largestCharge, n)
	if b.cur != nil {
		return b.cur.Charge(n)
	}
	b.used += n
	return b.used <= b.limit
}

// Used implements ic0.Meter.
func (b *budget) Used() uint64 {
	if b.cur != nil {
		return b.used + b.cur.Used()
	}
	return b.used
}

// Limit implements ic0.Meter.
func (b *budget) Limit() uint64 { return b.limit }

// call is one execution of an exported function.
type call struct {
	ctx    context.Context
	inc    *incarnation
	export string
	msg    *ic0.Message
	budget *budget
	// fresh marks an execution of an install or upgrade, whose heap may
	// hold the uncommitted writes of the executions before it.
	fresh bool
	// params are the export's arguments (a callback's table index and
	// env); phase names the execution when the export does not.
	params []uint64
	phase  string
}

// stackOverflow is the text of wazero's stack overflow error and of the
// replica's TrapCode::StackOverflow.
const stackOverflow = "stack overflow"

// errCancelled marks an execution stopped by its context.
var errCancelled = errors.New("execution cancelled")

// errFullHeap marks an execution that trapped on a full 4 GiB heap in
// compiled code, which cannot address it; the canister moves to the
// interpreter and the operation must run again.
var errFullHeap = errors.New("the heap reached 4 GiB (65,536 pages), which wazero's compiled code cannot address; the canister now runs on wazero's interpreter: run the operation again")

// execute runs the call and returns the trap it ended with (nil on
// return). A non-trap failure (cancelled context, engine error) is err.
func (c *Canister) execute(k call) (*Trap, error) {
	fn := k.inc.inst.ExportedFunction(k.export)
	if fn == nil {
		return nil, fmt.Errorf("run %s: function not exported", k.export)
	}
	before := k.budget.used
	sizeBefore := k.inc.heap.Live()
	k.inc.dirty = nil
	// Pages already dirty before this execution (an earlier execution of
	// the same install or upgrade) are not charged again.
	var dirtyBefore int
	if k.fresh {
		d, err := k.inc.heap.Dirty()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", k.export, err)
		}
		dirtyBefore = len(d)
	}
	k.budget.begin(k.inc)
	c.running = k.budget
	c.live.publish(k.budget)
	c.host.SetWasm64(k.inc.mod.IsMemory64())
	c.host.Begin(k.msg, k.budget, c.rec)
	if c.ring != nil {
		c.ring.begin(k)
	}
	_, err := fn.Call(k.ctx, k.params...)
	if c.ring != nil {
		c.ring.end(err)
	}
	c.host.End()
	c.running = nil
	k.budget.end()
	k.budget.use.stable(c.host.StableUse())
	phase := Phase{Name: strings.TrimPrefix(k.export, "canister_")}
	if k.phase != "" {
		phase.Name = k.phase
	}
	defer func() {
		phase.Instructions = k.budget.used - before
		k.budget.phases = append(k.budget.phases, phase)
		c.live.publish(k.budget) // with the dirty page charge
	}()
	k.budget.use.heap(k.inc.heap.Live())
	if err == nil {
		if k.budget.used > k.budget.limit {
			// Checks run at loop headers and calls only: a message can
			// end slightly over its limit, which the replica rejects too.
			t := ic0.InstructionLimit(k.budget.limit)
			return &Trap{Code: t.Code, Reason: t.Reason, Message: t.Error()}, nil
		}
		if t := c.checkWasmMemoryLimit(k.msg.Context, sizeBefore, k.inc.heap.Live()); t != nil {
			return t, nil
		}
		// The replica charges dirty_page_overhead for every 4 KiB heap
		// page the execution wrote, after it finished, without failing it
		// for that (rs/embedders/src/wasmtime_embedder/
		// wasmtime_embedder_tests.rs, charge_for_dirty_heap: "We should
		// still succeed").
		dirty, derr := k.inc.heap.Dirty()
		if derr != nil {
			return nil, fmt.Errorf("run %s: %w", k.export, derr)
		}
		k.inc.dirty = append([]uint32{}, dirty...) // for the commit that may follow (commit)
		pages := uint64(max(len(dirty)-dirtyBefore, 0))
		phase.DirtyHeapPages = pages
		// The count the replica reports never exceeds the limit.
		// A wasm64 heap's pages cost wasm64_dirty_page_overhead_multiplier
		// times as much (WasmtimeInstance's dirty_page_overhead,
		// rs/embedders/src/wasmtime_embedder.rs).
		overhead := meter.Charge(c.limits.DirtyPageOverhead)
		if k.inc.mod.IsMemory64() {
			overhead *= meter.Wasm64DirtyPageOverheadMultiplier
		}
		k.budget.used = min(k.budget.used+pages*overhead, k.budget.limit)
		return nil, nil
	}
	if k.ctx.Err() != nil {
		return nil, fmt.Errorf("run %s: %w: %w", k.export, errCancelled, context.Cause(k.ctx))
	}
	if !c.interpreted && k.inc.heap.Live() >= fullHeap {
		// Compiled code cannot address a full heap: the verdict is the
		// interpreter's (see fullHeap).
		return nil, errFullHeap
	}
	t, ok := ic0.AsTrap(err)
	if !ok && err.Error() == stackOverflow {
		// wazero reports a stack overflow bare, without a stack trace.
		t, ok = ic0.Trapped(stackOverflow), true
	}
	if !ok {
		return nil, fmt.Errorf("run %s: %w", k.export, err)
	}
	return k.inc.mod.describeTrap(t, err), nil
}

// rollback discards the uncommitted changes of inc's heap and globals,
// re-instantiating when the message grew the memory or the instance was
// closed (cancellation).
func (c *Canister) rollback(ctx context.Context, inc *incarnation) error {
	grown, err := inc.heap.Rollback()
	if err != nil {
		return err
	}
	if grown || inc.inst.IsClosed() {
		return c.instantiate(ctx, inc, false)
	}
	inc.restoreGlobals()
	return nil
}

// commit keeps the changes of inc's heap and globals and returns the
// 4 KiB heap pages that changed.
func (inc *incarnation) commit() ([]uint32, error) {
	pages, err := inc.heap.CommitDirty(inc.dirty)
	inc.dirty = nil
	if err != nil {
		return nil, err
	}
	inc.readGlobals()
	return append([]uint32(nil), pages...), nil
}

// message runs one non-lifecycle message: export in context kind with msg.
// keep says whether a successful run's changes are committed (false for
// queries and inspect_message).
// calls, when not nil, answers the calls the message makes (answerCalls);
// nil fails each at once with SYS_TRANSIENT.
func (c *Canister) message(ctx context.Context, export string, msg *ic0.Message, limit uint64, keep bool, calls *Calls) (out Result, err error) {
	if c.code == nil {
		return Result{Status: StatusRejected, Code: CodeModuleNotFound,
			RejectMessage: "Attempted to execute a message, but the canister contains no Wasm module."}, nil
	}
	inc := c.code
	msg.CanisterVersion = c.version
	b := &budget{limit: limit}
	if keep {
		// Replicated executions are sliced; queries and inspect_message
		// run in one slice.
		b.slice = c.limits.Slice
	}
	res := Result{Limit: limit, HeapSizeBefore: inc.heap.Size()}
	defer func() {
		if err == nil {
			out.Limits = closestLimits(limitsOf(b, out.HeapSizeAfter, c.wasmLimit), out.CallOutcomes)
			out.StableBytesWritten, out.StableBytesRead = b.use.bytesWritten, b.use.bytesRead
		}
	}()
	if msg.Context == ic0.Update && c.wasmLimit != 0 && inc.heap.Size() > c.wasmLimit {
		// An update call does not start on a heap already over the limit
		// (rs/execution_environment/src/execution/update.rs).
		res.Status, res.Trap = StatusTrapped, trapOf(ic0.WasmMemoryLimit(inc.heap.Size(), c.wasmLimit))
		res.HeapSizeAfter = res.HeapSizeBefore
		return res, nil
	}
	var perf *performer
	if calls != nil {
		perf = calls.performer(c.host.Env().CanisterID)
		msg.Perform = perf.perform(msg)
	}
	input := *msg
	c.st.Begin()
	trap, err := c.execute(call{ctx: ctx, inc: inc, export: export, msg: msg, budget: b})
	if errors.Is(err, errFullHeap) {
		// Run the message again, from the same state, on the interpreter.
		c.st.Rollback()
		if err := c.rollback(ctx, inc); err != nil {
			return Result{}, fmt.Errorf("roll back %s: %w", export, err)
		}
		if err := c.useInterpreter(ctx); err != nil {
			return Result{}, err
		}
		*b = budget{limit: b.limit, slice: b.slice}
		if perf != nil {
			perf.release() // the run again takes them again
		}
		*msg = input
		inc = c.code
		c.st.Begin()
		trap, err = c.execute(call{ctx: ctx, inc: inc, export: export, msg: msg, budget: b})
	}
	res.Instructions, res.Phases = b.used, b.phases
	res.DebugPrints = msg.DebugPrints
	res.Calls = msg.Calls
	res.CertificateRead = msg.CertificateRead
	// A composite query's calls run their callbacks on the state it left;
	// all of it is discarded after the last one (graph).
	graph := perf != nil && !keep && msg.Context == ic0.CompositeQuery
	if err != nil || trap != nil || (!keep && !graph) {
		c.st.Rollback()
		if rerr := c.rollback(ctx, inc); rerr != nil {
			return Result{}, fmt.Errorf("roll back %s: %w", export, rerr)
		}
		if err != nil {
			return Result{}, err
		}
	}
	res.HeapSizeAfter = inc.heap.Size()
	if trap != nil {
		if perf != nil {
			perf.release() // its calls were never made
		}
		res.Status, res.Trap = StatusTrapped, trap
		return res, nil
	}
	if keep {
		pages, err := inc.commit()
		if err != nil {
			c.st.Rollback()
			return Result{}, fmt.Errorf("commit %s: %w", export, err)
		}
		c.st.Commit()
		c.version++
		res.HeapPagesChanged = pages
		res.HeapSizeAfter = inc.heap.Size()
		res.StablePagesChanged = c.st.Stable.LastChanged()
	}
	switch {
	case msg.Rejected:
		res.Status, res.Code, res.RejectMessage = StatusRejected, CodeCanisterRejected, msg.Rejection
	case msg.Replied:
		res.Reply = msg.Reply
	case msg.Context.CanReply():
		res.Status, res.Code = StatusRejected, CodeDidNotReply
		res.RejectMessage = fmt.Sprintf("Canister %s did not reply to the call", c.ID())
	}
	if perf != nil && (keep || graph) {
		aerr := c.answerCalls(ctx, &res, msg, perf, graph)
		if graph {
			c.st.Rollback()
			if rerr := c.rollback(ctx, inc); rerr != nil && aerr == nil {
				aerr = fmt.Errorf("roll back %s: %w", export, rerr)
			}
			res.HeapSizeAfter, res.HeapPagesChanged, res.StablePagesChanged = inc.heap.Size(), nil, nil
		}
		if aerr != nil {
			return Result{}, aerr
		}
	}
	return res, nil
}

// UpdateOptions are the inputs of an update beyond its argument.
type UpdateOptions struct {
	// Cycles are attached to the call, as a call from another canister
	// attaches them (ingress messages carry none): msg_cycles_available
	// starts there, and Result.Cycles says what the canister accepted and
	// what is refunded to the caller.
	Cycles ic0.Cycles
	// Calls answers the calls the update makes, running their callbacks
	// (Result.CallOutcomes); nil fails each at once with SYS_TRANSIENT
	// (ic0.OutgoingCall.Offline).
	Calls *Calls
	// Caller overrides the environment's caller (a self-call comes from
	// the canister).
	Caller []byte
}

// method runs a public method of the given kind.
func (c *Canister) method(ctx context.Context, kind MethodKind, name string, arg []byte, opts UpdateOptions, ictx ic0.Context, limit uint64, keep bool) (res Result, err error) {
	cycles := opts.Cycles
	msg := &ic0.Message{Context: ictx, Method: name, Arg: arg, CyclesAvailable: cycles, Caller: opts.Caller}
	defer func() {
		if err != nil || cycles.IsZero() {
			return
		}
		// What the canister accepted stays with it unless the message
		// trapped (rolled back); the rest goes back to the caller with the
		// response (rs/execution_environment/src/execution/update.rs,
		// the refund of the call context's unaccepted cycles).
		acc := msg.CyclesAccepted
		if res.Status == StatusTrapped || !keep {
			acc = ic0.Cycles{}
		}
		res.Cycles = &CyclesUse{Attached: cycles, Accepted: acc, Refunded: cycles.Sub(acc)}
	}()
	export := kind.exportPrefix() + name
	if c.code != nil && !c.code.mod.HasExport(export) {
		return Result{Status: StatusRejected, Code: CodeMethodNotFound,
			RejectMessage: fmt.Sprintf("Canister has no %s method '%s'.", kind, name)}, nil
	}
	return c.message(ctx, export, msg, limit, keep, opts.Calls)
}

// Update runs the update method name with arg and keeps its changes unless
// it traps.
func (c *Canister) Update(ctx context.Context, name string, arg []byte) (Result, error) {
	return c.method(ctx, Update, name, arg, UpdateOptions{}, ic0.Update, c.limits.Update, true)
}

// UpdateWith runs the update method name with arg and opts.
func (c *Canister) UpdateWith(ctx context.Context, name string, arg []byte, opts UpdateOptions) (Result, error) {
	return c.method(ctx, Update, name, arg, opts, ic0.Update, c.limits.Update, true)
}

// Query runs the query method name with arg, as a non-replicated query
// (as dfx canister call --query does); its changes are always discarded.
func (c *Canister) Query(ctx context.Context, name string, arg []byte) (Result, error) {
	kind, ictx := Query, ic0.NonReplicatedQuery
	if c.code != nil {
		if m, ok := c.code.mod.Method(name); ok && m.Kind == CompositeQuery {
			kind, ictx = CompositeQuery, ic0.CompositeQuery
		}
	}
	return c.method(ctx, kind, name, arg, UpdateOptions{}, ictx, c.limits.Query, false)
}

// QueryWith runs the query method name as Query does; a composite query's
// calls are answered by calls, their callbacks running in the composite
// callback contexts on the state the query left, all discarded at the
// end.
func (c *Canister) QueryWith(ctx context.Context, name string, arg []byte, calls *Calls) (Result, error) {
	if c.code != nil {
		if m, ok := c.code.mod.Method(name); ok && m.Kind == CompositeQuery {
			return c.method(ctx, CompositeQuery, name, arg, UpdateOptions{Calls: calls}, ic0.CompositeQuery, c.limits.Query, false)
		}
	}
	return c.Query(ctx, name, arg)
}

// system runs a system method (heartbeat, timer); calls answers the
// calls it makes (nil: each fails at once, see Calls).
func (c *Canister) system(ctx context.Context, export string, ictx ic0.Context, calls *Calls) (Result, error) {
	if c.code != nil && !c.code.mod.HasExport(export) {
		return Result{Status: StatusRejected, Code: CodeMethodNotFound,
			RejectMessage: fmt.Sprintf("Canister has no system method '%s'.", export)}, nil
	}
	return c.message(ctx, export, &ic0.Message{Context: ictx}, c.limits.Update, true, calls)
}

// Heartbeat runs canister_heartbeat.
func (c *Canister) Heartbeat(ctx context.Context) (Result, error) {
	return c.HeartbeatWith(ctx, nil)
}

// HeartbeatWith runs canister_heartbeat with calls answering the calls it
// makes.
func (c *Canister) HeartbeatWith(ctx context.Context, calls *Calls) (Result, error) {
	return c.system(ctx, "canister_heartbeat", ic0.Heartbeat, calls)
}

// TimerDue reports whether the global timer is active and its deadline
// has come at the environment's time (ic0.time), when the replica would
// run canister_global_timer (CanisterTimer::has_reached_deadline in
// rs/replicated_state/src/canister_state/system_state.rs: now >= deadline;
// deadline 0 is inactive).
func (c *Canister) TimerDue() bool {
	return c.st.GlobalTimer != 0 && c.host.Env().Time >= c.st.GlobalTimer
}

// ErrNoHeartbeat and ErrNoGlobalTimer say that the module does not export
// the system task's entry point, so the IC never runs it.
var (
	ErrNoHeartbeat   = errors.New("the module exports no canister_heartbeat: the IC never runs a heartbeat on it")
	ErrNoGlobalTimer = errors.New("the module exports no canister_global_timer: the IC never runs a timer on it")
)

// TimerNotDueError is a global timer the IC would not run at the
// environment's time: not set (Deadline 0) or its deadline is after Now
// (ns since the epoch). Front ends add how to run it (a later time).
type TimerNotDueError struct{ Deadline, Now uint64 }

func (e *TimerNotDueError) Error() string {
	if e.Deadline == 0 {
		return "the global timer is not set (deadline 0): the IC would not run canister_global_timer"
	}
	return fmt.Sprintf("the global timer is not due: its deadline %s (%d ns) is after the time %s (%d ns)",
		nsText(e.Deadline), e.Deadline, nsText(e.Now), e.Now)
}

// nsText renders an ic0.time value as RFC 3339 (UTC).
func nsText(ns uint64) string {
	return time.Unix(0, int64(min(ns, math.MaxInt64))).UTC().Format(time.RFC3339Nano)
}

// CheckHeartbeat returns ErrNoHeartbeat unless the IC would run
// canister_heartbeat on c (its module exports it).
func (c *Canister) CheckHeartbeat() error {
	if m := c.Module(); m == nil || !m.HasExport("canister_heartbeat") {
		return ErrNoHeartbeat
	}
	return nil
}

// CheckGlobalTimer returns why the IC would not run canister_global_timer
// on c now: ErrNoGlobalTimer, or a *TimerNotDueError (TimerDue is false).
func (c *Canister) CheckGlobalTimer() error {
	if m := c.Module(); m == nil || !m.HasExport("canister_global_timer") {
		return ErrNoGlobalTimer
	}
	if !c.TimerDue() {
		return &TimerNotDueError{Deadline: c.st.GlobalTimer, Now: c.host.Env().Time}
	}
	return nil
}

// GlobalTimer runs canister_global_timer, due or not (see TimerDue). The
// replica deactivates the timer before running it; a trap restores it.
func (c *Canister) GlobalTimer(ctx context.Context) (Result, error) {
	return c.GlobalTimerWith(ctx, nil)
}

// GlobalTimerWith runs canister_global_timer with calls answering the
// calls it makes. A trap of the timer's own execution restores the timer;
// a callback's does not (the timer ran).
func (c *Canister) GlobalTimerWith(ctx context.Context, calls *Calls) (Result, error) {
	saved := c.st.GlobalTimer
	c.st.GlobalTimer = 0
	res, err := c.system(ctx, "canister_global_timer", ic0.GlobalTimer, calls)
	if err != nil || (res.Status != StatusOK && res.Status != StatusAwaiting && len(res.CallOutcomes) == 0) {
		c.st.GlobalTimer = saved
	}
	return res, err
}

// InspectMessage runs canister_inspect_message for an ingress call of
// method with arg. The result is StatusOK when the canister accepted the
// message; without the export every message is accepted.
func (c *Canister) InspectMessage(ctx context.Context, method string, arg []byte) (Result, error) {
	const export = "canister_inspect_message"
	if c.code != nil && !c.code.mod.HasExport(export) {
		return Result{Status: StatusOK}, nil
	}
	msg := &ic0.Message{Context: ic0.InspectMessage, Method: method, Arg: arg}
	res, err := c.message(ctx, export, msg, c.limits.InspectMessage, false, nil)
	if err == nil && res.Status == StatusOK && !msg.Accepted {
		// The replica's HTTP handler answers 403 with this text
		// (MessageAcceptanceError::CanisterRejected in
		// rs/http_endpoints/public/src/call.rs).
		res.Status, res.Code, res.RejectMessage = StatusRejected, CodeCanisterRejected, "Requested canister rejected the message"
	}
	return res, err
}
