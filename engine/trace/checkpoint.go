package trace

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

// Checkpoint stores the state at event i as a snapshot made by
// "checkpoint" whose parent is the snapshot the run started from. Like any
// child snapshot it stores only the pages that differ from the parent:
// those the run had written by event i (all of the new heap once an
// upgrade replaced it).
func (s *Session) Checkpoint(ctx context.Context, i int, name string) (snapshots.Snapshot, error) {
	if name == "" {
		return snapshots.Snapshot{}, fmt.Errorf("checkpoint event %d: give it a name", i)
	}
	v, err := s.Seek(ctx, i)
	if err != nil {
		return snapshots.Snapshot{}, fmt.Errorf("checkpoint event %d: %w", i, err)
	}
	base, err := s.t.store.Manifest(s.baseID)
	if err != nil {
		return snapshots.Snapshot{}, fmt.Errorf("checkpoint event %d: %w", i, err)
	}
	m, err := s.manifestAt(v, base)
	if err != nil {
		return snapshots.Snapshot{}, fmt.Errorf("checkpoint event %d: %w", i, err)
	}
	m.Name = name
	ev := v.Event()
	m.Note = fmt.Sprintf("checkpoint of %s at event %d: %s", s.describe(), i, strings.TrimSpace(ev.String()))
	snap, err := s.t.store.Commit(ctx, m)
	if err != nil {
		return snapshots.Snapshot{}, fmt.Errorf("checkpoint event %d: %w", i, err)
	}
	return snap, nil
}

// describe names the traced run for notes.
func (s *Session) describe() string {
	if s.req.Upgrade {
		return "upgrade"
	}
	return "call " + s.req.Method
}

// manifestAt builds the child manifest of base holding the state v shows.
func (s *Session) manifestAt(v *View, base *snapshots.Manifest) (*snapshots.Manifest, error) {
	c := v.rec.c
	m := base.Child(snapshots.MadeByCheckpoint)
	// The state differs from what dfx wrote; an export regenerates it.
	m.DfxMetadata = nil
	m.CanisterVersion = c.Version()
	m.CertifiedData = c.CertifiedData()
	m.GlobalTimer = snapshots.TimerState{}
	if d := c.TimerDeadline(); d != 0 {
		m.GlobalTimer = snapshots.TimerState{Active: true, Deadline: d}
	}
	mod := v.Module()
	if h := snapshots.Hash(mod.Hash()); h != m.ModuleHash {
		stored, err := s.t.store.PutBlob(mod.Bytes())
		if err != nil {
			return nil, fmt.Errorf("store module: %w", err)
		}
		m.Module, m.ModuleHash = stored, h
	}
	globals, err := v.Globals()
	if err != nil {
		return nil, err
	}
	m.Globals = make([]snapshots.Global, len(globals))
	for i, g := range globals {
		m.Globals[i] = snapshotGlobal(g)
	}
	heapPages, err := v.HeapPagesChanged()
	if err != nil {
		return nil, err
	}
	heapBytes := v.heapBytes()
	table := base.Heap
	if v.HeapReplaced() {
		table = snapshots.PageTable{}
	}
	m.Heap, err = s.patch(table, v.HeapSize(), heapPages, func(i uint64, buf []byte) error {
		copy(buf, heapBytes[i*engine.PageSize:])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("heap: %w", err)
	}
	m.Stable, err = s.patch(base.Stable, v.StableSize(), v.StablePagesChanged(), func(i uint64, buf []byte) error {
		return v.ReadStable(buf, i*engine.PageSize)
	})
	if err != nil {
		return nil, fmt.Errorf("stable memory: %w", err)
	}
	return m, nil
}

// patch stores the given pages of a memory of size bytes (read with
// read) and returns t with them replaced.
func (s *Session) patch(t snapshots.PageTable, size uint64, pages []uint64, read func(i uint64, buf []byte) error) (snapshots.PageTable, error) {
	buf := make([]byte, engine.PageSize)
	changes := make([]snapshots.Page, 0, len(pages))
	for _, i := range pages {
		if (i+1)*engine.PageSize > size {
			continue
		}
		if err := read(i, buf); err != nil {
			return t, fmt.Errorf("page %d: %w", i, err)
		}
		h, err := s.t.store.PutPage(buf)
		if err != nil {
			return t, fmt.Errorf("page %d: %w", i, err)
		}
		changes = append(changes, snapshots.Page{Index: i, Hash: h})
	}
	return t.Patch(size, changes), nil
}

// snapshotGlobal converts an engine global to the store's form, where
// i32 values are sign-extended.
func snapshotGlobal(g engine.Global) snapshots.Global {
	kinds := map[wasm.ValueType]snapshots.GlobalKind{
		wasm.I32: snapshots.KindI32, wasm.I64: snapshots.KindI64,
		wasm.F32: snapshots.KindF32, wasm.F64: snapshots.KindF64, wasm.V128: snapshots.KindV128,
	}
	bits := g.Bits
	switch g.Type {
	case wasm.I32:
		bits = uint64(int64(int32(uint32(bits))))
	case wasm.F32:
		bits &= 0xffff_ffff
	}
	return snapshots.Global{Kind: kinds[g.Type], Bits: bits, Hi: g.High}
}

// sortedKeys returns the keys of a set in order.
func sortedKeys(m map[uint64]struct{}) []uint64 { return slices.Sorted(maps.Keys(m)) }
