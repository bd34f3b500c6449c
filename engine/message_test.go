package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/internal/peakrss"
	"github.com/canscope/canscope/engine/meter"
)

// stateHash hashes everything a snapshot holds.
func stateHash(t testing.TB, c *Canister) [32]byte {
	t.Helper()
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%x|%d|%d|%v|%x|%d|%d\n", sha256.Sum256(st.Module), st.HeapSize, st.StableSize,
		st.Globals, st.CertifiedData, st.GlobalTimer, st.CanisterVersion)
	for _, p := range st.HeapPages {
		fmt.Fprintf(h, "h%d:", p.Index)
		h.Write(p.Data)
	}
	for _, p := range st.StablePages {
		fmt.Fprintf(h, "s%d:", p.Index)
		h.Write(p.Data)
	}
	return [32]byte(h.Sum(nil))
}

// mustState returns the canister's full state.
func mustState(t testing.TB, c *Canister) State {
	t.Helper()
	st, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestTrapRollsBackEverything(t *testing.T) {
	for name, cfg := range map[string]Config{"cow": {}, "portable": {PortableHeap: true}} {
		t.Run(name, func(t *testing.T) { testTrapRollsBackEverything(t, cfg) })
	}
}

func testTrapRollsBackEverything(t *testing.T, cfg Config) {
	ctx := context.Background()
	e := newEngine(t, cfg)
	mod := load(t, e, "traps.wasm")
	tests := []struct {
		method string
		code   ic0.ErrorCode
		reason string
	}{
		{"unreachable", ic0.CodeCanisterTrapped, "unreachable"},
		{"div_zero", ic0.CodeCanisterTrapped, "integer division by 0"},
		{"heap_oob", ic0.CodeCanisterTrapped, "heap out of bounds"},
		{"ic0_trap", ic0.CodeCanisterCalledTrap, "traps: explicit ic0.trap after touching state"},
		{"stable_oob", ic0.CodeCanisterTrapped, "stable memory out of bounds"},
		{"stable32_oob", ic0.CodeCanisterTrapped, "stable memory out of bounds"},
		{"stack_overflow", ic0.CodeCanisterTrapped, "stack overflow"},
		{"reply_then_trap", ic0.CodeCanisterCalledTrap, "traps: trap after reply"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			c := installed(t, e, mod, nil)
			// Put data into heap, globals and stable memory first.
			for range 2 {
				res, err := c.Update(ctx, "touch", nil)
				mustOK(t, res, err)
			}
			before := mustState(t, c)
			res, err := c.Update(ctx, tt.method, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusTrapped || res.Trap == nil {
				t.Fatalf("status %s, want trapped", res.Status)
			}
			if res.Trap.Code != tt.code || tt.reason != "" && res.Trap.Reason != tt.reason {
				t.Errorf("trap %s %q, want %s %q", res.Trap.Code, res.Trap.Reason, tt.code, tt.reason)
			}
			if tt.method != "stack_overflow" && (res.Trap.Function == "" || res.Trap.Offset == 0) {
				t.Errorf("trap location %q at %d, want a function and offset", res.Trap.Function, res.Trap.Offset)
			}
			if len(res.Reply) != 0 || len(res.HeapPagesChanged) != 0 || len(res.StablePagesChanged) != 0 {
				t.Errorf("trapped result reports reply %x, heap %v, stable %v", res.Reply, res.HeapPagesChanged, res.StablePagesChanged)
			}
			after := mustState(t, c)
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("state changed by a trapped message:\nbefore heap %d stable %d globals %v\nafter  heap %d stable %d globals %v",
					before.HeapSize, before.StableSize, before.Globals, after.HeapSize, after.StableSize, after.Globals)
			}
			// The canister still works and sees its committed state.
			res, err = c.Update(ctx, "touch", nil)
			mustOK(t, res, err)
			if got := binary.LittleEndian.Uint64(res.Reply); got != 3 {
				t.Errorf("touch after the trap replied %d, want 3", got)
			}
		})
	}
}

func TestRejectKeepsState(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "traps.wasm"), nil)
	res, err := c.Update(ctx, "reject", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusRejected || res.RejectMessage != "traps: rejected on purpose" || res.Code != CodeCanisterRejected {
		t.Fatalf("got %s %s %q, want a rejection", res.Status, res.Code, res.RejectMessage)
	}
	if len(res.HeapPagesChanged) == 0 || len(res.StablePagesChanged) == 0 {
		t.Errorf("reject reported no changed pages: heap %v stable %v", res.HeapPagesChanged, res.StablePagesChanged)
	}
	if c.Globals()[0].Bits != 1 {
		t.Errorf("global after reject = %v, want the touch kept", c.Globals()[0])
	}
}

func TestQueryNeverChangesState(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "counter.wasm"), u64(7))
	before := stateHash(t, c)
	// A query that mutates (inc run as a query is not allowed: use the
	// update export through Query's kind check instead).
	res, err := c.Query(ctx, "inc", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusRejected || res.Code != CodeMethodNotFound {
		t.Fatalf("query of an update method: %s %s, want method not found", res.Status, res.Code)
	}
	res, err = c.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if stateHash(t, c) != before {
		t.Fatal("query changed the state")
	}
}

func TestErrorText(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "traps.wasm"), nil)
	res, err := c.Update(ctx, "ic0_trap", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := res.ErrorText(c.ID())
	want := "Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister called `ic0.trap` with message: " +
		"'traps: explicit ic0.trap after touching state'\nCanister Backtrace:\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("error text:\n%s\nwant prefix:\n%s", got, want)
	}
	if !strings.HasSuffix(got, ".\nConsider gracefully handling failures from this canister or altering the canister to handle exceptions. "+
		"See documentation: https://internetcomputer.org/docs/current/references/execution-errors#trapped-explicitly") {
		t.Errorf("error text lacks the replica's advice:\n%s", got)
	}
	res, err = c.Update(ctx, "nope", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Err(c.ID()).Error(), "IC0536: Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister has no update method 'nope'.."; !strings.HasPrefix(got, want) {
		t.Errorf("method not found:\n%s\nwant prefix\n%s", got, want)
	}
}

func TestCancelStopsGuest(t *testing.T) {
	e := newEngine(t, Config{})
	// A limit the endless loop takes hours to reach even fast-forwarded
	// (meter.markEndless), so the context ends it.
	c, err := e.NewCanister(context.Background(), Options{Limits: meter.Limits{Update: 1 << 62}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	res, err := c.Install(context.Background(), load(t, e, "traps.wasm"), nil)
	mustOK(t, res, err)
	res, err = c.Update(context.Background(), "touch", nil)
	mustOK(t, res, err)
	before := stateHash(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Update(ctx, "infinite_loop", nil)
	if !errors.Is(err, errCancelled) {
		t.Fatalf("cancelled loop returned %v, want a cancellation error", err)
	}
	if stateHash(t, c) != before {
		t.Fatal("cancelled message changed the state")
	}
	res, err = c.Update(context.Background(), "touch", nil)
	mustOK(t, res, err)
}

func TestUpgradeCounter(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "counter.wasm")
	c := installed(t, e, mod, u64(5))
	res, err := c.Update(ctx, "inc", u64(10))
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	res, err = c.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 15 {
		t.Fatalf("get after upgrade = %d, want 15", got)
	}
	if c.Version() != 3 {
		t.Errorf("version %d, want 3 (install, update, upgrade)", c.Version())
	}
}

// incidentAt4GiB returns the incident canister with some data and stable
// memory grown past 4 GiB.
func incidentAt4GiB(t *testing.T, e *Engine, wasm string) *Canister {
	t.Helper()
	ctx := context.Background()
	c := installed(t, e, load(t, e, wasm), nil)
	res, err := c.Update(ctx, "add_chunks", u64(4))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "grow_stable", u64(65537))
	mustOK(t, res, err)
	if c.StableSize() <= 4<<30 {
		t.Fatalf("stable memory %d bytes, want more than 4 GiB", c.StableSize())
	}
	return c
}

func TestIncidentUpgradeTraps(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	tests := []struct {
		wasm, reason string
		code         ic0.ErrorCode
	}{
		{"incident.wasm", "32 bit stable memory api used on a memory larger than 4GB", ic0.CodeCanisterTrapped},
		{"incident_panic.wasm", "Panicked at 'serialization failed: stable memory too large to read in one go', src/lib.rs:42:9", ic0.CodeCanisterCalledTrap},
	}
	for _, tt := range tests {
		t.Run(tt.wasm, func(t *testing.T) {
			c := incidentAt4GiB(t, e, tt.wasm)
			before := stateHash(t, c)
			version := c.Version()
			pages := c.StableSize() / PageSize
			res, err := c.Upgrade(ctx, nil, nil, UpgradeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusTrapped || res.Trap.Reason != tt.reason || res.Trap.Code != tt.code {
				t.Fatalf("upgrade: %s %+v, want trap %q", res.Status, res.Trap, tt.reason)
			}
			if !strings.Contains(res.Trap.Function, "pre_upgrade") && !strings.Contains(strings.Join(res.Trap.Backtrace, "\n"), "pre_upgrade") {
				t.Errorf("trap location %q %v does not name pre_upgrade", res.Trap.Function, res.Trap.Backtrace)
			}
			if stateHash(t, c) != before || c.Version() != version {
				t.Fatal("trapped upgrade changed the state or version")
			}
			// skip_pre_upgrade is the way out: post_upgrade runs on the
			// old stable memory.
			res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{SkipPreUpgrade: true})
			mustOK(t, res, err)
			if c.StableSize() <= 4<<30 || c.Version() != version+1 {
				t.Errorf("after skip_pre_upgrade: stable %d bytes, version %d", c.StableSize(), c.Version())
			}
			res, err = c.Query(ctx, "memory_stats", nil)
			mustOK(t, res, err)
			if got := binary.LittleEndian.Uint64(res.Reply[8:]); got != pages {
				t.Errorf("post_upgrade sees %d stable pages, want the old %d", got, pages)
			}
		})
	}
	if hwm := peakrss.Read(t); hwm > 1<<30 {
		t.Errorf("peak RSS %d MiB, want under 1 GiB", hwm>>20)
	}
}

func TestDeterminism(t *testing.T) {
	run := func() [32]byte {
		ctx := context.Background()
		e := newEngine(t, Config{})
		c := installed(t, e, load(t, e, "incident.wasm"), nil)
		for _, step := range []struct {
			method string
			arg    uint64
		}{{"add", 5000}, {"add_chunks", 3}, {"grow_stable", 3}, {"add", 100}} {
			res, err := c.Update(ctx, step.method, u64(step.arg))
			mustOK(t, res, err)
		}
		res, err := c.Upgrade(ctx, nil, nil, UpgradeOptions{})
		mustOK(t, res, err)
		return stateHash(t, c)
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("two runs gave different states: %x vs %x", a, b)
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "counter.wasm")
	c := installed(t, e, mod, u64(41))
	st := mustState(t, c)
	c2, err := e.Restore(ctx, mod, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if !reflect.DeepEqual(mustState(t, c2), st) {
		t.Fatal("restored state differs from the saved one")
	}
	// The data segments were not re-applied, and globals came back: the
	// counter's consistency check passes.
	res, err := c2.Update(ctx, "inc", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 42 {
		t.Fatalf("inc on the restored canister = %d, want 42", got)
	}
	heapPages, stablePages := c2.Changed()
	if !reflect.DeepEqual(heapPages, []uint64{0}) || len(stablePages) != 0 {
		t.Errorf("Changed = %v, %v; want [0], []", heapPages, stablePages)
	}
	c2.Mark()
	if h, s := c2.Changed(); len(h)+len(s) != 0 {
		t.Errorf("Changed after Mark = %v, %v", h, s)
	}
}

func TestMotokoStableVarsSurviveUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	v1, v2 := load(t, e, "motoko_v1.wasm"), load(t, e, "motoko_v2.wasm.gz")
	c := installed(t, e, v1, []byte("DIDL\x00\x00"))
	// add(7, "seven"): DIDL, no type table, args (nat, text).
	arg := append([]byte("DIDL\x00\x02\x7d\x71\x07\x05"), "seven"...)
	res, err := c.Update(ctx, "add", arg)
	mustOK(t, res, err)
	get := func() []byte {
		res, err := c.Query(ctx, "get", []byte("DIDL\x00\x00"))
		mustOK(t, res, err)
		return res.Reply
	}
	before := get()
	res, err = c.Upgrade(ctx, v2, []byte("DIDL\x00\x00"), UpgradeOptions{})
	mustOK(t, res, err)
	if len(res.DebugPrints) != 2 || !strings.Contains(res.DebugPrints[0], "count=7") {
		t.Errorf("upgrade debug prints %q, want v1's preupgrade and v2's postupgrade", res.DebugPrints)
	}
	after := get()
	// Everything is kept; only the last value (upgrades) went from 0 to 1.
	if len(after) != len(before) || !bytes.Equal(after[:len(after)-1], before[:len(before)-1]) ||
		before[len(before)-1] != 0 || after[len(after)-1] != 1 {
		t.Fatalf("get after upgrade = %x, before %x", after, before)
	}
	if !bytes.Contains(after, []byte("seven")) {
		t.Fatalf("title lost: %x", after)
	}
}

func TestInstructionLimit(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c, err := e.NewCanister(ctx, Options{Limits: meter.Limits{Update: 5_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Install(ctx, load(t, e, "traps.wasm"), nil)
	mustOK(t, res, err)
	res, err = c.Update(ctx, "touch", nil)
	mustOK(t, res, err)
	if res.Instructions == 0 || res.Limit != 5_000_000 {
		t.Errorf("touch used %d of %d instructions", res.Instructions, res.Limit)
	}
	before := stateHash(t, c)
	res, err = c.Update(ctx, "infinite_loop", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "Canister exceeded the limit of 5000000 instructions for single message execution."
	if res.Status != StatusTrapped || res.Trap.Code != ic0.CodeInstructionLimitExceeded || res.Trap.Message != want {
		t.Fatalf("infinite loop: %s %+v", res.Status, res.Trap)
	}
	if res.Instructions < 5_000_000 {
		t.Errorf("trapped after %d instructions, want at least the limit", res.Instructions)
	}
	if stateHash(t, c) != before {
		t.Fatal("state changed by a message out of instructions")
	}
}

func TestInstructionsCounted(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "compute.wasm"), nil)
	res, err := c.Update(ctx, "burn", u32(10_000))
	mustOK(t, res, err)
	// About 20 instructions per iteration (compute.wat).
	if res.Instructions < 100_000 || res.Instructions > 1_000_000 {
		t.Errorf("10,000 iterations used %d instructions, want about 200,000", res.Instructions)
	}
}

func TestTrappingPostUpgradeRollsBackTheWholeUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	counter := load(t, e, "counter.wasm")
	c := installed(t, e, counter, u64(9))
	before, version := stateHash(t, c), c.Version()
	res, err := c.Upgrade(ctx, load(t, e, "core/post_trap.wasm"), nil, UpgradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusTrapped || res.Trap.Reason != "unreachable" || res.Trap.Function != "post_upgrade" {
		t.Fatalf("upgrade: %s %+v, want unreachable in post_upgrade", res.Status, res.Trap)
	}
	// The counter's pre_upgrade wrote stable memory and the new module's
	// post_upgrade grew it: none of it stays.
	if stateHash(t, c) != before || c.Version() != version || c.Module() != counter {
		t.Fatal("a trapped post_upgrade left changes behind")
	}
	res, err = c.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 9 {
		t.Fatalf("get after the failed upgrade = %d, want 9", got)
	}
}
