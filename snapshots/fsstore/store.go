// Package fsstore is the on-disk snapshot store: content-addressed,
// zstd-compressed blobs sharded by the first two hex digits of their
// SHA-256, and one encoded manifest per snapshot. Layout and crash-safety
// rules are in ../FORMAT.md.
package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Layout names inside the store directory.
const (
	markerFile   = "canscope-store"
	markerText   = "canscope snapshot store, format 2 (see snapshots/FORMAT.md)\n"
	blobsDir     = "blobs"
	manifestsDir = "manifests"
	lockFile     = "lock"
	tempPrefix   = ".tmp-"
)

// lockTimeout is how long a writer waits for another process's commit.
// Commits hold the lock for milliseconds, so a long wait means a stuck
// process, which the error then names.
const lockTimeout = 30 * time.Second

// Store is a snapshot store in one directory. It implements
// snapshots.Store and is safe for concurrent use by many goroutines; a
// file lock serializes commits with other processes.
type Store struct {
	dir      string
	roErr    error // non-nil when the directory is not writable
	enc      *zstd.Encoder
	dec      *zstd.Decoder
	bufs     sync.Pool  // *[]byte scratch for compressed blobs
	commitMu sync.Mutex // serializes this process's commits before the file lock

	// pending holds the blobs written since the last commit: temp files
	// not yet durable nor visible under their names (batch.go).
	pendMu  sync.Mutex
	pending map[snapshots.Hash]pendingBlob

	// Pages go to packs (pack.go): packMu guards the packs being written
	// (cur, one per CPU), the full ones awaiting the commit and the
	// pending pages' places in them; each writer has its own lock.
	packMu    sync.Mutex
	cur       []*packWriter
	full      []*packWriter
	pendPages map[snapshots.Hash]pendingPage
	packErr   error // a failed pack write: the batch is lost
	// packs indexes the committed packs.
	packs packIndex
	// loose is what the pages' dedup check knows of the loose blobs
	// (dedup.go).
	loose looseSet

	wlMu   sync.Mutex
	wlFile *os.File // shared writers lock while blobs are uncommitted

	// summaries caches decoded manifest headers by id. A manifest never
	// changes (its name is its hash), and every List (so every Commit,
	// which assigns NAME@N) would otherwise decode all of them again.
	sumMu     sync.Mutex
	summaries map[snapshots.ID]snapshots.Snapshot
}

var _ snapshots.Store = (*Store)(nil)

// The reasons a directory cannot be a store; the caller names another
// (the CLI's --store).
var (
	// ErrUnusableDir: the directory cannot be read or written.
	ErrUnusableDir = errors.New("use a writable directory")
	// ErrNotAStore: the directory holds other files.
	ErrNotAStore = errors.New("use a new or empty directory")
)

// Open opens the store in dir, creating it when dir does not exist or is
// empty. A directory holding other files is refused rather than written
// into. A store on a read-only path opens for reading; writes then fail
// with an error that says so.
func Open(dir string) (*Store, error) {
	if err := initLayout(dir); err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(max(4, runtime.GOMAXPROCS(0))),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(false)) // SHA-256 verifies every read already
	if err != nil {
		return nil, fmt.Errorf("open store %s: zstd encoder: %w", dir, err)
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(max(4, runtime.GOMAXPROCS(0))),
		zstd.WithDecoderMaxMemory(snapshots.MaxModuleBytes+1),
		zstd.WithDecoderLowmem(true),
		zstd.IgnoreChecksum(true))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("open store %s: zstd decoder: %w", dir, err)
	}
	s := &Store{dir: dir, enc: enc, dec: dec, pending: map[snapshots.Hash]pendingBlob{}, pendPages: map[snapshots.Hash]pendingPage{}}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		s.roErr = fmt.Errorf("store %s is read-only (%w): %w", dir, err, ErrUnusableDir)
	}
	return s, nil
}

// initLayout creates the store directories on first use.
func initLayout(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, markerFile)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("open store %s: %w: %w", dir, err, ErrUnusableDir)
	case slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		n := e.Name() // an interrupted first run leaves only these
		return n != blobsDir && n != manifestsDir && n != packsDir && !strings.HasPrefix(n, tempPrefix)
	}):
		return fmt.Errorf("open store %s: the directory is not empty and not a canscope store: %w", dir, ErrNotAStore)
	}
	fail := func(err error) error {
		return fmt.Errorf("create store %s: %w: %w", dir, err, ErrUnusableDir)
	}
	for _, d := range []string{manifestsDir, packsDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fail(err)
		}
	}
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(dir, blobsDir, fmt.Sprintf("%02x", i)), 0o755); err != nil {
			return fail(err)
		}
	}
	for _, d := range []string{filepath.Join(dir, blobsDir), dir} {
		if err := syncDir(d); err != nil {
			return fail(err)
		}
	}
	// The marker goes last: a store without it is re-initialized.
	if err := writeFileAtomic(dir, markerFile, []byte(markerText)); err != nil {
		return fail(err)
	}
	return syncDir(dir)
}

// Dir returns the store directory.
func (s *Store) Dir() string { return s.dir }

// Location names the store in messages: its directory.
func (s *Store) Location() string { return s.dir }

// Close removes the blobs written since the last commit (a failed
// import leaves the store as it was), releases the writers lock and the
// compressors. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.dropPending()
	s.releaseWriters()
	s.packs.closeAll()
	s.dec.Close()
	return s.enc.Close()
}

// List returns every snapshot, oldest first (by creation time, then name
// and seq). It reads only manifest headers. A manifest that cannot be
// decoded is left out: fsck reports it.
func (s *Store) List() ([]snapshots.Snapshot, error) {
	ids, err := s.manifestIDs()
	if err != nil {
		return nil, err
	}
	out := make([]snapshots.Snapshot, 0, len(ids))
	for _, id := range ids {
		snap, err := s.summary(id)
		if err != nil {
			continue
		}
		out = append(out, snap)
	}
	slices.SortFunc(out, func(a, b snapshots.Snapshot) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Seq - b.Seq
	})
	return out, nil
}

func (s *Store) summary(id snapshots.ID) (snapshots.Snapshot, error) {
	s.sumMu.Lock()
	snap, ok := s.summaries[id]
	s.sumMu.Unlock()
	if !ok {
		f, err := os.Open(s.manifestPath(id))
		if err != nil {
			return snapshots.Snapshot{}, err
		}
		defer f.Close()
		if snap, err = snapshots.DecodeSummary(f, id); err != nil {
			return snapshots.Snapshot{}, err
		}
		s.sumMu.Lock()
		if s.summaries == nil {
			s.summaries = map[snapshots.ID]snapshots.Snapshot{}
		}
		s.summaries[id] = snap
		s.sumMu.Unlock()
	}
	// The lineage fields are pointers: callers get their own copies.
	if snap.Parent != nil {
		p := *snap.Parent
		snap.Parent = &p
	}
	if snap.ForkedFrom != nil {
		f := *snap.ForkedFrom
		snap.ForkedFrom = &f
	}
	return snap, nil
}

// manifestIDs lists the manifest files by name.
func (s *Store) manifestIDs() ([]snapshots.ID, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, manifestsDir))
	if err != nil {
		return nil, fmt.Errorf("list snapshots in %s: %w", s.dir, err)
	}
	ids := make([]snapshots.ID, 0, len(entries))
	for _, e := range entries {
		id, err := snapshots.ParseHash(e.Name())
		if err != nil {
			continue // temp files and strays
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Resolve finds a snapshot by NAME, NAME@N, id or unique id prefix.
func (s *Store) Resolve(ref string) (snapshots.Snapshot, error) {
	all, err := s.List()
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	snap, err := snapshots.ResolveRef(all, ref)
	if errors.Is(err, snapshots.ErrNotFound) {
		// An id (prefix) of a manifest List cannot read is damaged, not
		// absent: say so, and what to run.
		if damaged, derr := s.Damaged(); derr == nil {
			if d, ok := snapshots.MatchDamaged(damaged, ref); ok {
				return snapshots.Snapshot{}, d.Err()
			}
		}
	}
	return snap, err
}

// Manifest reads a snapshot's manifest and verifies that it hashes to id.
func (s *Store) Manifest(id snapshots.ID) (*snapshots.Manifest, error) {
	b, err := os.ReadFile(s.manifestPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("snapshot %s: %w", id.Short(), snapshots.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", id.Short(), err)
	}
	if got := snapshots.HashOf(b); got != id {
		return nil, fmt.Errorf("snapshot %s is %w: manifest is corrupt (hashes to %s); run `canscope fsck`", id.Short(), snapshots.ErrDamaged, got.Short())
	}
	m, err := snapshots.DecodeManifest(b)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s is %w: %w; run `canscope fsck`", id.Short(), snapshots.ErrDamaged, err)
	}
	return m, nil
}

// Fork makes a new snapshot named name that shares every page with the
// snapshot ref names (snapshots.Fork).
func (s *Store) Fork(ctx context.Context, ref, name string) (snapshots.Snapshot, error) {
	return snapshots.Fork(ctx, s, ref, name)
}

func (s *Store) manifestPath(id snapshots.ID) string {
	return filepath.Join(s.dir, manifestsDir, id.String())
}
