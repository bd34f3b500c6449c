package ic0

import (
	"fmt"
	"math/bits"

	"github.com/canscope/canscope/engine/meter"
)

// The replica counts the 4 KiB stable memory pages each execution touches
// in a bytemap beside the stable memory and traps when an execution would
// access or modify more than its limit (rs/embedders/src/wasm_utils/
// system_api_replacements.rs: count_clean_pages, the accessed_pages and
// dirty_pages counter globals, set per execution from the
// StableMemoryPageLimit that rs/system_api's get_page_limit picks for the
// ApiType). A read marks pages accessed; a write marks them accessed and
// dirty and charges dirty_page_overhead for every page it dirties first.
//
// pageSet is that bytemap, sparse: stable memory reaches 500 GiB (131M
// pages) while an execution touches at most a few GiB.

// pagesPerChunk is the pages one bitmap chunk covers (16 MiB of memory).
const pagesPerChunk = 4096

type chunk [pagesPerChunk / 64]uint64

// pageSet is a sparse set of 4 KiB page indices.
type pageSet struct {
	chunks map[uint64]*chunk
	n      uint64
}

// countMissing returns how many pages of [first, last] are not in s.
func (s *pageSet) countMissing(first, last uint64) uint64 {
	var have uint64
	for c := first / pagesPerChunk; c <= last/pagesPerChunk; c++ {
		ch := s.chunks[c]
		if ch == nil {
			continue
		}
		lo, hi := max(first, c*pagesPerChunk)-c*pagesPerChunk, min(last, c*pagesPerChunk+pagesPerChunk-1)-c*pagesPerChunk
		for w := lo / 64; w <= hi/64; w++ {
			mask := ^uint64(0)
			if w == lo/64 {
				mask &= ^uint64(0) << (lo % 64)
			}
			if w == hi/64 {
				mask &= ^uint64(0) >> (63 - hi%64)
			}
			have += uint64(bits.OnesCount64(ch[w] & mask))
		}
	}
	return last - first + 1 - have
}

// add puts pages [first, last] in s.
func (s *pageSet) add(first, last uint64) {
	if s.chunks == nil {
		s.chunks = make(map[uint64]*chunk)
	}
	for p := first; p <= last; p++ {
		c := p / pagesPerChunk
		ch := s.chunks[c]
		if ch == nil {
			ch = new(chunk)
			s.chunks[c] = ch
		}
		i := p % pagesPerChunk
		if ch[i/64]&(1<<(i%64)) == 0 {
			ch[i/64] |= 1 << (i % 64)
			s.n++
		}
	}
}

// reset empties s, keeping small maps for reuse.
func (s *pageSet) reset() {
	if len(s.chunks) > 64 {
		s.chunks = nil
	} else {
		clear(s.chunks)
	}
	s.n = 0
}

// pageUse is the stable memory use of the running execution.
type pageUse struct {
	accessed, dirty         pageSet
	accessLimit, dirtyLimit uint64
	bytesWritten, bytesRead uint64
}

// StableUse reports what an execution did to stable memory, for the
// headroom report.
type StableUse struct {
	// AccessedPages and DirtyPages count the 4 KiB pages the execution
	// read or wrote, and wrote; AccessLimit and DirtyLimit are its limits.
	AccessedPages, DirtyPages uint64
	AccessLimit, DirtyLimit   uint64
	// BytesWritten and BytesRead sum the sizes of the stable writes and
	// reads (32- and 64-bit calls).
	BytesWritten, BytesRead uint64
}

// pageLimit returns the limit of context c (get_page_limit in
// rs/system_api/src/lib.rs): ApiType::Init (init and post_upgrade) and
// PreUpgrade take the upgrade limit; queries, composite queries, their
// callbacks and inspect_message the query limit; everything else,
// including the start function, the message limit.
func pageLimit(l meter.PageLimit, c Context) uint64 {
	switch c {
	case Init, PreUpgrade, PostUpgrade:
		return l.Upgrade
	case ReplicatedQuery, NonReplicatedQuery, CompositeQuery, InspectMessage,
		CompositeReplyCallback, CompositeRejectCallback, CompositeCleanup:
		return l.Query
	}
	return l.Message
}

// kib renders a page count as the replica does in its limit texts.
func kib(pages uint64) uint64 { return pages * (meter.OSPageSize / 1024) }

// The replica's MemoryAccessLimitExceeded texts
// (rs/embedders/src/wasmtime_embedder/linker.rs, internal_trap for
// InternalErrorCode::MemoryWriteLimitExceeded and MemoryAccessLimitExceeded).
func dirtyLimitText(l meter.PageLimit) string {
	return fmt.Sprintf("Exceeded the limit for the number of modified pages in the stable memory in a single execution: limit %d KB for regular messages, %d KB for upgrade messages and %d KB for queries.",
		kib(l.Message), kib(l.Upgrade), kib(l.Query))
}

func accessLimitText(l meter.PageLimit) string {
	return fmt.Sprintf("Exceeded the limit for the number of accessed pages in the stable memory in a single message execution: limit %d KB for regular messages and %d KB for queries.",
		kib(l.Message), kib(l.Query))
}

// touchStable accounts an in-bounds stable access of size > 0 bytes at off
// (system_api_replacements.rs): the accessed-page limit is checked first,
// then for writes the dirty-page limit, and each page a write dirties
// first is charged dirty_page_overhead.
func (h *Host) touchStable(off, size uint64, write bool) {
	first, last := off/meter.OSPageSize, (off+size-1)/meter.OSPageSize
	u := &h.pages
	newAccessed := u.accessed.countMissing(first, last)
	if newAccessed > u.accessLimit-u.accessed.n {
		panic(MemoryAccessLimit(accessLimitText(h.limits.StableAccessedPages)))
	}
	if !write {
		u.accessed.add(first, last)
		u.bytesRead += size
		return
	}
	newDirty := u.dirty.countMissing(first, last)
	if newDirty > u.dirtyLimit-u.dirty.n {
		panic(MemoryAccessLimit(dirtyLimitText(h.limits.StableDirtyPages)))
	}
	h.charge(newDirty * meter.Charge(h.limits.DirtyPageOverhead))
	u.accessed.add(first, last)
	u.dirty.add(first, last)
	u.bytesWritten += size
}

// StableUse returns the stable memory use of the current (or last)
// execution.
func (h *Host) StableUse() StableUse {
	u := &h.pages
	return StableUse{AccessedPages: u.accessed.n, DirtyPages: u.dirty.n, AccessLimit: u.accessLimit,
		DirtyLimit: u.dirtyLimit, BytesWritten: u.bytesWritten, BytesRead: u.bytesRead}
}

// SetLimits sets the page limits and the dirty page overhead the host
// applies (zero fields take meter.DefaultLimits).
func (h *Host) SetLimits(l meter.Limits) { h.limits = l.WithDefaults() }
