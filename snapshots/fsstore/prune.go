package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/canscope/canscope/snapshots"
	"golang.org/x/sys/unix"
)

// Damaged lists the manifests List leaves out or that do not verify: the
// file cannot be read or decoded, or its bytes do not hash to its name.
// It reads and hashes every manifest, so it costs what fsck's first step
// costs, not what List's header reads cost.
func (s *Store) Damaged() ([]snapshots.Damaged, error) {
	ids, err := s.manifestIDs()
	if err != nil {
		return nil, err
	}
	var out []snapshots.Damaged
	for _, id := range ids {
		if _, err := s.readManifest(id); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			out = append(out, snapshots.Damaged{ID: id, Reason: err.Error()})
		}
	}
	return out, nil
}

// Remove deletes the snapshots ids name (their manifests; prune then
// frees the blobs nobody else uses). A snapshot another one descends
// from (its parent or fork source) is refused unless withDescendants,
// which removes the descendants too. It returns what it removed, oldest
// first. It runs under the commit lock, so no commit can take a removed
// snapshot as its parent meanwhile.
func (s *Store) Remove(ctx context.Context, ids []snapshots.ID, withDescendants bool) ([]snapshots.Snapshot, error) {
	if s.roErr != nil {
		return nil, s.roErr
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	doomed, err := snapshots.RemovalSet(all, ids, withDescendants)
	if err != nil {
		return nil, err
	}
	damaged, err := s.Damaged()
	if err != nil {
		return nil, err
	}
	var removed []snapshots.Snapshot
	for _, snap := range all {
		if doomed[snap.ID] {
			removed = append(removed, snap)
		}
	}
	for _, d := range damaged { // a damaged manifest is removed by id
		if doomed[d.ID] && !slices.ContainsFunc(removed, func(x snapshots.Snapshot) bool { return x.ID == d.ID }) {
			removed = append(removed, snapshots.Snapshot{ID: d.ID})
		}
	}
	for _, snap := range removed {
		if err := os.Remove(s.manifestPath(snap.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove snapshot %s: %w", snap.ID.Short(), err)
		}
		s.sumMu.Lock()
		delete(s.summaries, snap.ID)
		s.sumMu.Unlock()
	}
	if err := syncDir(filepath.Join(s.dir, manifestsDir)); err != nil {
		return nil, err
	}
	return removed, nil
}

// PruneReport says what prune removed (snapshots.PruneReport).
type PruneReport = snapshots.PruneReport

// Prune removes every blob no manifest references and every temp file
// left by killed writers, and reports the space freed. It holds the
// writers lock exclusively (so no import or commit has blobs in flight:
// each holds it shared from its first blob to its commit) and the commit
// lock (so no manifest appears meanwhile). A store with a damaged
// manifest is refused: the blobs it references cannot be known, and
// pruning would destroy what fsck could still save.
func (s *Store) Prune(ctx context.Context) (PruneReport, error) {
	var rep PruneReport
	if s.roErr != nil {
		return rep, s.roErr
	}
	wl, err := flockWait(ctx, filepath.Join(s.dir, writersLockFile), unix.LOCK_EX, lockTimeout)
	if err != nil {
		return rep, fmt.Errorf("prune %s: an import or commit is writing to the store (%w); run prune when it is done", s.dir, err)
	}
	defer func() {
		unix.Flock(int(wl.Fd()), unix.LOCK_UN)
		wl.Close()
	}()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	unlock, err := s.lock(ctx)
	if err != nil {
		return rep, err
	}
	defer unlock()
	ids, err := s.manifestIDs()
	if err != nil {
		return rep, err
	}
	var manifests []*snapshots.Manifest
	for _, id := range ids {
		m, err := s.readManifest(id)
		if err != nil {
			return rep, fmt.Errorf("prune %s: snapshot %s is damaged (%v); run `canscope fsck` and remove it with `canscope rm %s` first", s.dir, id.Short(), err, id.Short())
		}
		manifests = append(manifests, m)
	}
	used := snapshots.Referenced(manifests)
	root := filepath.Join(s.dir, blobsDir)
	shards, err := os.ReadDir(root)
	if err != nil {
		return rep, fmt.Errorf("prune: list blobs: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		dir := filepath.Join(root, sh.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return rep, fmt.Errorf("prune: list blobs: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			h, herr := snapshots.ParseHash(e.Name())
			temp := strings.HasPrefix(e.Name(), tempPrefix)
			if herr == nil && used[h] {
				rep.BlobsKept++
				continue
			}
			if herr != nil && !temp {
				continue // not ours: leave it
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return rep, fmt.Errorf("prune: %w", err)
			}
			rep.BytesFreed += fi.Size()
			if temp {
				rep.TempRemoved++
			} else {
				rep.BlobsRemoved++
			}
		}
	}
	if err := s.prunePacks(ctx, used, &rep); err != nil {
		return rep, err
	}
	// Temp files of manifest writes (taken under the commit lock we hold).
	mdir := filepath.Join(s.dir, manifestsDir)
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return rep, fmt.Errorf("prune: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if fi, err := e.Info(); err == nil && os.Remove(filepath.Join(mdir, e.Name())) == nil {
				rep.BytesFreed += fi.Size()
				rep.TempRemoved++
			}
		}
	}
	return rep, nil
}

// prunePacks removes the packs none of whose blobs is used and rewrites
// those holding some unused ones: the used frames are copied as they are
// (a corrupt one stays corrupt, for fsck to report) into a new pack made
// durable under its name before the old one is removed, so every used
// blob is in some named pack at every moment. It also removes the temp
// files of pack writers (none is active: prune holds the writers lock).
func (s *Store) prunePacks(ctx context.Context, used map[snapshots.Hash]bool, rep *PruneReport) error {
	dir := s.packsPath()
	var ix packIndex
	if err := ix.scan(dir); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	defer ix.closeAll()
	changed := false
	for _, p := range ix.all() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var live []packEntry
		for _, e := range p.entries {
			if used[e.hash] {
				live = append(live, e)
			}
		}
		switch {
		case len(live) == len(p.entries):
			rep.BlobsKept += len(live)
			continue
		case len(live) > 0:
			hashes := make([]snapshots.Hash, len(live))
			frames := make([][]byte, len(live))
			for i, e := range live {
				f, err := p.readFrame(e, nil)
				if err != nil {
					return fmt.Errorf("prune: %w", err)
				}
				hashes[i], frames[i] = e.hash, f
			}
			np, err := writePack(dir, hashes, frames)
			if err != nil {
				return fmt.Errorf("prune: rewrite pack %s: %w", p.name[:12], err)
			}
			np.close()
			if err := syncDir(dir); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			rep.BytesFreed -= np.size
		}
		if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune: %w", err)
		}
		changed = true
		rep.BytesFreed += p.size
		rep.BlobsRemoved += len(p.entries) - len(live)
		rep.BlobsKept += len(live)
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("prune: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if fi, err := e.Info(); err == nil && os.Remove(filepath.Join(dir, e.Name())) == nil {
				rep.BytesFreed += fi.Size()
				rep.TempRemoved++
			}
		}
	}
	if changed {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		return s.packs.scan(dir) // this Store's own view
	}
	return nil
}
