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

// flush makes every pending blob durable and visible under its name:
// syncfs (one flush of the whole file system instead of a journal commit
// per blob), rename each temp file, syncfs again for the renames. Blobs it could not rename stay pending for the next flush.
func (s *Store) flush() error {
	s.pendMu.Lock()
	batch := s.pending
	s.pending = map[snapshots.Hash]pendingBlob{}
	s.pendMu.Unlock()
	if len(batch) == 0 {
		return nil
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
		return err
	}
	if err := renameAll(batch, s.blobPath); err != nil {
		requeue()
		return err
	}
	// The renames touch up to 256 shard directories; one more syncfs
	// commits them all at once where an fsync per directory waited on the
	// journal up to 256 times.
	return s.syncfs()
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
}

// releaseIfIdle drops the writers lock after a commit when no blob is
// pending, so a long-lived Store (the TUI's) does not hold prune off.
func (s *Store) releaseIfIdle() {
	s.pendMu.Lock()
	idle := len(s.pending) == 0
	s.pendMu.Unlock()
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
