package fsstore

import (
	"context"
	"fmt"
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
	enc := func(all []snapshots.Snapshot) ([]byte, bool, error) {
		b, err := m.Seal(all)
		return b, false, err
	}
	if err := s.writeManifest(ctx, m, enc); err != nil {
		return fail(err)
	}
	return m.Snapshot, nil
}

// writeManifest is the write of Commit and Adopt: the batch of blobs
// becomes durable and visible (batch.go) before the lock is taken (the
// flush is the slow part and needs no lock); then, under the lock rm and
// prune also hold, so the parent and the blobs it shares cannot be
// removed between the check and the manifest, it checks the parent and
// the new blobs, lets encode see every snapshot (to assign NAME@N, or to
// find m already there: done), and writes the manifest atomically.
func (s *Store) writeManifest(ctx context.Context, m *snapshots.Manifest, encode func(all []snapshots.Snapshot) (enc []byte, done bool, err error)) error {
	if err := s.flush(); err != nil {
		return err
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	var parent *snapshots.Manifest
	if m.Parent != nil {
		p, err := s.Manifest(*m.Parent)
		if err != nil {
			return fmt.Errorf("parent: %w", err)
		}
		parent = p
	}
	if err := s.checkBlobs(m, parent); err != nil {
		return err
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	enc, done, err := encode(all)
	if err != nil || done {
		return err
	}
	dir := filepath.Join(s.dir, manifestsDir)
	if err := writeFileAtomic(dir, m.ID.String(), enc); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	s.releaseIfIdle()
	return nil
}

// checkBlobs verifies that every blob m references and its parent does
// not is in the store.
func (s *Store) checkBlobs(m, parent *snapshots.Manifest) error {
	if err := s.packs.scan(s.packsPath()); err != nil { // others' commits too
		return err
	}
	for _, r := range snapshots.NewBlobs(m, parent) {
		ok, err := s.stored(r.Hash)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: blob %s is not in the store (store it with PutPage/PutBlob before Commit)", r.What, r.Hash.Short())
		}
	}
	return nil
}
