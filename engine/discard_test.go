package engine

import (
	"context"
	"reflect"
	"testing"
)

// TestDiscardedUpgrade: an upgrade with UpgradeOptions.Discard reports
// exactly what the committed upgrade does (status, instructions, phases,
// pages changed, sizes, limits) and leaves the canister as it was, so
// running the upgrade again on it, committed this time, gives the same
// result and state as on a canister that never ran the discarded one.
// Covered: a replaced heap with stable writes (incident), Motoko stable
// variables onto a new module, a kept heap grown before (keep_counter).
func TestDiscardedUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	didl := []byte("DIDL\x00\x00")
	type update struct {
		method string
		arg    []byte
	}
	for _, tt := range []struct {
		name     string
		from, to string
		calls    []update
		keep     bool
	}{
		{name: "incident", from: "incident.wasm", calls: []update{{"add_chunks", u64(16)}}},
		{name: "motoko", from: "motoko_v1.wasm", to: "motoko_v2.wasm.gz", calls: []update{{"add", append([]byte("DIDL\x00\x02\x7d\x71\x07\x05"), "seven"...)}}},
		{name: "keep", from: "keep_counter.wasm", to: "keep_counter_v2.wasm", keep: true, calls: []update{{"inc", nil}, {"inc", nil}, {"mark", nil}, {"grow", nil}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			from := load(t, e, tt.from)
			to := from
			if tt.to != "" {
				to = load(t, e, tt.to)
			}
			prepare := func() *Canister {
				arg := didl
				if tt.keep {
					arg = nil
				}
				c := installed(t, e, from, arg)
				t.Cleanup(func() { c.Close(ctx) })
				for _, m := range tt.calls {
					res, err := c.Update(ctx, m.method, m.arg)
					mustOK(t, res, err)
				}
				return c
			}
			a, b := prepare(), prepare()
			before := stateHash(t, a)
			if stateHash(t, b) != before {
				t.Fatal("two canisters prepared alike differ")
			}
			discarded, err := a.Upgrade(ctx, to, didl, UpgradeOptions{KeepMainMemory: tt.keep, Discard: true})
			mustOK(t, discarded, err)
			if stateHash(t, a) != before || a.Module() != from {
				t.Fatal("the discarded upgrade changed the canister")
			}
			committed, err := b.Upgrade(ctx, to, didl, UpgradeOptions{KeepMainMemory: tt.keep})
			mustOK(t, committed, err)
			if len(committed.HeapPagesChanged) == 0 || committed.HeapSizeAfter == 0 {
				t.Fatalf("committed upgrade reports no heap: %+v", committed)
			}
			if !reflect.DeepEqual(discarded, committed) {
				t.Fatalf("discarded upgrade reports\n%+v\nthe committed one\n%+v", discarded, committed)
			}
			again, err := a.Upgrade(ctx, to, didl, UpgradeOptions{KeepMainMemory: tt.keep})
			mustOK(t, again, err)
			if !reflect.DeepEqual(again, committed) || stateHash(t, a) != stateHash(t, b) {
				t.Fatalf("the upgrade after a discarded one reports\n%+v\nwant\n%+v (or its state differs)", again, committed)
			}
		})
	}
}
