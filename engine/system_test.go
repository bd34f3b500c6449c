package engine

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
)

// setHook makes ic0_all run op in a system entry point (ic0_all.wat).
func setHook(t *testing.T, c *Canister, kind, op uint32) {
	t.Helper()
	res, err := c.Update(context.Background(), "set_hook", append(u32(kind), u32(op)...))
	mustOK(t, res, err)
}

// Hook kinds and ops of ic0_all.wat.
const (
	hookHeartbeat   = 1
	hookGlobalTimer = 2
	hookInspect     = 3

	opNoop           = 0
	opCertifiedData  = 20
	opGlobalTimerSet = 23
	opTrap           = 30
)

func TestSystemMethods(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "ic0_all.wasm"), nil)

	setHook(t, c, hookHeartbeat, opCertifiedData)
	res, err := c.Heartbeat(ctx)
	mustOK(t, res, err)
	if got := string(c.CertifiedData()); got != "ic0_all certified data" {
		t.Fatalf("certified data after heartbeat = %q", got)
	}

	// A timer set by an update fires once: the engine deactivates it
	// before canister_global_timer runs, which may set it again.
	res, err = c.Update(ctx, "global_timer_set", nil)
	mustOK(t, res, err)
	deadline := ic0.DefaultTime + 1_000_000_000
	if got := c.TimerDeadline(); got != deadline {
		t.Fatalf("timer %d, want %d", got, deadline)
	}
	res, err = c.GlobalTimer(ctx)
	mustOK(t, res, err)
	if got := c.TimerDeadline(); got != 0 {
		t.Fatalf("timer %d after it fired, want inactive", got)
	}
	setHook(t, c, hookGlobalTimer, opGlobalTimerSet)
	res, err = c.GlobalTimer(ctx)
	mustOK(t, res, err)
	if got := c.TimerDeadline(); got != deadline {
		t.Fatalf("timer %d after the handler re-armed it, want %d", got, deadline)
	}

	// Traps in system methods roll back like any message.
	setHook(t, c, hookHeartbeat, opTrap)
	setHook(t, c, hookGlobalTimer, opTrap)
	before := stateHash(t, c)
	for name, run := range map[string]func(context.Context) (Result, error){
		"heartbeat": c.Heartbeat, "global timer": c.GlobalTimer,
	} {
		res, err := run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != StatusTrapped || res.Trap.Reason != "ic0_all: trap on purpose" {
			t.Errorf("%s: %s %+v, want the trap", name, res.Status, res.Trap)
		}
	}
	if stateHash(t, c) != before || c.TimerDeadline() != deadline {
		t.Fatal("a trapped system method changed the state")
	}

	res, err = c.InspectMessage(ctx, "anything", nil)
	mustOK(t, res, err)
	setHook(t, c, hookInspect, opTrap)
	res, err = c.InspectMessage(ctx, "anything", nil)
	if err != nil || res.Status != StatusTrapped {
		t.Fatalf("trapping inspect_message: %v %s", err, res.Status)
	}
}

func TestReinstallWipesState(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "traps.wasm")
	c := installed(t, e, mod, nil)
	res, err := c.Update(ctx, "touch", nil)
	mustOK(t, res, err)
	if c.StableSize() == 0 {
		t.Fatal("touch grew no stable memory")
	}
	c.Mark()
	res, err = c.Reinstall(ctx, mod, nil)
	mustOK(t, res, err)
	if c.StableSize() != 0 || c.Globals()[0].Bits != 0 || c.HeapSize() != PageSize {
		t.Fatalf("after reinstall: stable %d, globals %v, heap %d", c.StableSize(), c.Globals(), c.HeapSize())
	}
	heapPages, stablePages := c.Changed()
	if len(heapPages) != 2 || len(stablePages) != 1 {
		t.Errorf("Changed after reinstall = %v, %v; want both old heap pages and the old stable page", heapPages, stablePages)
	}
	if _, err := c.Install(ctx, mod, nil); err == nil {
		t.Error("Install on a canister with code succeeded")
	}
}

func TestEnvironmentInputs(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	env := ic0.DefaultEnv()
	env.Time = 1_800_000_000_000_000_000
	c, err := e.NewCanister(ctx, Options{Env: env, Cycles: ic0.CyclesFrom(12345)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Install(ctx, load(t, e, "ic0_all.wasm"), nil)
	mustOK(t, res, err)
	res, err = c.Update(ctx, "time", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != env.Time {
		t.Errorf("time = %d, want %d", got, env.Time)
	}
	if got := c.Cycles(); got != ic0.CyclesFrom(12345) {
		t.Errorf("cycles = %+v, want 12345", got)
	}
	if c.ID() != "rrkah-fqaaa-aaaaa-aaaaq-cai" {
		t.Errorf("ID = %s, want the default canister id", c.ID())
	}
}
