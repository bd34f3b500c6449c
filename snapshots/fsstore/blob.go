package fsstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/canscope/canscope/snapshots"
)

// PutBlob stores data under its SHA-256 unless a blob with that hash is
// already present (dedupe before write). The blob is pending until the
// next Commit makes it durable and gives it its name (batch.go); it reads
// back before that.
func (s *Store) PutBlob(data []byte) (snapshots.Hash, error) {
	h, err := snapshots.PrepareBlob(data)
	if err != nil {
		return h, err
	}
	return h, s.put(h, data)
}

// PutPage stores one page (at most PageSize bytes; a short last page is
// zero-padded) and returns its hash, or the zero Hash without storing
// anything when the page is all zero.
func (s *Store) PutPage(data []byte) (snapshots.Hash, error) {
	page, h, err := snapshots.PreparePage(data)
	if err != nil || page == nil {
		return h, err
	}
	return h, s.putPacked(h, page)
}

// putPacked stores page h in the pack being written (pack.go) unless the
// store has it already, committed or pending.
func (s *Store) putPacked(h snapshots.Hash, page []byte) error {
	if s.roErr != nil {
		return s.roErr
	}
	if err := s.holdWriters(); err != nil { // as in put
		return err
	}
	if s.pendingPage(h) {
		return nil
	}
	if ok, err := s.havePage(h); err != nil || ok {
		return err
	}
	var err error
	if incompressible(page) {
		// The frame zstd would write, without running zstd, and copied
		// once: straight into the pack's buffer.
		err = s.appendPending(h, rawPageFrame[:], page)
	} else {
		bp := s.getBuf()
		defer s.bufs.Put(bp)
		*bp = s.enc.EncodeAll(page, (*bp)[:0])
		err = s.appendPending(h, *bp)
	}
	if err != nil {
		return fmt.Errorf("store page %s: %w", h.Short(), err)
	}
	return nil
}

// stored reports whether blob h is committed: in a pack the index knows
// or as a loose file. It does not rescan the packs (callers checking many
// hashes rescan once first).
func (s *Store) stored(h snapshots.Hash) (bool, error) {
	if err := s.packs.ensure(s.packsPath()); err != nil {
		return false, err
	}
	if _, _, ok := s.packs.lookup(h); ok {
		return true, nil
	}
	_, err := os.Stat(s.blobPath(h))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

func (s *Store) packsPath() string { return filepath.Join(s.dir, packsDir) }

func (s *Store) put(h snapshots.Hash, data []byte) error {
	if s.roErr != nil {
		return s.roErr
	}
	// Held before the presence check: a blob found present must stay
	// until the snapshot that relies on it is committed.
	if err := s.holdWriters(); err != nil {
		return err
	}
	if _, err := os.Stat(s.blobPath(h)); err == nil {
		return nil
	}
	bp := s.getBuf()
	defer s.bufs.Put(bp)
	*bp = s.enc.EncodeAll(data, (*bp)[:0])
	if err := s.writePending(h, *bp); err != nil {
		return fmt.Errorf("store blob %s: %w", h.Short(), err)
	}
	return nil
}

// ReadBlob returns the content of blob h, verified against its hash.
func (s *Store) ReadBlob(h snapshots.Hash) ([]byte, error) {
	return s.read(h, nil)
}

// ReadPage fills buf (at least PageSize long) with page h, verified.
func (s *Store) ReadPage(h snapshots.Hash, buf []byte) error {
	if len(buf) < snapshots.PageSize {
		return fmt.Errorf("read page %s: buffer of %d bytes is smaller than a page", h.Short(), len(buf))
	}
	out, err := s.read(h, buf[:0:snapshots.PageSize])
	if err != nil {
		return err
	}
	if len(out) != snapshots.PageSize {
		return fmt.Errorf("read page %s: blob holds %d bytes, not a page", h.Short(), len(out))
	}
	if &out[0] != &buf[0] {
		copy(buf, out)
	}
	return nil
}

// read decompresses blob h, appending to dst, and checks its hash.
func (s *Store) read(h snapshots.Hash, dst []byte) ([]byte, error) {
	out, err := s.load(h, dst)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w; run `canscope fsck`", h.Short(), snapshots.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w; run `canscope fsck`", h.Short(), err)
	}
	return out, nil
}

// load reads blob h (pending, packed or loose), decompresses it and
// checks its hash.
func (s *Store) load(h snapshots.Hash, dst []byte) ([]byte, error) {
	bp := s.getBuf()
	defer s.bufs.Put(bp)
	comp, err := s.frame(h, (*bp)[:0])
	if err != nil {
		return nil, err
	}
	if cap(comp) <= 2*snapshots.PageSize {
		*bp = comp // keep page-sized buffers only; modules are rare
	}
	return s.decode(h, comp, dst)
}

// decode decompresses the stored frame of blob h and checks its hash.
func (s *Store) decode(h snapshots.Hash, comp, dst []byte) ([]byte, error) {
	out, err := s.dec.DecodeAll(comp, dst)
	if err != nil {
		return nil, fmt.Errorf("corrupt: does not decompress (%w)", err)
	}
	if got := snapshots.HashOf(out); got != h {
		return nil, fmt.Errorf("corrupt: content hashes to %s", got.Short())
	}
	return out, nil
}

// frame returns blob h as stored (its zstd frame), wherever it is: a
// pending pack, a committed pack, a loose file or a pending loose file.
// A blob found nowhere is looked for once more after rescanning the
// packs: another process may have committed it, or a prune repacked it.
func (s *Store) frame(h snapshots.Hash, dst []byte) ([]byte, error) {
	if comp, ok, err := s.pendingFrame(h, dst); ok {
		return comp, err
	}
	if err := s.packs.ensure(s.packsPath()); err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		if p, e, ok := s.packs.lookup(h); ok {
			comp, err := p.readFrame(e, dst)
			if !errors.Is(err, fs.ErrNotExist) || try > 0 {
				return comp, err
			}
		} else if comp, err := s.looseFrame(h, dst); !errors.Is(err, fs.ErrNotExist) || try > 0 {
			return comp, err
		}
		if err := s.packs.scan(s.packsPath()); err != nil {
			return nil, err
		}
	}
}

// looseFrame reads the loose blob file of h, or its pending temp file.
func (s *Store) looseFrame(h snapshots.Hash, dst []byte) ([]byte, error) {
	comp, err := snapshots.ReadBlobFile(s.blobPath(h), dst)
	if errors.Is(err, fs.ErrNotExist) {
		if tmp, ok := s.pendingPath(h); ok { // written, not yet committed
			comp, err = snapshots.ReadBlobFile(tmp, dst)
		} else { // or renamed by a flush since the first try
			comp, err = snapshots.ReadBlobFile(s.blobPath(h), dst)
		}
	}
	return comp, err
}

func (s *Store) blobPath(h snapshots.Hash) string {
	x := h.String()
	return filepath.Join(s.dir, blobsDir, x[:2], x)
}

func (s *Store) getBuf() *[]byte {
	if bp, ok := s.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, snapshots.PageSize+1024)
	return &b
}
