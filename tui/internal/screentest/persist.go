package screentest

import (
	"context"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// Persist copies every snapshot of src into dst (a real store), parents
// first, with their pages, modules and creation times, so screens can be
// tested against the on-disk store with the incident's data.
func Persist(t testing.TB, src *Memory, dst snapshots.Store) {
	t.Helper()
	ids := map[snapshots.ID]snapshots.ID{}
	for _, m := range src.manifests {
		c := m.Clone()
		for _, tbl := range []*snapshots.PageTable{&c.Heap, &c.Stable} {
			for _, p := range tbl.Pages {
				if _, err := dst.PutPage(src.pages[p.Hash]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if !c.Module.IsZero() {
			if _, err := dst.PutBlob(src.blobs[c.Module]); err != nil {
				t.Fatal(err)
			}
		}
		if c.Parent != nil {
			p := ids[*c.Parent]
			c.Parent = &p
		}
		if c.ForkedFrom != nil {
			f := ids[*c.ForkedFrom]
			c.ForkedFrom = &f
		}
		c.ID, c.Seq = snapshots.ID{}, 0
		s, err := dst.Commit(context.Background(), c)
		if err != nil {
			t.Fatalf("persist %s: %v", m.Ref(), err)
		}
		ids[m.ID] = s.ID
	}
}

// Resolve returns the ID of the snapshot a reference names in a catalog.
func Resolve(t testing.TB, list func() ([]snapshots.Snapshot, error), ref string) snapshots.ID {
	t.Helper()
	all, err := list()
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshots.ResolveRef(all, ref)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}
