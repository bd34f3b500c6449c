package s3store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// benchSpec is the benchmark snapshot of the dfx import benchmarks: a
// 1 GiB heap with random data in 30 % of its pages and an 8 GiB stable
// memory that is mostly zero; changed has 1 % of the heap's pages (all
// data pages) drawn anew, for the re-import.
func benchSpec(b *testing.B) (first, second string, changedBytes int64) {
	spec := dfxtest.Spec{HeapPages: 1 << 14, StablePages: 8 << 14, Seed: 42}
	for i := uint64(0); i < spec.HeapPages; i++ {
		if i%10 < 3 {
			spec.HeapData = append(spec.HeapData, i)
		}
	}
	for i := uint64(0); i < 64; i++ {
		spec.StableData = append(spec.StableData, i*1999)
	}
	changed := spec
	n := spec.HeapPages / 100
	for i := uint64(0); i < n; i++ {
		changed.Changed = append(changed.Changed, spec.HeapData[i*uint64(len(spec.HeapData))/n])
	}
	first, second = filepath.Join(b.TempDir(), "snap1"), filepath.Join(b.TempDir(), "snap2")
	if err := dfxtest.Write(first, spec); err != nil {
		b.Fatal(err)
	}
	if err := dfxtest.Write(second, changed); err != nil {
		b.Fatal(err)
	}
	return first, second, int64(n) * snapshots.PageSize
}

// BenchmarkReimportS3 imports the benchmark snapshot into an S3 store on
// the test server (loopback), then the snapshot with 1 % of its heap
// pages changed, through dfx.Import as `canscope import` does; it reports
// both times and the bytes each import sent (request bodies, counted on
// the wire). BenchmarkReimportLocal is the same into a directory store.
// Run one at a time with -benchtime 1x.
func BenchmarkReimportS3(b *testing.B)    { benchReimport(b, true) }
func BenchmarkReimportLocal(b *testing.B) { benchReimport(b, false) }

func benchReimport(b *testing.B, s3 bool) {
	if s3 {
		testEnv(b)
	}
	first, second, changed := benchSpec(b)
	var t1, t2 time.Duration
	var sent1, sent2 int64
	for range b.N {
		var st snapshots.Store
		var stats *Stats
		var dir string
		if s3 {
			s := openTest(b, testURL(b), "")
			st, stats = s, s.Stats()
		} else {
			dir = filepath.Join(b.TempDir(), "store")
			s, err := fsstore.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			st = s
		}
		size := func() int64 {
			if s3 {
				return stats.BytesSent.Load()
			}
			return dirBytes(dir)
		}
		start := time.Now()
		if _, err := dfx.Import(context.Background(), st, first, dfx.ImportOptions{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		t1 += time.Since(start)
		before := size()
		sent1 += before
		start = time.Now()
		if _, err := dfx.Import(context.Background(), st, second, dfx.ImportOptions{Name: "bench"}); err != nil {
			b.Fatal(err)
		}
		t2 += time.Since(start)
		sent2 += size() - before
	}
	n := float64(b.N)
	b.ReportMetric(t1.Seconds()/n, "import-s")
	b.ReportMetric(t2.Seconds()/n, "reimport-s")
	b.ReportMetric(float64(sent1)/n/(1<<20), "import-MiB-sent")
	b.ReportMetric(float64(sent2)/n/(1<<20), "reimport-MiB-sent")
	b.ReportMetric(100*float64(sent2)/float64(sent1), "reimport-%of-import")
	b.ReportMetric(float64(sent2)/n/float64(changed), "reimport-sent/changed")
	logical := float64(9 << 30)
	b.ReportMetric(100*float64(sent2)/n/logical, "reimport-%logical")
}

// dirBytes is the size of the files under dir: what a directory store
// "sends" to its disk.
func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
