package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/ic0"
)

// candidNat64 is the Candid encoding of the argument list (n : nat64).
func candidNat64(n uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte("DIDL\x00\x01\x78"), n)
}

// replyNat64 decodes a Candid reply holding one nat64.
func replyNat64(t *testing.T, res Result) uint64 {
	t.Helper()
	if len(res.Reply) != 15 || !bytes.HasPrefix(res.Reply, []byte("DIDL\x00\x01\x78")) {
		t.Fatalf("reply %x is not one nat64", res.Reply)
	}
	return binary.LittleEndian.Uint64(res.Reply[7:])
}

// TestRustLedger runs the canister rustc builds (testdata/rust/ledger):
// its serde/bincode state survives an upgrade through stable memory, a
// panic traps with ic-cdk's text, and stable memory past 4 GiB makes its
// pre_upgrade hit the 32-bit stable API, as in the incident.
func TestRustLedger(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := installed(t, e, load(t, e, "rust_ledger.wasm"), nil)

	res, err := c.Update(ctx, "insert", candidNat64(500))
	mustOK(t, res, err)
	res, err = c.Query(ctx, "count", nil)
	mustOK(t, res, err)
	if n := replyNat64(t, res); n != 500 {
		t.Fatalf("count = %d, want 500", n)
	}
	res, err = c.Query(ctx, "checksum", nil)
	mustOK(t, res, err)
	sum := replyNat64(t, res)

	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	mustOK(t, res, err)
	if got := strings.Join(res.DebugPrints, "\n"); got != "ledger: restored 500 accounts" {
		t.Errorf("post_upgrade printed %q", got)
	}
	res, err = c.Query(ctx, "checksum", nil)
	mustOK(t, res, err)
	if got := replyNat64(t, res); got != sum {
		t.Fatalf("checksum after upgrade %d, want %d: the ledger did not survive", got, sum)
	}

	res, err = c.Update(ctx, "fail", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusTrapped || res.Trap.Code != ic0.CodeCanisterCalledTrap ||
		!strings.HasPrefix(res.Trap.Reason, "Panicked at 'ledger invariant violated: 500 accounts', src/lib.rs:") {
		t.Fatalf("fail: %s %+v, want the panic", res.Status, res.Trap)
	}

	res, err = c.Update(ctx, "reserve", candidNat64(65537))
	mustOK(t, res, err)
	before := stateHash(t, c)
	res, err = c.Upgrade(ctx, nil, nil, UpgradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusTrapped || res.Trap.Reason != "32 bit stable memory api used on a memory larger than 4GB" {
		t.Fatalf("upgrade past 4 GiB: %s %+v, want the 32-bit trap", res.Status, res.Trap)
	}
	if stateHash(t, c) != before {
		t.Fatal("the trapped upgrade changed the state")
	}
}
