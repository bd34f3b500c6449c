package fsstore

import (
	"io/fs"
	"sync"

	"github.com/canscope/canscope/snapshots"
)

// Every page an import stores is first looked up in the store (dedup
// before write): in the pack index, then as a loose blob file. A stat per
// new page cost 0.7 CPU-s for the seed's 85,000 pages, though a store
// written since packs exist holds no loose pages at all (only modules and
// chunks are loose). So the loose blobs are listed once, when the Store
// takes the writers lock (no prune can remove a blob while it is held),
// and a page is looked up in that list. A store with more loose blobs
// than maxLooseList (a format-1 store: its pages are loose) is not
// listed; each page is stat'ed as before.
//
// The list only decides whether a page is written: a loose page another
// process writes after the listing (only a canscope older than packs
// writes pages loose) is stored once more, in a pack, which is harmless
// (FORMAT.md: either copy serves). Commit still checks every new blob on
// disk (checkBlobs), so no manifest names a blob the list only imagined.

// maxLooseList bounds the loose blobs listed for the dedup check.
const maxLooseList = 1 << 16

// looseSet is the list of loose blobs, read on first use after the
// writers lock was taken.
type looseSet struct {
	mu     sync.Mutex
	loaded bool
	names  map[snapshots.Hash]bool // nil once loaded: too many, stat each
}

// invalidate makes the next use list the loose blobs again.
func (l *looseSet) invalidate() {
	l.mu.Lock()
	l.loaded, l.names = false, nil
	l.mu.Unlock()
}

// have reports whether the list holds h; listed is false when the
// store has too many loose blobs to list (the caller stats).
func (l *looseSet) have(s *Store, h snapshots.Hash) (have, listed bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded {
		names := map[snapshots.Hash]bool{}
		err := s.walkBlobs(func(h snapshots.Hash, _ fs.DirEntry) bool {
			names[h] = true
			return len(names) <= maxLooseList
		})
		if err != nil {
			return false, false, err
		}
		if len(names) > maxLooseList {
			names = nil
		}
		l.loaded, l.names = true, names
	}
	if l.names == nil {
		return false, false, nil
	}
	return l.names[h], true, nil
}

// havePage reports whether page h is committed, for the dedup check of
// putPacked: in a pack the index knows, else in the loose list (or, for
// a store with too many loose blobs to list, as a loose file).
func (s *Store) havePage(h snapshots.Hash) (bool, error) {
	if err := s.packs.ensure(s.packsPath()); err != nil {
		return false, err
	}
	if _, _, ok := s.packs.lookup(h); ok {
		return true, nil
	}
	have, listed, err := s.loose.have(s, h)
	if err != nil || listed {
		return have, err
	}
	return s.stored(h)
}
