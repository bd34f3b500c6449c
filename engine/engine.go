package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
)

// Config configures an Engine. The zero value is ready to use: compiler
// mode where wazero supports it, an in-memory compilation cache, the
// documented default environment (ic0.DefaultEnv).
type Config struct {
	// Interpreter selects wazero's interpreter instead of its compiler
	// (slower; for platforms without the compiler and for comparisons).
	Interpreter bool
	// CacheDir, when set, keeps compiled modules on disk between runs.
	CacheDir string
	// Unmetered turns the replica's instruction metering off: only System
	// API calls count against the limits (a message in an endless loop
	// then runs until its context ends). Modules still count slices
	// (meter.InstrumentChecks), so a long call stays cancellable; measured
	// as fast as metering on the compute benchmark.
	Unmetered bool
	// PortableHeap keeps canister heaps with heap.NewPortable (a copy,
	// compared page by page) even where the copy-on-write heap works;
	// for tests and comparisons.
	PortableHeap bool

	// slice overrides meter.DefaultSlice, for tests that run with tiny
	// slices to show that slicing changes no count.
	slice uint64
}

// Engine compiles canister modules and runs canisters. An Engine may be
// shared by goroutines; each Canister it creates is single-threaded.
type Engine struct {
	cfg   Config
	cache wazero.CompilationCache
	// rt validates and compiles modules for Load; every canister has its
	// own runtime (the ic0 host module is per canister) sharing cache.
	rt wazero.Runtime

	// wazero cannot stop a compilation: a cancelled Load returns at once
	// and leaves its compile running (abandoned counts them). Close then
	// leaves rt and cache to the last of them (closing).
	mu        sync.Mutex
	abandoned int
	closing   bool
}

// New returns an engine. Close it to release the compilation cache.
func New(cfg Config) (*Engine, error) {
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open compilation cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	e := &Engine{cfg: cfg, cache: cache}
	e.rt = wazero.NewRuntimeWithConfig(context.Background(), e.runtimeConfig(e.cfg.Interpreter))
	return e, nil
}

// runtimeConfig is the wazero configuration of every runtime the engine
// creates.
func (e *Engine) runtimeConfig(interpreter bool) wazero.RuntimeConfig {
	rc := wazero.NewRuntimeConfig()
	if interpreter {
		// The interpreter is Go code, so the option costs it little: a
		// cancelled context closes the running instance at once.
		rc = wazero.NewRuntimeConfigInterpreter().WithCloseOnContextDone(true)
	}
	// Compiled code does not take WithCloseOnContextDone: it makes every
	// loop header and function entry call back into Go (21x slower on a
	// compute loop). Instead the instruction counter returns to the host
	// at the end of every slice (meter.DefaultSlice), where the engine
	// checks the context (Canister.outOfInstructions).
	return rc.
		WithCompilationCache(e.cache).
		WithCustomSections(true).
		WithMemoryLimitPages(65536)
}

// abandonable runs f like f(ctx), but returns as soon as ctx is done
// (Ctrl+C during a long compile): wazero cannot stop a compilation, so f
// goes on in the background, drop releases its result, and nothing else
// waits for it. f gets ctx's values without its cancellation: tracing
// asks for the traced variant through them (WithTracing).
func abandonable[T any](ctx context.Context, e *Engine, f func(context.Context) (T, error), drop func(T)) (T, error) {
	var zero T
	if ctx.Done() == nil {
		return f(ctx)
	}
	if ctx.Err() != nil {
		return zero, context.Cause(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	e.mu.Lock()
	e.abandoned++ // until it returns in time
	e.mu.Unlock()
	go func() {
		v, err := f(context.WithoutCancel(ctx))
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		e.finishCompile()
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				drop(r.v)
			}
			e.finishCompile()
		}()
		return zero, context.Cause(ctx)
	}
}

// finishCompile ends a compile of abandonable, closing the engine when it
// was the last one a Close waited for.
func (e *Engine) finishCompile() {
	e.mu.Lock()
	e.abandoned--
	last := e.closing && e.abandoned == 0
	e.mu.Unlock()
	if last {
		e.release(context.Background())
	}
}

// Close releases the engine's compiled modules. Close canisters first. A
// compile abandoned by a cancelled Load keeps the runtime until it ends.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closing = true
	pending := e.abandoned > 0
	e.mu.Unlock()
	if pending {
		return nil
	}
	return e.release(ctx)
}

// release closes the runtime and the compilation cache.
func (e *Engine) release(ctx context.Context) error {
	err := e.rt.Close(ctx)
	if cerr := e.cache.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close engine: %w", err)
	}
	return nil
}
