package fsstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// A format-1 store (pages as loose blob files, no packs/ directory)
// reads as it is, and a new import of the same pages stores none again.
func TestFormat1StoreReadsAndDedupes(t *testing.T) {
	s := openTemp(t)
	if err := os.Remove(s.packsPath()); err != nil {
		t.Fatal(err)
	}
	// Write page 1 the way format 1 did: one loose file.
	h := snapshots.HashOf(page(1))
	if err := os.WriteFile(s.blobPath(h), s.enc.EncodeAll(page(1), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	old := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "old", MadeBy: snapshots.MadeByImport},
		Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: h}}}}
	if _, err := s.Commit(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	o, err := Open(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	buf := make([]byte, snapshots.PageSize)
	if err := o.ReadPage(h, buf); err != nil || !bytes.Equal(buf, page(1)) {
		t.Fatalf("loose page of a format-1 store: %v", err)
	}
	snap := commitPages(t, o, "new", nil, page(1), page(2))
	if n := countFiles(t, s.packsPath()); n != 1 {
		t.Errorf("%d files in packs/, want one pack (page 2)", n)
	}
	var ix packIndex
	if err := ix.scan(s.packsPath()); err != nil {
		t.Fatal(err)
	}
	if p := ix.all(); len(p) != 1 || len(p[0].entries) != 1 || p[0].entries[0].hash != snapshots.HashOf(page(2)) {
		t.Errorf("packs = %+v, want page 2 only (page 1 is loose already)", p)
	}
	if rep, err := o.Check(context.Background()); err != nil || !rep.OK || rep.BlobsChecked != 2 {
		t.Errorf("fsck = %+v, %v", rep, err)
	}
	m, _ := o.Manifest(snap.ID)
	for i, p := range m.Heap.Pages {
		if err := s.ReadPage(p.Hash, buf); err != nil || buf[0] != byte(i+1) {
			t.Errorf("page %d through the first handle (packs committed by another): %v", i, err)
		}
	}
}

// A pack whose index no longer verifies is reported, and the pages it
// held count as missing.
func TestCorruptPackIndexIsReported(t *testing.T) {
	s := openTemp(t)
	commitPages(t, s, "a", nil, page(1), page(2))
	p := s.packs.all()[0]
	f, err := os.OpenFile(p.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, p.size-int64(packTrailerBytes)-3) // inside the index
	f.Close()
	rep, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[snapshots.ProblemKind]int{}
	for _, pr := range rep.Problems {
		kinds[pr.What]++
	}
	if rep.OK || kinds[snapshots.ProblemCorruptPack] != 1 || kinds[snapshots.ProblemMissingBlob] != len(p.entries) {
		t.Errorf("fsck problems = %+v, want one corrupt_pack and its %d pages missing", rep.Problems, len(p.entries))
	}
	if _, err := os.Stat(filepath.Join(s.packsPath(), p.name+packSuffix)); err != nil {
		t.Errorf("fsck touched the pack: %v", err)
	}
}
