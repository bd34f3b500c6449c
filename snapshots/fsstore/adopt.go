package fsstore

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
)

var _ snapshots.Receiver = (*Store)(nil)

// HasBlobs reports, for each hash, whether the store holds its blob
// (in a pack or as a loose file).
func (s *Store) HasBlobs(_ context.Context, hs []snapshots.Hash) ([]bool, error) {
	out := make([]bool, len(hs))
	if err := s.packs.scan(s.packsPath()); err != nil {
		return nil, err
	}
	for i, h := range hs {
		ok, err := s.stored(h)
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", h.Short(), err)
		}
		out[i] = ok
	}
	return out, nil
}

// Adopt commits m verbatim, as a copy of another store's snapshot
// (snapshots.Receiver): the same checks as Commit, the same lock, and
// snapshots.CheckAdopt's rule for its NAME@N.
func (s *Store) Adopt(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error) {
	fail := func(err error) (snapshots.Snapshot, error) {
		return snapshots.Snapshot{}, fmt.Errorf("adopt snapshot %s: %w", m.Ref(), err)
	}
	if s.roErr != nil {
		return fail(s.roErr)
	}
	encode := func(all []snapshots.Snapshot) ([]byte, bool, error) { return snapshots.CheckAdopt(m, all) }
	if err := s.writeManifest(ctx, m, encode); err != nil {
		return fail(err)
	}
	return m.Snapshot, nil
}
