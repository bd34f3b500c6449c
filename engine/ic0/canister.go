package ic0

import (
	"github.com/tetratelabs/wazero/api"
)

// canisterSelfSize: canister_self_size() -> i32.
func (h *Host) canisterSelfSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.env.CanisterID))
}

// canisterSelfCopy: canister_self_copy(dst, offset, size).
func (h *Host) canisterSelfCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "canister_self_copy", "id", dst, off, size, h.env.CanisterID)
}

// canisterStatus: canister_status() -> i32 (1 running, 2 stopping, 3 stopped).
func (h *Host) canisterStatus(_ api.Module, s []uint64) {
	st := h.env.Status
	if st == 0 {
		st = StatusRunning
	}
	s[0] = uint64(st)
}

// canisterVersion: canister_version() -> i64.
func (h *Host) canisterVersion(_ api.Module, s []uint64) {
	s[0] = h.msg.CanisterVersion
}

// subnetSelfSize: subnet_self_size() -> i32.
func (h *Host) subnetSelfSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.env.SubnetID))
}

// subnetSelfCopy: subnet_self_copy(dst, offset, size).
func (h *Host) subnetSelfCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "subnet_self_copy", "id", dst, off, size, h.env.SubnetID)
}
