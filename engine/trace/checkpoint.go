package trace

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
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

// manifestAt builds the child manifest of base holding the state v shows,
// through the conversion Run.Commit uses (workbench.ChildManifest), so a
// checkpoint exports like any other child: the download's metadata.json
// is kept and only the changed fields are rewritten.
func (s *Session) manifestAt(v *View, base *snapshots.Manifest) (*snapshots.Manifest, error) {
	c := v.rec.c
	globals, err := v.Globals()
	if err != nil {
		return nil, err
	}
	heapPages, err := v.HeapPagesChanged()
	if err != nil {
		return nil, err
	}
	heapBytes := v.heapBytes()
	return workbench.ChildManifest(s.t.store, base, snapshots.MadeByCheckpoint, base.CanisterID, workbench.ChildState{
		Module:          v.Module(),
		TakenAt:         c.Env().Time,
		CanisterVersion: c.Version(),
		CertifiedData:   c.CertifiedData(),
		TimerDeadline:   c.TimerDeadline(),
		Globals:         globals,
		HeapSize:        v.HeapSize(),
		HeapReplaced:    v.HeapReplaced(),
		HeapChanged:     heapPages,
		ReadHeap: func(i uint64, buf []byte) error {
			copy(buf, heapBytes[min(i*engine.PageSize, uint64(len(heapBytes))):])
			return nil
		},
		StableSize:    v.StableSize(),
		StableChanged: v.StablePagesChanged(),
		ReadStable:    func(i uint64, buf []byte) error { return v.ReadStable(buf, i*engine.PageSize) },
	})
}

// sortedKeys returns the keys of a set in order.
func sortedKeys(m map[uint64]struct{}) []uint64 { return slices.Sorted(maps.Keys(m)) }
