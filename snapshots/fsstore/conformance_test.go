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
			st := s.(*Store)
			if p, e, ok := st.packs.lookup(h); ok {
				b, err := p.readFrame(e, nil)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			b, err := os.ReadFile(st.blobPath(h))
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		SetRawBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash, b []byte) {
			if err := Damage(s.(*Store).dir, h, b); err != nil {
				t.Fatal(err)
			}
		},
		RemoveBlob: func(t *testing.T, s storetest.Store, h snapshots.Hash) { removeBlob(t, s.(*Store), h) },
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

// blobCount counts the distinct blobs stored: loose files and pack
// entries.
func blobCount(t *testing.T, s *Store) int {
	t.Helper()
	seen := map[snapshots.Hash]bool{}
	filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			if h, err := snapshots.ParseHash(d.Name()); err == nil {
				seen[h] = true
			}
		}
		return nil
	})
	var ix packIndex
	if err := ix.scan(s.packsPath()); err != nil {
		t.Fatal(err)
	}
	for _, p := range ix.all() {
		for _, e := range p.entries {
			seen[e.hash] = true
		}
	}
	return len(seen)
}

// removeBlob deletes blob h as a damaged disk would lose it (Lose), and
// lets s see it gone.
func removeBlob(t *testing.T, s *Store, h snapshots.Hash) {
	t.Helper()
	if err := Lose(s.dir, h); err != nil {
		t.Fatal(err)
	}
	if err := s.packs.scan(s.packsPath()); err != nil {
		t.Fatal(err)
	}
}
