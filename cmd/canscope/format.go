package main

import (
	"fmt"
	"time"

	"github.com/canscope/canscope/snapshots"
)

func shortHash(h snapshots.Hash) string {
	if h.IsZero() {
		return "-"
	}
	return h.Short()
}

func pages(size uint64) uint64 { return (size + snapshots.PageSize - 1) / snapshots.PageSize }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timerText(t snapshots.TimerState) string {
	switch {
	case t.Unknown:
		return "null"
	case t.Active:
		return fmt.Sprintf("active, deadline %d", t.Deadline)
	}
	return "inactive"
}

// globalText renders a global as its wasm type and value.
func globalText(g *snapshots.Global) string {
	if g == nil {
		return "(none)"
	}
	return g.String()
}

func metaText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return orDash(x)
	case snapshots.TimerState:
		return timerText(x)
	case []string:
		return fmt.Sprintf("%d chunks", len(x))
	}
	return fmt.Sprint(v)
}

// takenAt renders a snapshot's taken_at (ns since the epoch) as UTC time
// with the raw value, which is what dfx and the replica print.
func takenAt(ns uint64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", time.Unix(0, int64(ns)).UTC().Format("2006-01-02 15:04:05 UTC"), ns)
}

// count is n with its noun, singular for one: "1 page", "3 pages".
func count(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
