package ic0

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/canscope/canscope/engine/meter"
)

// This file holds the cycles fees the ic0.cost_* calls report and
// call_perform withdraws; the instructions a canister is charged live in
// engine/meter/costs.go.

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

	// rs/config/src/subnet_config.rs, CyclesAccountManagerConfig::
	// application_subnet: update_message_execution_fee and
	// ten_update_instructions_execution_fee (10 cycles per 10
	// instructions) and ten_update_instructions_execution_fee_wasm64
	// (WASM64_INSTRUCTION_COST_OVERHEAD = 2 times that).
	updateMessageExecutionFee    = 5_000_000
	tenUpdateInstructionsFee     = 10
	wasm64InstructionOverhead    = 2
	maxInterCanisterPayloadBytes = 2 * 1024 * 1024 // MAX_INTER_CANISTER_PAYLOAD_IN_BYTES
	// rejectCodeBytes is size_of::<RejectCode>(): a reject response's
	// size is it plus the message (RejectContext::size_bytes).
	rejectCodeBytes = 1
)

// CallFees are the cycles call_perform withdraws for a call, as the
// replica's CyclesAccountManager::withdraw_request_cycles
// (rs/cycles_account_manager/src/lib.rs): the transmission fee
// (xnet_call_fee + xnet_byte_transmission_fee per byte of method name and
// argument, rs/system_api into_request) and two reservations made because
// the response is not known yet — the transmission of the largest response
// (prepayment_for_response_transmission, MAX_INTER_CANISTER_PAYLOAD_IN_BYTES
// bytes) and the execution of the longest callback
// (prepayment_for_response_execution: the execution cost of
// max_instructions_per_message). The unused part of the reservations comes
// back when the response arrives and its callback has run.
type CallFees struct {
	Transmission         Cycles
	ResponseTransmission Cycles
	ResponseExecution    Cycles
	// wasm64: the caller runs in wasm64 mode, where instructions cost
	// more (WasmExecutionMode).
	wasm64 bool
}

// callFees returns the fees of a call whose method name and argument
// are requestBytes long, made by a canister in wasm64 mode or not.
func callFees(requestBytes uint64, wasm64 bool) CallFees {
	return CallFees{
		Transmission:         CyclesFrom(xnetCallFee + xnetByteFee*requestBytes),
		ResponseTransmission: CyclesFrom(xnetByteFee * maxInterCanisterPayloadBytes),
		ResponseExecution:    CyclesFrom(executionCost(meter.UpdateLimit, wasm64)),
		wasm64:               wasm64,
	}
}

// executionCost is CyclesAccountManager::execution_cost of n instructions
// on a 13-node subnet (scale factor 1).
func executionCost(n uint64, wasm64 bool) uint64 {
	fee := uint64(tenUpdateInstructionsFee)
	if wasm64 {
		fee *= wasm64InstructionOverhead
	}
	return updateMessageExecutionFee + fee*n/10
}

// Total is what call_perform needs: all of it is withdrawn at once.
func (f CallFees) Total() Cycles {
	return f.Transmission.Add(f.ResponseTransmission).Add(f.ResponseExecution)
}

// ResponseBytes is the size the replica charges a response's transmission
// for (Payload::size_bytes): the reply's payload, or a reject's code and
// message.
func ResponseBytes(reject bool, payload []byte, message string) uint64 {
	if reject {
		return rejectCodeBytes + uint64(len(message))
	}
	return uint64(len(payload))
}

// TransmissionRefund is what comes back of the response transmission
// reservation when a response of n bytes arrives
// (refund_for_response_transmission).
func (f CallFees) TransmissionRefund(n uint64) Cycles {
	return f.ResponseTransmission.Sub(CyclesFrom(xnetByteFee * n).Min(f.ResponseTransmission))
}

// ExecutionRefund is what comes back of the execution reservation after
// the response's callback (and cleanup) ran n instructions
// (refund_unused_execution_cycles: the instructions left of the
// reservation's max_instructions_per_message, the per-message fee kept).
func (f CallFees) ExecutionRefund(n uint64) Cycles {
	return f.ResponseExecution.Sub(CyclesFrom(executionCost(n, f.wasm64)).Min(f.ResponseExecution))
}

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

// costCall: cost_call(method_name_size, payload_size, dst) writes what
// call_perform needs for such a call: the transmission fee and both
// reservations (xnet_call_total_fee, rs/system_api ic0_cost_call).
func (h *Host) costCall(mod api.Module, s []uint64) {
	writeCycles(mod, "cost_call", uint32(s[2]), callFees(s[0]+s[1], h.wasm64).Total())
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
