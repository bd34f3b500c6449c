package workbench

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/internal/peakrss"
	"github.com/canscope/canscope/snapshots"
)

// TestRehearsalMemory: a two-step rehearsal of a canister whose upgrade
// moves its data through stable memory (pre_upgrade writes the heap's data
// store to stable memory, post_upgrade reads it back into the new heap)
// holds at most the heap, the pages a step touches and a fixed overhead,
// as issue 14 asks: no step keeps another copy of the heap or of stable
// memory. A step touches the stable pages it writes, the committed
// contents it overwrites (kept for a rollback) and the new heap: three
// times what it moves.
//
// By default it moves 128 MiB with 64 MiB of overhead allowed, so that one
// extra copy fails it; CANSCOPE_REHEARSAL_GIB=1 moves 1 GiB with the
// issue's 256 MiB (about two minutes; 7.1 GB before the copies were
// removed).
func TestRehearsalMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 128 MiB")
	}
	chunks, overhead := uint64(2048), uint64(64<<20) // 64 KiB records
	if os.Getenv("CANSCOPE_REHEARSAL_GIB") == "1" {
		chunks, overhead = 16384, 256<<20
	}
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "incident_fixed.wasm"), nil, "")
	mustOK(t, res, err)
	for range 4 {
		res, err = run.Canister.Update(ctx, "add_chunks", u64(chunks/4)) // within the update limit
		mustOK(t, res, err)
	}
	snap, err := run.Commit(ctx, CommitOptions{Name: "big", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	heap := run.Canister.HeapSize()
	run.Close(ctx)

	base := peakrss.Reset(t)
	run, err = b.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	verify := func(when string) {
		t.Helper()
		stats, err := run.Canister.Query(ctx, "stats", nil)
		mustOK(t, stats, err)
		walked, err := run.Canister.Query(ctx, "verify", nil)
		mustOK(t, walked, err)
		if string(stats.Reply) != string(walked.Reply) {
			t.Fatalf("%s: the data store's checksum %x does not match the globals' %x", when, walked.Reply, stats.Reply)
		}
	}
	verify("opened")
	logRSS(t, "opened")
	reh, err := run.Rehearse(ctx, RehearsalOptions{Again: true, Progress: func(s UpgradeStep) { logRSS(t, s.Name) }})
	if err != nil {
		t.Fatal(err)
	}
	if !reh.OK() {
		t.Fatalf("rehearsal failed: %+v", reh.Last().Result.Trap)
	}
	moved := reh.Steps[0].StableBytesWritten
	peak := peakrss.Read(t) - base
	bound := heap + 3*moved + overhead
	t.Logf("heap %d MiB, moved %d MiB per step, peak RSS %d MiB above the %d MiB before opening (bound %d MiB)",
		heap>>20, moved>>20, peak>>20, base>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak RSS %d MiB, want at most heap + pages touched + %d MiB = %d MiB", peak>>20, overhead>>20, bound>>20)
	}
}

func logRSS(t testing.TB, when string) {
	b, _ := os.ReadFile("/proc/self/status")
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"} {
			if strings.HasPrefix(line, k+":") {
				parts = append(parts, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %s; Go heap in use %d MiB", when, strings.Join(parts, ", "), ms.HeapInuse>>20)
}
