package ic0

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/principal"
)

// cyclesMintingCanister is the text id of the only canister allowed to mint.
const cyclesMintingCanister = "rkp4c-7iaaa-aaaaa-aaaca-cai"

// available returns the cycles attached to the call and not yet accepted.
func (h *Host) available() Cycles {
	return h.msg.CyclesAvailable.Sub(h.msg.CyclesAccepted)
}

// accept moves up to max attached cycles into the balance and returns the
// amount moved.
func (h *Host) accept(max Cycles) Cycles {
	n := max.Min(h.available())
	h.msg.CyclesAccepted = h.msg.CyclesAccepted.Add(n)
	h.state.Cycles = h.state.Cycles.Add(n)
	return n
}

// fits64 traps when an amount reported by an old 64-bit call does not fit.
func fits64(c Cycles) uint64 {
	if c.High != 0 {
		panic(Trapped(ReasonCyclesTooBigFor64))
	}
	return c.Low
}

// msgCyclesAvailable128: msg_cycles_available128(dst) writes the cycles
// still available to accept.
func (h *Host) msgCyclesAvailable128(mod api.Module, s []uint64) {
	writeCycles(mod, "msg_cycles_available128", uint32(s[0]), h.available())
}

// msgCyclesRefunded128: msg_cycles_refunded128(dst) writes the refund a
// callback received.
func (h *Host) msgCyclesRefunded128(mod api.Module, s []uint64) {
	writeCycles(mod, "msg_cycles_refunded128", uint32(s[0]), h.msg.CyclesRefunded)
}

// msgCyclesAccept128: msg_cycles_accept128(high, low, dst) accepts up to
// the amount and writes how much it accepted.
func (h *Host) msgCyclesAccept128(mod api.Module, s []uint64) {
	dst := uint32(s[2])
	subslice("msg_cycles_accept128", "heap", uint64(dst), 16, heapSize(mod))
	writeCycles(mod, "msg_cycles_accept128", dst, h.accept(Cycles{High: s[0], Low: s[1]}))
}

// cyclesBurn128: cycles_burn128(high, low, dst) burns up to the amount from
// the balance and writes how much it burned.
func (h *Host) cyclesBurn128(mod api.Module, s []uint64) {
	dst := uint32(s[2])
	subslice("cycles_burn128", "heap", uint64(dst), 16, heapSize(mod))
	n := Cycles{High: s[0], Low: s[1]}.Min(h.state.Cycles)
	h.state.Cycles = h.state.Cycles.Sub(n)
	writeCycles(mod, "cycles_burn128", dst, n)
}

// canisterCycleBalance128 serves canister_cycle_balance128(dst) and
// canister_liquid_cycle_balance128(dst): canscope keeps no reserved cycles
// and no freezing threshold, so the liquid balance is the balance.
func (h *Host) canisterCycleBalance128(mod api.Module, s []uint64) {
	writeCycles(mod, "canister_cycle_balance128", uint32(s[0]), h.state.Cycles)
}

// checkMinting traps unless the canister is the cycles minting canister.
func (h *Host) checkMinting(name string) {
	if !h.env.CyclesMinting {
		panic(ContractViolation("ic0.%s cannot be executed on non Cycles Minting Canister: %s != %s.",
			name, principal.Text(h.env.CanisterID), cyclesMintingCanister))
	}
}

// mintCycles128: mint_cycles128(high, low, dst) adds cycles to the balance
// (cycles minting canister only) and writes the amount added.
func (h *Host) mintCycles128(mod api.Module, s []uint64) {
	h.checkMinting("mint_cycles128")
	subslice("mint_cycles128", "heap", uint64(uint32(s[2])), 16, heapSize(mod))
	writeCycles(mod, "mint_cycles128", uint32(s[2]), h.mint(Cycles{High: s[0], Low: s[1]}))
}

// mintCycles: mint_cycles(amount) -> i64, the 64-bit predecessor; it
// returns the amount added.
func (h *Host) mintCycles(_ api.Module, s []uint64) {
	h.checkMinting("mint_cycles")
	s[0] = h.mint(CyclesFrom(s[0])).Low
}

// mint adds up to n cycles, as many as the 128-bit balance can hold, and
// returns the amount added.
func (h *Host) mint(n Cycles) Cycles {
	before := h.state.Cycles
	h.state.Cycles = before.Add(n)
	return h.state.Cycles.Sub(before)
}

// msgCyclesAvailable: msg_cycles_available() -> i64.
func (h *Host) msgCyclesAvailable(_ api.Module, s []uint64) {
	s[0] = fits64(h.available())
}

// msgCyclesRefunded: msg_cycles_refunded() -> i64.
func (h *Host) msgCyclesRefunded(_ api.Module, s []uint64) {
	s[0] = fits64(h.msg.CyclesRefunded)
}

// msgCyclesAccept: msg_cycles_accept(max) -> i64, the amount accepted.
func (h *Host) msgCyclesAccept(_ api.Module, s []uint64) {
	s[0] = h.accept(CyclesFrom(s[0])).Low
}

// canisterCycleBalance: canister_cycle_balance() -> i64.
func (h *Host) canisterCycleBalance(_ api.Module, s []uint64) {
	s[0] = fits64(h.state.Cycles)
}
