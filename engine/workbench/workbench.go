// Package workbench runs the engine on stored snapshots: it restores a
// snapshot into a canister, runs messages and upgrades on that copy, and
// commits the outcome as a child snapshot that stores only the pages the
// run changed. The CLI and the terminal UI both work through it, so a
// rehearsal behaves the same whichever way an operator starts it.
package workbench

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Store is what the workbench needs from the snapshot store;
// every snapshots.Store satisfies it. Each method means what the method of the
// same name of snapshots.Store documents.
type Store interface {
	Manifest(id snapshots.ID) (*snapshots.Manifest, error)
	ReadBlob(h snapshots.Hash) ([]byte, error)
	ReadPage(h snapshots.Hash, buf []byte) error
	PutPage(data []byte) (snapshots.Hash, error)
	PutBlob(data []byte) (snapshots.Hash, error)
	Commit(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error)
}

// Bench joins a store and an engine. It is safe for concurrent use.
type Bench struct {
	store Store
	eng   *engine.Engine
	// mods holds the compiled modules of stored snapshots and installs.
	mods *Modules
	// images, when set, keeps raw images of streamed heaps (images.go).
	images *heapImages
}

// New returns a bench over store and eng. The caller keeps ownership of
// both and closes the bench before the engine.
func New(store Store, eng *engine.Engine) *Bench {
	return &Bench{store: store, eng: eng, mods: NewModules(eng.Load)}
}

// Close releases the compiled modules Load kept. Close the runs first.
func (b *Bench) Close(ctx context.Context) error { return b.mods.Close(ctx) }

// Engine returns the engine the bench runs canisters on.
func (b *Bench) Engine() *engine.Engine { return b.eng }

// Run is a live canister on the bench: restored from a snapshot or freshly
// installed. Its changes reach the store only through Commit.
type Run struct {
	bench *Bench
	// base is the snapshot the run started from; nil after Install.
	base     *snapshots.Manifest
	Canister *engine.Canister
}

// Base returns the manifest the run was restored from, nil for a fresh
// install.
func (r *Run) Base() *snapshots.Manifest { return r.base }

// Close releases the canister.
func (r *Run) Close(ctx context.Context) error { return r.Canister.Close(ctx) }

// Load returns the compiled module of snapshot m, compiling it on first
// use. The module is shared: the bench closes it (Close), callers do not.
func (b *Bench) Load(ctx context.Context, m *snapshots.Manifest) (*engine.Module, error) {
	if m.Module.IsZero() {
		return nil, fmt.Errorf("snapshot %s has no module", m.Ref())
	}
	if mod, ok := b.mods.Cached(m.Module); ok {
		return mod, nil
	}
	code, err := b.store.ReadBlob(m.Module)
	if err != nil {
		return nil, fmt.Errorf("read module of %s: %w", m.Ref(), err)
	}
	mod, err := b.mods.Load(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("load module of %s: %w", m.Ref(), err)
	}
	return mod, nil
}

// Open restores snapshot id into a canister. Time is the snapshot's
// taken_at (when set), so the canister sees the clock it had when the
// snapshot was taken, and the canister id is the snapshot's.
func (b *Bench) Open(ctx context.Context, id snapshots.ID) (*Run, error) {
	return b.OpenWith(ctx, id, engine.Options{})
}

// OpenWith is Open with engine options: instruction limits, a System API
// recorder, a cycle balance. A nil opts.Env means the snapshot's
// environment (EnvFor).
func (b *Bench) OpenWith(ctx context.Context, id snapshots.ID, opts engine.Options) (*Run, error) {
	m, err := b.store.Manifest(id)
	if err != nil {
		return nil, err
	}
	mod, err := b.Load(ctx, m)
	if err != nil {
		return nil, err
	}
	st, err := b.state(m, mod)
	if err != nil {
		return nil, err
	}
	if opts.Env == nil {
		if opts.Env, err = EnvFor(m.Snapshot); err != nil {
			return nil, err
		}
	}
	if img := b.images.open(m.Heap); img != nil {
		st.HeapImage = img
		defer img.Close() // the heap maps its own descriptor
	} else if img, delta := b.images.ancestor(b.store, m); img != nil {
		st.HeapImage, st.HeapImageDelta = img, delta
		defer img.Close()
	}
	c, err := b.eng.Restore(ctx, mod, st, opts)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", m.Ref(), err)
	}
	if st.HeapImage == nil {
		b.images.save(m.Heap, c) // an image only speeds up the next open
	}
	return &Run{bench: b, base: m, Canister: c}, nil
}

// EnvFor returns the deterministic environment for running snapshot s:
// the documented defaults, with s's canister id and its taken_at as time.
func EnvFor(s snapshots.Snapshot) (*ic0.Env, error) {
	env := ic0.DefaultEnv()
	if s.TakenAt != 0 {
		env.Time = s.TakenAt
	}
	if s.CanisterID != "" {
		id, err := principal.Parse(s.CanisterID)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: canister id %q: %w", s.Ref(), s.CanisterID, err)
		}
		env.CanisterID = id
	}
	return env, nil
}

// state reads a manifest's pages into an engine state for mod.
func (b *Bench) state(m *snapshots.Manifest, mod *engine.Module) (engine.State, error) {
	st := engine.State{
		HeapSize:        m.Heap.Size,
		StableSize:      m.Stable.Size,
		CertifiedData:   m.CertifiedData,
		CanisterVersion: m.CanisterVersion,
	}
	if m.GlobalTimer.Active {
		st.GlobalTimer = m.GlobalTimer.Deadline
	}
	st.Module = mod.Bytes()
	for i, g := range m.Globals {
		eg, err := engineGlobal(g)
		if err != nil {
			return st, fmt.Errorf("snapshot %s: global %d: %w", m.Ref(), i, err)
		}
		st.Globals = append(st.Globals, eg)
	}
	// The heap streams into the engine a page at a time; stable memory is
	// read on first use: production canisters keep tens of GiB there, and
	// a run touches a little of it.
	st.HeapSource = storePages{store: b.store, table: m.Heap}
	st.StableSource = storePages{store: b.store, table: m.Stable}
	return st, nil
}

// Install creates a canister running wasmBytes with canister_init(arg).
// canisterID names it (empty: the engine's default id). The returned Run
// has no base snapshot; commit it to keep it.
func (b *Bench) Install(ctx context.Context, wasmBytes, arg []byte, canisterID string) (*Run, engine.Result, error) {
	env, err := EnvFor(snapshots.Snapshot{CanisterID: canisterID})
	if err != nil {
		return nil, engine.Result{}, err
	}
	return b.InstallWith(ctx, wasmBytes, arg, engine.Options{Env: env})
}

// InstallWith is Install with engine options: the environment (caller,
// time, controllers, canister id) for a canister_init that checks them,
// instruction limits. opts.Env must be set.
func (b *Bench) InstallWith(ctx context.Context, wasmBytes, arg []byte, opts engine.Options) (*Run, engine.Result, error) {
	mod, err := b.mods.Load(ctx, wasmBytes)
	if err != nil {
		return nil, engine.Result{}, err
	}
	c, err := b.eng.NewCanister(ctx, opts)
	if err != nil {
		return nil, engine.Result{}, err
	}
	res, err := c.Install(ctx, mod, arg)
	if err != nil {
		c.Close(ctx)
		return nil, res, err
	}
	return &Run{bench: b, Canister: c}, res, nil
}

// CommitOptions names and describes a snapshot Commit makes.
type CommitOptions struct {
	Name   string
	MadeBy snapshots.MadeBy
	Note   string
}

// Commit stores the canister's current state as a snapshot. After Open
// the snapshot is a child of the base that stores only the pages the run
// changed; after Install it is a new root. The canister stays usable and
// later commits are relative to this one.
func (r *Run) Commit(ctx context.Context, o CommitOptions) (snapshots.Snapshot, error) {
	c := r.Canister
	heapChanged, stableChanged := c.Changed()
	if r.base == nil {
		var err error
		if heapChanged, err = c.HeapPages(); err != nil {
			return snapshots.Snapshot{}, fmt.Errorf("commit %s: %w", o.Name, err)
		}
		stableChanged = c.StablePages()
	}
	m, err := ChildManifest(r.bench.store, r.base, o.MadeBy, c.ID(), ChildState{
		Module: c.Module(),
		// The state is the canister's as of its clock: time only moves
		// when the caller sets a later environment (Canister.SetEnv).
		TakenAt:         c.Env().Time,
		CanisterVersion: c.Version(),
		CertifiedData:   c.CertifiedData(),
		TimerDeadline:   c.TimerDeadline(),
		Globals:         c.Globals(),
		HeapSize:        c.HeapSize(),
		HeapChanged:     heapChanged,
		ReadHeap:        func(i uint64, buf []byte) error { return c.ReadHeap(buf, i*engine.PageSize) },
		StableSize:      c.StableSize(),
		StableChanged:   stableChanged,
		ReadStable:      func(i uint64, buf []byte) error { return c.ReadStable(buf, i*engine.PageSize) },
	})
	if err != nil {
		return snapshots.Snapshot{}, fmt.Errorf("commit %s: %w", o.Name, err)
	}
	m.Name, m.Note = o.Name, o.Note
	if r.base != nil {
		// The child keeps the base's unchanged pages, which Commit does
		// not re-check: a base with lost pages must not make a child.
		if err := snapshots.CheckPresent(ctx, r.bench.store, r.base); err != nil {
			return snapshots.Snapshot{}, fmt.Errorf("commit %s: %w", o.Name, err)
		}
	}
	snap, err := r.bench.store.Commit(ctx, m)
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	// Later commits build on this snapshot and the pages changed since.
	if r.base, err = r.bench.store.Manifest(snap.ID); err != nil {
		return snap, err
	}
	c.Mark()
	return snap, nil
}

// errNullGlobal explains why a snapshot with a dfx `null` global cannot run.
var errNullGlobal = errors.New("the snapshot stores it as null (a type the replica could not export); canscope can show and diff this snapshot but not run it")

func engineGlobal(g snapshots.Global) (engine.Global, error) {
	t, ok := map[snapshots.GlobalKind]wasm.ValueType{
		snapshots.KindI32: wasm.I32, snapshots.KindI64: wasm.I64,
		snapshots.KindF32: wasm.F32, snapshots.KindF64: wasm.F64, snapshots.KindV128: wasm.V128,
	}[g.Kind]
	if !ok {
		if g.Kind == snapshots.KindNull {
			return engine.Global{}, errNullGlobal
		}
		return engine.Global{}, fmt.Errorf("unknown global kind %q", g.Kind)
	}
	bits := g.Bits
	if t == wasm.I32 || t == wasm.F32 {
		bits &= 0xffff_ffff // the store sign-extends i32; the engine wants the low word
	}
	return engine.Global{Type: t, Bits: bits, High: g.Hi}, nil
}

// storePages serves a snapshot's stable memory pages from the store, for
// an engine restoring it lazily (engine.State.StableSource).
type storePages struct {
	store Store
	table snapshots.PageTable
}

// BackedPages lists the stored pages of the table.
func (p storePages) BackedPages() []uint64 {
	out := make([]uint64, len(p.table.Pages))
	for i, pg := range p.table.Pages {
		out[i] = pg.Index
	}
	return out
}

// ReadPage reads page idx from the store, hash-checked.
func (p storePages) ReadPage(idx uint64, dst []byte) error {
	h := p.table.Lookup(idx)
	if h.IsZero() {
		clear(dst)
		return nil
	}
	return p.store.ReadPage(h, dst)
}
