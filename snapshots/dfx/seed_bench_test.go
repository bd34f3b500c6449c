package dfx

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// BenchmarkSeed imports and exports the seed-sized snapshot (generated in
// the temp directory, ~5.6 GB on disk; it needs ~20 GB free) and reports
// each against `cp -r --sparse=always` of the same directory, timed just
// before it: x-cp is canscope's time over cp's. Both run with a warm page
// cache; cp is not durable, import is (an fsync per pack before the manifest).
// Run alone: go test ./snapshots/dfx -run '^$' -bench Seed -benchtime 1x
func BenchmarkSeed(b *testing.B) {
	root := b.TempDir()
	src := filepath.Join(root, "snap")
	// CANSCOPE_SEED_DIR keeps the generated snapshot between runs (it
	// takes longer to write than to import).
	if keep := os.Getenv("CANSCOPE_SEED_DIR"); keep != "" {
		src = keep
	}
	if _, err := os.Stat(filepath.Join(src, MetadataFile)); err != nil {
		os.RemoveAll(src)
		if err := dfxtest.Write(src, dfxtest.Seed()); err != nil {
			b.Fatal(err)
		}
	}
	// On a shared machine wall times swing with the other load; CPU time
	// (user+system, the child's for cp) is reported beside them.
	var cpCPU time.Duration
	cp := func(b *testing.B, from string) time.Duration {
		to := filepath.Join(root, "cp")
		exec.Command("sync").Run()
		t0 := time.Now()
		c := exec.Command("cp", "-r", "--sparse=always", from, to)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("cp: %v: %s", err, out)
		}
		d := time.Since(t0)
		cpCPU += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
		os.RemoveAll(to)
		return d
	}
	report := func(b *testing.B, tcs, tcp, cpu time.Duration) {
		n := float64(b.N)
		b.ReportMetric(tcs.Seconds()/n, "canscope-s")
		b.ReportMetric(tcp.Seconds()/n, "cp-s")
		b.ReportMetric(float64(tcs)/float64(tcp), "x-cp")
		b.ReportMetric(cpu.Seconds()/n, "canscope-cpu-s")
		b.ReportMetric(cpCPU.Seconds()/n, "cp-cpu-s")
		cpCPU = 0
	}
	store := filepath.Join(root, "store")
	images := filepath.Join(root, "heaps")
	// importSeed imports src as canscope import does: the heap also goes
	// into a heap image, kept once the snapshot is committed.
	importSeed := func(b *testing.B, st *fsstore.Store) {
		var img *workbench.HeapImage
		snap, err := Import(context.Background(), st, src, ImportOptions{Name: "seed", HeapCopy: func(size uint64, base *snapshots.PageTable) PageCopier {
			img = workbench.NewHeapImage(images, size, base)
			return img
		}})
		if err != nil {
			b.Fatal(err)
		}
		m, err := st.Manifest(snap.ID)
		if err != nil {
			b.Fatal(err)
		}
		if err := img.Keep(m.Heap); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("import", func(b *testing.B) {
		var tcp, tcs, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			os.RemoveAll(store)
			os.RemoveAll(images)
			tcp += cp(b, src)
			st, err := fsstore.Open(store)
			if err != nil {
				b.Fatal(err)
			}
			exec.Command("sync").Run()
			b.StartTimer()
			t0, c0 := time.Now(), cpuTime()
			importSeed(b, st)
			tcs += time.Since(t0)
			cpu += cpuTime() - c0
			st.Close()
		}
		report(b, tcs, tcp, cpu)
	})
	// A second download of an unchanged canister: every page is in the
	// store already (and the heap image too).
	b.Run("reimport", func(b *testing.B) {
		var tcp, tcs, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			tcp += cp(b, src)
			st, err := fsstore.Open(store)
			if err != nil {
				b.Fatal(err)
			}
			exec.Command("sync").Run()
			b.StartTimer()
			t0, c0 := time.Now(), cpuTime()
			importSeed(b, st)
			tcs += time.Since(t0)
			cpu += cpuTime() - c0
			st.Close()
		}
		report(b, tcs, tcp, cpu)
	})
	b.Run("export", func(b *testing.B) {
		st, err := fsstore.Open(store)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		snap, err := st.Resolve("seed")
		if err != nil {
			b.Fatal(err)
		}
		m, err := st.Manifest(snap.ID)
		if err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(root, "out")
		var tcp, tcs, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			tcp += cp(b, src)
			exec.Command("sync").Run()
			b.StartTimer()
			t0, c0 := time.Now(), cpuTime()
			if err := Export(context.Background(), st, m, out); err != nil {
				b.Fatal(err)
			}
			tcs += time.Since(t0)
			cpu += cpuTime() - c0
			b.StopTimer()
			os.RemoveAll(out)
			b.StartTimer()
		}
		report(b, tcs, tcp, cpu)
	})
}
