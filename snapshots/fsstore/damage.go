package fsstore

import (
	"fmt"
	"os"

	"github.com/canscope/canscope/snapshots"
)

// Damage and Lose break a store the way a failing disk would, for the
// tests of every layer above that must notice (fsck, export, commit on a
// damaged base). They know where a blob lives (a pack or a loose file),
// which those tests should not.

// Damage overwrites the stored bytes of blob h in the store at dir with
// garbage, in place: a packed blob's frame keeps its length (garbage is
// cut to it, or overwrites only its start).
func Damage(dir string, h snapshots.Hash, garbage []byte) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.packs.scan(s.packsPath()); err != nil {
		return err
	}
	p, e, ok := s.packs.lookup(h)
	if !ok {
		return os.WriteFile(s.blobPath(h), garbage, 0o644)
	}
	f, err := os.OpenFile(p.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(garbage[:min(len(garbage), int(e.n))], e.off)
	return err
}

// Lose removes blob h from the store at dir: its loose file, or its
// entry in a pack (the pack is rewritten without it).
func Lose(dir string, h snapshots.Hash) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.packs.scan(s.packsPath()); err != nil {
		return err
	}
	p, _, ok := s.packs.lookup(h)
	if !ok {
		return os.Remove(s.blobPath(h))
	}
	var hashes []snapshots.Hash
	var frames [][]byte
	for _, e := range p.entries {
		if e.hash == h {
			continue
		}
		f, err := p.readFrame(e, nil)
		if err != nil {
			return err
		}
		hashes, frames = append(hashes, e.hash), append(frames, f)
	}
	if len(hashes) > 0 {
		np, err := writePack(s.packsPath(), hashes, frames)
		if err != nil {
			return fmt.Errorf("rewrite pack %s: %w", p.name[:12], err)
		}
		np.close()
	}
	return os.Remove(p.path)
}
