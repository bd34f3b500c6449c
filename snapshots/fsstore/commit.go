package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/canscope/canscope/snapshots"
)

// Commit makes m a snapshot of the store. The caller fills m's content
// (name, made-by, lineage, metadata, module, page tables of blobs already
// stored with PutPage/PutBlob); Commit checks it, fsyncs the blob
// directories written since the last commit, then under the write lock
// assigns m.Seq (the next N of NAME@N), stamps CreatedAt when zero, fills
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
	if err := snapshots.ValidateName(m.Name); err != nil {
		return fail(err)
	}
	if m.MadeBy == "" {
		return fail(errors.New("made_by is empty"))
	}
	if err := m.Heap.Validate(snapshots.MaxHeapBytes); err != nil {
		return fail(fmt.Errorf("heap: %w", err))
	}
	if err := m.Stable.Validate(snapshots.MaxStableBytes); err != nil {
		return fail(fmt.Errorf("stable memory: %w", err))
	}
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
	if err := s.syncDirty(); err != nil {
		return fail(err)
	}

	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	all, err := s.List()
	if err != nil {
		return fail(err)
	}
	m.Seq = snapshots.NextSeq(all, m.Name)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	// Keep creation order strict so List's oldest-first order is the
	// commit order even within one clock tick.
	if n := len(all); n > 0 && !m.CreatedAt.After(all[n-1].CreatedAt) {
		m.CreatedAt = all[n-1].CreatedAt.Add(time.Microsecond)
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Microsecond)
	if m.ModuleHash.IsZero() {
		m.ModuleHash = m.Module
	}
	m.HeapBytes, m.StableBytes = m.Heap.Size, m.Stable.Size
	m.HeapPagesStored, m.StablePagesStored = len(m.Heap.Pages), len(m.Stable.Pages)
	enc, err := snapshots.EncodeManifest(m)
	if err != nil {
		return fail(err)
	}
	m.ID = snapshots.HashOf(enc)
	dir := filepath.Join(s.dir, manifestsDir)
	if err := writeFileAtomic(dir, m.ID.String(), enc); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		return fail(err)
	}
	return m.Snapshot, nil
}

// checkBlobs verifies that every blob m references and its parent does
// not is in the store.
func (s *Store) checkBlobs(m, parent *snapshots.Manifest) error {
	has := func(h snapshots.Hash, what string) error {
		_, err := os.Stat(s.blobPath(h))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: blob %s is not in the store (store it with PutPage/PutBlob before Commit)", what, h.Short())
		}
		return err
	}
	if !m.Module.IsZero() {
		if err := has(m.Module, "module"); err != nil {
			return err
		}
	}
	for i, c := range m.Chunks {
		if err := has(c, fmt.Sprintf("chunk %d", i)); err != nil {
			return err
		}
	}
	var ph, ps snapshots.PageTable
	if parent != nil {
		ph, ps = parent.Heap, parent.Stable
	}
	for _, mem := range []struct {
		name          string
		table, parent snapshots.PageTable
	}{{"heap", m.Heap, ph}, {"stable memory", m.Stable, ps}} {
		for _, p := range newPages(mem.parent, mem.table) {
			if err := has(p.Hash, fmt.Sprintf("%s page %d", mem.name, p.Index)); err != nil {
				return err
			}
		}
	}
	return nil
}

// newPages returns the pages of child whose hash differs from parent's
// page at the same index (a merge walk of the two sorted tables).
func newPages(parent, child snapshots.PageTable) []snapshots.Page {
	var out []snapshots.Page
	i := 0
	for _, p := range child.Pages {
		for i < len(parent.Pages) && parent.Pages[i].Index < p.Index {
			i++
		}
		if i < len(parent.Pages) && parent.Pages[i].Index == p.Index && parent.Pages[i].Hash == p.Hash {
			continue
		}
		out = append(out, p)
	}
	return out
}

// syncDirty fsyncs the blob directories that received new blobs, so the
// blobs a manifest lists are durable before the manifest is.
func (s *Store) syncDirty() error {
	s.dirtyMu.Lock()
	dirs := s.dirty
	s.dirty = map[string]bool{}
	s.dirtyMu.Unlock()
	for d := range dirs {
		if err := syncDir(d); err != nil {
			s.dirtyMu.Lock()
			for d := range dirs {
				s.dirty[d] = true
			}
			s.dirtyMu.Unlock()
			return err
		}
	}
	return nil
}
