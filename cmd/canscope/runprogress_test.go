package main

import (
	"bytes"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

type fakeLive struct{ used, limit uint64 }

func (f *fakeLive) LiveInstructions() (uint64, uint64) { return f.used, f.limit }

// A run's total is its limit until a run of the same snapshot and key
// finished; then that run's count, marked as an estimate.
func TestRunProgressTotal(t *testing.T) {
	live := &fakeLive{used: 5, limit: 40e9}
	p := runProgress(live, "running burn", 0, false)
	if p.Estimate || p.Total() != 40e9 || p.Done() != 5 {
		t.Errorf("without a previous count: estimate %v, total %d, done %d; want false, the limit, 5", p.Estimate, p.Total(), p.Done())
	}
	p = runProgress(live, "running burn", 2e9, true)
	if !p.Estimate || p.Total() != 2e9 {
		t.Errorf("with a previous count: estimate %v, total %d; want true, 2e9", p.Estimate, p.Total())
	}
	if got, want := p.line(1e9, p.Total(), 1e9), "running burn: 1 G instr / ~2 G instr (~50%), 1 G instr/s, ETA ~1s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

// watchRun keeps each run's final count per snapshot and key, keeps
// nothing for a failed run (0), and prints nothing off a terminal.
func TestWatchRunKeepsCounts(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr, cacheDir: t.TempDir()}
	snap := snapshots.ID{1}
	live := &fakeLive{}
	a.watchRun(live, snap, "running burn", "call burn", false)(2150003465)
	a.watchRun(live, snap, "running burn", "call burn", false)(0)
	counts := a.lastCounts()
	if n, ok := counts.load(snap, "call burn"); !ok || n != 2150003465 {
		t.Errorf("kept count = %d, %v; want 2150003465", n, ok)
	}
	if _, ok := counts.load(snap, "call other"); ok {
		t.Error("another method has a count")
	}
	if _, ok := counts.load(snapshots.ID{2}, "call burn"); ok {
		t.Error("another snapshot has a count")
	}
	if stderr.Len() != 0 {
		t.Errorf("wrote %q to a non-terminal", stderr.String())
	}
	none := &app{stderr: &stderr, cacheDir: "none"}
	none.watchRun(live, snap, "running burn", "call burn", false)(7) // no cache: nothing kept, no error
	if _, ok := none.lastCounts().load(snap, "call burn"); ok {
		t.Error("a count without a cache directory")
	}
}
