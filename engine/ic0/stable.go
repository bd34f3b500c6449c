package ic0

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/stable"
)

// The stable memory calls work directly between the heap view wazero gives
// (no copy) and the stable pages: one copy per byte, like the replica. The
// order of charges and checks is the replica's wasm-native stable memory
// (rs/embedders/src/wasm_utils/system_api_replacements.rs): charge the
// overhead plus one instruction per byte, return for size 0 (except that
// the 32-bit stable_write checks bounds first), the 32-bit API's 4 GiB
// check, stable memory bounds, the heap address checks of the 64-bit API,
// the page limits and dirty page charge (pages.go), and the copy, whose
// heap bounds are memory.copy's.

// stableOverhead is overhead_native::STABLE*_READ/WRITE, charged with the
// size (the table's Overhead for these functions says the same).
const stableOverhead = 20

// maxHeapAddress is the largest heap address a 64-bit call may pass on a
// wasm32 heap (u32::MAX in system_api_replacements.rs).
const maxHeapAddress = 1<<32 - 1

// check32 traps when the 32-bit API is used on a memory above 4 GiB.
func (h *Host) check32() {
	if h.state.Stable.Size() > stable.Pages32 {
		panic(Trapped(ReasonStableTooBigFor32))
	}
}

// checkStable traps unless [off, off+size) lies in stable memory; size > 0.
func (h *Host) checkStable(off, size uint64) {
	if off+size <= off || off+size > h.state.Stable.Bytes() {
		panic(Trapped(ReasonStableOutOfBounds))
	}
}

// check64 is the 64-bit API's heap address check (max_heap_address).
func check64(at, size uint64) {
	if at > maxHeapAddress || size > maxHeapAddress {
		panic(Trapped(ReasonHeapOutOfBounds))
	}
}

// heapView returns heap bytes [at, at+size), trapping as memory.copy does
// when they are not all in the heap.
func heapView(mod api.Module, at, size uint64) []byte {
	mem := heap(mod)
	if at+size < at || at+size > memSize(mem) {
		panic(Trapped(ReasonHeapOutOfBounds))
	}
	view, _ := mem.Read(uint32(at), uint32(size))
	return view
}

// stableRead copies size > 0 bytes at stable offset off, checked, to heap dst.
func (h *Host) stableRead(mod api.Module, dst, off, size uint64) {
	h.touchStable(off, size, false)
	if err := h.state.Stable.Read(heapView(mod, dst, size), off); err != nil {
		panic(fmt.Errorf("ic0.stable_read: %w", err)) // not the canister's fault: bounds were checked
	}
}

// stableWrite copies size > 0 bytes from heap src to stable offset off,
// checked.
func (h *Host) stableWrite(mod api.Module, off, src, size uint64) {
	h.touchStable(off, size, true)
	if err := h.state.Stable.Write(off, heapView(mod, src, size)); err != nil {
		panic(fmt.Errorf("ic0.stable_write: %w", err)) // not the canister's fault: bounds were checked
	}
}

// stable64Size: stable64_size() -> i64 pages.
func (h *Host) stable64Size(_ api.Module, s []uint64) {
	s[0] = h.state.Stable.Size()
}

// stable64Grow: stable64_grow(pages) -> i64, the old size or -1 when the
// memory cannot grow that far.
func (h *Host) stable64Grow(_ api.Module, s []uint64) {
	old, ok := h.state.Stable.Grow(s[0])
	if !ok {
		s[0] = ^uint64(0)
		return
	}
	s[0] = old
}

// stable64Write: stable64_write(offset, src, size).
func (h *Host) stable64Write(mod api.Module, s []uint64) {
	off, src, size := s[0], s[1], s[2]
	h.charge(stableOverhead + size)
	if size == 0 {
		return
	}
	h.checkStable(off, size)
	check64(src, size)
	h.stableWrite(mod, off, src, size)
}

// stable64Read: stable64_read(dst, offset, size).
func (h *Host) stable64Read(mod api.Module, s []uint64) {
	dst, off, size := s[0], s[1], s[2]
	h.charge(stableOverhead + size)
	if size == 0 {
		return
	}
	h.checkStable(off, size)
	check64(dst, size)
	h.stableRead(mod, dst, off, size)
}

// stableSize: stable_size() -> i32; traps above 4 GiB.
func (h *Host) stableSize(_ api.Module, s []uint64) {
	h.check32()
	s[0] = h.state.Stable.Size()
}

// stableGrow: stable_grow(pages) -> i32, the old size or -1 when the result
// would pass 4 GiB or the maximum; traps when already above 4 GiB.
func (h *Host) stableGrow(_ api.Module, s []uint64) {
	h.check32()
	n := uint64(uint32(s[0]))
	if h.state.Stable.Size()+n > stable.Pages32 {
		s[0] = uint64(uint32(0xFFFF_FFFF))
		return
	}
	old, ok := h.state.Stable.Grow(n)
	if !ok {
		s[0] = uint64(uint32(0xFFFF_FFFF))
		return
	}
	s[0] = old
}

// stableWrite32: stable_write(offset, src, size); traps above 4 GiB. Unlike
// the other calls it checks the bounds before returning for size 0.
func (h *Host) stableWrite32(mod api.Module, s []uint64) {
	off, src, size := uint64(uint32(s[0])), uint64(uint32(s[1])), uint64(uint32(s[2]))
	h.charge(stableOverhead + size)
	h.check32()
	if off+size > h.state.Stable.Bytes() {
		panic(Trapped(ReasonStableOutOfBounds))
	}
	if size == 0 {
		return
	}
	h.stableWrite(mod, off, src, size)
}

// stableRead32: stable_read(dst, offset, size); traps above 4 GiB.
func (h *Host) stableRead32(mod api.Module, s []uint64) {
	dst, off, size := uint64(uint32(s[0])), uint64(uint32(s[1])), uint64(uint32(s[2]))
	h.charge(stableOverhead + size)
	if size == 0 {
		return
	}
	h.check32()
	h.checkStable(off, size)
	h.stableRead(mod, dst, off, size)
}
