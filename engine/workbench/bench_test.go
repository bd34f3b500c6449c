package workbench

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// BenchmarkOpenLargeStable restores a snapshot holding 1 GiB of stable
// memory data and reads one page: stable pages come from the store on
// first use, so the cost is the heap and one page, not the gigabyte.
func BenchmarkOpenLargeStable(b *testing.B) {
	ctx := context.Background()
	bench, store := newBench(b)
	run, res, err := bench.Install(ctx, fixture(b, "counter.wasm"), nil, "")
	mustOK(b, res, err)
	snap, err := run.Commit(ctx, CommitOptions{Name: "big", MadeBy: snapshots.MadeByInstall})
	run.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m, err := store.Manifest(snap.ID)
	if err != nil {
		b.Fatal(err)
	}
	const pages = 16384 // 1 GiB
	child := m.Child(snapshots.MadeByCall)
	child.Name = "big"
	child.Stable = snapshots.PageTable{Size: pages * snapshots.PageSize}
	page := make([]byte, snapshots.PageSize)
	for i := range uint64(pages) {
		binary.LittleEndian.PutUint64(page, i+1) // distinct, compressible pages
		h, err := store.PutPage(page)
		if err != nil {
			b.Fatal(err)
		}
		child.Stable.Pages = append(child.Stable.Pages, snapshots.Page{Index: i, Hash: h})
	}
	big, err := store.Commit(ctx, child)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 8)
	b.ResetTimer()
	for b.Loop() {
		r, err := bench.Open(ctx, big.ID)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Canister.ReadStable(buf, 1234*snapshots.PageSize); err != nil || binary.LittleEndian.Uint64(buf) != 1235 {
			b.Fatalf("read %x, %v", buf, err)
		}
		b.ReportMetric(float64(r.Canister.StableAllocated()), "stable-pages-held")
		r.Close(ctx)
	}
}
