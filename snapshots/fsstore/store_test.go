package fsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func page(b byte) []byte { return bytes.Repeat([]byte{b}, snapshots.PageSize) }

// commitPages stores pages (nil = zero page) as the heap of a new snapshot.
func commitPages(t *testing.T, s *Store, name string, parent *snapshots.ID, pages ...[]byte) snapshots.Snapshot {
	t.Helper()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: name, MadeBy: snapshots.MadeByImport, Parent: parent}}
	m.Heap.Size = uint64(len(pages)) * snapshots.PageSize
	for i, p := range pages {
		if p == nil {
			continue
		}
		h, err := s.PutPage(p)
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsZero() {
			m.Heap.Pages = append(m.Heap.Pages, snapshots.Page{Index: uint64(i), Hash: h})
		}
	}
	snap, err := s.Commit(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func blobCount(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestBlobsRoundTripAndDedupe(t *testing.T) {
	s := openTemp(t)
	h, err := s.PutPage(make([]byte, snapshots.PageSize))
	if err != nil || !h.IsZero() {
		t.Fatalf("zero page: hash %s, err %v; want zero hash, nothing stored", h.Short(), err)
	}
	short := []byte("short last page")
	h, err = s.PutPage(short)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, snapshots.PageSize)
	if err := s.ReadPage(h, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf, short) || !bytes.Equal(buf[len(short):], make([]byte, snapshots.PageSize-len(short))) {
		t.Error("short page not zero-padded")
	}
	for range 3 {
		if _, err := s.PutPage(page(7)); err != nil {
			t.Fatal(err)
		}
	}
	mod := []byte("\x00asm\x01\x00\x00\x00")
	mh, err := s.PutBlob(mod)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadBlob(mh); err != nil || !bytes.Equal(got, mod) {
		t.Errorf("ReadBlob = %q, %v", got, err)
	}
	if n := blobCount(t, s); n != 3 {
		t.Errorf("store holds %d blobs, want 3 (zero page skipped, duplicates stored once)", n)
	}
	if _, err := s.ReadBlob(snapshots.Hash{1}); !errors.Is(err, snapshots.ErrNotFound) {
		t.Errorf("missing blob error = %v, want ErrNotFound", err)
	}
}

func TestCorruptBlobIsRefusedAndReported(t *testing.T) {
	s := openTemp(t)
	snap := commitPages(t, s, "prod", nil, page(1), nil, page(2))
	m, err := s.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	victim := m.Heap.Pages[1].Hash
	if err := os.WriteFile(s.blobPath(victim), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadPage(victim, make([]byte, snapshots.PageSize)); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("reading a damaged blob: %v, want a corrupt error", err)
	}
	// Same length, one bit flipped inside a valid frame: caught by the hash.
	other := m.Heap.Pages[0].Hash
	b, _ := os.ReadFile(s.blobPath(other))
	b[len(b)-1] ^= 1
	os.WriteFile(s.blobPath(other), b, 0o644)

	rep, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) != 2 || rep.BlobsChecked != 2 || rep.SnapshotsChecked != 1 {
		t.Fatalf("fsck report = %+v, want two problems in one snapshot", rep)
	}
	for _, p := range rep.Problems {
		if p.Snapshot != snap.ID.String() || p.Ref != "prod@1" || p.Memory != "heap" || p.Page == nil || p.What != snapshots.ProblemCorruptBlob {
			t.Errorf("problem %+v does not name the snapshot and heap page", p)
		}
	}
	if p := rep.Problems[0]; !strings.Contains(p.String(), "prod@1 heap page") {
		t.Errorf("human line %q lacks the snapshot and page", p.String())
	}
}

func TestCheckFindsMissingBlobAndCorruptManifest(t *testing.T) {
	s := openTemp(t)
	a := commitPages(t, s, "a", nil, page(1))
	b := commitPages(t, s, "b", nil, page(2))
	mb, _ := s.Manifest(b.ID)
	os.Remove(s.blobPath(mb.Heap.Pages[0].Hash))
	p := s.manifestPath(a.ID)
	raw, _ := os.ReadFile(p)
	raw[20] ^= 0xff
	os.WriteFile(p, raw, 0o644)
	if _, err := s.Manifest(a.ID); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Manifest of a damaged file: %v", err)
	}
	rep, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[snapshots.ProblemKind]string{}
	for _, p := range rep.Problems {
		kinds[p.What] = p.Snapshot
	}
	if kinds[snapshots.ProblemMissingBlob] != b.ID.String() || kinds[snapshots.ProblemCorruptManifest] != a.ID.String() || rep.OK {
		t.Errorf("problems = %+v", rep.Problems)
	}
	if rep.UnreferencedBlobs != 1 {
		t.Errorf("unreferenced blobs = %d, want 1 (a's page, its manifest is unreadable)", rep.UnreferencedBlobs)
	}
}

func TestCommitSeqListResolveFork(t *testing.T) {
	s := openTemp(t)
	p1 := commitPages(t, s, "prod", nil, page(1), page(2))
	p2 := commitPages(t, s, "prod", &p1.ID, page(1), page(3))
	if p1.Seq != 1 || p2.Seq != 2 || *p2.Parent != p1.ID || p2.HeapPagesStored != 2 || p2.HeapBytes != 2*snapshots.PageSize {
		t.Fatalf("snapshots = %+v, %+v", p1, p2)
	}
	f, err := s.Fork(context.Background(), "prod@1", "repair")
	if err != nil {
		t.Fatal(err)
	}
	if f.Ref() != "repair@1" || f.MadeBy != snapshots.MadeByFork || *f.ForkedFrom != p1.ID || *f.Parent != p1.ID {
		t.Errorf("fork = %+v", f)
	}
	fm, _ := s.Manifest(f.ID)
	pm, _ := s.Manifest(p1.ID)
	if d := snapshots.Diff(pm, fm); !d.Empty() {
		t.Errorf("fork differs from its source: %+v", d)
	}
	all, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, x := range all {
		refs = append(refs, x.Ref())
	}
	if strings.Join(refs, " ") != "prod@1 prod@2 repair@1" {
		t.Errorf("List order = %v", refs)
	}
	if got, err := s.Resolve("prod"); err != nil || got.ID != p2.ID {
		t.Errorf("Resolve(prod) = %v, %v", got.Ref(), err)
	}
	if _, err := s.Fork(context.Background(), "nope", "x"); err == nil {
		t.Error("fork of an unknown ref succeeded")
	}
	if _, err := s.Fork(context.Background(), "prod", "bad name"); err == nil {
		t.Error("fork with an invalid name succeeded")
	}
}

func TestCommitRefusesBadManifests(t *testing.T) {
	s := openTemp(t)
	h, _ := s.PutPage(page(1))
	missing := snapshots.Hash{0xab}
	tests := map[string]*snapshots.Manifest{
		"no name":       {Snapshot: snapshots.Snapshot{MadeBy: snapshots.MadeByImport}},
		"no made_by":    {Snapshot: snapshots.Snapshot{Name: "x"}},
		"missing page":  {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: missing}}}},
		"missing mod":   {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Module: missing},
		"heap too big":  {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.MaxHeapBytes + 1}},
		"page past end": {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import"}, Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 1, Hash: h}}}},
		"bad parent":    {Snapshot: snapshots.Snapshot{Name: "x", MadeBy: "import", Parent: &missing}},
	}
	for name, m := range tests {
		if _, err := s.Commit(context.Background(), m); err == nil {
			t.Errorf("%s: Commit accepted it", name)
		}
	}
	if all, _ := s.List(); len(all) != 0 {
		t.Errorf("refused commits left %d snapshots", len(all))
	}
}

func TestChildCommitChecksOnlyChangedPages(t *testing.T) {
	s := openTemp(t)
	p := commitPages(t, s, "prod", nil, page(1), page(2), page(3))
	pm, _ := s.Manifest(p.ID)
	child := pm.Child(snapshots.MadeByCall)
	h, err := s.PutPage(page(9))
	if err != nil {
		t.Fatal(err)
	}
	child.Heap = child.Heap.Patch(4*snapshots.PageSize, []snapshots.Page{{Index: 1, Hash: h}, {Index: 2}})
	snap, err := s.Commit(context.Background(), child)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Manifest(snap.ID)
	d := snapshots.Diff(pm, got)
	if d.Heap.ChangedPages != 3 || snap.Ref() != "prod@2" || snap.MadeBy != snapshots.MadeByCall {
		t.Errorf("child %+v, diff %+v", snap, d.Heap)
	}
}

func TestLockExcludesOtherWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := a.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "x", MadeBy: snapshots.MadeByImport}}
	if _, err := b.Commit(ctx, m); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("commit while another store holds the lock: %v", err)
	}
	unlock()
	if _, err := b.Commit(context.Background(), m); err != nil {
		t.Errorf("commit after unlock: %v", err)
	}
}

func TestOpenRefusesForeignDirs(t *testing.T) {
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Open(foreign); err == nil || !strings.Contains(err.Error(), "not a canscope store") {
		t.Errorf("Open of a foreign directory: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(filepath.Join(file, "store")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open under a file: %v", err)
	}
}

// A lock file left by a killed process (its pid is dead, so is its flock)
// must not block the next writer.
func TestStaleLockFileDoesNotBlock(t *testing.T) {
	s := openTemp(t)
	if err := os.WriteFile(filepath.Join(s.dir, lockFile), []byte("pid 999999 since 2026-01-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "x", MadeBy: snapshots.MadeByImport}}
	if _, err := s.Commit(ctx, m); err != nil {
		t.Fatalf("commit over a stale lock file: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(s.dir, lockFile))
	if want := fmt.Sprintf("pid %d since ", os.Getpid()); !strings.HasPrefix(string(b), want) {
		t.Errorf("lock file = %q, want it to name this process", b)
	}
}

// Two stores on one directory (as two processes would be) commit under one
// name at the same time: the lock gives every snapshot its own NAME@N.
func TestConcurrentCommitsGetDistinctSeqs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const each = 6
	errs := make(chan error, 2*each)
	for i, s := range stores {
		go func() {
			for j := range each {
				h, err := s.PutPage(page(byte(10*i + j + 1)))
				if err == nil {
					m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "prod", MadeBy: snapshots.MadeByImport},
						Heap: snapshots.PageTable{Size: snapshots.PageSize, Pages: []snapshots.Page{{Index: 0, Hash: h}}}}
					_, err = s.Commit(context.Background(), m)
				}
				errs <- err
			}
		}()
	}
	for range 2 * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	all, err := stores[0].List()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i, s := range all {
		seen[s.Seq] = true
		if s.Seq != i+1 {
			t.Errorf("List()[%d] is %s: not in commit order", i, s.Ref())
		}
	}
	if len(seen) != 2*each {
		t.Errorf("%d distinct seqs for %d commits", len(seen), 2*each)
	}
	if rep, err := stores[1].Check(context.Background()); err != nil || !rep.OK {
		t.Errorf("fsck after concurrent commits: %+v, %v", rep, err)
	}
}
