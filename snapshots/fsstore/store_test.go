package fsstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/storetest"
)

// The cases every backend shares are in conformance_test.go
// (storetest); these are the directory store's own.

func page(b byte) []byte { return storetest.Page(b) }

// commitPages stores pages (nil = zero page) as the heap of a new snapshot.
func commitPages(t *testing.T, s *Store, name string, parent *snapshots.ID, pages ...[]byte) snapshots.Snapshot {
	t.Helper()
	return storetest.CommitPages(t, s, name, parent, pages...)
}

func TestLockExcludesOtherWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := a.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "x", MadeBy: snapshots.MadeByImport}}
	if _, err := b.Commit(ctx, m); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("commit while another store holds the lock: %v", err)
	}
	unlock()
	if _, err := b.Commit(context.Background(), m); err != nil {
		t.Errorf("commit after unlock: %v", err)
	}
}

func TestOpenRefusesForeignDirs(t *testing.T) {
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	if _, err := Open(foreign); err == nil || !strings.Contains(err.Error(), "not a canscope store") {
		t.Errorf("Open of a foreign directory: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(filepath.Join(file, "store")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open under a file: %v", err)
	}
}

// A lock file left by a killed process (its pid is dead, so is its flock)
// must not block the next writer.
func TestStaleLockFileDoesNotBlock(t *testing.T) {
	s := openTemp(t)
	if err := os.WriteFile(filepath.Join(s.dir, lockFile), []byte("pid 999999 since 2026-01-01T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m := &snapshots.Manifest{Snapshot: snapshots.Snapshot{Name: "x", MadeBy: snapshots.MadeByImport}}
	if _, err := s.Commit(ctx, m); err != nil {
		t.Fatalf("commit over a stale lock file: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(s.dir, lockFile))
	if want := fmt.Sprintf("pid %d since ", os.Getpid()); !strings.HasPrefix(string(b), want) {
		t.Errorf("lock file = %q, want it to name this process", b)
	}
}
