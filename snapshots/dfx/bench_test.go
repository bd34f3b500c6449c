package dfx

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// benchSpec is the benchmark snapshot of issue 5: a 1 GiB heap with random
// data in 30% of its pages and an 8 GiB stable memory that is mostly zero.
func benchSpec() dfxtest.Spec {
	spec := dfxtest.Spec{HeapPages: 1 << 14, StablePages: 8 << 14, Seed: 42}
	for i := uint64(0); i < spec.HeapPages; i++ {
		if i%10 < 3 {
			spec.HeapData = append(spec.HeapData, i)
		}
	}
	for i := uint64(0); i < 64; i++ {
		spec.StableData = append(spec.StableData, i*1999)
	}
	return spec
}

func logicalBytes(spec dfxtest.Spec) int64 {
	return int64(spec.HeapPages+spec.StablePages) * dfxtest.PageSize
}

func storeBytes(b *testing.B, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// BenchmarkImport: logical MB/s (heap + stable sizes), peak RSS of the
// process, store bytes. Run alone (-bench Import$ -benchtime 3x) so the
// RSS figure is this benchmark's.
func BenchmarkImport(b *testing.B) {
	spec := benchSpec()
	src := filepath.Join(b.TempDir(), "snap")
	if err := dfxtest.Write(src, spec); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.SetBytes(logicalBytes(spec))
	var stored int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "store")
		st, err := fsstore.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Import(context.Background(), st, src, ImportOptions{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		stored = storeBytes(b, dir)
		st.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(stored)/(1<<20), "store-MiB")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// BenchmarkReimport imports the benchmark snapshot, then the same snapshot
// with 1% of its heap pages changed into the same store, and reports the
// time ratio and the new bytes stored relative to the logical size.
func BenchmarkReimport(b *testing.B) {
	spec := benchSpec()
	src := filepath.Join(b.TempDir(), "snap")
	if err := dfxtest.Write(src, spec); err != nil {
		b.Fatal(err)
	}
	changed := spec
	for i := uint64(0); i < spec.HeapPages/100; i++ {
		changed.Changed = append(changed.Changed, spec.HeapData[i*uint64(len(spec.HeapData))/(spec.HeapPages/100)])
	}
	src2 := filepath.Join(b.TempDir(), "snap2")
	if err := dfxtest.Write(src2, changed); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(logicalBytes(spec))
	var first, second time.Duration
	var newBytes int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "store")
		st, err := fsstore.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := Import(context.Background(), st, src, ImportOptions{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		first += time.Since(t0)
		before := storeBytes(b, dir)
		b.StartTimer()
		t1 := time.Now()
		if _, err := Import(context.Background(), st, src2, ImportOptions{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		second += time.Since(t1)
		b.StopTimer()
		newBytes = storeBytes(b, dir) - before
		st.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(first)/float64(second), "speedup-x")
	b.ReportMetric(100*float64(newBytes)/float64(logicalBytes(spec)), "new-%logical")
	b.ReportMetric(100*float64(newBytes)/float64(spec.HeapPages*dfxtest.PageSize), "new-%heap")
	b.ReportMetric(float64(len(changed.Changed)), "pages-changed")
}

// BenchmarkExport and BenchmarkReadBlobs compare exporting the benchmark
// snapshot with just reading (decompressing, verifying) its pages with
// the same parallelism; both report MB/s of stored page data.
func BenchmarkExport(b *testing.B)    { benchOut(b, true) }
func BenchmarkReadBlobs(b *testing.B) { benchOut(b, false) }

func benchOut(b *testing.B, export bool) {
	spec := benchSpec()
	src := filepath.Join(b.TempDir(), "snap")
	if err := dfxtest.Write(src, spec); err != nil {
		b.Fatal(err)
	}
	st, err := fsstore.Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	snap, err := Import(context.Background(), st, src, ImportOptions{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := st.Manifest(snap.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(m.Heap.Pages)+len(m.Stable.Pages)) * snapshots.PageSize)
	// CPU time per op is reported too: on a shared machine it is steadier
	// than wall time.
	cpu0 := cpuTime()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		if export {
			out := filepath.Join(b.TempDir(), "out")
			if err := Export(context.Background(), st, m, out); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(out)
			b.StartTimer()
			continue
		}
		readAll(b, st, append(append([]snapshots.Page(nil), m.Heap.Pages...), m.Stable.Pages...))
	}
}

func readAll(b testing.TB, st snapshots.PageReader, pages []snapshots.Page) {
	ch := make(chan snapshots.Hash)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, snapshots.PageSize)
			for h := range ch {
				if err := st.ReadPage(h, buf); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, p := range pages {
		ch <- p.Hash
	}
	close(ch)
	wg.Wait()
}
