// Package stable implements a canister's stable memory as a sparse set of
// 64 KiB pages.
//
// A page that was never written reads as zero and costs no RAM, so a
// canister can grow its stable memory to hundreds of GiB while writing
// little, exactly the shape of the "saved the heap into stable memory"
// incidents canscope reproduces.
//
// Atomic messages: Begin starts a message, Commit keeps its writes and
// Rollback restores the size and every page written since Begin. Writes
// inside a message keep an undo log of the bytes they overwrite (see
// undo.go), so the cost of both follows what the message wrote, never the
// size of the memory.
//
// Change reporting: LastChanged lists the pages the last committed message
// changed; Mark and Changed report pages changed over several messages so a
// snapshot store can persist only those.
//
// Backing: a memory restored from a snapshot can read the snapshot's pages
// on first use instead of holding them all (Options.Backing). Production
// canisters keep tens of GiB in stable memory; a run then needs RAM for the
// pages it writes plus a bounded cache of pages it read.
package stable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// PageSize is the size of a stable memory page (the wasm page size).
const PageSize = 64 << 10

// MaxPages is the largest stable memory the IC allows: 500 GiB.
const MaxPages = 500 << 30 / PageSize

// Pages32 is the number of pages addressable by the 32-bit stable memory API
// (4 GiB); the 32-bit calls trap on a larger memory.
const Pages32 = 1 << 32 / PageSize

// ErrOutOfBounds reports an access past the end of stable memory. The host
// turns it into the replica's `stable memory out of bounds` trap.
var ErrOutOfBounds = errors.New("stable memory out of bounds")

// page is one 64 KiB stable memory page.
type page [PageSize]byte

// Options configures a Memory. The zero value is valid.
type Options struct {
	// MaxPages caps Grow. Zero means MaxPages (500 GiB); larger values are
	// lowered to it.
	MaxPages uint64
	// Backing, when set, holds the memory's initial non-zero pages, read
	// on first access.
	Backing Backing
	// CachePages bounds the pages read from Backing and not written since
	// that stay in memory; older ones are dropped and read again when
	// needed. Zero means DefaultCachePages.
	CachePages int
	// RAMPages bounds the written pages held in the Go heap: beyond it new
	// page buffers live in an unlinked temporary file mapped into memory,
	// which the process releases from its resident set every 64 MiB (see
	// arena), so a message writing gigabytes keeps RSS near the bound.
	// Zero means DefaultRAMPages; negative keeps every page in the heap.
	RAMPages int
}

// DefaultCachePages is the default read cache of a backed memory: 256 MiB.
const DefaultCachePages = 4096

// DefaultRAMPages is the default bound of written pages in the Go heap:
// 64 MiB. Beyond it pages live in the spill file, whose pages the process
// maps only while it uses them: a pre_upgrade saving a GiB holds neither
// that GiB nor the committed pages it overwrites in RAM (issue 14's
// rehearsal bound), and the Go heap does not grow by the garbage the
// released pages would leave for its collector.
const DefaultRAMPages = 1024

// Backing supplies the initial pages of a memory, e.g. a snapshot's pages
// in a store.
type Backing interface {
	// BackedPages lists the indices of the non-zero pages.
	BackedPages() []uint64
	// ReadPage fills dst (PageSize bytes) with page idx, one of
	// BackedPages.
	ReadPage(idx uint64, dst []byte) error
}

// Memory is a sparse stable memory. It is not safe for concurrent use: a
// canister executes one message at a time.
type Memory struct {
	size  uint64 // in pages
	max   uint64
	pages map[uint64]*page

	// The open message (between Begin and Commit or Rollback).
	inMessage bool
	startSize uint64
	undo      undoLog

	// free recycles page buffers so that messages do not allocate.
	free []*page

	lastChanged []uint64
	// marked holds pages changed by committed writes since the last Mark.
	marked map[uint64]struct{}

	// backing supplies the pages in backed that are not in pages: a
	// page's contents are pages[idx] when present, else the backing's
	// when idx is in backed, else zero.
	backing Backing
	backed  map[uint64]struct{}
	// clean holds the pages read from backing and not written since;
	// they may be dropped again, oldest first (cleanQ).
	clean      map[uint64]struct{}
	cleanQ     []uint64
	cachePages int

	// ramPages bounds the pages held in the Go heap (Options.RAMPages);
	// arena holds the others, created on first need.
	ramPages int
	arena    *arena
	// scratch and scratch2 receive pages for a comparison (pageChanged,
	// samePage).
	scratch, scratch2 *page
}

// New returns a zeroed stable memory of sizePages pages. It fails when
// sizePages exceeds the configured maximum.
func New(sizePages uint64, opts Options) (*Memory, error) {
	limit := opts.MaxPages
	if limit == 0 || limit > MaxPages {
		limit = MaxPages
	}
	if sizePages > limit {
		return nil, fmt.Errorf("new stable memory of %d pages: more than the maximum of %d pages", sizePages, limit)
	}
	m := &Memory{
		size:     sizePages,
		max:      limit,
		pages:    make(map[uint64]*page),
		undo:     newUndoLog(),
		marked:   make(map[uint64]struct{}),
		ramPages: opts.RAMPages,
	}
	if m.ramPages == 0 {
		m.ramPages = DefaultRAMPages
	}
	if opts.Backing != nil {
		m.backing = opts.Backing
		m.backed = make(map[uint64]struct{})
		for _, idx := range opts.Backing.BackedPages() {
			if idx >= sizePages {
				return nil, fmt.Errorf("new stable memory of %d pages: backing page %d lies past the end", sizePages, idx)
			}
			m.backed[idx] = struct{}{}
		}
		m.clean = make(map[uint64]struct{})
		m.cachePages = opts.CachePages
		if m.cachePages <= 0 {
			m.cachePages = DefaultCachePages
		}
	}
	return m, nil
}

// fault returns page idx, reading it from the backing when it is backed
// and not in memory; nil means the page is zero.
func (m *Memory) fault(idx uint64) (*page, error) {
	if p := m.pages[idx]; p != nil {
		return p, nil
	}
	if _, ok := m.backed[idx]; !ok {
		return nil, nil
	}
	// A fresh buffer, never a recycled one: Page's callers may still hold
	// pages the cache drops.
	p := new(page)
	if err := m.backing.ReadPage(idx, p[:]); err != nil {
		return nil, fmt.Errorf("read stable page %d: %w", idx, err)
	}
	m.pages[idx] = p
	m.clean[idx] = struct{}{}
	m.cleanQ = append(m.cleanQ, idx)
	for len(m.clean) > m.cachePages && len(m.cleanQ) > 0 {
		old := m.cleanQ[0]
		m.cleanQ = m.cleanQ[1:]
		if _, ok := m.clean[old]; ok && old != idx {
			delete(m.clean, old)
			delete(m.pages, old)
		}
	}
	if len(m.cleanQ) > 2*m.cachePages { // drop entries of pages written since
		m.cleanQ = slices.DeleteFunc(slices.Clone(m.cleanQ), func(i uint64) bool { _, ok := m.clean[i]; return !ok })
	}
	return p, nil
}

// dirty makes page idx resident before a write changes it: a backed page
// is read first (the write must land on its contents) and leaves the
// cache for good.
func (m *Memory) dirty(idx uint64) error {
	if m.backing == nil {
		return nil
	}
	if _, err := m.fault(idx); err != nil {
		return err
	}
	delete(m.clean, idx)
	return nil
}

// Size returns the size in 64 KiB pages.
func (m *Memory) Size() uint64 { return m.size }

// Bytes returns the size in bytes.
func (m *Memory) Bytes() uint64 { return m.size * PageSize }

// MaxSize returns the maximum size in pages that Grow honours.
func (m *Memory) MaxSize() uint64 { return m.max }

// Allocated returns the number of pages held in memory (written, or read
// from the backing and cached). RAM use is about Allocated() * PageSize.
func (m *Memory) Allocated() int { return len(m.pages) }

// Grow adds n zero pages. It returns the previous size and true, or the
// current size and false when the result would exceed the maximum (the IC's
// stable_grow then returns -1 without trapping).
func (m *Memory) Grow(n uint64) (old uint64, ok bool) {
	old = m.size
	if n > m.max || old > m.max-n {
		return old, false
	}
	m.size = old + n
	return old, true
}

// checkRange reports whether [off, off+n) lies inside the memory.
func (m *Memory) checkRange(off, n uint64) error {
	end := off + n
	if end < off || end > m.Bytes() {
		return fmt.Errorf("access of %d bytes at offset %d in %d bytes: %w", n, off, m.Bytes(), ErrOutOfBounds)
	}
	return nil
}

// Read copies len(dst) bytes starting at byte offset off into dst. Pages
// never written read as zero. It returns an error wrapping ErrOutOfBounds when
// the range does not lie inside the memory, and then leaves dst untouched,
// or the error of reading a backed page.
func (m *Memory) Read(dst []byte, off uint64) error {
	if err := m.checkRange(off, uint64(len(dst))); err != nil {
		return err
	}
	for len(dst) > 0 {
		idx, in := off/PageSize, off%PageSize
		n := min(uint64(len(dst)), PageSize-in)
		p, err := m.fault(idx)
		if err != nil {
			return err
		}
		if p != nil {
			m.load(dst[:n], p, in)
		} else {
			clear(dst[:n])
		}
		dst, off = dst[n:], off+n
	}
	return nil
}

// Write copies src into the memory at byte offset off. It returns an error
// wrapping ErrOutOfBounds when the range does not lie inside the memory, or
// the error of reading a backed page, and then writes nothing.
func (m *Memory) Write(off uint64, src []byte) error {
	if err := m.checkRange(off, uint64(len(src))); err != nil {
		return err
	}
	if m.backing != nil && len(src) > 0 {
		for idx := off / PageSize; idx <= (off+uint64(len(src))-1)/PageSize; idx++ {
			if m.inMessage && m.pages[idx] == nil && off <= idx*PageSize && off+uint64(len(src)) >= (idx+1)*PageSize {
				// Overwritten whole in a message: the backing stays its
				// committed copy, unread (writeLogged).
				continue
			}
			if err := m.dirty(idx); err != nil {
				return err
			}
		}
	}
	for len(src) > 0 {
		idx, in := off/PageSize, off%PageSize
		n := min(uint64(len(src)), PageSize-in)
		if m.inMessage {
			m.writeLogged(idx, in, src[:n])
		} else {
			m.writeDirect(idx, in, src[:n])
		}
		src, off = src[n:], off+n
	}
	return nil
}

// writeDirect writes outside a message: in place, remembered for Changed.
func (m *Memory) writeDirect(idx uint64, in uint64, src []byte) {
	p := m.pages[idx]
	if p == nil {
		p = m.newZeroPage()
		m.pages[idx] = p
	}
	m.store(p, in, src)
	m.marked[idx] = struct{}{}
}

// maxFree bounds the recycled buffers kept between messages (16 MiB).
const maxFree = 256

// newPage returns a page buffer with undefined contents: from the Go heap
// while the memory holds fewer than ramPages pages, then from the arena.
func (m *Memory) newPage() *page {
	if n := len(m.free); n > 0 {
		p := m.free[n-1]
		m.free = m.free[:n-1]
		return p
	}
	if m.ramPages > 0 && len(m.pages)+len(m.undo.pages) >= m.ramPages {
		if m.arena == nil {
			if a, err := newArena(); err == nil {
				m.arena = a
			} else {
				m.ramPages = -1 // no spill file here: keep pages in the heap
				return new(page)
			}
		}
		if p, err := m.arena.alloc(); err == nil {
			return p
		}
	}
	return new(page)
}

// Spilled reports how many page buffers the memory keeps in its spill
// file (see Options.RAMPages).
func (m *Memory) Spilled() int {
	if m.arena == nil {
		return 0
	}
	return m.arena.used - len(m.arena.free)
}

// Close releases the spill file and every page. The memory must not be
// used after, nor slices Page or Pages returned.
func (m *Memory) Close() {
	if m.arena != nil {
		m.arena.close()
		m.arena = nil
	}
	m.pages, m.free, m.undo = map[uint64]*page{}, nil, newUndoLog()
	m.ramPages = -1
}

// newZeroPage returns a zeroed page buffer.
func (m *Memory) newZeroPage() *page {
	p := m.newPage()
	if m.arena == nil || !m.arena.owns(p) { // the spill file's free slots are holes
		clear(p[:])
	}
	return p
}

// load copies bytes of page p from in into dst: a large read from the
// spill file goes through pread, which does not map the file's pages (a
// post_upgrade reading a GiB back would map all of it).
func (m *Memory) load(dst []byte, p *page, in uint64) {
	if m.arena != nil && m.arena.read(dst, p, in) {
		return
	}
	copy(dst, p[in:])
}

// samePage reports whether pages a and b hold the same bytes, reading
// pages of the spill file through pread rather than the mapping.
func (m *Memory) samePage(a, b *page) bool {
	if m.arena == nil || !m.arena.owns(a) && !m.arena.owns(b) {
		return *a == *b
	}
	if m.scratch == nil {
		m.scratch, m.scratch2 = new(page), new(page)
	}
	m.load(m.scratch[:], a, 0)
	m.load(m.scratch2[:], b, 0)
	return *m.scratch == *m.scratch2
}

// store copies src into page p at in: a large write into the spill file
// goes through pwrite, which fills the page cache without faulting the
// mapping page by page (3.5x faster than through the mapping).
func (m *Memory) store(p *page, in uint64, src []byte) {
	if m.arena != nil && m.arena.write(p, in, src) {
		return
	}
	copy(p[in:], src)
}

// release recycles a page buffer no longer referenced by the memory.
func (m *Memory) release(p *page) {
	if p == nil {
		return
	}
	if m.arena != nil && m.arena.owns(p) {
		m.arena.recycle(p)
		return
	}
	if len(m.free) < maxFree {
		m.free = append(m.free, p)
	}
}

// Begin starts a message: writes and growth from now on can be undone by
// Rollback. Calling Begin while a message is open commits that message first.
func (m *Memory) Begin() {
	if m.inMessage {
		m.Commit()
	}
	m.inMessage = true
	m.startSize = m.size
	m.undo.reset()
}

// InMessage reports whether a message is open.
func (m *Memory) InMessage() bool { return m.inMessage }

// Commit keeps the changes of the open message and records which pages it
// changed (a page written with the bytes it already held does not count).
// Pages that end up all zero are released. Without an open message Commit
// does nothing.
func (m *Memory) Commit() {
	if !m.inMessage {
		return
	}
	changed := m.Pending()
	m.inMessage = false
	for _, idx := range changed {
		m.marked[idx] = struct{}{}
	}
	for idx, t := range m.undo.pages {
		p := m.pages[idx]
		if t.saved != nil {
			m.release(t.saved)
		}
		if t.zeroed && isZero(p) {
			delete(m.pages, idx)
			delete(m.backed, idx) // zero now, whatever the backing holds
			m.release(p)
		}
	}
	m.lastChanged = changed
	m.undo.reset()
	if m.arena != nil {
		m.arena.punch()
	}
}

// Pending returns the sorted pages the open message changed, as Commit
// would report them in LastChanged, without committing: a run whose
// changes are discarded still reports them (engine.UpgradeOptions.Discard).
// Without an open message it returns nil.
func (m *Memory) Pending() []uint64 {
	if !m.inMessage {
		return nil
	}
	changed := make([]uint64, 0, len(m.undo.pages))
	for idx, t := range m.undo.pages {
		if m.pageChanged(idx, t, m.pages[idx]) {
			changed = append(changed, idx)
		}
	}
	slices.Sort(changed)
	return changed
}

// Rollback undoes the open message: the size and every page written since
// Begin return to their committed state, and LastChanged becomes empty.
// Without an open message Rollback does nothing.
func (m *Memory) Rollback() {
	if !m.inMessage {
		return
	}
	m.inMessage = false
	m.undo.undoInto(m.pages)
	for idx, t := range m.undo.pages {
		switch {
		case t.created, t.backed: // zero, or the backing's again
			m.release(m.pages[idx])
			delete(m.pages, idx)
		case t.saved != nil:
			m.release(m.pages[idx])
			m.pages[idx] = t.saved
		}
	}
	m.undo.reset()
	if m.arena != nil {
		m.arena.punch()
	}
	m.size = m.startSize
	m.lastChanged = nil
}

// Touched returns the number of pages written so far in the open message.
func (m *Memory) Touched() int { return len(m.undo.pages) }

// TouchedPages returns, in increasing order, the pages written so far in
// the open message: with Size, what a savepoint inside the message must
// keep to be re-applied after a Rollback (engine's composite query graph).
func (m *Memory) TouchedPages() []uint64 { return slices.Sorted(maps.Keys(m.undo.pages)) }

// LastChanged returns the sorted indices of pages the last committed message
// changed. Each Commit makes a new slice, so results may be kept.
func (m *Memory) LastChanged() []uint64 { return m.lastChanged }

// Mark forgets the pages changed so far: Changed then reports only pages
// changed after this call. Call it after loading or saving a snapshot.
func (m *Memory) Mark() { clear(m.marked) }

// Changed returns the sorted indices of pages changed by committed writes
// since the last Mark (or since New). Writes of the open message are not
// included until it commits.
func (m *Memory) Changed() []uint64 {
	return slices.Sorted(maps.Keys(m.marked))
}

// LoadPage sets page idx to data, as when restoring a snapshot. data shorter
// than PageSize is zero-padded; an all-zero page allocates nothing. Loading
// is not a change: it is not reported by Changed or LastChanged. It fails
// inside a message, for a page past the end, or for more than PageSize bytes.
func (m *Memory) LoadPage(idx uint64, data []byte) error {
	switch {
	case m.inMessage:
		return fmt.Errorf("load stable page %d: a message is open; load before Begin or after Commit", idx)
	case idx >= m.size:
		return fmt.Errorf("load stable page %d: past the end of %d pages", idx, m.size)
	case len(data) > PageSize:
		return fmt.Errorf("load stable page %d: %d bytes, more than a page of %d", idx, len(data), PageSize)
	}
	if isZeroBytes(data) {
		delete(m.pages, idx)
		return nil
	}
	p := m.pages[idx]
	if p == nil {
		p = m.newPage()
	}
	clear(p[copy(p[:], data):])
	m.pages[idx] = p
	return nil
}

// Page returns the contents of page idx, or nil when the page is zero. The
// slice aliases the memory: it is valid until the next Write, and callers
// must not modify it. The error is that of reading a backed page.
func (m *Memory) Page(idx uint64) ([]byte, error) {
	if idx >= m.size {
		return nil, nil
	}
	p, err := m.fault(idx)
	if p == nil || err != nil {
		return nil, err
	}
	return p[:], nil
}

// Indices returns, in increasing order, the pages that may hold data: every
// page in memory and every backed page. A page listed may still be zero.
func (m *Memory) Indices() []uint64 {
	set := maps.Clone(m.backed)
	if set == nil {
		set = make(map[uint64]struct{}, len(m.pages))
	}
	for idx := range m.pages {
		set[idx] = struct{}{}
	}
	out := slices.Sorted(maps.Keys(set))
	return slices.DeleteFunc(out, func(idx uint64) bool { return idx >= m.size })
}

// Pages calls yield for every page that is not all zero, in increasing
// index order, until yield returns false, and returns the error of reading
// a backed page. data aliases the memory (no copy): it is valid until the
// next Write and must not be modified.
func (m *Memory) Pages(yield func(idx uint64, data []byte) bool) error {
	for _, idx := range m.Indices() {
		data, err := m.Page(idx)
		if err != nil {
			return err
		}
		if data == nil || isZeroBytes(data) {
			continue
		}
		if !yield(idx, data) {
			return nil
		}
	}
	return nil
}

// isZero reports whether p is nil or all zero.
func isZero(p *page) bool {
	return p == nil || isZeroBytes(p[:])
}

// isZeroBytes reports whether b holds only zero bytes.
func isZeroBytes(b []byte) bool {
	le := binary.LittleEndian
	for len(b) >= 32 {
		if le.Uint64(b)|le.Uint64(b[8:])|le.Uint64(b[16:])|le.Uint64(b[24:]) != 0 {
			return false
		}
		b = b[32:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
