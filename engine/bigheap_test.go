package engine

import (
	"context"
	"testing"
)

// A snapshot with a full 4 GiB heap (65,536 wasm pages, the wasm32
// maximum) opens and runs as on the replica. The heap is sparse: only the
// pages written take RAM.
func TestFullHeap(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	mod := load(t, e, "core/bigheap.wasm")
	st := State{HeapSize: 1 << 32, HeapPages: []Page{{Index: 65535, Data: []byte{1, 2, 3}}}, Globals: []Global{I32(0)}}
	c, err := e.Restore(ctx, mod, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	res, err := c.Update(ctx, "touch", u32(4))
	mustOK(t, res, err)
	if res.HeapSizeAfter != 1<<32 || len(res.HeapPagesChanged) != 5 {
		t.Errorf("heap %d after, %d pages changed", res.HeapSizeAfter, len(res.HeapPagesChanged))
	}
	if l := limitOf(res, LimitHeapMaxBytes); l.Used != l.Limit {
		t.Errorf("heap_max_bytes %+v, want the whole 4 GiB used", l)
	}
	st2, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if st2.HeapSize != 1<<32 {
		t.Errorf("state heap %d", st2.HeapSize)
	}
}

// Growing to the full 4 GiB succeeds as on the replica (memory.grow
// returns the old size), and the canister keeps running, on the
// interpreter from then on; one page more fails with -1.
func TestGrowToFullHeap(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	c := limitsCanister(t, e, Options{WasmMemoryLimit: new(uint64)})
	res, err := c.Update(ctx, "grow", u64(65534))
	mustOK(t, res, err)
	res, err = c.Update(ctx, "grow", u64(1)) // to 65,536 pages
	mustOK(t, res, err)
	if res.HeapSizeAfter != 1<<32 {
		t.Fatalf("heap %d after growing to 65536 pages", res.HeapSizeAfter)
	}
	res, err = c.Update(ctx, "dirty2", nil) // compiled code cannot run this at 4 GiB
	mustOK(t, res, err)
	if !c.interpreted {
		t.Error("the canister still runs compiled code on a full heap")
	}
	if res.Instructions != 2512 {
		t.Errorf("dirty2 on the interpreter used %d instructions, want 2512 as compiled", res.Instructions)
	}
	res, err = c.Update(ctx, "grow", u64(1)) // memory.grow returns -1
	mustOK(t, res, err)
	if res.HeapSizeAfter != 1<<32 {
		t.Errorf("heap %d after growing past 65536 pages", res.HeapSizeAfter)
	}
}
