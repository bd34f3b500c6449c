package ic0

import (
	"github.com/tetratelabs/wazero/api"
)

// Reply size limits (replica MAX_INTER_CANISTER_PAYLOAD_IN_BYTES and the
// larger limit for non-replicated queries).
const (
	maxReplySize      = 2 << 20
	maxQueryReplySize = 3 << 20
)

// msgArgDataSize: msg_arg_data_size() -> i32, the argument's length.
func (h *Host) msgArgDataSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.msg.Arg))
}

// msgArgDataCopy: msg_arg_data_copy(dst, offset, size) copies
// Arg[offset:offset+size] to heap[dst:]. Traps (IC0504) when either range is
// out of bounds.
func (h *Host) msgArgDataCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "msg_arg_data_copy", "payload", dst, off, size, h.msg.Arg)
}

// msgCallerSize: msg_caller_size() -> i32.
func (h *Host) msgCallerSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.msg.caller(h.env)))
}

// msgCallerCopy: msg_caller_copy(dst, offset, size).
func (h *Host) msgCallerCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "msg_caller_copy", "id", dst, off, size, h.msg.caller(h.env))
}

// msgEmptySize serves msg_caller_info_{data,signer}_size() -> i32: canscope
// executes calls without caller info, so both are empty.
func (h *Host) msgEmptySize(_ api.Module, s []uint64) {
	s[0] = 0
}

// msgCallerInfoDataCopy: msg_caller_info_data_copy(dst, offset, size) over
// the empty caller info.
func (h *Host) msgCallerInfoDataCopy(mod api.Module, s []uint64) {
	h.charge(uint64(uint32(s[2])))
	copyOut(mod, "msg_caller_info_data_copy", "data", uint32(s[0]), uint32(s[1]), uint32(s[2]), nil)
}

// msgCallerInfoSignerCopy: msg_caller_info_signer_copy(dst, offset, size)
// over the empty signer.
func (h *Host) msgCallerInfoSignerCopy(mod api.Module, s []uint64) {
	h.charge(uint64(uint32(s[2])))
	copyOut(mod, "msg_caller_info_signer_copy", "signer", uint32(s[0]), uint32(s[1]), uint32(s[2]), nil)
}

// msgRejectCode: msg_reject_code() -> i32, 0 in a reply callback.
func (h *Host) msgRejectCode(_ api.Module, s []uint64) {
	switch h.msg.Context {
	case RejectCallback, CompositeRejectCallback, Cleanup, CompositeCleanup:
		s[0] = uint64(h.msg.RejectCode)
	default:
		s[0] = 0
	}
}

// msgRejectMsgSize: msg_reject_msg_size() -> i32.
func (h *Host) msgRejectMsgSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.msg.RejectMessage))
}

// msgRejectMsgCopy: msg_reject_msg_copy(dst, offset, size).
func (h *Host) msgRejectMsgCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "msg_reject_msg_copy", "msg", dst, off, size, []byte(h.msg.RejectMessage))
}

// msgDeadline: msg_deadline() -> i64, 0 for guaranteed-response calls.
func (h *Host) msgDeadline(_ api.Module, s []uint64) {
	s[0] = h.msg.Deadline
}

// checkNotResponded traps when the message already replied or rejected.
func (h *Host) checkNotResponded(name string) {
	if h.msg.Replied || h.msg.Rejected {
		panic(ContractViolation("ic0.%s: the call is already replied", name))
	}
}

// msgReplyDataAppend: msg_reply_data_append(src, size) appends heap bytes to
// the reply. Traps after a reply or reject, and past the reply size limit.
func (h *Host) msgReplyDataAppend(mod api.Module, s []uint64) {
	src, size := uint32(s[0]), uint32(s[1])
	h.charge(byteTransmissionCost * uint64(size))
	h.checkNotResponded("msg_reply_data_append")
	data := readHeap(mod, "msg_reply_data_append", "", src, size)
	limit := maxReplySize
	if !h.msg.Context.Replicated() {
		limit = maxQueryReplySize
	}
	if total := len(h.msg.Reply) + len(data); total > limit {
		panic(ContractViolation("ic0.msg_reply_data_append: application payload size (%d) cannot be larger than %d.", total, limit))
	}
	h.msg.Reply = append(h.msg.Reply, data...)
}

// msgReply: msg_reply() sends the assembled reply. Traps after a reply or
// reject.
func (h *Host) msgReply(_ api.Module, _ []uint64) {
	h.checkNotResponded("msg_reply")
	h.msg.Replied = true
	if h.msg.Reply == nil {
		h.msg.Reply = []byte{}
	}
}

// msgReject: msg_reject(src, size) rejects the call with the heap text.
// Traps after a reply or reject.
func (h *Host) msgReject(mod api.Module, s []uint64) {
	src, size := uint32(s[0]), uint32(s[1])
	h.charge(byteTransmissionCost * uint64(size))
	h.checkNotResponded("msg_reject")
	text := readHeap(mod, "msg_reject", "", src, size)
	h.msg.Rejected = true
	h.msg.Rejection = string(text)
	h.msg.Reply = nil
}

// msgMethodNameSize: msg_method_name_size() -> i32 (inspect_message).
func (h *Host) msgMethodNameSize(_ api.Module, s []uint64) {
	s[0] = uint64(len(h.msg.Method))
}

// msgMethodNameCopy: msg_method_name_copy(dst, offset, size).
func (h *Host) msgMethodNameCopy(mod api.Module, s []uint64) {
	dst, off, size := uint32(s[0]), uint32(s[1]), uint32(s[2])
	h.charge(uint64(size))
	copyOut(mod, "msg_method_name_copy", "name", dst, off, size, []byte(h.msg.Method))
}

// acceptMessage: accept_message() accepts the ingress message in
// inspect_message; a second call traps.
func (h *Host) acceptMessage(_ api.Module, _ []uint64) {
	if h.msg.Accepted {
		panic(ContractViolation("ic0.accept_message: the function was already called."))
	}
	h.msg.Accepted = true
}
