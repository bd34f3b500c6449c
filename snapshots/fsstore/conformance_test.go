package fsstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/storetest"
)

// TestConformance runs the backend-independent store cases (shared with
// the S3 store) against the directory store.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		New: func(t *testing.T) storetest.Store { return openTemp(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			o, err := Open(s.(*Store).dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { o.Close() })
			return o
		},
		Blobs: func(t *testing.T, s storetest.Store) int { return blobCount(t, s.(*Store)) },
		RawBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash) []byte {
			b, err := os.ReadFile(s.(*Store).blobPath(h))
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		SetRawBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash, b []byte) {
			if err := os.WriteFile(s.(*Store).blobPath(h), b, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		RemoveBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash) {
			if err := os.Remove(s.(*Store).blobPath(h)); err != nil {
				t.Fatal(err)
			}
		},
		FlipManifestByte: func(t *testing.T, s storetest.Store, id snapshots.ID, off int) {
			p := s.(*Store).manifestPath(id)
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			raw[off] ^= 0xff
			if err := os.WriteFile(p, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func blobCount(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
