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
	// A fresh index: fsck reads every pack on disk, not what this Store
	// loaded earlier.
	var ix packIndex
	if err := ix.scan(s.packsPath()); err != nil {
		return nil, fmt.Errorf("fsck: %w", err)
	}
	packs := ix.all()
	total := len(files)
	for _, pk := range packs {
		total += len(pk.entries)
	}
	p.SetTotal(uint64(total))
	bad, good, err := s.checkAllBlobs(ctx, files, packs, p)
	if err != nil {
		return nil, err
	}
	rep.BlobsChecked = len(bad) + len(good)
	for name, err := range ix.broken {
		rep.Problems = append(rep.Problems, snapshots.Problem{
			What:   snapshots.ProblemCorruptPack,
			Detail: fmt.Sprintf("%v; the blobs it holds count as missing: delete %s and re-import the snapshots that need them", err, filepath.Join(s.packsPath(), name+packSuffix)),
		})
	}

	fix := func(h snapshots.Hash) string {
		if _, _, ok := ix.lookup(h); ok {
			return "run `canscope prune` to drop it"
		}
		return "delete " + s.blobPath(h)
	}
	rep.Judge(ids, manifests, bad, good, fix)
	used := snapshots.Referenced(manifests)
	for _, f := range files {
		if good[f.hash] && !used[f.hash] {
			rep.UnreferencedBytes += f.size
		}
	}
	for _, pk := range packs {
		rep.UnreferencedBytes += pk.unreferencedBytes(used)
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
	var out []blobFile
	err := s.walkBlobs(func(h snapshots.Hash, e fs.DirEntry) bool {
		if fi, err := e.Info(); err == nil { // else removed since the listing (prune)
			out = append(out, blobFile{h, fi.Size()})
		}
		return true
	})
	return out, err
}

// walkBlobs calls visit with every loose blob file of the shards (temp
// files excluded) until it returns false.
func (s *Store) walkBlobs(visit func(h snapshots.Hash, e fs.DirEntry) bool) error {
	root := filepath.Join(s.dir, blobsDir)
	shards, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, sh.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, e := range entries {
			h, err := snapshots.ParseHash(e.Name())
			if err != nil {
				continue // temp files of writes in progress
			}
			if !visit(h, e) {
				return nil
			}
		}
	}
	return nil
}

// blobJob is one blob fsck verifies: a loose file, or an entry of a pack.
type blobJob struct {
	hash  snapshots.Hash
	pack  *pack
	entry packEntry
}

// checkAllBlobs reads and verifies the loose blob files and every pack
// entry in parallel, returning the corrupt ones with a reason and the
// set of intact ones. A hash stored twice is bad if either copy is.
func (s *Store) checkAllBlobs(ctx context.Context, files []blobFile, packs []*pack, p *snapshots.Progress) (bad map[snapshots.Hash]string, good map[snapshots.Hash]bool, err error) {
	jobs := make(chan blobJob)
	bad, good = map[snapshots.Hash]string{}, map[snapshots.Hash]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := range jobs {
				var err error
				if j.pack == nil {
					var comp []byte
					if comp, err = snapshots.ReadBlobFile(s.blobPath(j.hash), buf[:0]); err == nil {
						buf = comp
						_, err = s.decode(j.hash, comp, nil)
					}
				} else {
					var comp []byte
					if comp, err = j.pack.readFrame(j.entry, buf[:0]); err == nil {
						buf = comp
						_, err = s.decode(j.hash, comp, nil)
					}
				}
				mu.Lock()
				switch {
				case errors.Is(err, fs.ErrNotExist):
					// removed since the listing (a prune): neither
				case err != nil:
					bad[j.hash] = err.Error()
					delete(good, j.hash)
				case bad[j.hash] == "":
					good[j.hash] = true
				}
				mu.Unlock()
				p.Add(1)
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
		for _, pk := range packs {
			pk.close()
		}
	}()
	send := func(j blobJob) error {
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, f := range files {
		if err := send(blobJob{hash: f.hash}); err != nil {
			return nil, nil, err
		}
	}
	for _, pk := range packs {
		for _, e := range pk.entries {
			if err := send(blobJob{hash: e.hash, pack: pk, entry: e}); err != nil {
				return nil, nil, err
			}
		}
	}
	return bad, good, nil
}
