package fsstore

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/canscope/canscope/snapshots"
)

// Blobs are written in batches (FORMAT.md, "Writing a snapshot"): pages
// are appended to packs (pack.go), other blobs to temp files in their
// shard directory, all without fsync, and recorded as pending; Commit's
// flush fsyncs each file of the batch, renames it to its name and fsyncs
// the directories, all before the manifest is written. A name therefore
// still only ever names a complete, durable blob or pack, at the cost of
// an fsync per pack (64 MiB) instead of one per page (an fsync is a
// journal commit: 85,000 of them made importing a 5.6 GB snapshot 6×
// slower than cp).

// pendingBlob is a blob written to tmp but not yet renamed to its name.
type pendingBlob struct {
	tmp string
}

// writePending writes the compressed blob h to a temp file in its shard
// directory and records it as pending, unless it is already pending.
func (s *Store) writePending(h snapshots.Hash, comp []byte) error {
	s.pendMu.Lock()
	_, dup := s.pending[h]
	s.pendMu.Unlock()
	if dup {
		return nil
	}
	dir := filepath.Dir(s.blobPath(h))
	f, err := os.CreateTemp(dir, tempPrefix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(comp); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	if _, dup := s.pending[h]; dup { // another goroutine won the race
		os.Remove(tmp)
		return nil
	}
	s.pending[h] = pendingBlob{tmp: tmp}
	return nil
}

// pendingPath returns the temp file holding blob h when it is pending.
func (s *Store) pendingPath(h snapshots.Hash) (string, bool) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	p, ok := s.pending[h]
	return p.tmp, ok
}

// pendingPage is a page appended to a pack not yet committed.
type pendingPage struct {
	w *packWriter
	e packEntry
}

// pendingPage reports whether page h is in a pack not yet committed.
func (s *Store) pendingPage(h snapshots.Hash) bool {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	_, ok := s.pendPages[h]
	return ok
}

// appendPending appends the compressed page h, the concatenation of
// frame's parts, to one of the packs being written (one per CPU, picked
// by the hash), beginning a new pack when there is none or it is full.
// Each pack has its own lock, held for the append and its write: with one
// pack, workers queued behind each other's 4 MiB writes and an import
// used one core.
func (s *Store) appendPending(h snapshots.Hash, frame ...[]byte) error {
	for {
		s.packMu.Lock()
		if s.packErr != nil {
			s.packMu.Unlock()
			return s.packErr
		}
		if _, dup := s.pendPages[h]; dup {
			s.packMu.Unlock()
			return nil
		}
		if len(s.cur) == 0 {
			s.cur = make([]*packWriter, max(1, runtime.GOMAXPROCS(0)))
		}
		slot := int(h[0]) % len(s.cur)
		w := s.cur[slot]
		if w == nil {
			var err error
			if w, err = newPackWriter(s.packsPath()); err != nil {
				s.packMu.Unlock()
				return err
			}
			s.cur[slot] = w
		}
		s.packMu.Unlock()

		w.mu.Lock()
		if w.done { // finished by a flush meanwhile: take the next pack
			w.mu.Unlock()
			continue
		}
		e, err := w.append(h, frame...)
		full := w.size >= packTarget
		w.mu.Unlock()

		s.packMu.Lock()
		defer s.packMu.Unlock()
		if err != nil {
			// The writer's file no longer matches its entries: every page
			// pending in it is lost, and the next commit says so.
			s.packErr = cmp.Or(s.packErr, fmt.Errorf("write pack %s: %w", w.f.Name(), err))
			return s.packErr
		}
		s.pendPages[h] = pendingPage{w, e}
		if full && slot < len(s.cur) && s.cur[slot] == w {
			s.full = append(s.full, w)
			s.cur[slot] = nil
		}
		return nil
	}
}

// pendingFrame reads page h from a pack not yet committed.
func (s *Store) pendingFrame(h snapshots.Hash, dst []byte) ([]byte, bool, error) {
	s.packMu.Lock()
	p, ok := s.pendPages[h]
	s.packMu.Unlock()
	if !ok {
		return nil, false, nil
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	comp, err := p.w.readFrame(p.e, dst)
	return comp, true, err
}

// writers takes every pack being written or full from s (under packMu).
func (s *Store) writers() []*packWriter {
	ws := s.full
	for _, w := range s.cur {
		if w != nil {
			ws = append(ws, w)
		}
	}
	s.cur, s.full = nil, nil
	return ws
}

// takePacks finishes every pack written since the last flush (index and
// trailer, no fsync) and hands them to the flush. Their pages stay
// pending, so they read back until they are in the index.
func (s *Store) takePacks() ([]*packWriter, error) {
	s.packMu.Lock()
	ws := s.writers()
	err := s.packErr
	if err != nil {
		s.packErr = nil
		s.pendPages = map[snapshots.Hash]pendingPage{}
	}
	s.packMu.Unlock()
	if err != nil {
		for _, w := range ws {
			w.mu.Lock()
			w.done = true // appenders that still hold it move on
			w.abandon()
			w.mu.Unlock()
		}
		return nil, err
	}
	for i, w := range ws {
		w.mu.Lock()
		err := w.finish()
		w.mu.Unlock()
		if err != nil {
			s.requeuePacks(ws[i:]) // retried by the next flush
			return ws[:i], fmt.Errorf("write pack %s: %w", w.f.Name(), err)
		}
	}
	return ws, nil
}

// packsCommitted moves the pages of committed packs from pending to the
// index; requeue gives back packs a failed flush did not commit.
func (s *Store) packsCommitted(done []*pack, ws []*packWriter) {
	for _, p := range done {
		s.packs.add(p)
	}
	s.packMu.Lock()
	defer s.packMu.Unlock()
	for _, w := range ws {
		for _, e := range w.entries {
			if p, ok := s.pendPages[e.hash]; ok && p.w == w {
				delete(s.pendPages, e.hash)
			}
		}
	}
}

func (s *Store) requeuePacks(ws []*packWriter) {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	s.full = append(s.full, ws...)
}

// flush makes every pending blob durable and visible under its name:
// the packs written since the last flush get their index; each pack and
// loose temp file is fsynced (in parallel); each is renamed to its name;
// the directories holding the new names are fsynced. What it could not
// rename stays pending for the next flush.
//
// fsync per file, not syncfs: with pages in packs a batch is a few files
// (85 for the 5.6 GB seed), and syncfs would also wait for every other
// dirty file of the file system, such as the heap image an import writes
// beside the store (workbench.HeapImage), which needs no such flush.
func (s *Store) flush() error {
	ws, perr := s.takePacks()
	s.pendMu.Lock()
	batch := s.pending
	s.pending = map[snapshots.Hash]pendingBlob{}
	s.pendMu.Unlock()
	if len(batch) == 0 && len(ws) == 0 {
		return perr
	}
	requeue := func() { // what is still a temp file stays pending
		s.pendMu.Lock()
		for h, p := range batch {
			if _, err := os.Lstat(p.tmp); err == nil {
				s.pending[h] = p
			}
		}
		s.pendMu.Unlock()
	}
	if err := syncFiles(ws, batch); err != nil {
		requeue()
		s.requeuePacks(ws)
		return err
	}
	if err := renameAll(batch, s.blobPath); err != nil {
		requeue()
		s.requeuePacks(ws)
		return err
	}
	var done []*pack
	for i, w := range ws {
		p, err := w.commit(s.packsPath())
		if err != nil {
			s.packsCommitted(done, ws[:i])
			s.requeuePacks(ws[i:])
			return fmt.Errorf("store pack: %w", err)
		}
		done = append(done, p)
	}
	dirs := map[string]bool{}
	if len(ws) > 0 {
		// DIR too: packs/ may be new (a format-1 store's first pack).
		dirs[s.packsPath()], dirs[s.dir] = true, true
	}
	for h := range batch {
		dirs[filepath.Dir(s.blobPath(h))] = true
	}
	if err := syncDirs(dirs); err != nil {
		// Renamed but perhaps not durable: not yet in the index, so no
		// manifest is written over them; the next flush syncs again.
		s.requeueCommitted(done, ws)
		return err
	}
	s.packsCommitted(done, ws)
	return perr
}

// syncFiles fsyncs the pack writers' files and the loose temp files of a
// batch, several at once: each waits on the disk, not the CPU.
func syncFiles(ws []*packWriter, batch map[snapshots.Hash]pendingBlob) error {
	var jobs []func() error
	for _, w := range ws {
		if w.committed == nil {
			jobs = append(jobs, w.f.Sync)
		}
	}
	for _, p := range batch {
		jobs = append(jobs, func() error {
			f, err := os.Open(p.tmp)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Sync()
		})
	}
	return parallel(jobs)
}

// syncDirs fsyncs each directory, several at once.
func syncDirs(dirs map[string]bool) error {
	var jobs []func() error
	for d := range dirs {
		jobs = append(jobs, func() error { return syncDir(d) })
	}
	return parallel(jobs)
}

// parallel runs jobs from 2×GOMAXPROCS goroutines (at least 8: they
// wait on the disk) and returns the first error.
func parallel(jobs []func() error) error {
	next := make(chan func() error)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(8, 2*runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for j := range next {
				if err := j(); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return first
}

// requeueCommitted keeps packs renamed but not known durable pending:
// their pages read back through the writers, and the next flush (whose
// fsyncs cover them) moves them to the index.
func (s *Store) requeueCommitted(done []*pack, ws []*packWriter) {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	for i := range done {
		ws[i].committed = done[i]
	}
	s.full = append(s.full, ws...)
}

// dropPending removes the temp files of blobs never committed: a Store
// closed after a failed import leaves the store as it was.
func (s *Store) dropPending() {
	s.pendMu.Lock()
	batch := s.pending
	s.pending = map[snapshots.Hash]pendingBlob{}
	s.pendMu.Unlock()
	for _, p := range batch {
		os.Remove(p.tmp)
	}
	s.packMu.Lock()
	defer s.packMu.Unlock()
	for _, w := range s.writers() {
		if w.committed == nil {
			w.abandon()
		}
	}
	s.pendPages = map[snapshots.Hash]pendingPage{}
}

// releaseIfIdle drops the writers lock after a commit when no blob is
// pending, so a long-lived Store (the TUI's) does not hold prune off.
func (s *Store) releaseIfIdle() {
	s.pendMu.Lock()
	idle := len(s.pending) == 0
	s.pendMu.Unlock()
	s.packMu.Lock()
	idle = idle && len(s.pendPages) == 0
	s.packMu.Unlock()
	if idle {
		s.releaseWriters()
	}
}

// renameAll renames every pending temp file to its blob name, from
// several goroutines: a rename costs about as much CPU as writing the
// blob did, and one goroutine renaming 85,000 pages took seconds.
func renameAll(batch map[snapshots.Hash]pendingBlob, name func(snapshots.Hash) string) error {
	type job struct {
		h   snapshots.Hash
		tmp string
	}
	jobs := make(chan job, 256)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := os.Rename(j.tmp, name(j.h)); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("store blob %s: %w", j.h.Short(), err) })
				}
			}
		}()
	}
	for h, p := range batch {
		jobs <- job{h, p.tmp}
	}
	close(jobs)
	wg.Wait()
	return firstErr
}
