package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// liveCounter is what a run's progress line reads: the running message's
// instructions and limit, safe to read from the progress goroutine
// (engine.Canister.LiveInstructions).
type liveCounter interface {
	LiveInstructions() (used, limit uint64)
}

// laterCanister is a liveCounter for a canister not known yet (a traced
// run's, handed over by trace.Request.Watch): zeros until set.
type laterCanister struct {
	c atomic.Pointer[engine.Canister]
}

func (l *laterCanister) LiveInstructions() (used, limit uint64) {
	if c := l.c.Load(); c != nil {
		return c.LiveInstructions()
	}
	return 0, 0
}

// watchRun shows on stderr, as what, the progress of the message c runs
// next (see showProgress: only on a terminal, never with --json). key
// names the run within snapshot snap (the method, or the upgrade step and
// module): the count the previous run of the same snapshot and key ended
// with is the total, marked "~", else the message's instruction limit.
// done stops the line and keeps final, the count the run ended with, for
// the next run (0: keep nothing, e.g. after an error).
func (a *app) watchRun(c liveCounter, snap snapshots.ID, what, key string, quiet bool) (done func(final uint64)) {
	counts := a.lastCounts()
	prev, known := counts.load(snap, key)
	stop := a.showProgress(runProgress(c, what, prev, known), quiet)
	return func(final uint64) {
		stop()
		if final > 0 {
			counts.keep(snap, key, final)
		}
	}
}

// runProgress is the progress of c's message: against prev, the previous
// run's count, when known, else against the message's limit.
func runProgress(c liveCounter, what string, prev uint64, known bool) progress {
	return progress{
		What: what, Unit: unitInstructions, Estimate: known,
		Done: func() uint64 { used, _ := c.LiveInstructions(); return used },
		Total: func() uint64 {
			if known {
				return prev
			}
			_, limit := c.LiveInstructions()
			return limit
		},
	}
}

// lastCounts keeps the instruction count of the last run of each
// snapshot and key, one small file each under the cache directory's
// runs/ (none without a cache directory). The count is only an estimate
// for the next run's progress line, so failing to read or write it is
// not an error: the line then counts against the limit.
type lastCounts struct{ dir string }

func (a *app) lastCounts() lastCounts {
	root := a.cacheRoot()
	if root == "" {
		return lastCounts{}
	}
	return lastCounts{dir: filepath.Join(root, "runs")}
}

// path is the file of snap and key; key is hashed, as a method name may
// hold any character.
func (l lastCounts) path(snap snapshots.ID, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(l.dir, snap.String()+"-"+hex.EncodeToString(sum[:8]))
}

func (l lastCounts) load(snap snapshots.ID, key string) (uint64, bool) {
	if l.dir == "" {
		return 0, false
	}
	b, err := os.ReadFile(l.path(snap, key))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil && n > 0
}

// keep writes the count through a temporary file and a rename, so a
// concurrent run reads the old count or the new one, never a torn one.
func (l lastCounts) keep(snap snapshots.ID, key string, n uint64) {
	if l.dir == "" || os.MkdirAll(l.dir, 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(l.dir, ".count-*")
	if err != nil {
		return
	}
	_, werr := f.WriteString(strconv.FormatUint(n, 10) + "\n")
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), l.path(snap, key)) != nil {
		os.Remove(f.Name())
	}
}

// upgradeKey names an upgrade step to a module for lastCounts.
func upgradeKey(step string, mod *engine.Module, skip bool) string {
	h := mod.Hash()
	return "upgrade " + step + " " + hex.EncodeToString(h[:]) + " skip=" + strconv.FormatBool(skip)
}
