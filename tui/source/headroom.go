package source

import (
	"context"

	"github.com/canscope/canscope/tui/chart"
)

// HeadroomLimit is one limit's use today and its trend.
type HeadroomLimit struct {
	Name  string   // e.g. "pre_upgrade instructions"
	Use   string   // e.g. "1,632,015 of 300,000,000,000 (0.00%)"
	Trend []string // where the fits against memory and time reach the limit
}

// HeadroomReport is a lineage's headroom as `canscope headroom NAME`
// prints it: every snapshot's upgrade rehearsed, each limit's trend.
type HeadroomReport struct {
	Name    string
	Summary string // snapshots, cached, dates, memory
	// Failures name the snapshots whose rehearsal did not pass, with
	// the replica's error text.
	Failures []string
	Note     string
	Limits   []HeadroomLimit
	// Series are the limits' use over the snapshots, for chart.Usage;
	// Points is how many snapshots they span.
	Series []chart.Series
	Points int
}

// Headroom rehearses the upgrade of every snapshot named name (cached
// per snapshot and module, as the CLI caches them) and fits each limit.
// It writes no snapshot; cancelling ctx stops it. progress is told each
// finished snapshot (from the running goroutine).
type Headroom interface {
	Headroom(ctx context.Context, name string, progress func(done, total int)) (HeadroomReport, error)
}
