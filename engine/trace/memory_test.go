package trace

import (
	"context"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/internal/peakrss"
)

// TestLogMemory: recording every event of a run of millions keeps the
// process's memory bounded, whatever the run's length: the event log goes
// to a temporary file past memLogBytes, so the peak RSS grows by far less
// than the log's size (recording them as Events in memory took some 200
// bytes each). The run is the incident canister's upgrade with 16 MiB of
// data: its post_upgrade checksums it with one call per 8-byte word.
func TestLogMemory(t *testing.T) {
	f := newFixture(t)
	snap := f.install(t, "../testdata/incident.wasm", call{"add_chunks", u64(256)})
	reset := func() uint64 { return peakrss.Reset(t) }
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
	plain := peakrss.Read(t) - base

	// Compile the traced module first: that is not the log's memory.
	f.open(t, snap.ID, Request{Method: "memory_stats"})
	base = reset()
	s := f.open(t, snap.ID, Request{Upgrade: true, MaxEvents: 1 << 40})
	traced := peakrss.Read(t) - base
	logBytes := s.log.size()
	if s.Len() < 4_000_000 || s.Truncated() || s.log.file == nil {
		t.Fatalf("%d events, truncated %v, log of %d bytes not spilled", s.Len(), s.Truncated(), logBytes)
	}
	t.Logf("%d events, a %d MiB log; peak RSS grew by %d MiB traced, %d MiB plain", s.Len(), logBytes>>20, traced>>20, plain>>20)
	// Beyond the plain run: the log's in-memory part and buffers, the
	// traced compilation, the milestones.
	const bound = 48 << 20
	// Under -race the detector's shadow memory swamps the comparison.
	if traced > plain+bound && !peakrss.RaceDetector {
		t.Errorf("peak RSS grew by %d MiB recording a %d MiB log, %d MiB untraced (bound +%d MiB)", traced>>20, logBytes>>20, plain>>20, bound>>20)
	}
	// The last event is read back from the file.
	if e, ok, err := s.Event(s.Len() - 2); err != nil || !ok || e.Index != s.Len()-2 {
		t.Fatalf("event %d: %v %v %v", s.Len()-2, e, ok, err)
	}
}
