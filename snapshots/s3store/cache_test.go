package s3store

import (
	"context"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/dfx/dfxtest"
)

// readSnapshot reads everything a run reads from a snapshot: the
// reference, the manifest, the module and every page.
func readSnapshot(t *testing.T, st *Store, ref string) {
	t.Helper()
	snap, err := st.Resolve(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Manifest(snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReadBlob(m.Module); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, snapshots.PageSize)
	for _, p := range append(append([]snapshots.Page(nil), m.Heap.Pages...), m.Stable.Pages...) {
		if err := st.ReadPage(p.Hash, buf); err != nil {
			t.Fatal(err)
		}
	}
}

// A second process reading the same snapshot through the same cache reads
// no object from the bucket: one listing of the NAME@N claims (another
// writer may have added one) is all it sends.
func TestSecondReadIsLocal(t *testing.T) {
	loc := testURL(t)
	cache := t.TempDir()
	src := writeSnap(t, dfxtest.Spec{HeapPages: 64, HeapData: []uint64{0, 1, 2, 30, 63}, StablePages: 16, StableData: []uint64{4}, Chunks: 1, Seed: 3})
	// The importer runs without the cache, so the first reader fills it.
	imp := openTest(t, loc, "-")
	if _, err := dfx.Import(context.Background(), imp, src, dfx.ImportOptions{Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	first := openTest(t, loc, cache)
	readSnapshot(t, first, "prod")
	if first.Stats().ObjectGets.Load() == 0 {
		t.Fatal("the first reader read nothing from the bucket: the test proves nothing")
	}
	second := openTest(t, loc, cache)
	readSnapshot(t, second, "prod")
	st := second.Stats()
	if st.ObjectGets.Load() != 0 || st.Lists.Load() != 1 || st.Requests.Load() != 1 {
		t.Errorf("second reader sent %d requests (%d object reads, %d listings, %d bytes received); want one listing",
			st.Requests.Load(), st.ObjectGets.Load(), st.Lists.Load(), st.BytesRecv.Load())
	}
}

// The cache stays within its bound, dropping the least recently used.
func TestCacheIsBounded(t *testing.T) {
	c := newCache(t.TempDir(), 10*snapshots.PageSize)
	for i := range 40 {
		c.put("blobs", snapshots.Hash{byte(i), 1}, make([]byte, snapshots.PageSize/2))
		c.trim() // synchronously, for the test
	}
	c.mu.Lock()
	size := c.size
	c.mu.Unlock()
	if size > 10*snapshots.PageSize {
		t.Errorf("cache holds %d bytes, bound %d", size, 10*snapshots.PageSize)
	}
	if _, ok := c.get("blobs", snapshots.Hash{39, 1}, nil); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get("blobs", snapshots.Hash{0, 1}, nil); ok {
		t.Error("the oldest entry survived")
	}
}
