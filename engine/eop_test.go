package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
)

// candidNat is the Candid encoding of the argument list (n : nat), n < 128.
func candidNat(n byte) []byte { return []byte{'D', 'I', 'D', 'L', 0, 1, 0x7d, n} }

// TestEOPCounter runs the Motoko canister moc 4.10.0 builds with enhanced
// orthogonal persistence (testdata/eop_counter.mo): a wasm64 module,
// lowered to 32-bit memory, installs, takes updates and answers queries.
func TestEOPCounter(t *testing.T) {
	for name, cfg := range map[string]Config{"metered": {}, "unmetered": {Unmetered: true}, "interpreter": {Interpreter: true}} {
		t.Run(name, func(t *testing.T) { testEOPCounter(t, cfg) })
	}
}

func testEOPCounter(t *testing.T, cfg Config) {
	ctx := context.Background()
	e := newEngine(t, cfg)
	m := load(t, e, "eop_counter.wasm")
	if !m.info.IsMemory64() {
		t.Fatal("eop_counter.wasm is not a wasm64 module")
	}
	c := installed(t, e, m, nil)
	for _, n := range []byte{5, 7} {
		res, err := c.Update(ctx, "inc", candidNat(n))
		mustOK(t, res, err)
	}
	res, err := c.Query(ctx, "get", []byte("DIDL\x00\x00"))
	mustOK(t, res, err)
	// (nat, nat) = (12, 0)
	if want := []byte{'D', 'I', 'D', 'L', 0, 2, 0x7d, 0x7d, 12, 0}; !bytes.Equal(res.Reply, want) {
		t.Fatalf("get replied %x, want %x", res.Reply, want)
	}
	if res.Instructions == 0 {
		t.Error("the query counted no instructions")
	}
	// The headroom report names the IC's wasm64 heap limit (no declared
	// maximum: 18 GiB), not canscope's 4 GiB.
	found := false
	for _, l := range res.Limits {
		if l.Name == LimitHeapMaxBytes {
			found = true
			if l.Limit != 18<<30 {
				t.Errorf("heap_max_bytes limit %d, want 18 GiB", l.Limit)
			}
		}
	}
	if !found {
		t.Errorf("no heap_max_bytes in %+v", res.Limits)
	}
}

// TestEOPTrapPreUpgrade: eop_trap's preupgrade calls Prim.trap, and the
// upgrade fails in canister_pre_upgrade with its message.
func TestEOPTrapPreUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "eop_trap.wasm"), nil)
	res, err := c.Update(ctx, "inc", candidNat(3))
	mustOK(t, res, err)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trap == nil || !strings.Contains(res.Trap.Message, "eop_trap: preupgrade refuses the upgrade") {
		t.Fatalf("upgrade: trap %+v, want preupgrade's message", res.Trap)
	}
	if res.Trap.Code != ic0.CodeCanisterCalledTrap {
		t.Errorf("trap code %v, want %v", res.Trap.Code, ic0.CodeCanisterCalledTrap)
	}
	res, err = c.Query(ctx, "get", []byte("DIDL\x00\x00"))
	mustOK(t, res, err)
	if want := []byte{'D', 'I', 'D', 'L', 0, 1, 0x7d, 3}; !bytes.Equal(res.Reply, want) {
		t.Fatalf("after the failed upgrade get replied %x, want %x (rolled back)", res.Reply, want)
	}
}
