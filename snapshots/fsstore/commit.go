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

// Commit makes m a snapshot of the store. The caller fills m's content
// (name, made-by, lineage, metadata, module, page tables of blobs already
// stored with PutPage/PutBlob); Commit checks it, makes the blobs written
// since the last commit durable and visible (batch.go), then under the
// write lock refuses a child of a name's older snapshot
// (snapshots.CheckHead, in Seal), assigns m.Seq (the next N of NAME@N), stamps CreatedAt when zero, fills
// the summary fields and m.ID, and writes the manifest atomically. A
// process killed at any point leaves either no snapshot or a complete one.
//
// Blobs are checked for presence only where m differs from its parent, so
// committing a child of a 4 GiB heap after one message costs what the
// message changed.
func (s *Store) Commit(ctx context.Context, m *snapshots.Manifest) (snapshots.Snapshot, error) {
	fail := func(err error) (snapshots.Snapshot, error) {
		return snapshots.Snapshot{}, fmt.Errorf("commit snapshot %q: %w", m.Name, err)
	}
	if s.roErr != nil {
		return fail(s.roErr)
	}
	if err := m.CheckCommittable(); err != nil {
		return fail(err)
	}
	// The batch of blobs becomes durable and visible before the lock is
	// taken: the flush is the slow part, and needs no lock.
	if err := s.flush(); err != nil {
		return fail(err)
	}

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	// Checked under the lock, which rm and prune also hold: the parent and
	// the blobs it shares cannot be removed between the check and the
	// manifest.
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
	enc, err := m.Seal(all)
	if err != nil {
		return fail(err)
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

// checkBlobs verifies that every blob m references and its parent does
// not is in the store.
func (s *Store) checkBlobs(m, parent *snapshots.Manifest) error {
	for _, r := range snapshots.NewBlobs(m, parent) {
		_, err := os.Stat(s.blobPath(r.Hash))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: blob %s is not in the store (store it with PutPage/PutBlob before Commit)", r.What, r.Hash.Short())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
