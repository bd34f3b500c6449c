package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/chart"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// headroomJSON is headroom's --json output: every rehearsed snapshot and
// each limit's fit.
type headroomJSON struct {
	Name        string                    `json:"name"`
	Points      []workbench.HeadroomPoint `json:"points"`
	Projections []workbench.Projection    `json:"projections"`
	// Cached counts the points read from the cache instead of rehearsed.
	Cached int    `json:"cached"`
	Note   string `json:"note,omitempty"`
}

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
			var lineage []snapshots.Snapshot
			for _, snap := range all {
				if snap.Name == pos[0] {
					lineage = append(lineage, snap)
				}
			}
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
			out := headroomJSON{Name: pos[0]}
			cache := a.headroomCache()
			for _, snap := range lineage {
				key := string(snap.ModuleHash.String())
				if mod != nil {
					key = snapshots.Hash(mod.Hash()).String()
				}
				p, ok := cache.get(snap.ID, key)
				if ok {
					out.Cached++
				} else {
					if p, err = s.bench.HeadroomPoint(ctx, snap.ID, mod); err != nil {
						return err
					}
					cache.put(snap.ID, key, p)
				}
				out.Points = append(out.Points, p)
			}
			out.Projections = workbench.Project(out.Points)
			if len(out.Points) < 2 {
				out.Note = "one snapshot only: a trend needs two"
			}
			if cache.dir == "" {
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

// headroomCache keeps rehearsed points as JSON files named by snapshot
// and module; dir "" keeps nothing.
type headroomCache struct{ dir string }

func (a *app) headroomCache() headroomCache {
	base := a.getenv("XDG_CACHE_HOME")
	if base == "" {
		if home := a.getenv("HOME"); home != "" {
			base = filepath.Join(home, ".cache")
		}
	}
	if base == "" {
		return headroomCache{}
	}
	return headroomCache{dir: filepath.Join(base, "canscope", "headroom")}
}

func (c headroomCache) path(id snapshots.ID, module string) string {
	return filepath.Join(c.dir, id.String()+"-"+module+".json")
}

func (c headroomCache) get(id snapshots.ID, module string) (workbench.HeadroomPoint, bool) {
	var p workbench.HeadroomPoint
	if c.dir == "" {
		return p, false
	}
	b, err := os.ReadFile(c.path(id, module))
	if err != nil || json.Unmarshal(b, &p) != nil || p.Snapshot.ID != id {
		return workbench.HeadroomPoint{}, false
	}
	return p, true
}

// put writes p atomically; a cache that cannot be written is skipped
// (the result stands, the next run rehearses again).
func (c headroomCache) put(id snapshots.ID, module string, p workbench.HeadroomPoint) {
	if c.dir == "" || os.MkdirAll(c.dir, 0o755) != nil {
		return
	}
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if errors.Join(werr, tmp.Close()) != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), c.path(id, module)) != nil {
		os.Remove(tmp.Name())
	}
}

func printHeadroom(w io.Writer, h headroomJSON) {
	first, last := h.Points[0], h.Points[len(h.Points)-1]
	fmt.Fprintf(w, "headroom of %s: %d snapshots (%d from the cache), %s to %s, memory %s → %s\n",
		h.Name, len(h.Points), h.Cached, dateOf(first.Time), dateOf(last.Time),
		humanize.IBytes(first.MemoryBytes), humanize.IBytes(last.MemoryBytes))
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
		fmt.Fprintf(w, "%s: %s of %s (%.2f%%)\n", pr.Name, amount(pr.Name, float64(pr.Used)), amount(pr.Name, float64(pr.Limit)), 100*float64(pr.Used)/float64(pr.Limit))
		switch {
		case len(h.Points) < 2:
			fmt.Fprintln(w, "  a trend needs two snapshots")
			continue
		case pr.BySize == nil && pr.ByTime == nil:
			fmt.Fprintln(w, "  the snapshots do not differ in size or time: no trend")
			continue
		}
		var parts []string
		if f := pr.BySize; f != nil {
			if pr.AtMemoryBytes > 0 {
				parts = append(parts, fmt.Sprintf("the limit at ≈ %s of memory (%s per MiB, R² %.3f)",
					humanize.IBytes(uint64(pr.AtMemoryBytes)), amount(pr.Name, f.Slope*(1<<20)), f.R2))
			} else {
				parts = append(parts, fmt.Sprintf("does not grow with memory (R² %.3f)", f.R2))
			}
		}
		if f := pr.ByTime; f != nil {
			if pr.AtTime > 0 {
				parts = append(parts, fmt.Sprintf("%s at the current growth (%s per day, R² %.3f)",
					projectedDate(pr.AtTime), amount(pr.Name, f.Slope*float64(24*time.Hour)), f.R2))
			} else {
				parts = append(parts, fmt.Sprintf("does not grow with time (R² %.3f)", f.R2))
			}
		} else {
			parts = append(parts, "no time trend: the snapshots share one taken_at")
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(parts, ";\n  "))
	}
	if len(h.Points) >= 2 {
		fmt.Fprintln(w)
		fmt.Fprint(w, headroomChart(h, 80, 20))
	}
}

// projectedDate is when a fit reaches its limit: a month, or the year
// when that is past what a time.Time of nanoseconds holds.
func projectedDate(ns float64) string {
	const nsPerYear = 365.2425 * 24 * 3600 * 1e9
	if ns >= float64(1<<63-1) {
		return fmt.Sprintf("≈ year %.0f", 1970+ns/nsPerYear)
	}
	return "≈ " + time.Unix(0, int64(ns)).UTC().Format("2006-01")
}

// amount formats a use: bytes for *_bytes limits, else a count.
func amount(name string, v float64) string {
	if strings.HasSuffix(name, "_bytes") {
		if v < 0 {
			return "-" + humanize.IBytes(uint64(-v))
		}
		return humanize.IBytes(uint64(v))
	}
	return humanize.Comma(int64(v))
}

func dateOf(ns uint64) string {
	return time.Unix(0, int64(ns)).UTC().Format("2006-01-02")
}

// headroomChart draws the use of the limits nearest to theirs, in percent
// of each limit, over the snapshots (oldest left), in at most width
// columns and rows rows (tui/chart, which the UI draws with too).
func headroomChart(h headroomJSON, width, rows int) string {
	var series []chart.Series
	for _, pr := range h.Projections {
		s := chart.Series{Name: pr.Name}
		for _, p := range h.Points {
			v := 0.0
			for _, u := range p.Uses {
				if u.Name == pr.Name {
					v = 100 * u.Fraction()
				}
			}
			s.Percent = append(s.Percent, v)
		}
		series = append(series, s)
	}
	return chart.Usage(series, chart.Caption(len(h.Points), h.Name), width, rows)
}
