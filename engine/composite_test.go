package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
)

// always answers every call with r.
func always(r Response) *Calls {
	return &Calls{Answer: func(ic0.OutgoingCall) (Response, bool) { return r, true }}
}

// compositeReply is the (nat64) a composite query replied.
func compositeReply(t *testing.T, res Result, err error) uint64 {
	t.Helper()
	mustOK(t, res, err)
	return replyNat64(t, res)
}

// The replica's composite query rules (query_context.rs,
// query_call_graph.rs), on composite.wat.
func TestCompositeQueryGraph(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "composite.wasm"), nil)
	arg := candid.DefaultArg()

	// A trapping callback discards its own changes only: the query's
	// mark (1) and the cleanup's (+100) stay, B's callback sees 101.
	res, err := c.QueryWith(ctx, "graph", arg, script(Response{Payload: nat64(57005)}, Response{Payload: nat64(1)}))
	if got := compositeReply(t, res, err); got != 101 {
		t.Fatalf("graph after A's callback trapped replied %d, want 101 (1 + cleanup 100)", got)
	}
	if o := res.CallOutcomes[0]; o.Callback.Status != StatusTrapped || o.Cleanup == nil || o.Cleanup.Status != StatusOK {
		t.Fatalf("A's outcome %+v", o)
	}
	res, err = c.QueryWith(ctx, "graph", arg, script(Response{Payload: nat64(1)}, Response{Payload: nat64(1)}))
	if got := compositeReply(t, res, err); got != 11 {
		t.Fatalf("graph replied %d, want 11", got)
	}

	// Once the query responded, the rest of its calls are not executed.
	res, err = c.QueryWith(ctx, "first", arg, always(Response{Payload: nat64(1)}))
	if got := compositeReply(t, res, err); got != 11 || len(res.CallOutcomes) != 2 {
		t.Fatalf("first replied %d with %d outcomes", got, len(res.CallOutcomes))
	}
	if o := res.CallOutcomes[1]; o.Callback != nil || !strings.Contains(o.Skipped, "already responded") {
		t.Fatalf("B after the response: %+v", o)
	}

	// A call to the canister itself is executed, on the committed state
	// (mark 3), and the caller's graph state (mark 5) comes back after it.
	res, err = c.Update(ctx, "set", arg)
	mustOK(t, res, err)
	res, err = c.QueryWith(ctx, "selfy", arg, &Calls{Answer: func(ic0.OutgoingCall) (Response, bool) { return Response{}, false }})
	if got := compositeReply(t, res, err); got != 3005 {
		t.Fatalf("selfy replied %d, want 3005 (the callee saw mark 3, the caller kept 5)", got)
	}
	if res.CallOutcomes[0].SelfCall == nil || res.CallOutcomes[0].SelfCall.Status != StatusOK {
		t.Fatalf("self-call outcome %+v", res.CallOutcomes[0])
	}
	res, err = c.Query(ctx, "look", arg)
	if got := compositeReply(t, res, err); got != 3 {
		t.Fatalf("mark %d after the composite queries, want the committed 3", got)
	}

	// An update's call to a composite query runs in replicated mode,
	// where the replica refuses it unexecuted with IC0527 (CANISTER_ERROR,
	// the bare description: replicated_query.rs, RejectContext's
	// From<UserError>).
	res, err = c.UpdateWith(ctx, "upself", arg, UpdateOptions{Calls: script()})
	if got := compositeReply(t, res, err); got != 5 {
		t.Fatalf("upself's callback saw reject code %d, want 5 (CANISTER_ERROR)", got)
	}
	o := res.CallOutcomes[0]
	if o.SelfCall == nil || o.SelfCall.Code != CodeCompositeQueryCalledInReplicatedMode || o.SelfCall.Instructions != 0 ||
		o.Response == nil || o.Response.RejectMessage != "Composite query cannot be called in replicated mode" {
		t.Fatalf("upself's self-call %+v, response %+v", o.SelfCall, o.Response)
	}

	// The depth limit: each "deep" calls itself; the seventh level's call
	// ends the whole query with IC0525.
	res, err = c.QueryWith(ctx, "deep", arg, &Calls{Answer: func(ic0.OutgoingCall) (Response, bool) { return Response{}, false }})
	if err != nil || res.Status != StatusRejected || res.Code != CodeQueryCallGraphTooDeep ||
		res.ErrorText(c.ID()) != "Composite query calls exceeded the maximum call depth." {
		t.Fatalf("deep: %s %s %q, %v", res.Status, res.Code, res.ErrorText(c.ID()), err)
	}

	// The graph's instruction limit: 50 M instructions per call answered
	// spend 5 B before the 100th callback.
	res, err = c.QueryWith(ctx, "chain", arg, always(Response{Payload: nat64(1)}))
	if err != nil || res.Status != StatusRejected || res.Code != CodeQueryCallGraphTotalInstructionLimitExceeded ||
		res.RejectMessage != "Composite query calls exceeded the instruction limit." {
		t.Fatalf("chain: %s %s %q, %v", res.Status, res.Code, res.RejectMessage, err)
	}
	ran := 0
	for _, o := range res.CallOutcomes {
		if o.Callback != nil {
			ran++
		}
	}
	if ran != 99 {
		t.Fatalf("chain ran %d callbacks, want 99 (the 100th call's overhead passes 5 B)", ran)
	}
}
