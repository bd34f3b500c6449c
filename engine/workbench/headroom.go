package workbench

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// An upgrade that passes today can fail next month: the cost of
// pre_upgrade grows with the data. Headroom rehearses the upgrade of every
// snapshot of a lineage and fits each limit's usage against the memory
// the canister holds and against time, to say when the limit will bite.

// HeadroomPoint is the rehearsed upgrade of one snapshot: what each limit
// used at its size and time.
type HeadroomPoint struct {
	Snapshot snapshots.Snapshot `json:"snapshot"`
	// Time is the snapshot's taken_at (else its created_at), ns since
	// the epoch.
	Time uint64 `json:"time"`
	// MemoryBytes is the heap plus the stable memory of the snapshot.
	MemoryBytes uint64 `json:"memory_bytes"`
	// Status is the rehearsal's outcome ("ok", "trapped"), Error the
	// replica's error text when it did not pass.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Uses are the limits the upgrade is subject to, the most either
	// step used, with the instructions of pre_upgrade and post_upgrade
	// against the upgrade's limit ("pre_upgrade instructions").
	Uses []engine.LimitUse `json:"uses"`
}

// HeadroomPoint runs the upgrade rehearsal of snapshot id to mod (nil: its
// own module) and returns its usage. Nothing is written.
func (b *Bench) HeadroomPoint(ctx context.Context, id snapshots.ID, mod *engine.Module) (HeadroomPoint, error) {
	r, err := b.Open(ctx, id)
	if err != nil {
		return HeadroomPoint{}, err
	}
	defer r.Close(context.WithoutCancel(ctx))
	reh, err := r.Rehearse(ctx, RehearsalOptions{Module: mod, Again: true, Persistence: ToolPersistence(r.Canister.Module())})
	if err != nil {
		return HeadroomPoint{}, fmt.Errorf("rehearse %s: %w", r.Base().Ref(), err)
	}
	m := r.Base()
	p := HeadroomPoint{Snapshot: m.Snapshot, Time: m.TakenAt, MemoryBytes: m.Heap.Size + m.Stable.Size, Status: reh.Last().Result.Status.String()}
	if p.Time == 0 {
		p.Time = uint64(m.CreatedAt.UnixNano())
	}
	if last := reh.Last().Result; last.Status != engine.StatusOK {
		p.Error = last.ErrorText(r.Canister.ID())
	}
	most := map[string]engine.LimitUse{}
	var order []string
	note := func(u engine.LimitUse) {
		have, ok := most[u.Name]
		if !ok {
			order = append(order, u.Name)
		}
		if !ok || u.Used > have.Used {
			most[u.Name] = u
		}
	}
	for _, st := range reh.Steps {
		for _, ph := range st.Result.Phases {
			if ph.Name == "pre_upgrade" || ph.Name == "post_upgrade" {
				note(engine.LimitUse{Name: ph.Name + " instructions", Used: ph.Instructions, Limit: st.Result.Limit})
			}
		}
		for _, u := range st.Result.Limits {
			note(u)
		}
	}
	for _, name := range order {
		p.Uses = append(p.Uses, most[name])
	}
	return p, nil
}

// Fit is a least-squares line y = Intercept + Slope·x with its R².
type Fit struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	R2        float64 `json:"r2"`
}

// fitLine fits ys against xs; ok is false without two distinct xs.
func fitLine(xs, ys []float64) (Fit, bool) {
	n := float64(len(xs))
	if len(xs) < 2 {
		return Fit{}, false
	}
	var sx, sy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx, sxy, syy = sxx+dx*dx, sxy+dx*dy, syy+dy*dy
	}
	if sxx == 0 {
		return Fit{}, false
	}
	f := Fit{Slope: sxy / sxx}
	f.Intercept = my - f.Slope*mx
	f.R2 = 1
	if syy > 0 {
		f.R2 = sxy * sxy / (sxx * syy)
	}
	return f, true
}

// Projection is one limit's trend over a lineage.
type Projection struct {
	Name  string `json:"name"`
	Limit uint64 `json:"limit"`
	// Used is the newest snapshot's use.
	Used uint64 `json:"used"`
	// BySize fits the use against the memory size (bytes); nil when the
	// snapshots do not differ in size.
	BySize *Fit `json:"by_size"`
	// AtMemoryBytes is the memory size at which the fit reaches the
	// limit; 0 when the use does not grow with the size.
	AtMemoryBytes float64 `json:"at_memory_bytes"`
	// ByTime fits the use against time (ns); nil when the snapshots were
	// all taken at one time.
	ByTime *Fit `json:"by_time"`
	// AtTime is when the fit reaches the limit (ns since the epoch); 0
	// when the use does not grow with time.
	AtTime float64 `json:"at_time"`
}

// Project fits every limit the points share. Points are sorted by time;
// it needs two or more to say anything (a trend needs two).
func Project(points []HeadroomPoint) []Projection {
	points = sortedPoints(points)
	if len(points) == 0 {
		return nil
	}
	last := points[len(points)-1]
	var out []Projection
	for _, u := range last.Uses {
		if u.Limit == 0 {
			continue
		}
		var sizes, times, used []float64
		for _, p := range points {
			for _, pu := range p.Uses {
				if pu.Name == u.Name {
					sizes = append(sizes, float64(p.MemoryBytes))
					times = append(times, float64(p.Time))
					used = append(used, float64(pu.Used))
				}
			}
		}
		pr := Projection{Name: u.Name, Limit: u.Limit, Used: u.Used}
		if f, ok := fitLine(sizes, used); ok {
			pr.BySize = &f
			pr.AtMemoryBytes = crossing(f, float64(u.Limit))
		}
		if f, ok := fitLine(times, used); ok {
			pr.ByTime = &f
			pr.AtTime = crossing(f, float64(u.Limit))
		}
		out = append(out, pr)
	}
	return out
}

// crossing is the x at which fit f reaches y; 0 when it does not grow.
func crossing(f Fit, y float64) float64 {
	if f.Slope <= 0 || math.IsNaN(f.Slope) {
		return 0
	}
	return (y - f.Intercept) / f.Slope
}

// sortedPoints returns the points ordered by time, then by size.
func sortedPoints(points []HeadroomPoint) []HeadroomPoint {
	out := append([]HeadroomPoint(nil), points...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time < out[j].Time
		}
		return out[i].Snapshot.Seq < out[j].Snapshot.Seq
	})
	return out
}
