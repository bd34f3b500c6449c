package fsstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// Two commits made from the same snapshot under its name: the second is
// refused like a non-fast-forward push, and names what moved.
func TestCommitRefusesAChildOfAMovedName(t *testing.T) {
	s := openTemp(t)
	p1 := commitPages(t, s, "prod", nil, page(1))
	commitPages(t, s, "prod", &p1.ID, page(2)) // the other run wins
	h, _ := s.PutPage(page(3))
	late := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "prod", MadeBy: snapshots.MadeByCall, Parent: &p1.ID},
		Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: h}}}}
	before, _ := s.List()
	_, err := s.Commit(context.Background(), late)
	if !errors.Is(err, snapshots.ErrMoved) || !strings.Contains(err.Error(), "prod moved from prod@1 to prod@2 while this ran") || !strings.Contains(err.Error(), "prod@latest") {
		t.Fatalf("second commit on prod: %v", err)
	}
	if after, _ := s.List(); len(after) != len(before) {
		t.Errorf("refused commit changed the store: %d snapshots, then %d", len(before), len(after))
	}
	// Under a new name (a fork, --name) the same child is fine.
	late.Name = "prod-b"
	if _, err := s.Commit(context.Background(), late); err != nil {
		t.Errorf("commit under another name: %v", err)
	}
}

// Pending blobs read back before the commit, and a Store closed without
// committing leaves no file behind.
func TestUncommittedBlobsReadBackAndVanishOnClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.PutPage(page(5))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, snapshots.PageSize)
	if err := s.ReadPage(h, buf); err != nil || buf[0] != 5 {
		t.Fatalf("pending page read: %v", err)
	}
	if _, err := os.Stat(s.blobPath(h)); err == nil {
		t.Error("an uncommitted blob already has its name")
	}
	s.Close()
	if n := countFiles(t, filepath.Join(dir, blobsDir)) + countFiles(t, filepath.Join(dir, packsDir)); n != 0 {
		t.Errorf("closing without a commit left %d files", n)
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestRemoveRefusesAncestorsAndPruneFrees(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	a := commitPages(t, s, "a", nil, page(1), page(2))
	b := commitPages(t, s, "a", &a.ID, page(1), page(3))
	keep := commitPages(t, s, "keep", nil, page(2))
	if _, err := s.Remove(ctx, []snapshots.ID{a.ID}, false); !errors.Is(err, snapshots.ErrHasDescendants) || !strings.Contains(err.Error(), "a@2") {
		t.Fatalf("rm of a parent: %v", err)
	}
	// A killed writer's temp file, and an interrupted import's blob.
	os.WriteFile(filepath.Join(s.dir, blobsDir, "ab", tempPrefix+"killed"), make([]byte, 100), 0o644)
	removed, err := s.Remove(ctx, []snapshots.ID{a.ID}, true)
	if err != nil || len(removed) != 2 || removed[0].ID != a.ID || removed[1].ID != b.ID {
		t.Fatalf("rm --with-descendants = %v, %v", removed, err)
	}
	rep, err := s.Check(ctx)
	if err != nil || !rep.OK || rep.UnreferencedBlobs != 2 || rep.UnreferencedBytes == 0 {
		t.Fatalf("fsck after rm: %+v, %v; want 2 unreferenced blobs (pages 1 and 3)", rep, err)
	}
	pr, err := s.Prune(ctx)
	if err != nil || pr.BlobsRemoved != 2 || pr.TempRemoved != 1 || pr.BlobsKept != 1 || pr.BytesFreed != rep.UnreferencedBytes+100 {
		t.Fatalf("prune = %+v, %v", pr, err)
	}
	rep, err = s.Check(ctx)
	if err != nil || !rep.OK || rep.UnreferencedBlobs != 0 || rep.BlobsChecked != 1 {
		t.Fatalf("fsck after prune: %+v, %v", rep, err)
	}
	if _, err := s.Resolve("keep"); err != nil || keep.ID.IsZero() {
		t.Errorf("kept snapshot: %v", err)
	}
}

// rm and prune run again and again while another Store (as another
// process would) imports under new names, each import reusing pages an
// rm just orphaned: every import must commit, and fsck end clean.
func TestPruneBesideConcurrentImports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	pruner, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer pruner.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 12 {
			imp, err := Open(dir)
			if err != nil {
				errs <- err
				return
			}
			m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "imp" + string(rune('a'+i)), MadeBy: snapshots.MadeByImport}}
			for p := range 8 {
				h, err := imp.PutPage(page(byte(1 + (i+p)%10))) // overlaps what rm orphaned
				if err != nil {
					errs <- err
					return
				}
				m.Heap.Pages = append(m.Heap.Pages, snapshots.Page{Index: uint64(p), Hash: h})
			}
			m.Heap.Size = 8 * snapshots.PageSize
			if _, err := imp.Commit(ctx, m); err != nil {
				errs <- err
			}
			imp.Close()
		}
	}()
	for range 12 {
		all, err := pruner.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(all) > 1 {
			if _, err := pruner.Remove(ctx, []snapshots.ID{all[0].ID}, true); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pruner.Prune(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("import beside prune: %v", err)
	}
	rep, err := pruner.Check(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("fsck after rm + prune beside imports: %+v, %v", rep, err)
	}
	all, _ := pruner.List()
	for _, snap := range all {
		m, err := pruner.Manifest(snap.ID)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, snapshots.PageSize)
		for _, p := range m.Heap.Pages {
			if err := pruner.ReadPage(p.Hash, buf); err != nil {
				t.Errorf("%s page %d: %v", snap.Ref(), p.Index, err)
			}
		}
	}
}

func TestDamagedManifestIsNamedNotMissing(t *testing.T) {
	s := openTemp(t)
	a := commitPages(t, s, "a", nil, page(1))
	os.WriteFile(s.manifestPath(a.ID), []byte("garbage"), 0o644)
	s.summaries = nil
	d, err := s.Damaged()
	if err != nil || len(d) != 1 || d[0].ID != a.ID {
		t.Fatalf("Damaged = %v, %v", d, err)
	}
	_, err = s.Resolve(a.ID.String()[:8])
	if !errors.Is(err, snapshots.ErrDamaged) || !strings.Contains(err.Error(), "canscope fsck") {
		t.Errorf("resolve a damaged id: %v", err)
	}
	if _, err := s.Prune(context.Background()); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("prune with a damaged manifest: %v", err)
	}
	if _, err := s.Remove(context.Background(), []snapshots.ID{a.ID}, false); err != nil {
		t.Errorf("rm of a damaged snapshot: %v", err)
	}
	if d, _ := s.Damaged(); len(d) != 0 {
		t.Errorf("still damaged after rm: %v", d)
	}
}

func TestForkRefusesADamagedSnapshot(t *testing.T) {
	s := openTemp(t)
	a := commitPages(t, s, "a", nil, page(1), page(2))
	m, _ := s.Manifest(a.ID)
	removeBlob(t, s, m.Heap.Pages[1].Hash)
	if _, err := s.Fork(context.Background(), "a", "b"); !errors.Is(err, snapshots.ErrDamaged) || !strings.Contains(err.Error(), "heap page 1") {
		t.Errorf("fork of a snapshot with a missing page: %v", err)
	}
}

// A manifest whose header still decodes but whose bytes no longer hash to
// its name is listed (its header reads) and flagged as damaged.
func TestManifestNotHashingToItsNameIsFlagged(t *testing.T) {
	s := openTemp(t)
	a := commitPages(t, s, "a", nil, page(1), page(2))
	p := s.manifestPath(a.ID)
	raw, _ := os.ReadFile(p)
	raw[len(raw)-17] ^= 0xff // the last heap page hash (the empty stable table is the last 16 bytes)
	os.WriteFile(p, raw, 0o644)
	d, err := s.Damaged()
	if err != nil || len(d) != 1 || d[0].ID != a.ID || !strings.Contains(d[0].Reason, "not its name") {
		t.Fatalf("Damaged = %+v, %v; want a's manifest flagged", d, err)
	}
	if _, err := s.Manifest(a.ID); !errors.Is(err, snapshots.ErrDamaged) {
		t.Errorf("Manifest of it: %v, want ErrDamaged", err)
	}
}
