package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// session bundles what a run command opens: the store, the engine and the
// bench over both. close releases them in order.
type session struct {
	store store
	eng   *engine.Engine
	bench *workbench.Bench
}

// openSession opens the store and an engine over it.
func (a *app) openSession() (*session, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Config{CacheDir: a.compileCacheDir()})
	if err != nil {
		// A cache that cannot be opened (read-only home) only costs
		// compile time: run without it.
		eng, err = engine.New(engine.Config{})
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start engine: %w", err)
	}
	bench := workbench.New(st, eng)
	if dir := a.heapImageDir(); dir != "" {
		// Raw images of large heaps: the second open of a snapshot (and
		// the first after its import) maps its heap instead of reading
		// every page from the store.
		bench.SetHeapImages(dir, 0)
	}
	return &session{store: st, eng: eng, bench: bench}, nil
}

// compileCacheDir is where compiled modules are kept between commands, so
// a slow module compiles once: wasm/ in the cache location (--cache-dir,
// $XDG_CACHE_HOME/canscope, ~/.cache/canscope), which an s3:// store's
// blob cache shares and bounds; "" (none, or no location) compiles in
// memory only.
func (a *app) compileCacheDir() string {
	dir := a.cacheRoot()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "wasm")
}

// heapImageDir is where raw heap images are kept: heaps/ in the cache
// location; "" for none.
func (a *app) heapImageDir() string {
	dir := a.cacheRoot()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "heaps")
}

// cacheRoot is the cache location for the engine's caches (compiled
// modules in wasm/, heap images in heaps/, run counts in runs/); "" for none.
func (a *app) cacheRoot() string {
	dir, err := a.cacheLocation()
	if err != nil {
		return ""
	}
	return dir
}

// openRun opens a session and restores snapshot ref into a canister with
// the environment and limits envs asks for (call and upgrade). The caller
// closes the run, then the session.
func (a *app) openRun(ctx context.Context, ref string, envs *envFlags) (*session, snapshots.Snapshot, *workbench.Run, error) {
	s, err := a.openSession()
	if err != nil {
		return nil, snapshots.Snapshot{}, nil, err
	}
	snap, err := s.store.Resolve(ref)
	if err == nil {
		var r *workbench.Run
		if r, err = s.bench.OpenWith(ctx, snap.ID, engine.Options{Limits: envs.limits()}); err == nil {
			if err = envs.setOn(r.Canister); err == nil {
				return s, snap, r, nil
			}
			r.Close(ctx)
		}
	}
	s.close(ctx)
	return nil, snapshots.Snapshot{}, nil, err
}

// close releases the bench, the engine and the store, in that order. Their
// errors are dropped: the command's own result has been decided, and the
// store's writes were atomic and durable before it.
func (s *session) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // release them after Ctrl+C too
	s.bench.Close(ctx)
	s.eng.Close(ctx)
	s.store.Close()
}
