package bridge

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/chart"
	"github.com/canscope/canscope/tui/source"
)

// headroom is the headroom screen's source: workbench's lineage
// rehearsals and cache, as `canscope headroom NAME` runs them.
type headroom struct {
	store snapshots.Store
	bench *workbench.Bench
	cache workbench.HeadroomCache
}

// Headroom implements source.Headroom.
func (h headroom) Headroom(ctx context.Context, name string, progress func(done, total int)) (source.HeadroomReport, error) {
	all, err := h.store.List()
	if err != nil {
		return source.HeadroomReport{}, fmt.Errorf("list snapshots: %w", err)
	}
	lineage := workbench.Lineage(all, name)
	if len(lineage) == 0 {
		return source.HeadroomReport{}, fmt.Errorf("no snapshot is named %q", name)
	}
	r, err := h.bench.Headroom(ctx, lineage, nil, h.cache, progress)
	if err != nil {
		return source.HeadroomReport{}, err
	}
	rep := HeadroomReport(r)
	if h.cache.Dir == "" {
		rep.Note = joinNote(rep.Note, "not cached: no $XDG_CACHE_HOME or $HOME")
	}
	return rep, nil
}

// HeadroomReport is workbench's headroom as the UI shows it, in the
// CLI's words (workbench.Headroom.Summary, Projection.Use and Trend).
func HeadroomReport(h workbench.Headroom) source.HeadroomReport {
	out := source.HeadroomReport{Name: h.Name, Summary: h.Summary(), Note: h.Note, Points: len(h.Points)}
	for _, p := range h.Points {
		if p.Status != engine.StatusOK.String() {
			out.Failures = append(out.Failures, fmt.Sprintf("%s: the rehearsal %s: %s", p.Snapshot.Ref(), p.Status, p.Error))
		}
	}
	for _, pr := range h.Projections {
		out.Limits = append(out.Limits, source.HeadroomLimit{Name: pr.Name, Use: pr.Use(), Trend: pr.Trend(len(h.Points))})
		out.Series = append(out.Series, chart.Series{Name: pr.Name, Percent: h.Percent(pr.Name)})
	}
	return out
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
