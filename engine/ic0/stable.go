package ic0

import (
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/stable"
)

// The stable memory calls work directly between the heap view wazero gives
// (no copy) and the stable pages: one copy per byte, like the replica.

// check32 traps when the 32-bit API is used on a memory above 4 GiB.
func (h *Host) check32() {
	if h.state.Stable.Size() > stable.Pages32 {
		panic(Trapped(ReasonStableTooBigFor32))
	}
}

// stableRead copies size bytes from stable offset off to heap dst.
func (h *Host) stableRead(mod api.Module, dst, off, size uint64) {
	if view := h.stableCopy(mod, dst, off, size); view != nil {
		if err := h.state.Stable.Read(view, off); err != nil {
			panic(fmt.Errorf("ic0.stable_read: %w", err)) // not the canister's fault: bounds were checked
		}
	}
}

// stableWrite copies size bytes from heap src to stable offset off.
func (h *Host) stableWrite(mod api.Module, off, src, size uint64) {
	if view := h.stableCopy(mod, src, off, size); view != nil {
		if err := h.state.Stable.Write(off, view); err != nil {
			panic(fmt.Errorf("ic0.stable_write: %w", err)) // not the canister's fault: bounds were checked
		}
	}
}

// stableCopy charges a copy of size bytes between heap offset at and
// stable offset off, traps unless both ranges are in bounds (the heap
// checked first, as the replica does), and returns the heap bytes; nil
// when size is 0.
func (h *Host) stableCopy(mod api.Module, at, off, size uint64) []byte {
	h.charge(size)
	mem := heap(mod)
	if at+size < at || at+size > memSize(mem) {
		panic(Trapped(ReasonHeapOutOfBounds))
	}
	if off+size < off || off+size > h.state.Stable.Bytes() {
		panic(Trapped(ReasonStableOutOfBounds))
	}
	if size == 0 {
		return nil
	}
	view, _ := mem.Read(uint32(at), uint32(size))
	return view
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
	h.stableWrite(mod, s[0], s[1], s[2])
}

// stable64Read: stable64_read(dst, offset, size).
func (h *Host) stable64Read(mod api.Module, s []uint64) {
	h.stableRead(mod, s[0], s[1], s[2])
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

// stableWrite32: stable_write(offset, src, size); traps above 4 GiB.
func (h *Host) stableWrite32(mod api.Module, s []uint64) {
	h.check32()
	h.stableWrite(mod, uint64(uint32(s[0])), uint64(uint32(s[1])), uint64(uint32(s[2])))
}

// stableRead32: stable_read(dst, offset, size); traps above 4 GiB.
func (h *Host) stableRead32(mod api.Module, s []uint64) {
	h.check32()
	h.stableRead(mod, uint64(uint32(s[0])), uint64(uint32(s[1])), uint64(uint32(s[2])))
}
