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
	"golang.org/x/sys/unix"
)

// Heap images: streaming a snapshot's heap from the store costs ~180 µs of
// CPU per 64 KiB page (read, decompress, hash check), 3 s for 1 GiB. The
// bench can keep each heap it streamed as a raw image file in a cache
// directory, named by the hash of the heap's page table; the next open of
// any snapshot with that heap maps the image copy-on-write
// (engine.State.HeapImage) and reaches its first instruction at once.
// An image is written only from pages the store has just hash-checked
// (or the importer has just hashed, HeapImage), into a temporary file
// that is synced and renamed into place (or renamed for the running boot
// without a sync, HeapImage.Keep), and never rewritten (a mapped image
// must not change); opening checks its size.

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

// bootPath returns the name of t's image written without a sync during
// the boot boot (HeapImage.Keep).
func (c *heapImages) bootPath(t snapshots.PageTable, boot string) string {
	return strings.TrimSuffix(c.path(t), ".heap") + ".boot-" + boot + ".heap"
}

// bootID names the running kernel's boot; "" when unknown.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// open returns the image of t, nil when there is none: the synced image,
// else one written unsynced during this boot.
func (c *heapImages) open(t snapshots.PageTable) *os.File {
	if c == nil || t.Size < minImageBytes {
		return nil
	}
	f, err := os.Open(c.path(t))
	if err != nil {
		boot := bootID()
		if boot == "" {
			return nil
		}
		if f, err = os.Open(c.bootPath(t, boot)); err != nil {
			return nil
		}
	}
	if st, err := f.Stat(); err != nil || uint64(st.Size()) != t.Size {
		f.Close()
		return nil
	}
	now := time.Now()
	os.Chtimes(f.Name(), now, now) // least recently used goes first
	return f
}

// maxAncestors bounds how far up its lineage an open looks for an
// ancestor's image: each step reads a manifest.
const maxAncestors = 64

// ancestor returns the image of the nearest ancestor of m (its lineage's
// parent chain) that has one, and the heap pages of m that differ from
// it (engine.State.HeapImageDelta); nil when there is none. A snapshot
// made by a commit (call/upgrade --commit) or a pull has no image of its
// own until its first open streams it, but its parent often has one:
// opening over the parent's image costs only the pages the child
// changed, each read from the store and hash-checked as a stream does.
func (c *heapImages) ancestor(store Store, m *snapshots.Manifest) (*os.File, []uint64) {
	if c == nil || m.Heap.Size < minImageBytes {
		return nil, nil
	}
	up := m.Parent
	for range maxAncestors {
		if up == nil {
			return nil, nil
		}
		a, err := store.Manifest(*up)
		if err != nil {
			return nil, nil // a missing parent only costs speed here
		}
		if img := c.open(a.Heap); img != nil {
			return img, heapDelta(a.Heap, m.Heap)
		}
		up = a.Parent
	}
	return nil, nil
}

// heapDelta lists the pages of heap to whose hash differs from from's
// (either may lack a page: zero), below to's size; never nil.
func heapDelta(from, to snapshots.PageTable) []uint64 {
	pages := to.Size / snapshots.PageSize
	delta := []uint64{}
	f, t := from.Pages, to.Pages
	for len(f) > 0 || len(t) > 0 {
		switch {
		case len(t) == 0 || len(f) > 0 && f[0].Index < t[0].Index:
			if f[0].Index < pages {
				delta = append(delta, f[0].Index) // zero in to
			}
			f = f[1:]
		case len(f) == 0 || t[0].Index < f[0].Index:
			delta = append(delta, t[0].Index)
			t = t[1:]
		default:
			if f[0].Hash != t[0].Hash {
				delta = append(delta, t[0].Index)
			}
			f, t = f[1:], t[1:]
		}
	}
	return delta
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
// copies each heap page it hashes and stores into it
// (dfx.ImportOptions.HeapCopy), and Keep makes it the image of the page
// table those pages were committed as. So the first open of an imported
// snapshot maps its heap (as every later open does) instead of streaming
// it from the store, at the cost of writing the heap's data once more at
// import. Its content is the imported bytes the store hashed, as an
// image the bench saves is the pages it has just verified.
//
// A re-import (a new download of a name) whose previous snapshot has an
// image writes only the pages that differ from it; Keep takes the others
// from that image (which is trusted as images are), and an unchanged heap
// (the same page table, so the same image) costs no write at all.
type HeapImage struct {
	c    *heapImages
	f    *os.File
	size uint64
	// base is the previous snapshot's image and page hashes, when it
	// has one: pages equal to it are not written.
	base       *os.File
	baseHashes map[uint64]snapshots.Hash

	mu  sync.Mutex
	err error // the first failed write: the image is not kept
}

// NewHeapImage begins an image of a heap of size bytes in dir (the
// directory given to SetHeapImages); base, when set, is the heap of the
// snapshot the import continues. It returns nil when the heap is too
// small to need an image or the file cannot be made (an image only saves
// time).
func NewHeapImage(dir string, size uint64, base *snapshots.PageTable) *HeapImage {
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
	h := &HeapImage{c: c, f: f, size: size}
	// The base may be smaller or larger (a heap grows): only its pages
	// inside this heap count.
	if base != nil {
		if h.base = c.open(*base); h.base != nil {
			h.baseHashes = make(map[uint64]snapshots.Hash, len(base.Pages))
			for _, p := range base.Pages {
				if (p.Index+1)*snapshots.PageSize <= size {
					h.baseHashes[p.Index] = p.Hash
				}
			}
		}
	}
	return h
}

// CopyPages writes the pages first… (data, hashes) into the image,
// leaving out those the base image holds already. It never fails: a
// failed write only means the image is not kept.
func (h *HeapImage) CopyPages(first uint64, data []byte, hashes []snapshots.Hash) error {
	write := func(from, to int) {
		if from == to {
			return
		}
		off := (first + uint64(from)) * snapshots.PageSize
		if err := snapshots.WriteAtChunked(h.f, data[from*snapshots.PageSize:to*snapshots.PageSize], int64(off)); err != nil {
			h.fail(err)
		}
	}
	from := 0
	for i, hash := range hashes {
		if b, ok := h.baseHashes[first+uint64(i)]; ok && b == hash {
			write(from, i)
			from = i + 1
		}
	}
	write(from, len(hashes))
	return nil
}

// Holds reports whether the base image holds page index as hash: Keep
// copies it from there, so it need not be written (snapshots.PageWriter).
func (h *HeapImage) Holds(index uint64, hash snapshots.Hash) bool {
	b, ok := h.baseHashes[index]
	return ok && b == hash
}

func (h *HeapImage) fail(err error) {
	h.mu.Lock()
	h.err = cmp.Or(h.err, err)
	h.mu.Unlock()
}

// Keep names the image as the image of t, which must be the page table
// its pages were stored as (the committed snapshot's heap); an image of t
// already there is kept instead. Pages left out as equal to the base are
// copied from the base image first. Either way the files are closed. Its
// errors cost only the first open's speed.
//
// It does not wait for the disk: flushing the heap's data once more
// would cost an import seconds. The image is named for the running boot
// instead (NAME.boot-ID.heap): within one boot the page cache serves
// exactly the bytes written, flushed or not, and an image left from an
// earlier boot (perhaps a crash that lost unflushed data) is never used
// and is deleted by the next trim. Where the boot cannot be told, it
// syncs.
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
	boot := bootID()
	dst := h.c.path(t)
	if _, err := os.Stat(dst); err == nil {
		return nil // never rewrite an image: it may be mapped
	}
	if boot != "" {
		dst = h.c.bootPath(t, boot)
		if _, err := os.Stat(dst); err == nil {
			return nil
		}
	}
	if err := h.fillFromBase(t); err != nil {
		return fmt.Errorf("keep heap image: %w", err)
	}
	if boot == "" {
		if err := h.f.Sync(); err != nil {
			return fmt.Errorf("keep heap image: %w", err)
		}
	}
	if err := os.Rename(h.f.Name(), dst); err != nil {
		return fmt.Errorf("keep heap image: %w", err)
	}
	return h.c.trim()
}

// fillFromBase copies the pages of t that CopyPages left out (equal to
// the base) from the base image, a run of consecutive pages at a time,
// inside the kernel.
func (h *HeapImage) fillFromBase(t snapshots.PageTable) error {
	if h.base == nil {
		return nil
	}
	copyRun := func(first, n uint64) error {
		off := int64(first * snapshots.PageSize)
		in, out := off, off
		for left := int(n * snapshots.PageSize); left > 0; {
			c, err := unix.CopyFileRange(int(h.base.Fd()), &in, int(h.f.Fd()), &out, left, 0)
			if err != nil {
				return err
			}
			if c == 0 {
				return fmt.Errorf("base image ends at %d", in)
			}
			left -= c
		}
		return nil
	}
	var first, n uint64
	for _, p := range t.Pages {
		if b, ok := h.baseHashes[p.Index]; !ok || b != p.Hash {
			continue
		}
		if n > 0 && p.Index == first+n {
			n++
			continue
		}
		if n > 0 {
			if err := copyRun(first, n); err != nil {
				return err
			}
		}
		first, n = p.Index, 1
	}
	if n > 0 {
		return copyRun(first, n)
	}
	return nil
}

// Discard closes the image and removes it unless Keep named it.
func (h *HeapImage) Discard() {
	h.f.Close()
	os.Remove(h.f.Name()) // after a rename: nothing
	if h.base != nil {
		h.base.Close()
	}
}

// trim removes the least recently used images beyond the bound, and
// temporary files of writers that died.
func (c *heapImages) trim() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	boot := bootID()
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
		if _, b, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".heap"), ".boot-"); ok && b != boot {
			os.Remove(p) // unsynced in an earlier boot: perhaps not what was written
			continue
		}
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
