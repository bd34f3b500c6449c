package engine

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
)

// nat64Reply reads the (n : nat64) reply of entry.wat.
func nat64Reply(t *testing.T, res Result, err error) uint64 {
	t.Helper()
	mustOK(t, res, err)
	if len(res.Reply) != 15 {
		t.Fatalf("reply %x, want DIDL (nat64)", res.Reply)
	}
	return binary.LittleEndian.Uint64(res.Reply[7:])
}

// The timer's job runs when its deadline has come, not before, and its
// state change is kept (entry.wat).
func TestTimerDue(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "entry.wasm"), nil)
	if c.TimerDue() {
		t.Fatal("an unset timer is due")
	}
	res, err := c.Update(ctx, "arm", candid.DefaultArg())
	deadline := nat64Reply(t, res, err)
	if deadline != ic0.DefaultTime+60_000_000_000 || c.TimerDeadline() != deadline {
		t.Fatalf("arm set %d (deadline %d)", deadline, c.TimerDeadline())
	}
	if c.TimerDue() {
		t.Fatal("timer due before its deadline")
	}
	env := *c.Env()
	env.Time = deadline
	c.SetEnv(&env)
	if !c.TimerDue() {
		t.Fatal("timer not due at its deadline")
	}
	res, err = c.GlobalTimer(ctx)
	mustOK(t, res, err)
	if len(res.DebugPrints) != 1 || res.DebugPrints[0] != "timer fired" {
		t.Fatalf("debug prints %q", res.DebugPrints)
	}
	res, err = c.Query(ctx, "fired", candid.DefaultArg())
	if n := nat64Reply(t, res, err); n != 1 {
		t.Fatalf("fired = %d after the timer ran, want 1", n)
	}
	if c.TimerDue() || c.TimerDeadline() != 0 {
		t.Fatalf("timer still set (%d) after it ran", c.TimerDeadline())
	}
}

// inspect_message refuses an ingress update with the replica's text; the
// canister's other methods are accepted.
func TestInspectRejects(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "entry.wasm"), nil)
	res, err := c.InspectMessage(ctx, "forbidden", candid.DefaultArg())
	if err != nil || res.Status != StatusRejected || res.Code != CodeCanisterRejected || res.RejectMessage != "Requested canister rejected the message" {
		t.Fatalf("inspect forbidden: %+v, %v", res, err)
	}
	res, err = c.InspectMessage(ctx, "arm", candid.DefaultArg())
	mustOK(t, res, err)
}

// Attached cycles: what the canister accepts joins its balance, the rest
// is refunded; nothing is accepted by a method that does not exist.
func TestUpdateWithCycles(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "entry.wasm"), nil)
	before := c.Cycles()
	res, err := c.UpdateWith(ctx, "take_half", candid.DefaultArg(), UpdateOptions{Cycles: ic0.CyclesFrom(1001)})
	if n := nat64Reply(t, res, err); n != 500 {
		t.Fatalf("accepted %d, want 500", n)
	}
	want := CyclesUse{Attached: ic0.CyclesFrom(1001), Accepted: ic0.CyclesFrom(500), Refunded: ic0.CyclesFrom(501)}
	if res.Cycles == nil || *res.Cycles != want {
		t.Fatalf("cycles %+v, want %+v", res.Cycles, want)
	}
	if got := c.Cycles(); got != before.Add(ic0.CyclesFrom(500)) {
		t.Fatalf("balance %s, want %s + 500", got, before)
	}
	res, err = c.UpdateWith(ctx, "nothing", candid.DefaultArg(), UpdateOptions{Cycles: ic0.CyclesFrom(7)})
	if err != nil || res.Cycles == nil || res.Cycles.Refunded != ic0.CyclesFrom(7) {
		t.Fatalf("missing method: %+v, %v", res.Cycles, err)
	}
}

func TestParseCycles(t *testing.T) {
	for in, want := range map[string]ic0.Cycles{
		"0":                    {},
		"1_000":                ic0.CyclesFrom(1000),
		"18446744073709551616": {High: 1},
		"340282366920938463463374607431768211455": {High: ^uint64(0), Low: ^uint64(0)},
	} {
		got, err := ic0.ParseCycles(in)
		if err != nil || got != want {
			t.Errorf("ParseCycles(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "-1", "1.5", "340282366920938463463374607431768211456"} {
		if _, err := ic0.ParseCycles(bad); err == nil {
			t.Errorf("ParseCycles(%q) accepted", bad)
		}
	}
}
