package ic0

import (
	"testing"
)

func TestCosts(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		fn   string
		args []uint64
		want uint64
	}{
		// xnet_call_fee + bytes, the 2 MiB response reservation, the
		// execution of 40 B instructions plus the per-message fee.
		{"cost_call", []uint64{5, 10, 0}, 260_000 + 1_000*15 + 1_000*2_097_152 + 5_000_000 + 40_000_000_000},
		{"cost_create_canister", []uint64{0}, 500_000_000_000},
		{"cost_http_request", []uint64{100, 2000, 0}, (3_000_000+60_000*13)*13 + 400*13*100 + 800*13*2000},
	}
	for _, tt := range tests {
		h.ok(msgIn(Start), tt.fn, tt.args...)
		if got := h.cycles(0); got != CyclesFrom(tt.want) {
			t.Errorf("%s%v = %v, want %d", tt.fn, tt.args, got, tt.want)
		}
	}
	// In wasm64 mode instructions cost twice as much: so does the
	// callback's reservation.
	h.host.SetWasm64(true)
	h.ok(msgIn(Start), "cost_call", 5, 10, 0)
	if got, want := h.cycles(0), CyclesFrom(260_000+1_000*15+1_000*2_097_152+5_000_000+80_000_000_000); got != want {
		t.Errorf("wasm64 cost_call = %v, want %v", got, want)
	}
	h.host.SetWasm64(false)
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.cost_create_canister heap", "cost_create_canister", heapEnd-15)
}

func TestThresholdCosts(t *testing.T) {
	h := newHarness(t)
	h.write(100, []byte("key_1test_key_1other"))
	tests := []struct {
		fn       string
		src, len uint64
		curve    uint64
		code     uint64
		fee      uint64
	}{
		{"cost_sign_with_ecdsa", 100, 5, 0, costSuccess, thresholdKeyFee},
		{"cost_sign_with_ecdsa", 105, 10, 0, costSuccess, thresholdTestKeyFee},
		{"cost_sign_with_ecdsa", 100, 5, 1, costUnknownCurve, 0},
		{"cost_sign_with_ecdsa", 115, 5, 0, costUnknownKey, 0},
		{"cost_sign_with_schnorr", 100, 5, 1, costSuccess, thresholdKeyFee},
		{"cost_sign_with_schnorr", 100, 5, 2, costUnknownCurve, 0},
		{"cost_vetkd_derive_key", 105, 10, 0, costSuccess, thresholdTestKeyFee},
		{"cost_vetkd_derive_key", 100, 5, 1, costUnknownCurve, 0},
	}
	for _, tt := range tests {
		h.write(0, make([]byte, 16))
		got := h.ok(msgIn(Update), tt.fn, tt.src, tt.len, tt.curve, 0)
		if got[0] != tt.code || h.cycles(0) != CyclesFrom(tt.fee) {
			t.Errorf("%s(%q, curve %d) = %d with fee %v; want %d, %d",
				tt.fn, h.read(uint32(tt.src), uint32(tt.len)), tt.curve, got[0], h.cycles(0), tt.code, tt.fee)
		}
	}
	h.trap(msgIn(Update), CodeCanisterContractViolation, "ic0.cost_sign_with_ecdsa key_name", "cost_sign_with_ecdsa", heapEnd, 1, 0, 0)
}
