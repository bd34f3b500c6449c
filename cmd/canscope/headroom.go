package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/tui/chart"
	"github.com/spf13/cobra"
)

// headroomJSON is headroom's --json output: every rehearsed snapshot and
// each limit's fit (workbench's, which the UI's headroom screen shows).
type headroomJSON = workbench.Headroom

func newHeadroomCmd(a *app) *cobra.Command {
	var (
		wasmPath string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "headroom NAME",
		Short: "How long until the limits bite: every snapshot of NAME's upgrade rehearsed, each limit's trend",
		Long: `Headroom rehearses the upgrade (twice, as upgrade --rehearse) of every
snapshot named NAME, oldest first, and fits each replica limit's use
(instructions of pre_upgrade and post_upgrade, stable memory dirtied and
accessed, heap, ...) against the memory the canister holds (heap plus
stable) and against time (taken_at). It prints today's use, the trend
with its fit quality (R²) and where the fit reaches the limit, and draws
the use of the limits nearest to theirs over the snapshots. Rehearsals are
cached per snapshot and module in $XDG_CACHE_HOME/canscope/headroom (else
~/.cache/...), so a second run is instant. A trend needs two snapshots.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			s, err := a.openSession()
			if err != nil {
				return err
			}
			defer s.close(ctx)
			all, err := s.store.List()
			if err != nil {
				return err
			}
			lineage := workbench.Lineage(all, pos[0])
			if len(lineage) == 0 {
				return fmt.Errorf("no snapshot is named %q (run `canscope ls` to see the snapshots)", pos[0])
			}
			var mod *engine.Module
			if wasmPath != "" {
				code, err := validation.ReadModule(wasmPath)
				if err != nil {
					return fmt.Errorf("read module: %w", err)
				}
				if mod, err = s.eng.Load(ctx, code); err != nil {
					return fmt.Errorf("%s: %w", wasmPath, err)
				}
				defer mod.Close(context.WithoutCancel(ctx))
			}
			cache := workbench.HeadroomCache{Dir: workbench.HeadroomCacheDir(a.getenv)}
			out, err := s.bench.Headroom(ctx, lineage, mod, cache, nil)
			if err != nil {
				return err
			}
			if cache.Dir == "" {
				out.Note = strings.TrimPrefix(out.Note+"; not cached: no $XDG_CACHE_HOME or $HOME", "; ")
			}
			if asJSON {
				return a.printJSON(out)
			}
			printHeadroom(a.stdout, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&wasmPath, "wasm", "", "module to upgrade to (default: each snapshot's own module)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the points and the fits as JSON")
	return cmd
}

func printHeadroom(w io.Writer, h headroomJSON) {
	fmt.Fprintln(w, h.Summary())
	for _, p := range h.Points {
		if p.Status != engine.StatusOK.String() {
			fmt.Fprintf(w, "%s: the rehearsal %s: %s\n", p.Snapshot.Ref(), p.Status, p.Error)
		}
	}
	if h.Note != "" {
		fmt.Fprintf(w, "note: %s\n", h.Note)
	}
	fmt.Fprintln(w)
	for _, pr := range h.Projections {
		fmt.Fprintf(w, "%s: %s\n", pr.Name, pr.Use())
		fmt.Fprintf(w, "  %s\n", strings.Join(pr.Trend(len(h.Points)), ";\n  "))
	}
	if len(h.Points) >= 2 {
		fmt.Fprintln(w)
		fmt.Fprint(w, headroomChart(h, 80, 20))
	}
}

// headroomChart draws the use of the limits nearest to theirs, in percent
// of each limit, over the snapshots (oldest left), in at most width
// columns and rows rows (tui/chart, which the UI draws with too).
func headroomChart(h headroomJSON, width, rows int) string {
	var series []chart.Series
	for _, pr := range h.Projections {
		series = append(series, chart.Series{Name: pr.Name, Percent: h.Percent(pr.Name)})
	}
	return chart.Usage(series, chart.Caption(len(h.Points), h.Name), width, rows)
}
