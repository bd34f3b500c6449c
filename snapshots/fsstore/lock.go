package fsstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lock takes the store's write lock: an exclusive flock on DIR/lock, with
// the holder's pid written inside for the error another process shows.
// The kernel drops a flock when its holder dies, so a killed canscope
// never leaves the store locked (a stale lock file with a dead pid is
// simply re-locked). It waits up to lockTimeout or until ctx is done.
func (s *Store) lock(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(s.dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock store %s: %w", s.dir, err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock store %s: %w", s.dir, err)
		}
		if time.Now().After(deadline) {
			holder := lockHolder(path)
			f.Close()
			return nil, fmt.Errorf("store %s is locked by %s for more than %s; wait for it to finish", s.dir, holder, lockTimeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock store %s: %w", s.dir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Record the holder for whoever waits next; failing to is harmless.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(fmt.Sprintf("pid %d since %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// lockHolder describes the process named in the lock file.
func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "another process"
	}
	line := strings.TrimSpace(string(b))
	if f := strings.Fields(line); len(f) >= 2 {
		if _, err := strconv.Atoi(f[1]); err == nil {
			return "canscope " + line
		}
	}
	return "another process"
}

// writersLockFile is flocked shared by every Store writing blobs and
// exclusively by prune, so prune never deletes a blob an uncommitted
// snapshot is about to reference (one it wrote, or one it found present
// and so did not write).
const writersLockFile = "writers.lock"

// pruneWait is how long a writer waits for a prune, and a prune for the
// writers, before saying who holds the store.
const pruneWait = 10 * time.Minute

// holdWriters takes the shared writers lock for this Store unless it
// holds it already. It is released by a Commit that leaves nothing
// pending, and by Close.
func (s *Store) holdWriters() error {
	s.wlMu.Lock()
	defer s.wlMu.Unlock()
	if s.wlFile != nil {
		return nil
	}
	f, err := flockWait(context.Background(), filepath.Join(s.dir, writersLockFile), unix.LOCK_SH, pruneWait)
	if err != nil {
		return fmt.Errorf("store %s: %w (a prune is running)", s.dir, err)
	}
	s.wlFile = f
	// A prune may have run since this Store last held the lock: what it
	// knew of the packs and loose blobs is read again before it dedups.
	s.packs.invalidate()
	s.loose.invalidate()
	return nil
}

// releaseWriters drops the shared writers lock if this Store holds it.
func (s *Store) releaseWriters() {
	s.wlMu.Lock()
	defer s.wlMu.Unlock()
	if s.wlFile != nil {
		unix.Flock(int(s.wlFile.Fd()), unix.LOCK_UN)
		s.wlFile.Close()
		s.wlFile = nil
	}
}

// flockWait opens path and takes a flock of kind how on it, polling until
// wait has passed or ctx is done.
func flockWait(ctx context.Context, path string, how int, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", filepath.Base(path), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("still locked after %s", wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
