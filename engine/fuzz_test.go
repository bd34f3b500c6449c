package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/engine/meter"
)

// FuzzLoad feeds arbitrary bytes to Load, seeded with the test canisters:
// bad input must give an error, never a panic, and whatever loads must
// install or fail cleanly.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"counter.wasm", "traps.wasm", "core/start.wasm", "core/memory64.wasm", "core/import_env.wasm"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	e := newEngine(f, Config{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		mod, err := e.Load(ctx, b)
		if err != nil {
			return
		}
		defer mod.Close(ctx)
		// A small limit: a mutated module may well loop forever.
		c, err := e.NewCanister(ctx, Options{Limits: meter.Limits{Install: 1_000_000}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Install(ctx, mod, nil); err != nil {
			t.Logf("install: %v", err)
		}
	})
}

// FuzzRestore restores the counter from states with arbitrary sizes and
// pages: Restore must reject what does not fit, never panic.
func FuzzRestore(f *testing.F) {
	f.Add(uint64(PageSize), uint64(0), uint64(0), []byte{1, 2, 3}, uint64(0))
	f.Add(uint64(3*PageSize), uint64(5), uint64(2*PageSize), []byte{9}, uint64(1))
	f.Add(uint64(1<<63), uint64(1<<48), uint64(1<<60), []byte{}, uint64(1<<62))
	e := newEngine(f, Config{})
	mod := load(f, e, "counter.wasm")
	f.Fuzz(func(t *testing.T, heapSize, heapPage, stableSize uint64, data []byte, stablePage uint64) {
		ctx := context.Background()
		st := State{
			HeapSize:    heapSize,
			HeapPages:   []Page{{Index: heapPage, Data: data}},
			StableSize:  stableSize,
			StablePages: []Page{{Index: stablePage, Data: data}},
			Globals:     []Global{I64(int64(len(data)))},
		}
		c, err := e.Restore(ctx, mod, st, Options{})
		if err != nil {
			return
		}
		defer c.Close(ctx)
		if _, err := c.Query(ctx, "get", nil); err != nil {
			t.Fatal(err)
		}
	})
}
