package ic0

import (
	"github.com/tetratelabs/wazero/api"
)

// This file holds the cycles fees the ic0.cost_* calls report; the
// instructions a canister is charged live in engine/meter/costs.go.

// Fees as the replica's CyclesAccountManager computes them for a 13-node
// application subnet (fees scale with the subnet size; canscope assumes the
// common size, where the scale factor is 1).
const (
	subnetSize          = 13
	xnetCallFee         = 260_000
	xnetByteFee         = 1_000
	canisterCreationFee = 500_000_000_000
	httpBaseFeePerNode  = 3_000_000
	httpNodeFeePerNode  = 60_000
	httpRequestByteFee  = 400
	httpResponseByteFee = 800
	thresholdKeyFee     = 26_153_846_153 // "key_1" (fiduciary subnet)
	thresholdTestKeyFee = 10_000_000_000 // "test_key_1", "dfx_test_key"
)

// Results of the cost_sign_with_* and cost_vetkd_derive_key calls, and the
// curves and algorithms they know.
const (
	costSuccess          = 0
	costUnknownCurve     = 1
	costUnknownKey       = 2
	curveSecp256k1       = 0
	schnorrBIP340        = 0
	schnorrEd25519       = 1
	vetKDCurveBLS12381G2 = 0
)

// writeCost stores a fee at dst as the 128-bit calls do.
func writeCost(mod api.Module, name string, dst uint32, fee uint64) {
	writeCycles(mod, name, dst, CyclesFrom(fee))
}

// costCall: cost_call(method_name_size, payload_size, dst) writes the fee
// of an inter-canister call.
func (h *Host) costCall(mod api.Module, s []uint64) {
	bytes := s[0] + s[1]
	fee := xnetCallFee + xnetByteFee*bytes
	writeCost(mod, "cost_call", uint32(s[2]), fee)
}

// costCreateCanister: cost_create_canister(dst).
func (h *Host) costCreateCanister(mod api.Module, s []uint64) {
	writeCost(mod, "cost_create_canister", uint32(s[0]), canisterCreationFee)
}

// costHTTPRequest: cost_http_request(request_size, max_res_bytes, dst).
func (h *Host) costHTTPRequest(mod api.Module, s []uint64) {
	n := uint64(subnetSize)
	fee := (httpBaseFeePerNode+httpNodeFeePerNode*n)*n + httpRequestByteFee*n*s[0] + httpResponseByteFee*n*s[1]
	writeCost(mod, "cost_http_request", uint32(s[2]), fee)
}

// thresholdCost implements the cost_sign_with_* and cost_vetkd_derive_key
// idiom (src, size, curve, dst) -> i32: read the key name, check the curve
// and the key, and on success write the fee.
func (h *Host) thresholdCost(mod api.Module, s []uint64, name string, curveOK bool) {
	src, size, dst := uint32(s[0]), uint32(s[1]), uint32(s[3])
	h.charge(uint64(size))
	key := readHeap(mod, name, "key_name", src, size)
	if !curveOK {
		s[0] = costUnknownCurve
		return
	}
	var fee uint64
	switch string(key) {
	case "key_1":
		fee = thresholdKeyFee
	case "test_key_1", "dfx_test_key":
		fee = thresholdTestKeyFee
	default:
		s[0] = costUnknownKey
		return
	}
	writeCost(mod, name, dst, fee)
	s[0] = costSuccess
}

// costSignWithECDSA: cost_sign_with_ecdsa(src, size, curve, dst) -> i32.
func (h *Host) costSignWithECDSA(mod api.Module, s []uint64) {
	h.thresholdCost(mod, s, "cost_sign_with_ecdsa", uint32(s[2]) == curveSecp256k1)
}

// costSignWithSchnorr: cost_sign_with_schnorr(src, size, algorithm, dst) -> i32.
func (h *Host) costSignWithSchnorr(mod api.Module, s []uint64) {
	alg := uint32(s[2])
	h.thresholdCost(mod, s, "cost_sign_with_schnorr", alg == schnorrBIP340 || alg == schnorrEd25519)
}

// costVetKDDeriveKey: cost_vetkd_derive_key(src, size, curve, dst) -> i32.
func (h *Host) costVetKDDeriveKey(mod api.Module, s []uint64) {
	h.thresholdCost(mod, s, "cost_vetkd_derive_key", uint32(s[2]) == vetKDCurveBLS12381G2)
}
