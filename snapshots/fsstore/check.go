package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	return s.CheckProgress(ctx, nil)
}

// CheckProgress is Check counting the blobs verified in p (nil counts
// nothing) against the number of blob files.
func (s *Store) CheckProgress(ctx context.Context, p *snapshots.Progress) (*snapshots.CheckReport, error) {
	rep := &snapshots.CheckReport{Problems: []snapshots.Problem{}}
	ids, err := s.manifestIDs()
	if err != nil {
		return nil, err
	}
	var manifests []*snapshots.Manifest
	for _, id := range ids {
		rep.SnapshotsChecked++
		m, err := s.readManifest(id)
		if err != nil {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				Snapshot: id.String(), What: snapshots.ProblemCorruptManifest,
				Detail: fmt.Sprintf("manifest %s: %v", id.Short(), err),
			})
			continue
		}
		manifests = append(manifests, m)
	}
	files, err := s.blobFiles()
	if err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	p.SetTotal(uint64(len(files)))
	bad, good, err := s.checkAllBlobs(ctx, files, p)
	if err != nil {
		return nil, err
	}
	rep.BlobsChecked = len(bad) + len(good)

	rep.Judge(ids, manifests, bad, good, func(h snapshots.Hash) string { return "delete " + s.blobPath(h) })
	used := snapshots.Referenced(manifests)
	for _, f := range files {
		if good[f.hash] && !used[f.hash] {
			rep.UnreferencedBytes += f.size
		}
	}
	return rep, nil
}

// readManifest reads manifest id, checking that it decodes and that its
// bytes hash to its name. os.ReadFile's error is returned as is.
func (s *Store) readManifest(id snapshots.ID) (*snapshots.Manifest, error) {
	b, err := os.ReadFile(s.manifestPath(id))
	if err != nil {
		return nil, err
	}
	m, err := snapshots.DecodeManifest(b)
	if err == nil && m.ID != id {
		err = fmt.Errorf("content hashes to %s, not its name", m.ID.Short())
	}
	return m, err
}

// blobFile is one blob file found in the shards.
type blobFile struct {
	hash snapshots.Hash
	size int64
}

// blobFiles lists every blob file (temp files excluded) with its size.
func (s *Store) blobFiles() ([]blobFile, error) {
	root := filepath.Join(s.dir, blobsDir)
	shards, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	var out []blobFile
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, sh.Name()))
		if err != nil {
			return nil, fmt.Errorf("list blobs: %w", err)
		}
		for _, e := range entries {
			h, err := snapshots.ParseHash(e.Name())
			if err != nil {
				continue // temp files of writes in progress
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed since the listing (prune)
			}
			out = append(out, blobFile{h, fi.Size()})
		}
	}
	return out, nil
}

// checkAllBlobs reads and verifies the blob files in parallel, returning
// the corrupt ones with a reason and the set of intact ones.
func (s *Store) checkAllBlobs(ctx context.Context, files []blobFile, p *snapshots.Progress) (bad map[snapshots.Hash]string, good map[snapshots.Hash]bool, err error) {
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
				if errors.Is(err, fs.ErrNotExist) {
					// removed since the listing (a prune): neither
				} else if err != nil {
					bad[h] = err.Error()
				} else {
					good[h] = true
				}
				mu.Unlock()
				p.Add(1)
			}
		}()
	}
	defer func() {
		close(hashes)
		wg.Wait()
	}()
	for _, f := range files {
		select {
		case hashes <- f.hash:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return bad, good, nil
}
