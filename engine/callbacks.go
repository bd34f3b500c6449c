package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/wasm"
)

// callbackExport is the function prepare adds to every module with a
// table: it calls table entry fn with env, as the replica invokes a
// callback (FuncRef::UpdateClosure: the closure's table index and env),
// since wazero cannot call a table entry from the host. The space keeps
// it apart from every name a canister exports.
const callbackExport = "canscope callback"

// addCallbackEntry appends callbackExport to m (already instrumented:
// its body is not metered, it is three instructions the replica does not
// run). A module without a table gets none: its callbacks cannot run. A
// wasm64 module's callbacks take their env as an i64 (`I` in call_new).
func addCallbackEntry(m *wasm.Module, memory64 bool) {
	if len(m.Tables) == 0 || m.NumImported(wasm.KindTable) > 0 {
		return
	}
	env := wasm.I32
	if memory64 {
		env = wasm.I64
	}
	cb := m.AddType(wasm.FuncType{Params: []wasm.ValueType{env}})
	entry := m.AddType(wasm.FuncType{Params: []wasm.ValueType{wasm.I32, env}})
	body := &wasm.Body{Instrs: []wasm.Instr{
		{Op: wasm.OpLocalGet, Index: 1},
		{Op: wasm.OpLocalGet, Index: 0},
		{Op: wasm.OpCallIndirect, Index: cb, Index2: 0},
		{Op: wasm.OpEnd},
	}}
	idx := uint32(m.NumImportedFuncs() + len(m.Functions))
	m.SetFunctions(append(slices.Clone(m.Functions), entry))
	m.SetCode(append(slices.Clone(m.Code), wasm.Code{Body: body.Encode()}))
	m.SetExports(append(slices.Clone(m.Exports), wasm.Export{Name: callbackExport, Kind: wasm.KindFunc, Index: idx}))
}

// Response answers an outgoing call: a reply with Payload, or a reject
// with RejectCode (1 SYS_FATAL ... 6 SYS_UNKNOWN) and RejectMessage.
type Response struct {
	Reject        bool
	RejectCode    uint32
	RejectMessage string
	Payload       []byte
	// Accepted are the attached cycles the callee kept; the rest is
	// refunded (a scripted answer keeps none).
	Accepted ic0.Cycles
}

// Calls says how the engine completes the calls a message makes.
type Calls struct {
	// Answer returns the response to a call, false when it has none.
	Answer func(ic0.OutgoingCall) (Response, bool)
	// Release, when set, gives back the response Answer last returned for
	// a call like call: the execution that took it in call_perform
	// (RejectUnanswered) trapped or ran again, so the call was never made.
	Release func(call ic0.OutgoingCall)
	// RejectUnanswered makes a call Answer has no response for fail at
	// once in call_perform with SYS_TRANSIENT (as without Calls) instead
	// of being held. Calls to the canister itself are executed by the
	// engine when Answer has none (selfCall).
	RejectUnanswered bool

	selfCalls int // self-calls executed so far in this run
	// graph is the composite query call graph being answered, if any.
	graph *queryGraph
}

// maxSelfCalls bounds the self-calls one run executes: a canister that
// calls itself forever would not end. Past it, self-calls are held, and
// the outcome says so.
const maxSelfCalls = 1000

// CallOutcome is how one outgoing call of a message completed.
type CallOutcome struct {
	Call ic0.OutgoingCall
	// Response answered it; nil when the call was held (no answer) or
	// failed at once in call_perform (Call.Offline).
	Response *Response
	// Held: the call was performed and no answer came; its callback has
	// not run. HeldReason says why when it is not the missing answer.
	Held       bool
	HeldReason string
	// SelfCall is the result of the call's method when the call went to
	// the canister itself and the engine executed it.
	SelfCall *Result
	// Callback is its reply or reject callback's execution, Cleanup the
	// cleanup's (run when the callback trapped); nil when none ran.
	Callback, Cleanup *Execution
	// Skipped says why a composite query's call was not completed: the
	// query had responded, or its call graph passed a limit (words for
	// the output, starting "not executed", "answered" or "executed").
	Skipped string
	// FeesRefunded is what came back of Call.Fees' reservations with the
	// response: the unused response transmission and the instructions
	// the callback and cleanup left of the execution reservation.
	FeesRefunded ic0.Cycles
}

// CallFeesUse is what a message's outgoing calls paid: the fees
// call_perform withdrew (ic0.CallFees) and what came back of the
// reservations with the responses. Held calls keep their reservations.
type CallFeesUse struct {
	Withdrawn, Refunded ic0.Cycles
}

// Charged is what the calls cost the canister.
func (u CallFeesUse) Charged() ic0.Cycles { return u.Withdrawn.Sub(u.Refunded) }

// callFeesOf sums the fees of res's calls; nil when none paid any.
func callFeesOf(res *Result) *CallFeesUse {
	var u CallFeesUse
	for i, call := range res.Calls {
		u.Withdrawn = u.Withdrawn.Add(call.Fees.Total())
		if i < len(res.CallOutcomes) {
			u.Refunded = u.Refunded.Add(res.CallOutcomes[i].FeesRefunded)
		}
	}
	if u.Withdrawn.IsZero() {
		return nil
	}
	return &u
}

// Execution is one callback or cleanup execution: its own instruction
// limit, its own rollback.
type Execution struct {
	// Name is "reply callback", "reject callback" or "cleanup".
	Name         string
	Status       Status
	Trap         *Trap
	Instructions uint64
	// Limits is the execution's headroom report (as Result.Limits).
	Limits []LimitUse
}

// callContext is the state of an update's call context while its calls
// are answered: whether it responded, and the first execution's result
// collecting what the callbacks add.
type callContext struct {
	res       *Result
	responded bool
	// lastTrap is the trap of the latest callback that trapped: the
	// caller's error when nothing else responds.
	lastTrap *Trap
	// graph: the call context is a composite query's; its executions
	// share one uncommitted unit, discarded by the caller at the end, and
	// the budget g.
	graph bool
	g     *queryGraph
}

// performer decides call_perform for one execution: every call is made,
// unless unanswered calls are rejected at once; then the answer is taken
// when the call is performed, kept by the call's index in Message.Calls.
type performer struct {
	calls   *Calls
	self    []byte // the canister's id: its calls to itself are made
	answers map[int]Response
	taken   []ic0.OutgoingCall // the calls answers holds responses for, in order
}

func (calls *Calls) performer(self []byte) *performer {
	return &performer{calls: calls, self: self, answers: map[int]Response{}}
}

// perform implements Message.Perform for msg.
func (p *performer) perform(msg *ic0.Message) func(*ic0.OutgoingCall) bool {
	return func(call *ic0.OutgoingCall) bool {
		if !p.calls.RejectUnanswered {
			return true
		}
		r, ok := p.calls.Answer(*call)
		if ok {
			p.answers[len(msg.Calls)] = r
			p.taken = append(p.taken, *call)
		}
		return ok || bytes.Equal(call.Callee, p.self)
	}
}

// release gives back the answers p took at call_perform, latest first:
// the execution trapped (or runs again), so none of its calls was made.
func (p *performer) release() {
	for i := len(p.taken) - 1; i >= 0; i-- {
		if p.calls.Release != nil {
			p.calls.Release(p.taken[i])
		}
	}
	p.taken, p.answers = nil, map[int]Response{}
}

// pendingCall is a performed call waiting for its response.
type pendingCall struct {
	call ic0.OutgoingCall
	// resp is the answer taken in call_perform (RejectUnanswered).
	resp *Response
}

// pending lists the calls of msg with the answers p took for them.
func (p *performer) pending(msg *ic0.Message) []pendingCall {
	out := make([]pendingCall, len(msg.Calls))
	for i, c := range msg.Calls {
		out[i].call = c
		if r, ok := p.answers[i]; ok {
			out[i].resp = &r
		}
	}
	return out
}

// answerCalls completes the calls msg made, in order, running each
// answered call's callback as its own execution (as the replica executes
// a response: rs/execution_environment/src/execution/response.rs), and
// then the calls those callbacks make. It sets res's status from the
// call context: the reply or reject of whichever execution responded; a
// callback's trap when nothing responded and no call is left; "awaiting"
// while calls are held.
func (c *Canister) answerCalls(ctx context.Context, res *Result, msg *ic0.Message, p *performer, graph bool) error {
	calls := p.calls
	cc := &callContext{res: res, responded: msg.Replied || msg.Rejected, graph: graph}
	if graph {
		if calls.graph == nil {
			// The query the user sent: its graph starts here.
			calls.graph = &queryGraph{left: maxQueryCallGraphInstructions}
			defer func() { calls.graph = nil }()
		}
		cc.g = calls.graph
		cc.g.charge(res.Instructions) // the node's first execution
		res.graphCharged = true
	}
	queue := p.pending(msg)
	if len(queue) == 0 {
		return nil
	}
	res.Calls = nil
	awaiting := 0
	if g := cc.g; g != nil && g.depth >= maxQueryCallDepth && g.code == "" {
		g.code, g.message = CodeQueryCallGraphTooDeep, "Composite query calls exceeded the maximum call depth."
	}
	for len(queue) > 0 {
		call, resp := queue[0].call, queue[0].resp
		queue = queue[1:]
		out := CallOutcome{Call: call}
		if g := cc.g; g != nil && (cc.responded || !g.check()) {
			// The replica's traversal ends a node's calls once it has
			// responded (the rest cannot change the response), and the
			// whole query once a limit is passed.
			out.Skipped = "not executed: the composite query had already responded (the replica drops the rest of its call graph)"
			if g.code != "" {
				out.Skipped = "not executed: the call graph ended: " + g.message
			}
			res.Calls = append(res.Calls, call)
			res.CallOutcomes = append(res.CallOutcomes, out)
			continue
		}
		if !call.Offline() {
			if resp == nil {
				if r, ok := calls.Answer(call); ok {
					resp = &r
				} else if bytes.Equal(call.Callee, c.host.Env().CanisterID) {
					var err error
					if resp, err = c.selfCall(ctx, call, calls, &out, graph); err != nil {
						return err
					}
				}
			}
			out.Response = resp
			if resp == nil && out.Skipped == "" {
				out.Held = true
				awaiting++
			}
		}
		if g := cc.g; g != nil && out.Response != nil {
			// The callee ran: each call costs the overhead besides its
			// instructions (handle_request), checked before the callback.
			g.left -= instructionOverheadPerQueryCall
			if !g.check() {
				out.Skipped, out.Response = "answered, but its callback did not run: "+g.message, nil
			}
		}
		if out.Response != nil {
			more, err := c.respond(ctx, cc, &out, calls)
			if err != nil {
				return err
			}
			queue = append(queue, more...)
		}
		res.Calls = append(res.Calls, call)
		res.CallOutcomes = append(res.CallOutcomes, out)
	}
	res.Awaiting = awaiting
	if !graph {
		// A composite query's state, its balance included, is
		// discarded: its calls cost it nothing in the end.
		res.CallFees = callFeesOf(res)
	}
	switch {
	case cc.g != nil && cc.g.code != "":
		// A limit ends the whole query with the replica's error
		// (a UserError, not a canister's reject).
		res.Status, res.Code, res.RejectMessage, res.Reply, res.Trap = StatusRejected, cc.g.code, cc.g.message, nil, nil
	case awaiting > 0:
		res.Status = StatusAwaiting
	case cc.responded:
	case cc.lastTrap != nil:
		// The replica answers the caller with the error of the last
		// callback when the call context ends without a response.
		res.Status, res.Trap = StatusTrapped, cc.lastTrap
	case !msg.Context.CanReply():
		// A system task has no caller to answer.
		res.Status = StatusOK
	default:
		res.Status, res.Code = StatusRejected, CodeDidNotReply
		res.RejectMessage = fmt.Sprintf("Canister %s did not reply to the call", c.ID())
	}
	return nil
}

// selfCall executes a call the canister made to itself, as the replica
// would run it as a message of its own after the current one: the method
// with the call's argument and cycles, from the canister as caller, its
// calls answered by the same rule. It returns the response, or nil while
// the method awaits calls of its own (out.Held then says why). In a
// composite query's graph (graph) the method runs as the replica's query
// handler runs a call to a canister (handle_request): as a query, on the
// canister's state as the graph found it, in the same graph.
func (c *Canister) selfCall(ctx context.Context, call ic0.OutgoingCall, calls *Calls, out *CallOutcome, graph bool) (*Response, error) {
	if calls.selfCalls >= maxSelfCalls {
		out.HeldReason = fmt.Sprintf("not executed: canscope runs at most %d self-calls in one run", maxSelfCalls)
		return nil, nil
	}
	calls.selfCalls++
	self := c.host.Env().CanisterID
	var sub Result
	var err error
	if graph {
		sub, err = c.graphSelfCall(ctx, call, calls)
	} else if m, ok := c.code.mod.Method(call.Method); ok && m.Kind == CompositeQuery {
		// Outside a composite query's graph a call runs in replicated
		// mode, where the replica refuses a composite query before
		// running it: no instructions, the cycles go back
		// (rs/execution_environment/src/execution/replicated_query.rs).
		sub = Result{Status: StatusRejected, Code: CodeCompositeQueryCalledInReplicatedMode,
			RejectMessage: "Composite query cannot be called in replicated mode"}
	} else {
		kind, ictx, keep := Update, ic0.Update, true
		if ok && m.Kind != Update {
			// A query called by a canister runs replicated; its changes
			// are discarded.
			kind, ictx, keep = m.Kind, ic0.ReplicatedQuery, false
		}
		opts := UpdateOptions{Cycles: call.Cycles, Calls: calls, Caller: self}
		sub, err = c.method(ctx, kind, call.Method, call.Arg, opts, ictx, c.limits.Update, keep)
	}
	if err != nil {
		return nil, fmt.Errorf("self-call %s: %w", call.Method, err)
	}
	out.SelfCall = &sub
	r := &Response{}
	if sub.Cycles != nil {
		r.Accepted = sub.Cycles.Accepted
	}
	switch {
	case graph && calls.graph.code != "":
		out.Skipped = "executed, but the call graph ended: " + calls.graph.message
		return nil, nil
	case sub.Status == StatusAwaiting:
		out.HeldReason = "its method awaits calls of its own"
		return nil, nil
	case sub.Status == StatusOK:
		r.Payload = sub.Reply
	case sub.Status == StatusRejected && sub.Code == CodeCanisterRejected:
		r.Reject, r.RejectCode, r.RejectMessage = true, rejectCanisterReject, sub.RejectMessage
	default:
		// Traps, missing methods and missing replies reach the caller as
		// CANISTER_ERROR with the replica's error text.
		r.Reject, r.RejectCode, r.RejectMessage = true, rejectCanisterError, sub.ErrorText(principal.Text(self))
	}
	return r, nil
}

// graphSelfCall runs a composite query's call to its own canister: the
// method as a composite query or a query (an update method is not found,
// as the replica's wasm_query_method), on the committed state — the
// replica executes a query call on the canister as the replicated state
// holds it, not on the caller's state in the graph — one level deeper in
// the graph and within its budget; then the caller's graph state comes
// back.
func (c *Canister) graphSelfCall(ctx context.Context, call ic0.OutgoingCall, calls *Calls) (Result, error) {
	g := calls.graph
	sp, err := c.savepoint()
	if err != nil {
		return Result{}, err
	}
	if err := c.toCommitted(ctx); err != nil {
		return Result{}, err
	}
	kind, ictx := Query, ic0.NonReplicatedQuery
	if m, ok := c.code.mod.Method(call.Method); ok && m.Kind == CompositeQuery {
		kind, ictx = CompositeQuery, ic0.CompositeQuery
	}
	g.depth++
	sub, err := c.method(ctx, kind, call.Method, call.Arg, UpdateOptions{Calls: calls, Caller: c.host.Env().CanisterID}, ictx, g.limit(c.limits.Query), false)
	g.depth--
	if err != nil {
		return Result{}, err
	}
	if !sub.graphCharged {
		g.charge(sub.Instructions)
	}
	return sub, c.restore(ctx, sp)
}

// Reject codes of the interface specification.
const (
	rejectCanisterReject = 4
	rejectCanisterError  = 5
)

// respond runs the callback of an answered call and, when it traps, its
// cleanup; it returns the calls they made.
func (c *Canister) respond(ctx context.Context, cc *callContext, out *CallOutcome, calls *Calls) ([]pendingCall, error) {
	r, call := out.Response, out.Call
	// The attached cycles come back with the response (a scripted answer
	// accepts none); the refund is the canister's even if the callback
	// traps.
	refund := call.Cycles.Sub(r.Accepted)
	// So does the unused part of the response transmission reservation
	// (refund_for_response_transmission).
	feeRefund := call.Fees.TransmissionRefund(ic0.ResponseBytes(r.Reject, r.Payload, r.RejectMessage))
	c.st.Cycles = c.st.Cycles.Add(refund).Add(feeRefund)
	reply, reject, cleanupCtx := ic0.ReplyCallback, ic0.RejectCallback, ic0.Cleanup
	if cc.graph {
		reply, reject, cleanupCtx = ic0.CompositeReplyCallback, ic0.CompositeRejectCallback, ic0.CompositeCleanup
	}
	msg := &ic0.Message{Context: reply, Arg: r.Payload, CyclesRefunded: refund}
	fn, env, name := call.ReplyFn, call.ReplyEnv, "reply callback"
	if r.Reject {
		msg = &ic0.Message{Context: reject, RejectCode: r.RejectCode, RejectMessage: r.RejectMessage, CyclesRefunded: refund}
		fn, env, name = call.RejectFn, call.RejectEnv, "reject callback"
	}
	exec, made, err := c.callback(ctx, cc, name, msg, fn, env, calls)
	if err != nil {
		return nil, err
	}
	out.Callback = exec
	if exec.Status == StatusTrapped && call.HasCleanup {
		// The replica runs the cleanup in its own context after the
		// callback's changes were rolled back; its changes are kept
		// unless it traps too.
		cleanup := &ic0.Message{Context: cleanupCtx}
		cexec, _, err := c.callback(ctx, cc, "cleanup", cleanup, call.CleanupFn, call.CleanupEnv, nil)
		if err != nil {
			return nil, err
		}
		out.Cleanup = cexec
	}
	// The execution reservation pays for the instructions the callback
	// and cleanup used; the rest comes back, kept even after a trap
	// (refund_unused_execution_cycles, execution/response.rs).
	used := exec.Instructions
	if out.Cleanup != nil {
		used += out.Cleanup.Instructions
	}
	execRefund := call.Fees.ExecutionRefund(used)
	c.st.Cycles = c.st.Cycles.Add(execRefund)
	out.FeesRefunded = feeRefund.Add(execRefund)
	return made, nil
}

// callback runs table function fn with env as one execution in msg's
// context, with its own budget, committed unless it traps.
func (c *Canister) callback(ctx context.Context, cc *callContext, name string, msg *ic0.Message, fn, env uint64, calls *Calls) (*Execution, []pendingCall, error) {
	inc := c.code
	exec := &Execution{Name: name}
	if !inc.mod.hasCallbackEntry {
		t := ic0.Trapped("the module has no table: its callbacks cannot be called")
		exec.Status, exec.Trap = StatusTrapped, trapOf(t)
		cc.lastTrap = exec.Trap
		return exec, nil, nil
	}
	msg.CanisterVersion = c.version
	// A call context responds once: a callback of one that responded
	// traps in msg_reply/msg_reject as on the replica.
	msg.Replied = cc.responded
	var p *performer
	if calls != nil {
		p = calls.performer(c.host.Env().CanisterID)
		msg.Perform = p.perform(msg)
	}
	b := &budget{limit: c.limits.Update, slice: c.limits.Slice}
	var sp *savepoint
	if cc.graph {
		// A composite query's executions are queries: not sliced, inside
		// the unit the query opened, within the graph's budget. The
		// savepoint keeps what the graph did so far: a trap discards the
		// callback's changes alone (query_context.rs execute_callback
		// keeps the canister's state of before the callback).
		b = &budget{limit: cc.g.limit(c.limits.Query)}
		var err error
		if sp, err = c.savepoint(); err != nil {
			return nil, nil, err
		}
	} else {
		c.st.Begin()
	}
	trap, err := c.execute(call{ctx: ctx, inc: inc, export: callbackExport, phase: name, params: []uint64{fn, env}, msg: msg, budget: b})
	if cc.graph {
		cc.g.charge(b.used)
	}
	cc.res.Phases = append(cc.res.Phases, b.phases...)
	cc.res.Instructions += b.used
	cc.res.DebugPrints = append(cc.res.DebugPrints, msg.DebugPrints...)
	exec.Instructions = b.used
	if err == nil {
		exec.Limits = limitsOf(b, inc.heap.Size(), c.wasmLimit)
	}
	if err != nil || trap != nil {
		if cc.graph {
			if rerr := c.restore(ctx, sp); rerr != nil {
				return nil, nil, fmt.Errorf("roll back %s: %w", name, rerr)
			}
		} else {
			c.st.Rollback()
			if rerr := c.rollback(ctx, inc); rerr != nil {
				return nil, nil, fmt.Errorf("roll back %s: %w", name, rerr)
			}
		}
		if err != nil {
			return nil, nil, err
		}
		exec.Status, exec.Trap = StatusTrapped, trap
		cc.lastTrap = trap
		if p != nil {
			p.release()
		}
		return exec, nil, nil
	}
	if !cc.graph {
		pages, err := inc.commit()
		if err != nil {
			c.st.Rollback()
			return nil, nil, fmt.Errorf("commit %s: %w", name, err)
		}
		c.st.Commit()
		c.version++
		cc.res.HeapPagesChanged = mergePages(cc.res.HeapPagesChanged, pages)
		cc.res.HeapSizeAfter = inc.heap.Size()
		cc.res.StablePagesChanged = mergePages(cc.res.StablePagesChanged, c.st.Stable.LastChanged())
	}
	if !cc.responded {
		switch {
		case msg.Rejected:
			cc.responded = true
			cc.res.Status, cc.res.Code, cc.res.RejectMessage = StatusRejected, CodeCanisterRejected, msg.Rejection
		case msg.Replied:
			cc.responded = true
			cc.res.Status, cc.res.Reply, cc.res.Code, cc.res.RejectMessage = StatusOK, msg.Reply, "", ""
		}
	}
	if p == nil {
		return exec, nil, nil
	}
	return exec, p.pending(msg), nil
}

// mergePages adds the pages of b missing from a, sorted.
func mergePages[T uint32 | uint64](a, b []T) []T {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// closestLimits merges the headroom reports of a message's executions:
// each has its own limits, so each limit shows the execution closest to
// it (the first execution's report, then every callback's, cleanup's and
// executed self-call's).
func closestLimits(first []LimitUse, outcomes []CallOutcome) []LimitUse {
	out := slices.Clone(first)
	merge := func(ls []LimitUse) {
		for _, l := range ls {
			i := slices.IndexFunc(out, func(o LimitUse) bool { return o.Name == l.Name })
			switch {
			case i < 0:
				out = append(out, l)
			case l.Fraction() > out[i].Fraction():
				out[i] = l
			}
		}
	}
	for _, o := range outcomes {
		for _, e := range []*Execution{o.Callback, o.Cleanup} {
			if e != nil {
				merge(e.Limits)
			}
		}
		if o.SelfCall != nil {
			merge(o.SelfCall.Limits)
		}
	}
	return out
}
