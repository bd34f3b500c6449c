package workbench

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/motoko"
)

// candidReply returns a decoder of a call's Candid reply to its text.
func candidReply(t *testing.T) func(engine.Result, error) string {
	return func(res engine.Result, err error) string {
		t.Helper()
		mustOK(t, res, err)
		text, err := candid.DecodeText(res.Reply, nil)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
}

// TestEOPUpgrades runs moc 4.10.0's enhanced-orthogonal-persistence
// fixtures (wasm64) through the rehearsal issue 17 asks for: install →
// update → upgrade (keep) to eop_counter_v2 keeps the state; an upgrade to
// eop_counter_bad traps with the runtime's message, rolls back and is what
// CompareStableTypes predicted; eop_trap's preupgrade trap rolls back.
func TestEOPUpgrades(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "eop_counter.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	inc, err := candid.EncodeText("(5 : nat)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := candidReply(t)(run.Canister.Update(ctx, "inc", inc)); got != "(5)" {
		t.Fatalf("inc replied %s", got)
	}
	load := func(name string) *engine.Module {
		m, err := b.eng.Load(ctx, fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(ctx) })
		return m
	}
	bad, v2 := load("eop_counter_bad.wasm"), load("eop_counter_v2.wasm")

	predicted, _ := CompareStableTypes(parsed(t, "eop_counter.wasm"), parsed(t, "eop_counter_bad.wasm"))
	reh, err := run.Rehearse(ctx, RehearsalOptions{Module: bad, Persistence: engine.PersistenceKeep})
	if err != nil {
		t.Fatal(err)
	}
	first := reh.Steps[0]
	if first.OK() || first.Result.Trap == nil || first.Result.Trap.Message != "Canister called `ic0.trap` with message: 'RTS error: "+motoko.RTSTrap+"'" {
		t.Fatalf("upgrade to eop_counter_bad: %+v", first.Result)
	}
	if predicted.Confirm(first); predicted.Rehearsal != "confirmed" {
		t.Errorf("the prediction %s was not confirmed", predicted)
	}
	if got := candidReply(t)(run.Canister.Query(ctx, "get", candid.DefaultArg())); got != "(5, 0)" {
		t.Errorf("after the refused upgrade get = %s, want (5, 0): not rolled back", got)
	}

	reh, err = run.Rehearse(ctx, RehearsalOptions{Module: v2, Persistence: engine.PersistenceKeep})
	if err != nil || !reh.OK() || reh.Steps[0].MainMemory != HeapKept {
		t.Fatalf("upgrade to eop_counter_v2: %+v, %v", reh, err)
	}
	if got := candidReply(t)(run.Canister.Query(ctx, "get", candid.DefaultArg())); got != "(5, 1)" {
		t.Errorf("after upgrade (keep) get = %s, want (5, 1): count kept, preupgrade counted", got)
	}
	if got := candidReply(t)(run.Canister.Query(ctx, "getNote", candid.DefaultArg())); got != `("added in v2")` {
		t.Errorf("getNote = %s", got)
	}

	trap, res, err := b.Install(ctx, fixture(t, "eop_trap.wasm"), nil, "")
	mustOK(t, res, err)
	defer trap.Close(ctx)
	candidReply(t)(trap.Canister.Update(ctx, "inc", inc))
	reh, err = trap.Rehearse(ctx, RehearsalOptions{Persistence: engine.PersistenceKeep})
	if err != nil || reh.OK() || !strings.Contains(reh.Steps[0].Result.Trap.Message, "eop_trap: preupgrade refuses the upgrade") {
		t.Fatalf("eop_trap upgrade: %+v, %v", reh, err)
	}
	if got := candidReply(t)(trap.Canister.Query(ctx, "get", candid.DefaultArg())); got != "(5)" {
		t.Errorf("after the failed upgrade get = %s, want (5)", got)
	}
}

// TestRuntimeAgreesWithMemoryCompatible is the differential test of
// engine/motoko's port of the runtime's check against moc 4.10.0's real
// RTS: each upgrade (keep) either traps with motoko.RTSTrap or succeeds,
// and CompareStableTypes must have said which. The pairs cover a type
// change, a dropped variable, widening (Nat to Int, Char to Nat32, a new
// variant case), a record gaining a field, and the main-actor loop's
// acceptance of variables dropped past the new ones.
func TestRuntimeAgreesWithMemoryCompatible(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	for _, p := range []struct {
		old, new string
		refused  bool
	}{
		{"eop_counter", "eop_counter_v2", false},
		{"eop_counter", "eop_counter_bad", true},
		{"eop_counter", "eop_trap", true},
		{"eop_diff_a", "eop_diff_b", false},
		{"eop_diff_a", "eop_diff_c", true},
		{"eop_diff_a", "eop_diff_drop", false},
	} {
		t.Run(p.old+"→"+p.new, func(t *testing.T) {
			st, ok := CompareStableTypes(parsed(t, p.old+".wasm"), parsed(t, p.new+".wasm"))
			if !ok || !st.Compared || (st.Runtime == "incompatible") != p.refused {
				t.Fatalf("predicted %s, want refused=%v", st, p.refused)
			}
			run, res, err := b.Install(ctx, fixture(t, p.old+".wasm"), nil, "")
			mustOK(t, res, err)
			defer run.Close(ctx)
			mod, err := b.eng.Load(ctx, fixture(t, p.new+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			defer mod.Close(ctx)
			reh, err := run.Rehearse(ctx, RehearsalOptions{Module: mod, Persistence: engine.PersistenceKeep})
			if err != nil {
				t.Fatal(err)
			}
			st.Confirm(reh.Steps[0])
			if st.Rehearsal != "confirmed" {
				t.Errorf("the runtime disagrees with %s: %+v", st, reh.Steps[0].Result)
			}
		})
	}
}
