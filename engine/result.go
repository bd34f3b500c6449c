package engine

import (
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine/ic0"
)

// Status is how a message ended.
type Status uint8

// The ways a message ends.
const (
	// StatusOK: the message completed; its state changes are kept (except
	// for queries, whose changes are always discarded).
	StatusOK Status = iota
	// StatusTrapped: the message trapped; every state change was rolled back.
	StatusTrapped
	// StatusRejected: the message did not run to a reply (the canister
	// called msg_reject, or the method does not exist, or the canister has
	// no module).
	StatusRejected
	// StatusAwaiting: the message made calls that nothing answered
	// (Result.Awaiting of them); its callbacks have not run, so its
	// outcome is not known yet. The changes made so far are kept.
	StatusAwaiting
)

// String returns "ok", "trapped", "rejected" or "awaiting", the CLI's
// JSON values.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusTrapped:
		return "trapped"
	case StatusRejected:
		return "rejected"
	case StatusAwaiting:
		return "awaiting"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText encodes the status as its String.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Error codes the engine reports besides the ones ic0 raises in traps.
const (
	// CodeCanisterRejected: the canister called ic0.msg_reject.
	CodeCanisterRejected ic0.ErrorCode = "IC0406"
	// CodeMethodNotFound: the module exports no such method.
	CodeMethodNotFound ic0.ErrorCode = "IC0536"
	// CodeModuleNotFound: the canister has no module installed.
	CodeModuleNotFound ic0.ErrorCode = "IC0537"
	// CodeDidNotReply: an update or query returned without replying.
	CodeDidNotReply ic0.ErrorCode = "IC0506"
	// CodeCompositeQueryCalledInReplicatedMode: a composite query was
	// called in replicated mode (by an update, a timer or a heartbeat).
	CodeCompositeQueryCalledInReplicatedMode ic0.ErrorCode = "IC0527"
)

// Trap describes why a message trapped.
type Trap struct {
	// Code is the replica's error code: IC0502 (wasm or System API trap),
	// IC0503 (ic0.trap), IC0504 (contract violation), IC0522 (out of
	// instructions).
	Code ic0.ErrorCode
	// Reason is the bare cause: the ic0.trap message, or the replica's
	// trap text such as "heap out of bounds".
	Reason string
	// Message is the replica's description of the trap, e.g.
	// "Canister trapped: unreachable".
	Message string
	// Function is the name of the canister function that trapped
	// (Module.FuncLabel: the name-section name demangled, "func[N]" and
	// its export name without one). A trap raised inside a System API call
	// names the canister function that made the call.
	Function string
	// RawFunction is Function's name-section name as stored (mangled);
	// "" without one.
	RawFunction string
	// FunctionIndex is Function's index in the module's function space.
	FunctionIndex uint32
	// Offset is the byte offset of Function's body in the module.
	Offset uint64
	// Backtrace lists the canister functions on the stack, innermost
	// first, demangled, as the replica's "Canister Backtrace" does.
	Backtrace []string
	// Suggestion and DocSection are the replica's help for this error when
	// the code alone does not decide it (contract violations, slice
	// overruns); empty otherwise.
	Suggestion, DocSection string
}

// Result is the outcome of one message or lifecycle operation.
type Result struct {
	Status Status
	// Reply is the reply payload (msg_reply_data_append) when Status is
	// StatusOK and the method replied.
	Reply []byte
	// Code and RejectMessage describe a rejection (Status == StatusRejected).
	Code          ic0.ErrorCode
	RejectMessage string
	// Trap is set when Status is StatusTrapped.
	Trap *Trap
	// Instructions is the number of instructions the message used, as
	// counted by the metering rewrite and the System API charges.
	Instructions uint64
	// Phases splits Instructions by the executions that made up the
	// operation, in order: e.g. pre_upgrade, start, post_upgrade for an
	// upgrade, whose limit covers them together. A phase that trapped is
	// the last one listed.
	Phases []Phase
	// Limit is the message's instruction limit; 0 when metering is off.
	Limit uint64
	// HeapPagesChanged lists the 4 KiB heap pages the message wrote and
	// kept (a page rewritten with the bytes it held may count); empty
	// after a trap or a query.
	HeapPagesChanged []uint32
	// HeapSizeBefore and HeapSizeAfter are the committed heap sizes in
	// bytes around the message.
	HeapSizeBefore, HeapSizeAfter uint64
	// StablePagesChanged lists the 64 KiB stable memory pages the message
	// changed and kept.
	StablePagesChanged []uint64
	// DebugPrints holds the ic0.debug_print messages in order; they are
	// kept even when the message trapped, as the replica logs them.
	DebugPrints []string
	// Calls holds the inter-canister calls the message made; canscope
	// does not execute them (each completed with a reject).
	Calls []ic0.OutgoingCall
	// CallOutcomes says, for each of Calls in order, what answered it and
	// how its callbacks ran; nil when the message ran without Calls (each
	// call failed at once). Awaiting counts the calls held unanswered.
	CallOutcomes []CallOutcome
	Awaiting     int
	// CertificateRead: the message read a data certificate (made by
	// ic0.Env.Certify: signed with a local key, not the IC's).
	CertificateRead bool
	// Cycles is set when the message came with cycles attached: what the
	// canister accepted and what went back to the caller.
	Cycles *CyclesUse
	// CallFees is set when the message's calls paid fees (ic0.CallFees):
	// withdrawn at call_perform, the unused reservations refunded with the
	// responses.
	CallFees *CallFeesUse
	// graphCharged: a composite query graph's budget already counts the
	// message's first execution (answerCalls).
	graphCharged bool
	// Limits lists every limit of the replica the operation is subject to
	// with what it used (names LimitInstructions, ...): the headroom
	// report. Stable page use is that of the execution closest to its
	// limit; heap_bytes is the heap left against wasm_memory_limit (limit
	// 0: none); largest_slice_charge is the largest single charge against
	// the slice (absent for queries, which are not sliced).
	Limits []LimitUse
	// StableBytesWritten and StableBytesRead sum the sizes of the stable
	// memory writes and reads of all executions (kept or not).
	StableBytesWritten, StableBytesRead uint64
}

// OfflineCalls returns the calls of Calls that were not really performed
// (ic0.OutgoingCall.Offline): the outcome depended on a failure the IC
// would not have produced, which every output must say.
func (r *Result) OfflineCalls() []ic0.OutgoingCall {
	var out []ic0.OutgoingCall
	for _, c := range r.Calls {
		if c.Offline() {
			out = append(out, c)
		}
	}
	return out
}

// Err returns nil for StatusOK, else an error carrying the replica's full
// error text for the canister with the given textual id.
func (r *Result) Err(canisterID string) error {
	if r.Status == StatusOK {
		return nil
	}
	return &CanisterError{Code: r.code(), Text: r.ErrorText(canisterID)}
}

func (r *Result) code() ic0.ErrorCode {
	if r.Trap != nil {
		return r.Trap.Code
	}
	return r.Code
}

// CanisterError is a trap or rejection as the replica reports it to the
// caller.
type CanisterError struct {
	Code ic0.ErrorCode
	Text string
}

// Error returns "<code>: <text>".
func (e *CanisterError) Error() string { return string(e.Code) + ": " + e.Text }

// docLink returns the replica's documentation link for a section of the
// execution errors page.
func docLink(section string) string {
	return "https://internetcomputer.org/docs/current/references/execution-errors#" + section
}

// help returns the replica's suggestion and documentation section for an
// error code (ErrorHelp in dfinity/ic's hypervisor errors).
func help(code ic0.ErrorCode) (suggestion, section string) {
	const handle = "Consider gracefully handling failures from this canister or altering the canister to handle exceptions."
	switch code {
	case ic0.CodeCanisterTrapped:
		return handle, "trapped"
	case ic0.CodeCanisterCalledTrap:
		return handle, "trapped-explicitly"
	case ic0.CodeInstructionLimitExceeded:
		return "Try optimizing this method to consume fewer instructions or split the work across multiple messages.", "instruction-limit-exceeded"
	case CodeMethodNotFound:
		return "Check that the method being called is exported by the target canister.", "method-not-found"
	case CodeModuleNotFound:
		return "Please install code to this canister before calling it.", "wasm-module-not-found"
	case ic0.CodeMemoryAccessLimitExceeded:
		return "Try optimizing the use of stable memory so that individual messages don't need to access as much stable memory.", "memory-access-limit-exceeded"
	case ic0.CodeWasmMemoryLimitExceeded:
		return "Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory.", "wasm-memory-limit-exceeded"
	}
	return "", ""
}

// ErrorText returns the replica's full error text for a trapped or
// rejected message, as a caller sees it:
//
//	Error from Canister <id>: Canister trapped: unreachable
//	Canister Backtrace:
//	<function>
//	.
//	Consider gracefully handling failures ... See documentation: <link>
//
// A message the canister rejected itself, or did not reply to, yields
// just the reject text, as the replica sends it.
func (r *Result) ErrorText(canisterID string) string {
	if r.Status == StatusOK {
		return ""
	}
	if r.Trap == nil && (r.Code == CodeCanisterRejected || r.Code == CodeDidNotReply ||
		r.Code == CodeQueryCallGraphTooDeep || r.Code == CodeQueryCallGraphTotalInstructionLimitExceeded ||
		r.Code == CodeCompositeQueryCalledInReplicatedMode) {
		return r.RejectMessage
	}
	var desc strings.Builder
	if r.Trap != nil {
		desc.WriteString(r.Trap.Message)
		// Only traps carry a backtrace (HypervisorError::Trapped and
		// CalledTrap); contract violations and limits do not.
		if len(r.Trap.Backtrace) > 0 && (r.Trap.Code == ic0.CodeCanisterTrapped || r.Trap.Code == ic0.CodeCanisterCalledTrap) {
			desc.WriteString("\nCanister Backtrace:\n")
			for _, f := range r.Trap.Backtrace {
				desc.WriteString(f)
				desc.WriteByte('\n')
			}
		}
	} else {
		desc.WriteString(r.RejectMessage)
	}
	suggestion, section := help(r.code())
	if r.Trap != nil && r.Trap.Suggestion != "" {
		suggestion, section = r.Trap.Suggestion, r.Trap.DocSection
	}
	switch {
	case suggestion == "":
		return fmt.Sprintf("Error from Canister %s: %s", canisterID, desc.String())
	case section == "":
		// ErrorHelp::ToolchainError has no documentation link.
		return fmt.Sprintf("Error from Canister %s: %s.\n%s", canisterID, desc.String(), suggestion)
	}
	return fmt.Sprintf("Error from Canister %s: %s.\n%s See documentation: %s",
		canisterID, desc.String(), suggestion, docLink(section))
}

// CyclesUse is what a message did with the cycles attached to it.
type CyclesUse struct {
	Attached, Accepted, Refunded ic0.Cycles
}

// Phase is one execution inside an operation and the instructions it used.
type Phase struct {
	// Name is the entry point without its "canister_" prefix:
	// "pre_upgrade", "start", "post_upgrade", "init", "update inc", ...,
	// or "compile" for the compilation charge of install and upgrade.
	Name         string
	Instructions uint64
	// DirtyHeapPages is the number of 4 KiB heap pages the execution
	// wrote; Instructions includes dirty_page_overhead for each.
	DirtyHeapPages uint64 `json:",omitempty"`
}
