package screentest

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/bridge"
	"github.com/canscope/canscope/tui/source"
)

// Headroom is a fake source.Headroom: it answers with the points given
// (no rehearsal), fitted and worded by the real code (workbench.Project,
// bridge.HeadroomReport). Asked records the names asked for.
type Headroom struct {
	Points []workbench.HeadroomPoint
	Asked  []string
}

// Headroom implements source.Headroom.
func (h *Headroom) Headroom(ctx context.Context, name string, progress func(done, total int)) (source.HeadroomReport, error) {
	h.Asked = append(h.Asked, name)
	if err := ctx.Err(); err != nil {
		return source.HeadroomReport{}, err
	}
	lineage := workbench.Lineage(h.snapshots(), name)
	if len(lineage) == 0 {
		return source.HeadroomReport{}, fmt.Errorf("no snapshot is named %q", name)
	}
	var points []workbench.HeadroomPoint
	for _, p := range h.Points {
		if p.Snapshot.Name == name {
			points = append(points, p)
		}
	}
	for i := range points {
		if progress != nil {
			progress(i+1, len(points))
		}
	}
	r := workbench.Headroom{Name: name, Points: points, Projections: workbench.Project(points)}
	if len(points) < 2 {
		r.Note = "one snapshot only: a trend needs two"
	}
	return bridge.HeadroomReport(r), nil
}

func (h *Headroom) snapshots() []snapshots.Snapshot {
	out := make([]snapshots.Snapshot, len(h.Points))
	for i, p := range h.Points {
		out[i] = p.Snapshot
	}
	return out
}

// IncidentHeadroom is the headroom of the incident's ledger lineage: the
// pre_upgrade instructions and the stable memory written grow with each
// snapshot, and the newest rehearsal traps.
func IncidentHeadroom(s *Memory) *Headroom {
	h := &Headroom{}
	list, _ := s.List()
	i := 0
	for _, snap := range list {
		if snap.Name != "ledger" {
			continue
		}
		m, _ := s.Manifest(snap.ID)
		i++
		p := workbench.HeadroomPoint{Snapshot: snap, Time: m.TakenAt, MemoryBytes: m.Heap.Size + m.Stable.Size, Status: engine.StatusOK.String(),
			Uses: []engine.LimitUse{
				{Name: "pre_upgrade instructions", Used: uint64(i) * 40_000_000_000, Limit: 300_000_000_000},
				{Name: "stable_dirty_bytes", Used: uint64(i) << 30, Limit: 8 << 30},
				{Name: "stable_accessed_bytes", Used: uint64(i) << 30, Limit: 8 << 30},
				{Name: "instructions", Used: uint64(i) * 1_000_000, Limit: 40_000_000_000},
				{Name: "heap_bytes", Used: m.Heap.Size, Limit: 3 << 30},
			}}
		h.Points = append(h.Points, p)
	}
	if len(h.Points) > 0 {
		last := &h.Points[len(h.Points)-1]
		last.Status, last.Error = "trapped", "Canister trapped: heap out of bounds\nCanister Backtrace:\nledger::pre_upgrade"
	}
	return h
}
