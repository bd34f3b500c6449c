package fsstore

import (
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// BenchmarkDiffFromStore is `canscope diff` of two 4 GiB heaps with every
// page stored and 1% changed: read both manifests from disk (hash-verified,
// decoded), then diff them. No page is read.
func BenchmarkDiffFromStore(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ids [2]snapshots.ID
	for k := range ids {
		m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "big", Seq: k + 1, MadeBy: snapshots.MadeByImport},
			Heap: snapshots.PageTable{Size: snapshots.MaxHeapBytes}}
		m.HeapBytes, m.HeapPagesStored = m.Heap.Size, 65536
		for i := range uint64(65536) {
			h := snapshots.Hash{byte(i), byte(i >> 8), 1}
			if i%100 == 0 {
				h[3] = byte(k)
			}
			m.Heap.Pages = append(m.Heap.Pages, snapshots.Page{Index: i, Hash: h})
		}
		enc, err := snapshots.EncodeManifest(m)
		if err != nil {
			b.Fatal(err)
		}
		// Written directly: the page blobs do not exist, and diff never
		// reads them.
		ids[k] = snapshots.HashOf(enc)
		if err := writeFileAtomic(filepath.Join(s.dir, manifestsDir), ids[k].String(), enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		ma, err := s.Manifest(ids[0])
		if err != nil {
			b.Fatal(err)
		}
		mb, err := s.Manifest(ids[1])
		if err != nil {
			b.Fatal(err)
		}
		if d := snapshots.Diff(ma, mb); d.Heap.ChangedPages != 656 {
			b.Fatalf("changed pages = %d", d.Heap.ChangedPages)
		}
	}
}
