package workbench

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// heapHash hashes a canister's committed heap.
func heapHash(t *testing.T, c *engine.Canister) [32]byte {
	t.Helper()
	p := make([]byte, c.HeapSize())
	if err := c.ReadHeap(p, 0); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(p)
}

// TestHeapImages: the first open of a snapshot streams its heap and keeps
// an image; the second maps the image and sees the same heap; a message
// committed on the mapped heap (which copies the image) and the snapshot
// committed from it are right, and the image file is unchanged.
func TestHeapImages(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	dir := t.TempDir()
	b.SetHeapImages(dir, 0)
	run := imageSizedRun(t, b)
	snap, err := run.Commit(ctx, CommitOptions{Name: "img", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	want := heapHash(t, run.Canister)
	run.Close(ctx)

	first, err := b.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if heapHash(t, first.Canister) != want {
		t.Fatal("streamed heap differs")
	}
	first.Close(ctx)
	images, _ := filepath.Glob(filepath.Join(dir, "*.heap"))
	if len(images) != 1 {
		t.Fatalf("images after the first open: %v", images)
	}
	before, _ := os.ReadFile(images[0])

	second, err := b.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(ctx)
	if heapHash(t, second.Canister) != want {
		t.Fatal("heap mapped from the image differs")
	}
	stats, err := second.Canister.Query(ctx, "stats", nil)
	mustOK(t, stats, err)
	walked, err := second.Canister.Query(ctx, "verify", nil)
	mustOK(t, walked, err)
	if string(stats.Reply) != string(walked.Reply) {
		t.Fatal("the data store does not verify on the mapped heap")
	}
	// A committed message copies the image first; the state goes on.
	res, err := second.Canister.Update(ctx, "add_chunks", u64(1))
	mustOK(t, res, err)
	walked, err = second.Canister.Query(ctx, "verify", nil)
	mustOK(t, walked, err)
	stats, err = second.Canister.Query(ctx, "stats", nil)
	mustOK(t, stats, err)
	if string(stats.Reply) != string(walked.Reply) {
		t.Fatal("the data store does not verify after a commit on the mapped heap")
	}
	child, err := second.Commit(ctx, CommitOptions{Name: "img", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	grown := heapHash(t, second.Canister)
	third, err := b.Open(ctx, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close(ctx)
	if heapHash(t, third.Canister) != grown {
		t.Fatal("the snapshot committed from a mapped heap reopens differently")
	}
	if after, _ := os.ReadFile(images[0]); string(after) != string(before) {
		t.Fatal("running on the mapped image changed the image file")
	}
}

// countingStore counts the pages a bench reads from its store.
type countingStore struct {
	*fsstore.Store
	pages atomic.Int64
}

func (s *countingStore) ReadPage(h snapshots.Hash, buf []byte) error {
	s.pages.Add(1)
	return s.Store.ReadPage(h, buf)
}

// imageSizedRun installs incident_fixed and stores 16 MiB of data in it:
// a heap just past minImageBytes, so its snapshots get heap images.
func imageSizedRun(tb testing.TB, b *Bench) *Run {
	tb.Helper()
	ctx := context.Background()
	run, res, err := b.Install(ctx, fixture(tb, "incident_fixed.wasm"), nil, "")
	mustOK(tb, res, err)
	res, err = run.Canister.Update(ctx, "add_chunks", u64(256))
	mustOK(tb, res, err)
	return run
}

// exportDownload exports snapshot id of store into a fresh directory, as
// a download the tests import back.
func exportDownload(tb testing.TB, store *fsstore.Store, id snapshots.ID) string {
	tb.Helper()
	m, err := store.Manifest(id)
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), "download")
	if err := dfx.Export(context.Background(), store, m, dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// importWithImage imports the download dir into store as name, writing
// its heap image into images as canscope import does, and keeps the image
// under the imported heap's page table.
func importWithImage(tb testing.TB, store *fsstore.Store, dir, name, images string) (snapshots.Snapshot, *HeapImage) {
	tb.Helper()
	var img *HeapImage
	snap, err := dfx.Import(context.Background(), store, dir, dfx.ImportOptions{Name: name, HeapCopy: func(size uint64, base *snapshots.PageTable) dfx.PageCopier {
		img = NewHeapImage(images, size, base)
		return img
	}})
	if err != nil || img == nil {
		tb.Fatalf("import: %v (image %v)", err, img)
	}
	m, err := store.Manifest(snap.ID)
	if err != nil {
		tb.Fatal(err)
	}
	if err := img.Keep(m.Heap); err != nil {
		tb.Fatal(err)
	}
	return snap, img
}

// TestImportedHeapImage: an import that writes its heap into a HeapImage
// (as canscope import does) makes the first open a mapping: no heap page
// is read from the store, and the heap is the imported one.
func TestImportedHeapImage(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run := imageSizedRun(t, b)
	snap, err := run.Commit(ctx, CommitOptions{Name: "src", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	want := heapHash(t, run.Canister)
	run.Close(ctx)
	dir := exportDownload(t, store, snap.ID)
	images := t.TempDir()
	imported, _ := importWithImage(t, store, dir, "imported", images)

	cs := &countingStore{Store: store}
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	fresh := New(cs, eng)
	fresh.SetHeapImages(images, 0)
	r, err := fresh.Open(ctx, imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if n := cs.pages.Load(); n != 0 {
		t.Errorf("first open after the import read %d pages from the store, want the image mapped", n)
	}
	if heapHash(t, r.Canister) != want {
		t.Fatal("heap mapped from the imported image differs")
	}
	stats, err := r.Canister.Query(ctx, "stats", nil)
	mustOK(t, stats, err)
	walked, err := r.Canister.Query(ctx, "verify", nil)
	mustOK(t, walked, err)
	if string(stats.Reply) != string(walked.Reply) {
		t.Fatal("the data store does not verify on the imported image")
	}

	// A re-import of the same download writes no image; one with a
	// changed page writes that page and takes the rest from the image
	// of its parent.
	reimport := func(name string) (snapshots.ID, *HeapImage) {
		snap, img := importWithImage(t, store, dir, name, images)
		return snap.ID, img
	}
	if _, img := reimport("imported"); img.base == nil {
		t.Error("re-import did not find its parent's image")
	}
	if n, _ := filepath.Glob(filepath.Join(images, "*.heap")); len(n) != 1 {
		t.Errorf("images after an unchanged re-import: %v, want the one", n)
	}
	heapFile := filepath.Join(dir, dfx.HeapFile)
	f, err := os.OpenFile(heapFile, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("changed"), 3*snapshots.PageSize+100)
	f.Close()
	raw, err := os.ReadFile(heapFile)
	if err != nil {
		t.Fatal(err)
	}
	changed, _ := reimport("imported")
	cs.pages.Store(0)
	r2, err := fresh.Open(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close(ctx)
	if n := cs.pages.Load(); n != 0 {
		t.Errorf("first open after a changed re-import read %d pages, want its image mapped", n)
	}
	if heapHash(t, r2.Canister) != sha256.Sum256(raw) {
		t.Error("heap mapped from the re-imported image is not the download's")
	}
}

// An image written unsynced in an earlier boot is never mapped (a crash
// may have lost its data) and the next trim deletes it; one of this boot
// is mapped.
func TestUnsyncedImageOfAnotherBoot(t *testing.T) {
	if bootID() == "" {
		t.Skip("no boot id on this system")
	}
	c := &heapImages{dir: t.TempDir(), max: DefaultHeapImageBytes}
	table := snapshots.PageTable{Size: minImageBytes}
	old := c.bootPath(table, "00000000-0000-0000-0000-000000000000")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(old, minImageBytes); err != nil {
		t.Fatal(err)
	}
	if f := c.open(table); f != nil {
		f.Close()
		t.Fatal("an unsynced image of another boot was opened")
	}
	if err := os.Rename(old, c.bootPath(table, bootID())); err != nil {
		t.Fatal(err)
	}
	f := c.open(table)
	if f == nil {
		t.Fatal("an image of this boot was not opened")
	}
	f.Close()
	if err := os.Rename(c.bootPath(table, bootID()), old); err != nil {
		t.Fatal(err)
	}
	if err := c.trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Error("trim kept an unsynced image of another boot")
	}
}

// TestChildOpensOverParentImage: a snapshot committed from an imported
// one has no image of its own; its first open maps the parent's image and
// reads from the store only the pages the child changed, and its heap is
// the one a streamed open restores.
func TestChildOpensOverParentImage(t *testing.T) {
	ctx := context.Background()
	b, store := newBench(t)
	run := imageSizedRun(t, b)
	snap, err := run.Commit(ctx, CommitOptions{Name: "src", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	run.Close(ctx)
	images := t.TempDir()
	imported, _ := importWithImage(t, store, exportDownload(t, store, snap.ID), "imported", images)

	// The child: one committed call on the imported snapshot.
	b.SetHeapImages(images, 0)
	parent, err := b.Open(ctx, imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := parent.Canister.Update(ctx, "add_chunks", u64(2))
	mustOK(t, res, err)
	child, err := parent.Commit(ctx, CommitOptions{Name: "imported", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	parent.Close(ctx)
	cm, err := store.Manifest(child.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Parent == nil || *cm.Parent != imported.ID {
		t.Fatalf("child's parent is %v, want the imported snapshot", cm.Parent)
	}
	pm, err := store.Manifest(imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	delta := heapDelta(pm.Heap, cm.Heap)
	var stored int64
	for _, i := range delta {
		if !cm.Heap.Lookup(i).IsZero() {
			stored++
		}
	}
	if stored == 0 || len(delta) > len(cm.Heap.Pages)/4 {
		t.Fatalf("the child changed %d pages (%d stored) of %d: want a few", len(delta), stored, len(cm.Heap.Pages))
	}
	before, _ := filepath.Glob(filepath.Join(images, "*.heap"))

	plain := New(store, b.eng) // no images: streams the whole heap
	sr, err := plain.Open(ctx, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := heapHash(t, sr.Canister)
	sr.Close(ctx)

	cs := &countingStore{Store: store}
	fresh := New(cs, b.eng)
	fresh.SetHeapImages(images, 0)
	r, err := fresh.Open(ctx, child.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	if n := cs.pages.Load(); n != stored {
		t.Errorf("first open of the child read %d pages from the store, want the %d it changed", n, stored)
	}
	if heapHash(t, r.Canister) != want {
		t.Fatal("the child opened over its parent's image differs from a streamed open")
	}
	stats, err := r.Canister.Query(ctx, "stats", nil)
	mustOK(t, stats, err)
	walked, err := r.Canister.Query(ctx, "verify", nil)
	mustOK(t, walked, err)
	if string(stats.Reply) != string(walked.Reply) {
		t.Fatal("the data store does not verify on the child opened over the parent's image")
	}
	if heapHash(t, r.Canister) != want {
		t.Fatal("queries did not return to the child's heap")
	}
	if after, _ := filepath.Glob(filepath.Join(images, "*.heap")); len(after) != len(before) {
		t.Errorf("images after the child's open: %v, want %v", after, before)
	}
}
