package workbench

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// Heap images: streaming a snapshot's heap from the store costs ~180 µs of
// CPU per 64 KiB page (read, decompress, hash check), 3 s for 1 GiB. The
// bench can keep each heap it streamed as a raw image file in a cache
// directory, named by the hash of the heap's page table; the next open of
// any snapshot with that heap maps the image copy-on-write
// (engine.State.HeapImage) and reaches its first instruction at once.
// An image is written only from pages the store has just hash-checked,
// into a temporary file that is synced and renamed into place, and never
// rewritten (a mapped image must not change); opening checks its size.

// minImageBytes is the smallest heap worth an image: below it streaming
// takes milliseconds.
const minImageBytes = 16 << 20

// DefaultHeapImageBytes bounds the heap images SetHeapImages keeps when
// given no bound; the least recently used go first.
const DefaultHeapImageBytes = 8 << 30

// heapImages is the image cache of a bench.
type heapImages struct {
	dir string
	max int64
}

// SetHeapImages keeps raw images of the heaps the bench streams in dir
// (created when missing), at most maxBytes of them (0:
// DefaultHeapImageBytes). Call it before opening runs; "" turns it off.
func (b *Bench) SetHeapImages(dir string, maxBytes int64) {
	if dir == "" {
		b.images = nil
		return
	}
	b.images = &heapImages{dir: dir, max: cmp.Or(maxBytes, DefaultHeapImageBytes)}
}

// path returns the image file of a heap page table.
func (c *heapImages) path(t snapshots.PageTable) string {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], t.Size)
	h.Write(b[:])
	for _, p := range t.Pages {
		binary.LittleEndian.PutUint64(b[:], p.Index)
		h.Write(b[:])
		h.Write(p.Hash[:])
	}
	return filepath.Join(c.dir, hex.EncodeToString(h.Sum(nil))+".heap")
}

// open returns the image of t, nil when there is none.
func (c *heapImages) open(t snapshots.PageTable) *os.File {
	if c == nil || t.Size < minImageBytes {
		return nil
	}
	f, err := os.Open(c.path(t))
	if err != nil {
		return nil
	}
	if st, err := f.Stat(); err != nil || uint64(st.Size()) != t.Size {
		f.Close()
		return nil
	}
	now := time.Now()
	os.Chtimes(f.Name(), now, now) // least recently used goes first
	return f
}

// save writes the committed heap of c, just restored from t, as t's image
// and trims the cache. Its errors cost only the next open's speed.
func (c *heapImages) save(t snapshots.PageTable, can *engine.Canister) error {
	if c == nil || t.Size < minImageBytes {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, "tmp-*.heap")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	err = can.WriteHeapImage(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path(t))
	}
	if err != nil {
		return fmt.Errorf("save heap image: %w", err)
	}
	return c.trim()
}

// HeapImage is a heap image written from outside the bench: the importer
// writes each heap page it hashes and stores into it
// (dfx.ImportOptions.HeapCopy), and Keep makes it the image of the page
// table those pages were committed as. So the first open of an imported
// snapshot maps its heap (as every later open does) instead of streaming
// it from the store, at the cost of writing the heap's data once more at
// import. Its content is the imported bytes the store hashed, as an
// image the bench saves is the pages it has just verified.
type HeapImage struct {
	c    *heapImages
	f    *os.File
	size uint64

	mu  sync.Mutex
	err error // the first failed write: the image is not kept
}

// NewHeapImage begins an image of a heap of size bytes in dir (the
// directory given to SetHeapImages); nil when the heap is too small to
// need one or the file cannot be made (an image only saves time).
func NewHeapImage(dir string, size uint64) *HeapImage {
	c := &heapImages{dir: dir, max: DefaultHeapImageBytes}
	if size < minImageBytes || os.MkdirAll(dir, 0o755) != nil {
		return nil
	}
	f, err := os.CreateTemp(dir, "tmp-*.heap")
	if err != nil {
		return nil
	}
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil
	}
	return &HeapImage{c: c, f: f, size: size}
}

// WriteAt writes heap bytes at off. It never fails: a failed write only
// means the image is not kept.
func (h *HeapImage) WriteAt(p []byte, off int64) (int, error) {
	if _, err := h.f.WriteAt(p, off); err != nil {
		h.mu.Lock()
		h.err = cmp.Or(h.err, err)
		h.mu.Unlock()
	}
	return len(p), nil
}

// Keep syncs the image and names it as the image of t, which must be the
// page table its pages were stored as (the committed snapshot's heap);
// an image of t already there is kept instead. Either way the file is
// closed. Its errors cost only the first open's speed.
func (h *HeapImage) Keep(t snapshots.PageTable) error {
	defer h.Discard()
	h.mu.Lock()
	err := h.err
	h.mu.Unlock()
	if err == nil && t.Size != h.size {
		err = fmt.Errorf("heap of %d bytes, image of %d", t.Size, h.size)
	}
	if err != nil {
		return fmt.Errorf("keep heap image: %w", err)
	}
	dst := h.c.path(t)
	if _, err := os.Stat(dst); err == nil {
		return nil // never rewrite an image: it may be mapped
	}
	if err := h.f.Sync(); err != nil {
		return fmt.Errorf("keep heap image: %w", err)
	}
	if err := os.Rename(h.f.Name(), dst); err != nil {
		return fmt.Errorf("keep heap image: %w", err)
	}
	return h.c.trim()
}

// Discard closes the image and removes it unless Keep named it.
func (h *HeapImage) Discard() {
	h.f.Close()
	os.Remove(h.f.Name()) // after a rename: nothing
}

// trim removes the least recently used images beyond the bound, and
// temporary files of writers that died.
func (c *heapImages) trim() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	type image struct {
		path string
		size int64
		used time.Time
	}
	var all []image
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !strings.HasSuffix(e.Name(), ".heap") {
			continue
		}
		p := filepath.Join(c.dir, e.Name())
		if strings.HasPrefix(e.Name(), "tmp-") {
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(p)
			}
			continue
		}
		all = append(all, image{p, info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(all, func(a, b image) int { return a.used.Compare(b.used) })
	var errs []error
	for _, im := range all {
		if total <= c.max {
			break
		}
		// Unlinking a mapped image is safe: the mapping keeps the inode.
		if err := os.Remove(im.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		total -= im.size
	}
	return errors.Join(errs...)
}
