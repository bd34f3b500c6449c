package snapshots

import (
	"context"
	"fmt"
)

// Fork makes a new snapshot named name in st that shares every page with
// the snapshot ref names, recording the branch point in its lineage. It
// is one rule for every backend: the fork is an ordinary Commit of a
// child manifest, so it gets the backend's NAME@N assignment and
// crash-safety as any other snapshot.
func Fork(ctx context.Context, st Store, ref, name string) (Snapshot, error) {
	src, err := st.Resolve(ref)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fork: %w", err)
	}
	m, err := st.Manifest(src.ID)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fork %s: %w", src.Ref(), err)
	}
	child := m.Child(MadeByFork)
	child.ForkedFrom = &m.ID
	child.Name = name
	child.Note = "forked from " + src.Ref()
	snap, err := st.Commit(ctx, child)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fork %s: %w", src.Ref(), err)
	}
	return snap, nil
}
