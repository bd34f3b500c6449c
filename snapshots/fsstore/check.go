package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/canscope/canscope/snapshots"
)

// Check is fsck: it re-hashes every blob, decodes and re-hashes every
// manifest, and checks every reference (module, chunks, pages, parent,
// unique NAME@N). Manifests are listed before blobs are scanned, so a
// commit running concurrently can only add snapshots Check does not
// judge, never make a checked one look broken.
func (s *Store) Check(ctx context.Context) (*snapshots.CheckReport, error) {
	rep := &snapshots.CheckReport{Problems: []snapshots.Problem{}}
	ids, err := s.manifestIDs()
	if err != nil {
		return nil, err
	}
	var manifests []*snapshots.Manifest
	for _, id := range ids {
		b, err := os.ReadFile(s.manifestPath(id))
		if err != nil {
			return nil, fmt.Errorf("fsck: read manifest %s: %w", id.Short(), err)
		}
		rep.SnapshotsChecked++
		m, err := snapshots.DecodeManifest(b)
		if err == nil && m.ID != id {
			err = fmt.Errorf("content hashes to %s, not its name", m.ID.Short())
		}
		if err != nil {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				Snapshot: id.String(), What: snapshots.ProblemCorruptManifest,
				Detail: fmt.Sprintf("manifest %s: %v", id.Short(), err),
			})
			continue
		}
		manifests = append(manifests, m)
	}
	bad, good, err := s.checkAllBlobs(ctx)
	if err != nil {
		return nil, err
	}
	rep.BlobsChecked = len(bad) + len(good)

	rep.Judge(ids, manifests, bad, good, func(h snapshots.Hash) string { return "delete " + s.blobPath(h) })
	return rep, nil
}

// checkAllBlobs reads and verifies every blob file in parallel, returning
// the corrupt ones with a reason and the set of intact ones.
func (s *Store) checkAllBlobs(ctx context.Context) (bad map[snapshots.Hash]string, good map[snapshots.Hash]bool, err error) {
	root := filepath.Join(s.dir, blobsDir)
	shards, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("fsck: list blobs: %w", err)
	}
	hashes := make(chan snapshots.Hash)
	bad, good = map[snapshots.Hash]string{}, map[snapshots.Hash]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range hashes {
				_, err := s.load(h, nil)
				mu.Lock()
				if err != nil {
					bad[h] = err.Error()
				} else {
					good[h] = true
				}
				mu.Unlock()
			}
		}()
	}
	defer func() {
		close(hashes)
		wg.Wait()
	}()
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, sh.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("fsck: list blobs: %w", err)
		}
		for _, e := range entries {
			h, err := snapshots.ParseHash(e.Name())
			if err != nil {
				continue // temp files of writes in progress
			}
			select {
			case hashes <- h:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
	}
	return bad, good, nil
}
