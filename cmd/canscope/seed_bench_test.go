package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
)

// BenchmarkSeedCLI times the built canscope binary importing and exporting
// the seed-sized snapshot of issue 14 (dfxtest.Seed, generated here, ~6 GB
// on disk, ~25 GB free needed) against `cp -r --sparse=always` of the same
// directory, run back to back (cp, canscope, cp, canscope …): the page
// cache dominates these times, and a shared machine's load swings, so
// only the ratio of neighbours means much. "cold" drops the page cache
// before each run (sync; echo 3 > /proc/sys/vm/drop_caches: root only,
// else it is skipped), "warm" only syncs. x-cp+sync compares with cp and
// the sync after it, which waits for cp's data to reach the disk as
// import's fsyncs wait for its packs. Import is durable (fsyncs before
// the manifest) and writes the heap image into the cache; cp and export
// are not durable. Each run is logged (wall, CPU = user+system of the
// child); the metrics are medians.
//
//	go test ./cmd/canscope -run '^$' -bench SeedCLI -benchtime 5x -v
//
// CANSCOPE_SEED_DIR keeps the generated snapshot between runs (it takes
// longer to write than to import); CANSCOPE_BENCH_DIR is where the
// copies, stores and caches go (default: the test's temp directory).
// CANSCOPE_BENCH_BASE names another canscope binary (an older build) run
// after each canscope run too, so a change is measured against its base
// under the same load: its figures are the base-* metrics.
func BenchmarkSeedCLI(b *testing.B) {
	root := b.TempDir()
	if d := os.Getenv("CANSCOPE_BENCH_DIR"); d != "" {
		var err error
		if root, err = os.MkdirTemp(d, "seedcli-"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(root)
	}
	src := filepath.Join(root, "snap")
	if keep := os.Getenv("CANSCOPE_SEED_DIR"); keep != "" {
		src = keep
	}
	if _, err := os.Stat(filepath.Join(src, dfx.MetadataFile)); err != nil {
		os.RemoveAll(src)
		if err := dfxtest.Write(src, dfxtest.Seed()); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(root, "canscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}
	store, cache := filepath.Join(root, "store"), filepath.Join(root, "cache")
	canDrop := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0) == nil
	prepare := func(b *testing.B, cold bool) {
		if err := exec.Command("sync").Run(); err != nil {
			b.Fatal(err)
		}
		if cold {
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	// timed runs a command, returning its wall and CPU time.
	timed := func(b *testing.B, name string, args ...string) (wall, cpu time.Duration) {
		c := exec.Command(name, args...)
		t0 := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v: %s", name, err, out)
		}
		wall = time.Since(t0)
		return wall, c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	}
	canscope := func(args ...string) []string {
		return append([]string{"--store", store, "--cache-dir", cache}, args...)
	}
	base := os.Getenv("CANSCOPE_BENCH_BASE")
	type sample struct{ cpWall, cpCPU, cpSync, csWall, csCPU, baseWall, baseCPU time.Duration }
	report := func(b *testing.B, what string, runs []sample) {
		med := func(f func(sample) float64) float64 {
			v := make([]float64, len(runs))
			for i, r := range runs {
				v[i] = f(r)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		b.ReportMetric(med(func(s sample) float64 { return s.csWall.Seconds() }), "canscope-s")
		b.ReportMetric(med(func(s sample) float64 { return s.csCPU.Seconds() }), "canscope-cpu-s")
		b.ReportMetric(med(func(s sample) float64 { return s.cpWall.Seconds() }), "cp-s")
		b.ReportMetric(med(func(s sample) float64 { return s.cpCPU.Seconds() }), "cp-cpu-s")
		b.ReportMetric(med(func(s sample) float64 { return float64(s.csWall) / float64(s.cpWall) }), "x-cp")
		b.ReportMetric(med(func(s sample) float64 { return float64(s.csWall) / float64(s.cpWall+s.cpSync) }), "x-cp+sync")
		if base != "" {
			b.ReportMetric(med(func(s sample) float64 { return s.baseWall.Seconds() }), "base-s")
			b.ReportMetric(med(func(s sample) float64 { return s.baseCPU.Seconds() }), "base-cpu-s")
			b.ReportMetric(med(func(s sample) float64 { return float64(s.baseWall) / float64(s.cpWall) }), "base-x-cp")
		}
		for i, r := range runs {
			b.Logf("%s run %d: cp %.2fs (%.2f CPU-s, then sync %.2fs), canscope %.2fs (%.2f CPU-s): %.2fx; base %.2fs (%.2f CPU-s)", what, i,
				r.cpWall.Seconds(), r.cpCPU.Seconds(), r.cpSync.Seconds(), r.csWall.Seconds(), r.csCPU.Seconds(), float64(r.csWall)/float64(r.cpWall),
				r.baseWall.Seconds(), r.baseCPU.Seconds())
		}
	}
	// cp also returns how long the sync after it took: cp leaves its
	// data in the page cache, import waits for the disk (a durable
	// import cannot beat cp followed by sync).
	cp := func(b *testing.B, cold bool) (wall, cpu, sync time.Duration) {
		to := filepath.Join(root, "cp")
		os.RemoveAll(to)
		prepare(b, cold)
		wall, cpu = timed(b, "cp", "-r", "--sparse=always", src, to)
		sync, _ = timed(b, "sync")
		os.RemoveAll(to)
		return wall, cpu, sync
	}
	importOnce := func(b *testing.B, bin string, cold bool) (time.Duration, time.Duration) {
		os.RemoveAll(store)
		os.RemoveAll(cache)
		prepare(b, cold)
		return timed(b, bin, canscope("import", src, "--name", "seed")...)
	}
	export := func(b *testing.B, bin string, cold bool) (time.Duration, time.Duration) {
		out := filepath.Join(root, "out")
		os.RemoveAll(out)
		defer os.RemoveAll(out)
		prepare(b, cold)
		return timed(b, bin, canscope("export", "seed", out, "--force")...)
	}
	// Each of import and export, cold then warm, alternating with cp and
	// the base build.
	for _, op := range []struct {
		name string
		run  func(b *testing.B, bin string, cold bool) (time.Duration, time.Duration)
	}{{"import", importOnce}, {"export", export}} {
		for _, cold := range []bool{true, false} {
			name := op.name + "-" + map[bool]string{true: "cold", false: "warm"}[cold]
			b.Run(name, func(b *testing.B) {
				if cold && !canDrop {
					b.Skip("cannot drop the page cache (not root)")
				}
				if _, err := os.Stat(filepath.Join(store, "manifests")); err != nil && op.name == "export" {
					importOnce(b, bin, false) // the store export reads
				}
				var runs []sample
				for b.Loop() {
					var s sample
					s.cpWall, s.cpCPU, s.cpSync = cp(b, cold)
					if base != "" {
						s.baseWall, s.baseCPU = op.run(b, base, cold)
					}
					s.csWall, s.csCPU = op.run(b, bin, cold)
					runs = append(runs, s)
				}
				report(b, name, runs)
			})
		}
	}
}
