package workbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// Headroom is a lineage's headroom: every snapshot's rehearsed upgrade
// and each limit's fit (`canscope headroom --json`; the UI's headroom
// screen shows the same).
type Headroom struct {
	Name        string          `json:"name"`
	Points      []HeadroomPoint `json:"points"`
	Projections []Projection    `json:"projections"`
	// Cached counts the points read from the cache instead of rehearsed.
	Cached int    `json:"cached"`
	Note   string `json:"note,omitempty"`
}

// Lineage returns the snapshots named name, in the order of all (the
// store lists them oldest first).
func Lineage(all []snapshots.Snapshot, name string) []snapshots.Snapshot {
	var out []snapshots.Snapshot
	for _, s := range all {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Headroom rehearses the upgrade of every snapshot of lineage (to mod;
// nil: each snapshot's own module), reading each point from cache when it
// holds one for the snapshot and module and keeping the new ones there,
// and fits each limit (Project). progress, when set, is told each
// finished point. Nothing is written to the store.
func (b *Bench) Headroom(ctx context.Context, lineage []snapshots.Snapshot, mod *engine.Module, cache HeadroomCache, progress func(done, total int)) (Headroom, error) {
	if len(lineage) == 0 {
		return Headroom{}, errors.New("headroom: no snapshot to rehearse")
	}
	out := Headroom{Name: lineage[0].Name}
	for i, snap := range lineage {
		key := snap.ModuleHash.String()
		if mod != nil {
			key = snapshots.Hash(mod.Hash()).String()
		}
		p, ok := cache.get(snap.ID, key)
		if ok {
			out.Cached++
		} else {
			var err error
			if p, err = b.HeadroomPoint(ctx, snap.ID, mod); err != nil {
				return Headroom{}, err
			}
			cache.put(snap.ID, key, p)
		}
		out.Points = append(out.Points, p)
		if progress != nil {
			progress(i+1, len(lineage))
		}
	}
	out.Projections = Project(out.Points)
	if len(out.Points) < 2 {
		out.Note = "one snapshot only: a trend needs two"
	}
	return out, nil
}

// HeadroomCache keeps rehearsed points as JSON files named by snapshot
// and module, so a second headroom run is instant; Dir "" keeps nothing.
type HeadroomCache struct{ Dir string }

// HeadroomCacheDir is where the headroom cache lives:
// $XDG_CACHE_HOME/canscope/headroom, else ~/.cache/canscope/headroom;
// "" when neither variable is set.
func HeadroomCacheDir(getenv func(string) string) string {
	base := getenv("XDG_CACHE_HOME")
	if base == "" {
		if home := getenv("HOME"); home != "" {
			base = filepath.Join(home, ".cache")
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "canscope", "headroom")
}

func (c HeadroomCache) path(id snapshots.ID, module string) string {
	return filepath.Join(c.Dir, id.String()+"-"+module+".json")
}

func (c HeadroomCache) get(id snapshots.ID, module string) (HeadroomPoint, bool) {
	var p HeadroomPoint
	if c.Dir == "" {
		return p, false
	}
	b, err := os.ReadFile(c.path(id, module))
	if err != nil || json.Unmarshal(b, &p) != nil || p.Snapshot.ID != id {
		return HeadroomPoint{}, false
	}
	return p, true
}

// put writes p atomically; a cache that cannot be written is skipped
// (the result stands, the next run rehearses again).
func (c HeadroomCache) put(id snapshots.ID, module string, p HeadroomPoint) {
	if c.Dir == "" || os.MkdirAll(c.Dir, 0o755) != nil {
		return
	}
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-*")
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

// Use is the limit's use today, e.g. "1.3 MiB of 8.0 GiB (0.02%)".
func (p Projection) Use() string {
	return fmt.Sprintf("%s of %s (%.2f%%)", Amount(p.Name, float64(p.Used)), Amount(p.Name, float64(p.Limit)), 100*float64(p.Used)/float64(p.Limit))
}

// Trend says where the fits reach the limit, one clause per fit, over a
// lineage of points snapshots.
func (p Projection) Trend(points int) []string {
	switch {
	case points < 2:
		return []string{"a trend needs two snapshots"}
	case p.BySize == nil && p.ByTime == nil:
		return []string{"the snapshots do not differ in size or time: no trend"}
	}
	var parts []string
	if f := p.BySize; f != nil {
		if p.AtMemoryBytes > 0 {
			parts = append(parts, fmt.Sprintf("the limit at ≈ %s of memory (%s per MiB, R² %.3f)",
				humanize.IBytes(uint64(p.AtMemoryBytes)), Amount(p.Name, f.Slope*(1<<20)), f.R2))
		} else {
			parts = append(parts, fmt.Sprintf("does not grow with memory (R² %.3f)", f.R2))
		}
	}
	if f := p.ByTime; f != nil {
		if p.AtTime > 0 {
			parts = append(parts, fmt.Sprintf("%s at the current growth (%s per day, R² %.3f)",
				projectedDate(p.AtTime), Amount(p.Name, f.Slope*float64(24*time.Hour)), f.R2))
		} else {
			parts = append(parts, fmt.Sprintf("does not grow with time (R² %.3f)", f.R2))
		}
	} else {
		parts = append(parts, "no time trend: the snapshots share one taken_at")
	}
	return parts
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

// Amount formats a limit's use: bytes for *_bytes limits, else a count.
func Amount(name string, v float64) string {
	if strings.HasSuffix(name, "_bytes") {
		if v < 0 {
			return "-" + humanize.IBytes(uint64(-v))
		}
		return humanize.IBytes(uint64(v))
	}
	return humanize.Comma(int64(v))
}

// Summary is one line on the lineage: how many snapshots (and how many
// from the cache), the days they span and the memory they grew through.
func (h Headroom) Summary() string {
	if len(h.Points) == 0 {
		return "headroom of " + h.Name + ": no snapshot"
	}
	first, last := h.Points[0], h.Points[len(h.Points)-1]
	return fmt.Sprintf("headroom of %s: %d snapshots (%d from the cache), %s to %s, memory %s → %s",
		h.Name, len(h.Points), h.Cached, dateOf(first.Time), dateOf(last.Time),
		humanize.IBytes(first.MemoryBytes), humanize.IBytes(last.MemoryBytes))
}

// Percent is limit name's use at each point, in percent of the limit (0
// where a point does not have it), oldest first: a chart's series.
func (h Headroom) Percent(name string) []float64 {
	out := make([]float64, 0, len(h.Points))
	for _, p := range h.Points {
		v := 0.0
		for _, u := range p.Uses {
			if u.Name == name {
				v = 100 * u.Fraction()
			}
		}
		out = append(out, v)
	}
	return out
}

func dateOf(ns uint64) string {
	return time.Unix(0, int64(ns)).UTC().Format("2006-01-02")
}
