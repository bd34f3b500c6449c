package fsstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/canscope/canscope/snapshots"
	"golang.org/x/sys/unix"
)

// Blobs are written in batches (FORMAT.md, "Writing a snapshot"): put
// writes each blob to a temp file in its shard directory without fsync
// and records it as pending; Commit's flush makes the whole batch durable
// with one syncfs, then renames every temp file to its hash name and
// syncs again so the renames are durable, all before the manifest is
// written. A
// hash name therefore still only ever names a complete, durable blob, at
// the cost of one flush per snapshot instead of one fsync per page (an
// fsync is a journal commit: 85,000 of them made importing a 5.6 GB
// snapshot 6× slower than cp).

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

// appendPending appends the compressed page h to the pack being written,
// beginning a new pack when there is none or the current one is full.
func (s *Store) appendPending(h snapshots.Hash, frame []byte) error {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	if s.packErr != nil {
		return s.packErr
	}
	if _, dup := s.pendPages[h]; dup {
		return nil
	}
	if s.cur == nil {
		w, err := newPackWriter(s.packsPath())
		if err != nil {
			return err
		}
		s.cur = w
	}
	e, err := s.cur.append(h, frame)
	if err != nil {
		// The writer's file no longer matches its entries: every page
		// pending in it is lost, and the next commit says so.
		s.packErr = fmt.Errorf("write pack %s: %w", s.cur.f.Name(), err)
		return s.packErr
	}
	s.pendPages[h] = pendingPage{s.cur, e}
	if s.cur.size >= packTarget {
		s.full = append(s.full, s.cur)
		s.cur = nil
	}
	return nil
}

// pendingFrame reads page h from a pack not yet committed.
func (s *Store) pendingFrame(h snapshots.Hash, dst []byte) ([]byte, bool, error) {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	p, ok := s.pendPages[h]
	if !ok {
		return nil, false, nil
	}
	comp, err := p.w.readFrame(p.e, dst)
	return comp, true, err
}

// takePacks finishes every pack written since the last flush (index and
// trailer, no fsync) and hands them to the flush. Their pages stay
// pending, so they read back until they are in the index.
func (s *Store) takePacks() ([]*packWriter, error) {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	if err := s.packErr; err != nil {
		for _, w := range append(s.full, s.cur) {
			if w != nil {
				w.abandon()
			}
		}
		s.cur, s.full, s.packErr = nil, nil, nil
		s.pendPages = map[snapshots.Hash]pendingPage{}
		return nil, err
	}
	ws := s.full
	if s.cur != nil {
		ws = append(ws, s.cur)
	}
	s.cur, s.full = nil, nil
	for i, w := range ws {
		if err := w.finish(); err != nil {
			s.full = append(s.full, ws[i:]...) // retried by the next flush
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
// the packs written since the last flush get their index, then syncfs
// (one flush of the whole file system instead of a journal commit per
// blob) makes packs and loose temp files durable, each is renamed to its
// name, and syncfs again makes the renames durable. What it could not
// rename stays pending for the next flush.
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
	if err := s.syncfs(); err != nil {
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
	// The renames touch up to 256 shard directories and packs/; one more
	// syncfs commits them all at once where an fsync per directory
	// waited on the journal up to 257 times.
	if err := s.syncfs(); err != nil {
		// Renamed but perhaps not durable: not yet in the index, so no
		// manifest is written over them; the next flush syncs again.
		s.requeueCommitted(done, ws)
		return err
	}
	s.packsCommitted(done, ws)
	return perr
}

// requeueCommitted keeps packs renamed but not known durable pending:
// their pages read back through the writers, and the next flush (whose
// syncfs covers them) moves them to the index.
func (s *Store) requeueCommitted(done []*pack, ws []*packWriter) {
	s.packMu.Lock()
	defer s.packMu.Unlock()
	for i := range done {
		ws[i].committed = done[i]
	}
	s.full = append(s.full, ws...)
}

// syncfs flushes the file system holding the store. Where syncfs is not
// supported it falls back to sync, which flushes every file system.
func (s *Store) syncfs() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("sync store %s: %w", s.dir, err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		if err == unix.ENOSYS {
			unix.Sync()
			return nil
		}
		return fmt.Errorf("sync store %s: %w", s.dir, err)
	}
	return nil
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
	for _, w := range append(s.full, s.cur) {
		if w != nil && w.committed == nil {
			w.abandon()
		}
	}
	s.cur, s.full = nil, nil
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
