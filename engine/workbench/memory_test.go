package workbench

import (
	"context"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/internal/peakrss"
	"github.com/canscope/canscope/snapshots"
)

// TestRehearsalMemory: a two-step rehearsal of a canister whose upgrade
// moves its data through stable memory (pre_upgrade writes the heap's data
// store to stable memory, post_upgrade reads it back into the new heap)
// holds at most heap + pages touched + 256 MiB, issue 14's bound, where
// heap is the snapshot's heap and pages touched are the heap pages the
// run dirtied and the stable pages it wrote, each page counted once
// (by index: the two steps' new heaps dirty the same pages, and write the
// same stable pages). Held memory is checked two ways: VmHWM (exact, but
// blind to memfd pages not mapped at the moment, where committed heaps
// live) and a sampler that adds the memfds' pages (peakrss.Usage.Held).
//
// The default moves 192 MiB: the bound fails with one more copy
// of the data than it allows (the old stable contents kept for a rollback,
// the old heap mapped during post_upgrade, stable pages in the Go heap),
// and a tighter guard with one more copy than the design holds;
// CANSCOPE_REHEARSAL_GIB=1 moves 1 GiB and CANSCOPE_REHEARSAL_GIB=4 builds a
// 3.97 GiB heap (as large as compiled code runs: a full 4 GiB heap runs on
// the interpreter) and moves it all with incident_chunked.wasm; those take
// minutes. At 1 GiB it rehearses again from a heap image, as the CLI opens
// a snapshot it opened before.
func TestRehearsalMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 192 MiB")
	}
	chunks := uint64(3072) // 64 KiB records
	switch os.Getenv("CANSCOPE_REHEARSAL_GIB") {
	case "":
	case "1":
		chunks = 16384
	case "4":
		chunks = 65000
	default:
		t.Fatalf("CANSCOPE_REHEARSAL_GIB=%s: want 1 or 4", os.Getenv("CANSCOPE_REHEARSAL_GIB"))
	}
	module := "incident_fixed.wasm"
	if chunks > 16384 {
		// One System API call copies at most the slice limit's bytes
		// (IC0522): this module saves and restores in 64 MiB pieces.
		module = "incident_chunked.wasm"
	}
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, module), nil, "")
	mustOK(t, res, err)
	run.Canister.SetWasmMemoryLimit(0) // no setting: the 4 GiB case grows past the 3 GiB default
	for left := chunks; left > 0; {
		n := min(left, 4096) // within the update limit
		res, err = run.Canister.Update(ctx, "add_chunks", u64(n))
		mustOK(t, res, err)
		left -= n
	}
	// Upgraded once before the snapshot, as a canister in production has
	// been: its stable memory holds the saved store, which the rehearsal's
	// pre_upgrade overwrites (the committed copy is the store's pages).
	res, err = run.Canister.Upgrade(ctx, nil, nil, engine.UpgradeOptions{})
	mustOK(t, res, err)
	snap, err := run.Commit(ctx, CommitOptions{Name: "big", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	heap := run.Canister.HeapSize()
	run.Close(ctx)

	t.Run("streamed", func(t *testing.T) { rehearseMeasured(t, b, snap.ID, heap) })
	if os.Getenv("CANSCOPE_REHEARSAL_GIB") != "1" {
		return // the default stays short; at 4 GiB the image is 4 GiB more on disk
	}
	// As the CLI opens a snapshot it opened before: the heap maps the raw
	// image written at the first open (file pages, reclaimable), not a memfd.
	b.SetHeapImages(t.TempDir(), 0)
	run, err = b.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	run.Close(ctx)
	t.Run("image", func(t *testing.T) { rehearseMeasured(t, b, snap.ID, heap) })
}

// rehearseMeasured opens snapshot id (of a heap of heap bytes) on b,
// rehearses its upgrade twice and checks the memory the process held.
func rehearseMeasured(t *testing.T, b *Bench, id snapshots.ID, heap uint64) {
	const overhead = 256 << 20
	ctx := context.Background()
	base := peakrss.Reset(t)
	before, err := peakrss.Now()
	if err != nil {
		t.Fatal(err)
	}
	sampler := peakrss.Sample(t, 5*time.Millisecond)
	start, cpu := time.Now(), cpuTime()
	sampler.Phase("open")
	run, err := b.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	verify := func(when string) {
		t.Helper()
		stats, err := run.Canister.Query(ctx, "stats", nil)
		mustOK(t, stats, err)
		if heap > 2<<30 {
			return // walking 4 GiB takes more than a query's instruction limit; post_upgrade walks it
		}
		walked, err := run.Canister.Query(ctx, "verify", nil)
		mustOK(t, walked, err)
		if string(stats.Reply) != string(walked.Reply) {
			t.Fatalf("%s: the data store's checksum %x does not match the globals' %x", when, walked.Reply, stats.Reply)
		}
	}
	sampler.Phase("verify")
	verify("opened")
	logUsage(t, "opened")
	rec := &touchedStable{sampler: sampler, step: StepUpgrade, pages: map[uint64]struct{}{}}
	// One bool per 4 KiB page, not a map: at 4 GiB a map of a million
	// pages would itself be 40 MiB of the held memory measured.
	heapTouched, heapTouchedN := make([]bool, heap/4096+1), 0
	reh, err := run.Rehearse(ctx, RehearsalOptions{Again: true, Recorder: rec, Progress: func(s UpgradeStep) {
		for _, p := range s.Result.HeapPagesChanged {
			if int(p) >= len(heapTouched) {
				heapTouched = append(heapTouched, make([]bool, int(p)+1-len(heapTouched))...)
			}
			if !heapTouched[p] {
				heapTouched[p] = true
				heapTouchedN++
			}
		}
		rec.next(StepUpgradeAgain)
		sampler.Phase("after " + s.Name)
		logUsage(t, s.Name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !reh.OK() {
		t.Fatalf("rehearsal failed: %+v", reh.Last().Result.Trap)
	}
	wall, cpu := time.Since(start), cpuTime()-cpu
	heldPeak, at := sampler.Stop()
	for _, line := range sampler.Phases() {
		t.Log(line)
	}
	verify("rehearsed")

	touched := uint64(heapTouchedN)*4096 + uint64(len(rec.pages))*engine.PageSize
	bound := heap + touched + overhead
	peak := peakrss.Read(t) - base
	held := heldPeak.Held() - min(heldPeak.Held(), before.Held())
	t.Logf("heap %d MiB, moved %d MiB per step, touched %d MiB (heap %d, stable %d); open+rehearse %.1fs wall, %.1fs CPU",
		heap>>20, reh.Steps[0].StableBytesWritten>>20, touched>>20, heapTouchedN>>8, len(rec.pages)>>4,
		wall.Seconds(), cpu.Seconds())
	t.Logf("peak RSS (VmHWM) %d MiB, peak held %d MiB (during %s: %s) above the %d MiB before opening; bound heap + touched + 256 MiB = %d MiB",
		peak>>20, held>>20, at, heldPeak, base>>20, bound>>20)
	if peak > bound {
		t.Errorf("peak RSS %d MiB, want at most heap + pages touched + 256 MiB = %d MiB", peak>>20, bound>>20)
	}
	if held > bound {
		t.Errorf("peak held memory (RSS and memfd pages) %d MiB, want at most heap + pages touched + 256 MiB = %d MiB", held>>20, bound>>20)
	}
	// The bound allows a copy of the data more than this design
	// holds (the old heap and the new one, nothing else of the data's
	// size): at the default size a regression by one copy fails here.
	if guard := heap + reh.Steps[0].StableBytesWritten + 160<<20; os.Getenv("CANSCOPE_REHEARSAL_GIB") == "" && held > guard {
		t.Errorf("peak held memory %d MiB, want at most heap + moved + 160 MiB = %d MiB: a step holds another copy of the data", held>>20, guard>>20)
	}
}

// touchedStable is an ic0.Recorder keeping the stable pages a run wrote
// and naming the sampler's phase by the calls it sees (a stable write:
// pre_upgrade, a stable read: post_upgrade).
type touchedStable struct {
	mu      sync.Mutex
	sampler *peakrss.Sampler
	step    string
	phase   string
	pages   map[uint64]struct{}
}

func (r *touchedStable) next(step string) {
	r.mu.Lock()
	r.step, r.phase = step, ""
	r.mu.Unlock()
}

// SystemCall implements ic0.Recorder.
func (r *touchedStable) SystemCall(name string, params, results []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	phase := r.phase
	switch name {
	case "stable64_write":
		if off, n := params[0], params[2]; n > 0 && results != nil {
			for p := off / engine.PageSize; p <= (off+n-1)/engine.PageSize; p++ {
				r.pages[p] = struct{}{}
			}
		}
		phase = "pre_upgrade"
	case "stable64_read":
		phase = "post_upgrade"
	}
	if phase != r.phase {
		r.phase = phase
		r.sampler.Phase(r.step + ": " + phase)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func logUsage(t testing.TB, when string) {
	u, err := peakrss.Now()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %s; Go heap in use %d MiB; VmHWM %d MiB", when, u, ms.HeapInuse>>20, peakrss.Read(t)>>20)
}
