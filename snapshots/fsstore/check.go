package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
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

	used := map[snapshots.Hash]bool{}
	byID := map[snapshots.ID]bool{}
	for _, id := range ids {
		byID[id] = true
	}
	refs := map[string]snapshots.ID{}
	for _, m := range manifests {
		problem := func(h snapshots.Hash, memory string, page *uint64) {
			used[h] = true
			if good[h] {
				return
			}
			p := snapshots.Problem{Snapshot: m.ID.String(), Ref: m.Ref(), Blob: h.String(), Memory: memory, Page: page}
			if reason, ok := bad[h]; ok {
				p.What, p.Detail = snapshots.ProblemCorruptBlob, fmt.Sprintf("blob %s: %s", h.Short(), reason)
			} else {
				p.What, p.Detail = snapshots.ProblemMissingBlob, fmt.Sprintf("blob %s is not in the store", h.Short())
			}
			if page != nil {
				p.Detail = fmt.Sprintf("%s page %d (offset %#x): %s", memory, *page, *page*snapshots.PageSize, p.Detail)
			} else {
				p.Detail = memory + ": " + p.Detail
			}
			rep.Problems = append(rep.Problems, p)
		}
		if !m.Module.IsZero() {
			problem(m.Module, "module", nil)
		}
		for i, c := range m.Chunks {
			n := uint64(i)
			problem(c, "chunk", &n)
		}
		for _, mem := range []struct {
			name  string
			table snapshots.PageTable
		}{{"heap", m.Heap}, {"stable", m.Stable}} {
			for _, p := range mem.table.Pages {
				idx := p.Index
				problem(p.Hash, mem.name, &idx)
			}
		}
		if m.Parent != nil && !byID[*m.Parent] {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				Snapshot: m.ID.String(), Ref: m.Ref(), What: snapshots.ProblemMissingParent,
				Detail: fmt.Sprintf("parent snapshot %s is not in the store", m.Parent.Short()),
			})
		}
		if other, dup := refs[m.Ref()]; dup {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				Snapshot: m.ID.String(), Ref: m.Ref(), What: snapshots.ProblemDuplicateRef,
				Detail: fmt.Sprintf("%s is also claimed by snapshot %s", m.Ref(), other.Short()),
			})
		}
		refs[m.Ref()] = m.ID
	}
	// A corrupt blob nobody references yet is still a problem: the next
	// import would trust it instead of rewriting it.
	for h, reason := range bad {
		if !used[h] {
			rep.Problems = append(rep.Problems, snapshots.Problem{
				What: snapshots.ProblemCorruptBlob, Blob: h.String(),
				Detail: fmt.Sprintf("unreferenced blob %s: %s; delete %s", h.Short(), reason, s.blobPath(h)),
			})
		}
	}
	for h := range good {
		if !used[h] {
			rep.UnreferencedBlobs++
		}
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Snapshot < rep.Problems[j].Snapshot })
	rep.OK = len(rep.Problems) == 0
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
