package engine

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
)

// callerState is caller.wat's state query: value, pending, last_reject,
// cleaned.
func callerState(t *testing.T, c *Canister) [4]uint64 {
	t.Helper()
	res, err := c.Query(context.Background(), "state", candid.DefaultArg())
	mustOK(t, res, err)
	var st [4]uint64
	for i := range st {
		st[i] = binary.LittleEndian.Uint64(res.Reply[10+8*i:])
	}
	return st
}

// nat64 is the Candid encoding of (n : nat64).
func nat64(n uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte("DIDL\x00\x01\x78"), n)
}

// script answers every call with the responses in order, once each.
func script(rs ...Response) *Calls {
	return &Calls{Answer: func(ic0.OutgoingCall) (Response, bool) {
		if len(rs) == 0 {
			return Response{}, false
		}
		r := rs[0]
		rs = rs[1:]
		return r, true
	}}
}

func TestCallReplied(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script(Response{Payload: nat64(42)})})
	mustOK(t, res, err)
	if string(res.Reply) != string(nat64(42)) {
		t.Fatalf("reply %x, want the callback's (42 : nat64)", res.Reply)
	}
	if len(res.CallOutcomes) != 1 || res.CallOutcomes[0].Callback == nil || res.CallOutcomes[0].Callback.Status != StatusOK {
		t.Fatalf("outcomes %+v", res.CallOutcomes)
	}
	call := res.CallOutcomes[0].Call
	if principal.Text(call.Callee) != "ryjl3-tyaaa-aaaaa-aaaba-cai" || call.Method != "get" || call.Offline() {
		t.Fatalf("call %s.%s offline=%v", principal.Text(call.Callee), call.Method, call.Offline())
	}
	if got := callerState(t, c); got != [4]uint64{42, 0, 0, 0} {
		t.Fatalf("state %v after the reply, want value 42, not pending", got)
	}
	if len(res.Phases) != 2 || res.Phases[1].Name != "reply callback" {
		t.Fatalf("phases %+v", res.Phases)
	}
	// Each execution has its own limit: the headroom shows the closest.
	for _, l := range res.Limits {
		if l.Name == LimitInstructions && l.Used != max(res.Phases[0].Instructions, res.Phases[1].Instructions) {
			t.Fatalf("instructions headroom %d, phases %+v", l.Used, res.Phases)
		}
	}
}

func TestCallRejected(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script(Response{Reject: true, RejectCode: 4, RejectMessage: "no"})})
	if err != nil || res.Status != StatusRejected || res.RejectMessage != "caller: callee rejected" {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := callerState(t, c); got != [4]uint64{0, 0, 4, 0} {
		t.Fatalf("state %v after the reject, want last_reject 4", got)
	}
}

// A trap in the reply callback rolls back the callback only: the
// update's change (pending) stays, the cleanup runs and is kept, and the
// caller gets the callback's trap.
func TestCallbackTrapRollsBackCallbackOnly(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script(Response{Payload: nat64(0xdead)})})
	if err != nil || res.Status != StatusTrapped || res.Trap == nil || res.Trap.Reason != "caller: bad value" {
		t.Fatalf("%+v, %v", res, err)
	}
	out := res.CallOutcomes[0]
	if out.Callback.Status != StatusTrapped || out.Cleanup == nil || out.Cleanup.Status != StatusOK {
		t.Fatalf("callback %+v cleanup %+v", out.Callback, out.Cleanup)
	}
	if got := callerState(t, c); got != [4]uint64{0, 1, 0, 1} {
		t.Fatalf("state %v, want value rolled back, pending kept, cleaned once", got)
	}
}

// Without an answer the call is held; with RejectUnanswered it fails at
// once as without Calls.
func TestCallHeld(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script()})
	if err != nil || res.Status != StatusAwaiting || res.Awaiting != 1 || !res.CallOutcomes[0].Held {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := callerState(t, c); got != [4]uint64{0, 1, 0, 0} {
		t.Fatalf("state %v, want pending", got)
	}
	calls := script()
	calls.RejectUnanswered = true
	res, err = c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: calls})
	if err != nil || res.Status != StatusRejected || res.Code != CodeDidNotReply || len(res.OfflineCalls()) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// A call to the canister itself is executed by the engine: its method's
// reply answers the call and the callback uses it.
func TestSelfCall(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.UpdateWith(ctx, "fetch_self", candid.DefaultArg(), UpdateOptions{Calls: script()})
	mustOK(t, res, err)
	if string(res.Reply) != string(nat64(99)) {
		t.Fatalf("reply %x, want ping's (99 : nat64)", res.Reply)
	}
	out := res.CallOutcomes[0]
	if out.SelfCall == nil || out.SelfCall.Status != StatusOK || out.Callback == nil || out.Callback.Status != StatusOK {
		t.Fatalf("outcome %+v", out)
	}
	if got := callerState(t, c); got != [4]uint64{99, 0, 0, 0} {
		t.Fatalf("state %v, want value 99", got)
	}
	// A self-call to a method that does not exist (ic0_all op 31 calls
	// "ping") reaches the reject callback as CANISTER_ERROR.
	all := installed(t, e, load(t, e, "ic0_all.wasm"), nil)
	res, err = all.UpdateWith(ctx, "call", nil, UpdateOptions{Calls: script()})
	mustOK(t, res, err)
	if code := binary.LittleEndian.Uint32(res.Reply); code != 5 {
		t.Fatalf("reject code %d in the callback, want 5 (CANISTER_ERROR); reply %q", code, res.Reply)
	}
}

// A composite query's call is answered and its callback runs in the
// composite reply callback context; nothing it or the query changed stays.
func TestCompositeQueryCall(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	res, err := c.QueryWith(ctx, "peek", candid.DefaultArg(), script(Response{Payload: nat64(5)}))
	mustOK(t, res, err)
	if string(res.Reply) != string(nat64(5)) {
		t.Fatalf("reply %x, want the callback's (5 : nat64)", res.Reply)
	}
	if got := callerState(t, c); got != [4]uint64{} {
		t.Fatalf("state %v after a composite query, want untouched", got)
	}
	// Without Calls (Query) its call fails at once, as before.
	res, err = c.Query(ctx, "peek", candid.DefaultArg())
	if err != nil || len(res.OfflineCalls()) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// call_perform withdraws the transmission fee and reserves the largest
// response's transmission and the longest callback's execution; the
// response brings back the unused part (withdraw_request_cycles,
// refund_for_response_transmission, refund_unused_execution_cycles). A
// canister whose balance does not cover the fees gets SYS_TRANSIENT, as on
// the IC — not an offline failure.
func TestCallFees(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	before := c.Cycles()
	res, err := c.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script(Response{Payload: nat64(42)})})
	mustOK(t, res, err)
	o := res.CallOutcomes[0]
	request := uint64(len(o.Call.Method) + len(o.Call.Arg))
	withdrawn := 260_000 + 1_000*request + 1_000*2_097_152 + 5_000_000 + 40_000_000_000
	charged := 260_000 + 1_000*request + 1_000*uint64(len(nat64(42))) + 5_000_000 + o.Callback.Instructions
	if res.CallFees == nil || res.CallFees.Withdrawn != ic0.CyclesFrom(withdrawn) || res.CallFees.Charged() != ic0.CyclesFrom(charged) {
		t.Fatalf("call fees %+v, want %d withdrawn, %d charged", res.CallFees, withdrawn, charged)
	}
	if got := before.Sub(c.Cycles()); got != ic0.CyclesFrom(charged) {
		t.Fatalf("balance fell by %v, want the %d charged", got, charged)
	}

	poor, err := e.NewCanister(ctx, Options{Cycles: ic0.CyclesFrom(1_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	defer poor.Close(ctx)
	res, err = poor.Install(ctx, load(t, e, "caller.wasm"), nil)
	mustOK(t, res, err)
	res, err = poor.UpdateWith(ctx, "fetch", candid.DefaultArg(), UpdateOptions{Calls: script(Response{Payload: nat64(42)})})
	if err != nil {
		t.Fatal(err)
	}
	call := res.Calls[0]
	if call.RejectCode != 2 || call.OutOfCycles == "" || call.Offline() || res.CallFees != nil || poor.Cycles() != ic0.CyclesFrom(1_000_000) {
		t.Fatalf("poor canister: call %+v, fees %+v, balance %v", call, res.CallFees, poor.Cycles())
	}
}

// With RejectUnanswered the answer is taken in call_perform; when that
// execution traps, its call was never made and the answer is given back
// (Calls.Release), so the run's unused answers still name it.
func TestTrappedExecutionReleasesAnswers(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "caller.wasm"), nil)
	taken, released := 0, 0
	calls := &Calls{RejectUnanswered: true,
		Answer:  func(ic0.OutgoingCall) (Response, bool) { taken++; return Response{Payload: nat64(1)}, true },
		Release: func(call ic0.OutgoingCall) { released++ },
	}
	res, err := c.UpdateWith(ctx, "fetch_trap", candid.DefaultArg(), UpdateOptions{Calls: calls})
	if err != nil || res.Status != StatusTrapped {
		t.Fatalf("%s, %v", res.Status, err)
	}
	if taken != 1 || released != 1 {
		t.Fatalf("taken %d, released %d; want the one answer given back", taken, released)
	}
}
