package trace

import (
	"context"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
)

// peakRSS returns the process's peak resident set size (VmHWM).
func peakRSS(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// TestLogMemory: recording a run of millions of events keeps the
// process's memory bounded, whatever the run's length: the event log goes
// to a temporary file past memLogBytes, so the peak RSS grows by far less
// than the log's size (recording them as Events in memory took some 200
// bytes each). The run is the incident canister's upgrade with 16 MiB of
// data: its post_upgrade checksums it with one call per 8-byte word.
func TestLogMemory(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/incident.wasm", call{"add_chunks", u64(256)})
	reset := func() uint64 {
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Skip("cannot reset VmHWM:", err)
		}
		return peakRSS(t)
	}
	// What the same upgrade takes untraced: the canister's own memory.
	ctx := context.Background()
	base := reset()
	run, err := f.bench.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := run.Canister.Upgrade(ctx, nil, nil, engine.UpgradeOptions{}); err != nil || res.Status != engine.StatusOK {
		t.Fatal(err, res.Trap)
	}
	run.Close(ctx)
	plain := peakRSS(t) - base

	// Compile the traced module first: that is not the log's memory.
	f.open(t, snap.ID, Request{Method: "memory_stats"})
	base = reset()
	s := f.open(t, snap.ID, Request{Upgrade: true})
	traced := peakRSS(t) - base
	logBytes := s.log.size()
	if s.Len() < 4_000_000 || s.Truncated() || s.log.file == nil {
		t.Fatalf("%d events, truncated %v, log of %d bytes not spilled", s.Len(), s.Truncated(), logBytes)
	}
	t.Logf("%d events, a %d MiB log; peak RSS grew by %d MiB traced, %d MiB plain", s.Len(), logBytes>>20, traced>>20, plain>>20)
	// Beyond the plain run: the log's in-memory part and buffers, the
	// traced compilation, the milestones.
	const bound = 48 << 20
	if traced > plain+bound {
		t.Errorf("peak RSS grew by %d MiB recording a %d MiB log, %d MiB untraced (bound +%d MiB)", traced>>20, logBytes>>20, plain>>20, bound>>20)
	}
	// The last event is read back from the file.
	if e, ok, err := s.Event(s.Len() - 2); err != nil || !ok || e.Index != s.Len()-2 {
		t.Fatalf("event %d: %v %v %v", s.Len()-2, e, ok, err)
	}
}
