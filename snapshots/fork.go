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
	// A fork shares every blob of its source and Commit checks only the
	// blobs a child adds: check the source's here, or a damaged snapshot
	// would fork into another damaged one.
	if err := CheckPresent(ctx, st, m); err != nil {
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

// CheckPresent refuses m when a blob it references is missing from st,
// for stores that can tell (HasBlobs; others are trusted). Commit checks
// only the blobs a child adds, so a fork or a commit on top of a snapshot
// whose pages were lost would otherwise make another damaged snapshot.
// It costs one presence check per page, no read.
func CheckPresent(ctx context.Context, st any, m *Manifest) error {
	hc, ok := st.(interface {
		HasBlobs(ctx context.Context, hs []Hash) ([]bool, error)
	})
	if !ok {
		return nil
	}
	refs := NewBlobs(m, nil)
	hs := make([]Hash, len(refs))
	for i, r := range refs {
		hs[i] = r.Hash
	}
	has, err := hc.HasBlobs(ctx, hs)
	if err != nil {
		return err
	}
	for i, ok := range has {
		if !ok {
			return fmt.Errorf("snapshot %s is %w: %s: blob %s is not in the store; run `canscope fsck`", m.Ref(), ErrDamaged, refs[i].What, refs[i].Hash.Short())
		}
	}
	return nil
}
