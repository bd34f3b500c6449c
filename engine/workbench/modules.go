package workbench

import (
	"context"
	"errors"
	"sync"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// Modules keeps compiled modules by the SHA-256 of their bytes (the hash
// the IC reports, and the store's blob hash of a module): compiling and
// instrumenting a module costs far more than restoring a snapshot, and a
// session opens the same few modules again and again, while wazero drops
// compiled code when its last user closes it. The bench keeps its plain
// compilations in one, engine/trace its traced ones in another. It is
// safe for concurrent use.
type Modules struct {
	compile func(ctx context.Context, code []byte) (*engine.Module, error)

	mu   sync.Mutex
	mods map[snapshots.Hash]*engine.Module
}

// NewModules returns an empty cache that compiles with compile (e.g. an
// engine's Load).
func NewModules(compile func(ctx context.Context, code []byte) (*engine.Module, error)) *Modules {
	return &Modules{compile: compile, mods: map[snapshots.Hash]*engine.Module{}}
}

// Cached returns the module whose bytes hash to h, if it is kept.
func (c *Modules) Cached(h snapshots.Hash) (*engine.Module, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mod, ok := c.mods[h]
	return mod, ok
}

// Load returns the compiled module of code, from the cache or compiled
// and kept. The module is shared: Close closes it, callers do not. Two
// callers compiling the same module at once both succeed; the second's
// copy is closed.
func (c *Modules) Load(ctx context.Context, code []byte) (*engine.Module, error) {
	if mod, ok := c.Cached(snapshots.HashOf(code)); ok {
		return mod, nil
	}
	mod, err := c.compile(ctx, code)
	if err != nil {
		return nil, err
	}
	h := snapshots.Hash(mod.Hash())
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.mods[h]; ok {
		mod.Close(ctx)
		return have, nil
	}
	c.mods[h] = mod
	return mod, nil
}

// Close releases the kept modules. Close the canisters using them first.
func (c *Modules) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for h, m := range c.mods {
		errs = append(errs, m.Close(ctx))
		delete(c.mods, h)
	}
	return errors.Join(errs...)
}
