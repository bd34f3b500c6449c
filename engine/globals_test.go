package engine

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestGlobalsAsTheReplicaReadsThem: a canister's globals are the replica's
// read_canister_snapshot_metadata list (exported globals in export order,
// then the other mutable globals in index order) with no instruction
// counter; a state carrying an old trailing i64 counter restores, and its
// counter is dropped. Source: dfinity/ic
// rs/execution_environment/tests/canister_snapshots.rs
// (take_download_upload_load_snapshot_roundtrip_one_global).
func TestGlobalsAsTheReplicaReadsThem(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "globals.wasm")
	c := installed(t, e, mod, u64(5))
	want := []Global{F64(1.5), I32(3), I32(0), I64(5)}
	if got := c.Globals(); !reflect.DeepEqual(got, want) {
		t.Fatalf("globals after install = %v, want %v", got, want)
	}
	st := mustState(t, c)
	if !reflect.DeepEqual(st.Globals, want) {
		t.Fatalf("State.Globals = %v, want %v", st.Globals, want)
	}

	// An older manifest's list: one i64 more than the module's.
	st.Globals = append(want[:len(want):len(want)], I64(123456))
	c2, err := e.Restore(ctx, mod, st, Options{})
	if err != nil {
		t.Fatalf("restore with a trailing counter: %v", err)
	}
	defer c2.Close(ctx)
	if got := c2.Globals(); !reflect.DeepEqual(got, want) {
		t.Fatalf("globals after restoring a trailing counter = %v, want %v", got, want)
	}

	// One extra entry that is not an i64 is no counter: refused.
	st.Globals = append(want[:len(want):len(want)], I32(0))
	if _, err := e.Restore(ctx, mod, st, Options{}); err == nil || !strings.Contains(err.Error(), "state has 5 globals, the module 4") {
		t.Fatalf("restore with an extra i32: %v, want the count refused", err)
	}
}
