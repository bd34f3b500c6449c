// Package heap holds a canister's wasm linear memory as a transaction:
// the guest writes to a working copy, and after each message the engine
// either commits the pages it changed or rolls them back.
//
// The cost of a commit or a rollback grows with the number of 4 KiB pages
// the message wrote, not with the size of the heap. On Linux the committed
// heap lives in a memfd mapped copy-on-write over a fixed reservation; the
// kernel tells which pages were written (the PAGEMAP_SCAN ioctl) and
// MADV_DONTNEED drops them. Elsewhere a portable implementation copies.
//
// A Heap is not safe for concurrent use: a canister runs one message at a
// time.
package heap

import (
	"errors"
	"fmt"
	"math/bits"
	"os"

	"github.com/tetratelabs/wazero/experimental"
)

// OSPageSize is the granularity of change tracking: the replica tracks
// dirty heap state in 4 KiB OS pages too.
const OSPageSize = 4096

// WasmPageSize is the size of a wasm memory page and of the pages a
// snapshot stores.
const WasmPageSize = 65536

// MaxWasm32 is the largest wasm32 linear memory, 65536 wasm pages (4 GiB).
const MaxWasm32 = 1 << 32

const osPagesPerWasmPage = WasmPageSize / OSPageSize

// ErrClosed is returned by operations on a closed Heap.
var ErrClosed = errors.New("heap is closed")

// backend stores the committed heap and finds the pages the guest changed
// in the working memory. Offsets and lengths are multiples of OSPageSize.
type backend interface {
	// reserve returns the working memory: max bytes at an address that
	// never changes, reading zero where nothing is committed.
	reserve(max uint64) ([]byte, error)
	// dirty appends the sorted indexes of the OS pages in mem[:size] that
	// differ, or may differ, from the committed heap.
	dirty(mem []byte, size uint64, out []uint32) ([]uint32, error)
	// commit makes the given pages of mem committed. size is the working
	// size; every page of mem[:size] must read the committed bytes after.
	commit(mem []byte, size uint64, pages []uint32) error
	// discard makes every page of mem[:size] read the committed bytes
	// again; pages lists the pages dirty reported.
	discard(mem []byte, size uint64, pages []uint32) error
	// readCommitted copies committed bytes at off into p.
	readCommitted(p []byte, off uint64) error
	// writeCommitted stores p as committed bytes at off; the working memory
	// must hold no uncommitted changes.
	writeCommitted(mem []byte, p []byte, off uint64) error
	// zeroFrom makes every committed byte from off zero.
	zeroFrom(mem []byte, off uint64) error
	// nextData returns the first offset >= off below size that may hold
	// non-zero committed bytes, or size if there is none.
	nextData(off, size uint64) (uint64, error)
	close(mem []byte) error
}

// Heap is one canister's linear memory with commit and rollback.
//
// Its working memory is handed to wazero through Allocator; the base
// address never changes, which wazero's compiled code relies on, and
// growth is answered with a longer slice at the same address.
type Heap struct {
	b         backend
	mem       []byte
	live      uint64 // bytes handed to wazero
	committed uint64 // committed size in bytes
	changed   bitset // OS pages committed since the last ResetChanged
	scratch   []uint32
	closed    bool
}

// New reserves a heap of up to max bytes (rounded up to whole wasm
// pages; at most MaxWasm32) with committed size zero. Where the system
// refuses the copy-on-write heap (no memfd, no readable pagemap) it falls
// back to the portable one; Portable tells which it got.
func New(max uint64) (*Heap, error) {
	h, err := newHeap(newBackend(), max)
	if err != nil && max != 0 && max <= MaxWasm32 {
		if p, perr := NewPortable(max); perr == nil {
			return p, nil
		}
	}
	return h, err
}

// NewPortable is New with the portable backend, which keeps a second copy
// of the heap and compares pages: commit and rollback cost grows with the
// heap size. It is what New uses off Linux; on Linux it serves tests and
// comparisons.
func NewPortable(max uint64) (*Heap, error) {
	return newHeap(&copying{}, max)
}

func newHeap(b backend, max uint64) (*Heap, error) {
	if max == 0 || max > MaxWasm32 {
		return nil, fmt.Errorf("reserve heap of %d bytes: size must be between 1 and %d", max, uint64(MaxWasm32))
	}
	max = roundUp(max, WasmPageSize)
	mem, err := b.reserve(max)
	if err != nil {
		return nil, fmt.Errorf("reserve heap of %d bytes: %w", max, err)
	}
	return &Heap{b: b, mem: mem}, nil
}

// Portable reports whether the heap uses the portable backend, whose
// commit and rollback cost grows with the heap size.
func (h *Heap) Portable() bool {
	_, ok := h.b.(*copying)
	return ok
}

// Close releases the reservation and the committed heap. A wazero module
// using the heap must be closed first.
func (h *Heap) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	err := h.b.close(h.mem)
	h.mem = nil
	return err
}

// Max returns the reservation size in bytes.
func (h *Heap) Max() uint64 { return uint64(len(h.mem)) }

// Size returns the committed size in bytes.
func (h *Heap) Size() uint64 { return h.committed }

// Live returns the size in bytes of the memory wazero currently sees,
// which exceeds Size while an uncommitted message has grown the heap.
func (h *Heap) Live() uint64 { return h.live }

// Allocator returns the wazero memory allocator for this heap. Pass it
// with experimental.WithMemoryAllocator when instantiating the module
// whose memory this heap backs; instantiate at most one module at a
// time over it. Every instantiation sees the committed contents.
func (h *Heap) Allocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
		return (*linearMemory)(h)
	})
}

// linearMemory is the experimental.LinearMemory view of a Heap.
type linearMemory Heap

// Reallocate returns the working memory with the given length at the same
// base address, or nil when it exceeds the reservation.
func (m *linearMemory) Reallocate(size uint64) []byte {
	h := (*Heap)(m)
	if h.closed || size > uint64(len(h.mem)) {
		return nil
	}
	h.live = size
	return h.mem[:size:size]
}

// Free does nothing: the Heap, not wazero, owns the reservation; it
// outlives module instances so that a module can be re-instantiated on it.
func (m *linearMemory) Free() {}

// Dirty returns the sorted indexes of the OS pages the current message
// changed so far, without committing or discarding them.
func (h *Heap) Dirty() ([]uint32, error) {
	if h.closed {
		return nil, ErrClosed
	}
	d, err := h.b.dirty(h.mem, h.live, nil)
	if err != nil {
		return nil, fmt.Errorf("find dirty heap pages: %w", err)
	}
	return d, nil
}

// Commit makes the working memory the committed heap and returns the
// sorted indexes of the OS pages that changed. The returned slice is
// valid until the next Commit or Rollback.
func (h *Heap) Commit() ([]uint32, error) {
	return h.CommitDirty(nil)
}

// CommitDirty is Commit given d, what Dirty returned with no write to the
// working memory since (nil: find them). It saves the second scan of a
// caller that needed the dirty pages before deciding to commit.
func (h *Heap) CommitDirty(d []uint32) ([]uint32, error) {
	if h.closed {
		return nil, ErrClosed
	}
	if d == nil {
		var err error
		d, err = h.b.dirty(h.mem, h.live, h.scratch[:0])
		if err != nil {
			return nil, fmt.Errorf("commit heap: %w", err)
		}
		h.scratch = d
	}
	if err := h.b.commit(h.mem, h.live, d); err != nil {
		return nil, fmt.Errorf("commit heap: %w", err)
	}
	h.committed = h.live
	for _, p := range d {
		h.changed.set(p)
	}
	return d, nil
}

// Rollback discards every change since the last commit. It reports
// whether the message had grown the memory: wazero cannot shrink a
// memory, so the module using the heap must then be re-instantiated
// (and grown to Size).
func (h *Heap) Rollback() (grown bool, err error) {
	if h.closed {
		return false, ErrClosed
	}
	d, err := h.b.dirty(h.mem, h.live, h.scratch[:0])
	if err != nil {
		return false, fmt.Errorf("roll back heap: %w", err)
	}
	h.scratch = d
	if err := h.b.discard(h.mem, h.live, d); err != nil {
		return false, fmt.Errorf("roll back heap: %w", err)
	}
	return h.live > h.committed, nil
}

// SetSize sets the committed size, for loading a snapshot or discarding
// the heap on upgrade; it fails while uncommitted changes are pending
// (call Commit or Rollback first). Shrinking zeroes the bytes cut off, so
// a later growth reads zeros as wasm requires.
func (h *Heap) SetSize(size uint64) error {
	if h.closed {
		return ErrClosed
	}
	if size%WasmPageSize != 0 || size > uint64(len(h.mem)) {
		return fmt.Errorf("set heap size to %d: must be a multiple of %d up to %d", size, WasmPageSize, len(h.mem))
	}
	if size < h.committed {
		if err := h.b.zeroFrom(h.mem, size); err != nil {
			return fmt.Errorf("set heap size to %d: %w", size, err)
		}
		for p := size / OSPageSize; p < h.committed/OSPageSize; p++ {
			h.changed.set(uint32(p))
		}
	}
	h.committed = size
	return nil
}

// ErrNoImage is returned by LoadImage where heaps cannot map an image
// (the portable backend): load the pages instead.
var ErrNoImage = errors.New("this heap cannot map a raw image")

// imager is a backend that can map a raw heap image copy-on-write.
type imager interface {
	useImage(mem []byte, f *os.File, size uint64) error
}

// LoadImage makes the raw image f (size bytes: the heap as WriteImage
// wrote it) the committed heap of an empty heap, without reading it: the
// image is mapped copy-on-write and its pages are read when the guest
// first touches them, so a 1 GiB heap opens in microseconds. The first
// commit that changes the heap copies the image into the heap's own
// storage. f must not change while the heap uses it (write images once,
// under a new name); it may be closed and removed once LoadImage returns.
func (h *Heap) LoadImage(f *os.File, size uint64) error {
	return h.loadImage(f, size, false)
}

// LoadImageBase is LoadImage for a heap of size bytes that differs from
// the image f in some pages: f is the image of another heap (e.g. an
// ancestor snapshot's, of any size). Its first min(size, f's size) bytes
// are mapped as the committed heap, the rest reads zero, and the caller
// then writes the pages that differ with WriteAt, which keeps them
// beside the mapping (no copy of the image) while they are few.
func (h *Heap) LoadImageBase(f *os.File, size uint64) error {
	return h.loadImage(f, size, true)
}

func (h *Heap) loadImage(f *os.File, size uint64, base bool) error {
	if h.closed {
		return ErrClosed
	}
	im, ok := h.b.(imager)
	if !ok {
		return ErrNoImage
	}
	if h.committed != 0 || h.live != 0 {
		return errors.New("load heap image: the heap is not empty")
	}
	if size%WasmPageSize != 0 || size > uint64(len(h.mem)) {
		return fmt.Errorf("load heap image of %d bytes: must be a multiple of %d up to %d", size, WasmPageSize, len(h.mem))
	}
	st, err := f.Stat()
	if err != nil || !base && uint64(st.Size()) != size {
		return fmt.Errorf("load heap image %s: want %d bytes (%v)", f.Name(), size, err)
	}
	mapped := size
	if base {
		mapped = min(size, uint64(st.Size())&^(OSPageSize-1))
	}
	if err := im.useImage(h.mem, f, mapped); err != nil {
		return err
	}
	h.committed = size
	return nil
}

// WriteImage writes the committed heap to f as a raw image for LoadImage:
// Size bytes, all-zero 1 MiB runs left as holes.
func (h *Heap) WriteImage(f *os.File) error {
	if h.closed {
		return ErrClosed
	}
	buf := make([]byte, 1<<20)
	for off := uint64(0); off < h.committed; {
		next, err := h.b.nextData(off, h.committed)
		if err != nil {
			return fmt.Errorf("write heap image: %w", err)
		}
		off = next &^ (OSPageSize - 1)
		if off >= h.committed {
			break
		}
		chunk := buf[:min(uint64(len(buf)), h.committed-off)]
		if err := h.b.readCommitted(chunk, off); err != nil {
			return fmt.Errorf("write heap image: %w", err)
		}
		if !isZero(chunk) {
			if _, err := f.WriteAt(chunk, int64(off)); err != nil {
				return fmt.Errorf("write heap image: %w", err)
			}
		}
		off += uint64(len(chunk))
	}
	if err := f.Truncate(int64(h.committed)); err != nil {
		return fmt.Errorf("write heap image: %w", err)
	}
	return nil
}

// WriteAt stores p at off in the committed heap, for loading a snapshot.
// off and len(p) must be multiples of OSPageSize within Size, and no
// message may be in progress.
func (h *Heap) WriteAt(p []byte, off uint64) error {
	if h.closed {
		return ErrClosed
	}
	if off%OSPageSize != 0 || uint64(len(p))%OSPageSize != 0 || off > h.committed || uint64(len(p)) > h.committed-off {
		return fmt.Errorf("write heap at %d (+%d): must be whole 4 KiB pages within the committed size %d", off, len(p), h.committed)
	}
	if err := h.b.writeCommitted(h.mem, p, off); err != nil {
		return fmt.Errorf("write heap at %d: %w", off, err)
	}
	for i := off / OSPageSize; i < (off+uint64(len(p)))/OSPageSize; i++ {
		h.changed.set(uint32(i))
	}
	return nil
}

// ReadAt copies committed bytes at off into p; the bytes must lie within
// Size. It reads the committed state even while a message is running.
func (h *Heap) ReadAt(p []byte, off uint64) error {
	if h.closed {
		return ErrClosed
	}
	if off > h.committed || uint64(len(p)) > h.committed-off {
		return fmt.Errorf("read heap at %d (+%d): beyond the committed size %d", off, len(p), h.committed)
	}
	if err := h.b.readCommitted(p, off); err != nil {
		return fmt.Errorf("read heap at %d: %w", off, err)
	}
	return nil
}

// NonZeroPages returns the sorted indexes of the committed wasm pages
// (64 KiB) holding a non-zero byte: the pages a snapshot stores. Holes in
// the committed heap are skipped without reading them.
func (h *Heap) NonZeroPages() ([]uint32, error) {
	if h.closed {
		return nil, ErrClosed
	}
	var out []uint32
	buf := make([]byte, WasmPageSize)
	for off := uint64(0); off < h.committed; {
		next, err := h.b.nextData(off, h.committed)
		if err != nil {
			return nil, fmt.Errorf("list heap pages: %w", err)
		}
		off = next / WasmPageSize * WasmPageSize
		if off >= h.committed {
			break
		}
		if err := h.b.readCommitted(buf, off); err != nil {
			return nil, fmt.Errorf("list heap pages: read at %d: %w", off, err)
		}
		if !isZero(buf) {
			out = append(out, uint32(off/WasmPageSize))
		}
		off += WasmPageSize
	}
	return out, nil
}

// Changed returns the sorted indexes of the wasm pages (64 KiB) with an
// OS page committed, written by WriteAt or cut off by SetSize since the
// heap was created or ResetChanged was last called: the pages a child
// snapshot must store anew.
func (h *Heap) Changed() []uint32 {
	return h.changed.aggregate(osPagesPerWasmPage)
}

// ChangedOSPages returns the count of OS pages changed since the heap was
// created or ResetChanged was last called.
func (h *Heap) ChangedOSPages() int { return h.changed.count() }

// ResetChanged starts a new period for Changed, e.g. after the store has
// written a snapshot.
func (h *Heap) ResetChanged() { h.changed = h.changed[:0] }

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

func isZero(p []byte) bool {
	for len(p) >= 8 {
		if p[0]|p[1]|p[2]|p[3]|p[4]|p[5]|p[6]|p[7] != 0 {
			return false
		}
		p = p[8:]
	}
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

// bitset is a growable set of page indexes.
type bitset []uint64

func (s *bitset) set(i uint32) {
	w := int(i / 64)
	for len(*s) <= w {
		*s = append(*s, 0)
	}
	(*s)[w] |= 1 << (i % 64)
}

func (s bitset) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// aggregate returns the sorted indexes of the groups of size per (a power
// of two dividing 64) with any member set.
func (s bitset) aggregate(per uint32) []uint32 {
	var out []uint32
	for wi, w := range s {
		for w != 0 {
			b := uint32(bits.TrailingZeros64(w))
			g := (uint32(wi)*64 + b) / per
			out = append(out, g)
			// Skip the rest of this group within the word.
			end := (g+1)*per - uint32(wi)*64
			if end >= 64 {
				w = 0
			} else {
				w &^= (1 << end) - 1
			}
		}
	}
	return out
}
