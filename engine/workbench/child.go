package workbench

import (
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// ChildState is the engine state a child snapshot records: what a run
// (Run.Commit) or a traced run at one event (trace checkpoints) hands over.
// It is the one road from engine state to a snapshot, so every derived
// snapshot (install, call, upgrade, transplant, checkpoint) exports alike.
type ChildState struct {
	Module *engine.Module
	// TakenAt is the canister's clock (ns), the snapshot's taken_at.
	TakenAt         uint64
	CanisterVersion uint64
	CertifiedData   []byte
	// TimerDeadline is the global timer in ns since the epoch, 0 inactive.
	TimerDeadline uint64
	// Globals are in the replica's snapshot order without an instruction
	// counter (engine.State.Globals).
	Globals []engine.Global

	HeapSize uint64
	// HeapReplaced says the heap is new as a whole (an upgrade's module
	// runs over a fresh heap): no page of the base carries over.
	HeapReplaced bool
	// HeapChanged lists the heap pages (64 KiB) that may differ from the
	// base; ReadHeap fills buf (PageSize bytes) with page i.
	HeapChanged []uint64
	ReadHeap    func(i uint64, buf []byte) error

	StableSize    uint64
	StableChanged []uint64
	ReadStable    func(i uint64, buf []byte) error
}

// ChildManifest returns the manifest of a snapshot made by madeBy holding
// st: a child of base that stores only the changed pages, or a new root
// when base is nil (canisterID names it). The base's dfx metadata.json is
// kept, as for any child: the export rewrites the fields that changed and
// keeps the rest of the download's document (source, unknown keys, key
// order). Pages and a new module go into store; the manifest is not
// committed.
func ChildManifest(store Store, base *snapshots.Manifest, madeBy snapshots.MadeBy, canisterID string, st ChildState) (*snapshots.Manifest, error) {
	if st.Module == nil {
		return nil, engine.ErrNoModule
	}
	var m *snapshots.Manifest
	if base != nil {
		m = base.Child(madeBy)
	} else {
		m = &snapshots.Manifest{Snapshot: snapshots.Snapshot{MadeBy: madeBy, CanisterID: canisterID}}
	}
	m.TakenAt = st.TakenAt
	m.CanisterVersion = st.CanisterVersion
	m.CertifiedData = append([]byte(nil), st.CertifiedData...)
	m.GlobalTimer = snapshots.TimerState{}
	if st.TimerDeadline != 0 {
		m.GlobalTimer = snapshots.TimerState{Active: true, Deadline: st.TimerDeadline}
	}
	m.Globals = make([]snapshots.Global, len(st.Globals))
	for i, g := range st.Globals {
		m.Globals[i] = SnapshotGlobal(g)
	}
	if h := snapshots.Hash(st.Module.Hash()); h != m.Module {
		stored, err := store.PutBlob(st.Module.Bytes())
		if err != nil {
			return nil, fmt.Errorf("store module: %w", err)
		}
		m.Module, m.ModuleHash = stored, h
	}
	// The low-memory hook's status depends on the heap size against the
	// canister's wasm_memory_threshold, a setting the snapshot does not
	// hold: load_canister_snapshot refuses an uploaded status inconsistent
	// with the memory state, and accepts null whatever the state
	// (rs/execution_environment/src/canister_manager.rs,
	// load_canister_snapshot). So a heap canscope changed gets null.
	if base == nil || st.HeapReplaced || len(st.HeapChanged) > 0 || st.HeapSize != base.Heap.Size {
		m.LowWasmMemoryHook = ""
	}
	heap := m.Heap
	if st.HeapReplaced {
		heap = snapshots.PageTable{}
	}
	var err error
	if m.Heap, err = patch(store, heap, st.HeapSize, st.HeapChanged, st.ReadHeap); err != nil {
		return nil, fmt.Errorf("heap: %w", err)
	}
	if m.Stable, err = patch(store, m.Stable, st.StableSize, st.StableChanged, st.ReadStable); err != nil {
		return nil, fmt.Errorf("stable memory: %w", err)
	}
	return m, nil
}

// patch returns table t resized to size with the given pages replaced by
// their current contents (read with read).
func patch(store Store, t snapshots.PageTable, size uint64, changed []uint64, read func(uint64, []byte) error) (snapshots.PageTable, error) {
	n := (size + snapshots.PageSize - 1) / snapshots.PageSize
	buf := make([]byte, snapshots.PageSize)
	changes := make([]snapshots.Page, 0, len(changed))
	for _, i := range changed {
		if i >= n {
			continue // Patch drops pages past the new size
		}
		clear(buf)
		if err := read(i, buf); err != nil {
			return t, fmt.Errorf("page %d: %w", i, err)
		}
		// PutPage returns the zero Hash for an all-zero page without
		// storing it, which Patch reads as "the page became zero".
		h, err := store.PutPage(buf)
		if err != nil {
			return t, fmt.Errorf("page %d: %w", i, err)
		}
		changes = append(changes, snapshots.Page{Index: i, Hash: h})
	}
	return t.Patch(size, changes), nil
}

// SnapshotGlobal converts an engine global to the store's form, where i32
// values are sign-extended.
func SnapshotGlobal(g engine.Global) snapshots.Global {
	k := map[wasm.ValueType]snapshots.GlobalKind{
		wasm.I32: snapshots.KindI32, wasm.I64: snapshots.KindI64,
		wasm.F32: snapshots.KindF32, wasm.F64: snapshots.KindF64, wasm.V128: snapshots.KindV128,
	}[g.Type]
	bits := g.Bits
	switch g.Type {
	case wasm.I32:
		bits = uint64(int64(int32(uint32(bits)))) // the store's i32s are sign-extended
	case wasm.F32:
		bits &= 0xffff_ffff
	}
	return snapshots.Global{Kind: k, Bits: bits, Hi: g.High}
}
