package workbench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// TestModules compiles a module once for any number of loads, also when
// they race, and keeps it under the hash of its bytes until Close.
func TestModules(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	var compiled atomic.Int32
	c := NewModules(func(ctx context.Context, code []byte) (*engine.Module, error) {
		compiled.Add(1)
		return b.Engine().Load(ctx, code)
	})
	code := fixture(t, "counter.wasm")
	mods := make([]*engine.Module, 4)
	var wg sync.WaitGroup
	for i := range mods {
		wg.Go(func() {
			m, err := c.Load(ctx, code)
			if err != nil {
				t.Error(err)
			}
			mods[i] = m
		})
	}
	wg.Wait()
	for _, m := range mods[1:] {
		if m != mods[0] {
			t.Fatal("racing loads returned different modules")
		}
	}
	again, err := c.Load(ctx, code)
	if err != nil || again != mods[0] {
		t.Fatalf("a later load compiled again: %v", err)
	}
	if n := compiled.Load(); n < 1 || n > 4 {
		t.Errorf("compiled %d times for 4 racing loads", n)
	}
	if m, ok := c.Cached(snapshots.HashOf(code)); !ok || m != mods[0] {
		t.Error("Cached misses the module under the hash of its bytes")
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Cached(snapshots.HashOf(code)); ok {
		t.Error("Close kept the module")
	}
}
