package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/canscope/canscope/snapshots"
)

var _ snapshots.Receiver = (*Store)(nil)

// HasBlobs reports, for each hash, whether its blob file exists.
func (s *Store) HasBlobs(_ context.Context, hs []snapshots.Hash) ([]bool, error) {
	out := make([]bool, len(hs))
	for i, h := range hs {
		_, err := os.Stat(s.blobPath(h))
		switch {
		case err == nil:
			out[i] = true
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("blob %s: %w", h.Short(), err)
		}
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
	if err := s.flush(); err != nil { // pending blobs become visible (batch.go)
		return fail(err)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	var parent *snapshots.Manifest
	if m.Parent != nil {
		p, err := s.Manifest(*m.Parent)
		if err != nil {
			return fail(fmt.Errorf("parent: %w", err))
		}
		parent = p
	}
	if err := s.checkBlobs(m, parent); err != nil {
		return fail(err)
	}
	all, err := s.List()
	if err != nil {
		return fail(err)
	}
	enc, done, err := snapshots.CheckAdopt(m, all)
	if err != nil || done {
		if err != nil {
			return fail(err)
		}
		return m.Snapshot, nil
	}
	dir := filepath.Join(s.dir, manifestsDir)
	if err := writeFileAtomic(dir, m.ID.String(), enc); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	s.releaseIfIdle()
	return m.Snapshot, nil
}
