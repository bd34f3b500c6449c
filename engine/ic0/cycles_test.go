package ic0

import (
	"encoding/binary"
	"testing"
)

func (h *harness) cycles(off uint32) Cycles {
	b := h.read(off, 16)
	return Cycles{Low: binary.LittleEndian.Uint64(b), High: binary.LittleEndian.Uint64(b[8:])}
}

func TestBalance(t *testing.T) {
	h := newHarness(t)
	h.state.Cycles = Cycles{High: 1, Low: 5}
	h.ok(msgIn(Update), "canister_cycle_balance128", 8)
	if got := h.cycles(8); got != h.state.Cycles {
		t.Fatalf("balance128 = %v", got)
	}
	h.ok(msgIn(Update), "canister_liquid_cycle_balance128", 32)
	if got := h.cycles(32); got != h.state.Cycles {
		t.Fatalf("liquid balance128 = %v", got)
	}
	h.trap(msgIn(Update), CodeCanisterTrapped, ReasonCyclesTooBigFor64, "canister_cycle_balance")
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.canister_cycle_balance128 heap: src=65530 + length=16", "canister_cycle_balance128", heapEnd-6)

	h.state.Cycles = CyclesFrom(DefaultCycles)
	if got := h.ok(msgIn(Update), "canister_cycle_balance"); got[0] != DefaultCycles {
		t.Fatalf("balance = %d", got[0])
	}
}

func TestAcceptCycles(t *testing.T) {
	h := newHarness(t)
	h.state.Cycles = CyclesFrom(1000)
	msg := &Message{Context: Update, CyclesAvailable: CyclesFrom(300)}
	if got := h.ok(msg, "msg_cycles_available"); got[0] != 300 {
		t.Fatalf("available = %d", got[0])
	}
	if got := h.ok(msg, "msg_cycles_accept", 100); got[0] != 100 {
		t.Fatalf("accepted %d, want 100", got[0])
	}
	h.ok(msg, "msg_cycles_accept128", 0, 1000, 0)
	if got := h.cycles(0); got != CyclesFrom(200) {
		t.Fatalf("accept128 took %v, want the remaining 200", got)
	}
	h.ok(msg, "msg_cycles_available128", 16)
	if got := h.cycles(16); got != (Cycles{}) {
		t.Fatalf("available after accepting all = %v", got)
	}
	if h.state.Cycles != CyclesFrom(1300) || msg.CyclesAccepted != CyclesFrom(300) {
		t.Fatalf("balance %v, accepted %v", h.state.Cycles, msg.CyclesAccepted)
	}
	h.trap(msg, CodeCanisterContractViolation, "heap: src=65535 + length=16", "msg_cycles_accept128", 0, 1, heapEnd-1)
	if msg.CyclesAccepted != CyclesFrom(300) {
		t.Fatal("a trapped accept changed the accepted amount")
	}
}

func TestRefunded(t *testing.T) {
	h := newHarness(t)
	msg := &Message{Context: ReplyCallback, CyclesRefunded: CyclesFrom(42)}
	if got := h.ok(msg, "msg_cycles_refunded"); got[0] != 42 {
		t.Fatalf("refunded = %d", got[0])
	}
	h.ok(msg, "msg_cycles_refunded128", 0)
	if got := h.cycles(0); got != CyclesFrom(42) {
		t.Fatalf("refunded128 = %v", got)
	}
	msg.CyclesRefunded = Cycles{High: 1}
	h.trap(msg, CodeCanisterTrapped, ReasonCyclesTooBigFor64, "msg_cycles_refunded")
}

func TestCyclesBurn(t *testing.T) {
	h := newHarness(t)
	h.state.Cycles = CyclesFrom(500)
	h.ok(msgIn(Update), "cycles_burn128", 0, 200, 0)
	if got := h.cycles(0); got != CyclesFrom(200) || h.state.Cycles != CyclesFrom(300) {
		t.Fatalf("burned %v, balance %v", got, h.state.Cycles)
	}
	h.ok(msgIn(Update), "cycles_burn128", 1, 0, 0) // more than the balance: burns what is there
	if got := h.cycles(0); got != CyclesFrom(300) || h.state.Cycles != (Cycles{}) {
		t.Fatalf("burned %v, balance %v", got, h.state.Cycles)
	}
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.cycles_burn128 heap", "cycles_burn128", 0, 1, heapEnd)
}

func TestMintCycles(t *testing.T) {
	h := newHarness(t)
	want := "ic0.mint_cycles128 cannot be executed on non Cycles Minting Canister: rrkah-fqaaa-aaaaa-aaaaq-cai != rkp4c-7iaaa-aaaaa-aaaca-cai."
	h.trap(msgIn(Update), CodeCanisterContractViolation, want, "mint_cycles128", 0, 1, 0)
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.mint_cycles cannot be executed", "mint_cycles", 1)

	h.env.CyclesMinting = true
	h.state.Cycles = Cycles{}
	if got := h.ok(msgIn(Update), "mint_cycles", 7); got[0] != 7 {
		t.Fatalf("mint_cycles = %d", got[0])
	}
	h.ok(msgIn(Update), "mint_cycles128", 1, 0, 0)
	if got := h.cycles(0); got != (Cycles{High: 1}) || h.state.Cycles != (Cycles{High: 1, Low: 7}) {
		t.Fatalf("minted %v, balance %v", got, h.state.Cycles)
	}
	// The balance saturates at 2^128-1 and reports what it could add.
	h.state.Cycles = Cycles{High: ^uint64(0), Low: ^uint64(0) - 2}
	h.ok(msgIn(Update), "mint_cycles128", 0, 10, 0)
	if got := h.cycles(0); got != CyclesFrom(2) {
		t.Fatalf("minted %v at the top of the range, want 2", got)
	}
}

func TestCyclesArithmetic(t *testing.T) {
	max := Cycles{High: ^uint64(0), Low: ^uint64(0)}
	tests := []struct {
		name string
		got  Cycles
		want Cycles
	}{
		{"add carry", Cycles{Low: ^uint64(0)}.Add(CyclesFrom(1)), Cycles{High: 1}},
		{"add saturates", max.Add(CyclesFrom(1)), max},
		{"sub borrow", Cycles{High: 1}.Sub(CyclesFrom(1)), Cycles{Low: ^uint64(0)}},
		{"sub saturates", CyclesFrom(1).Sub(CyclesFrom(2)), Cycles{}},
		{"min", Cycles{High: 1}.Min(CyclesFrom(9)), CyclesFrom(9)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if s := (Cycles{High: 1}).String(); s != "18446744073709551616" {
		t.Errorf("String = %s", s)
	}
	if (Cycles{High: 1}).Uint64() != ^uint64(0) || CyclesFrom(5).Uint64() != 5 {
		t.Error("Uint64 does not cap")
	}
}
