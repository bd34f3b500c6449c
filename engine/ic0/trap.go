package ic0

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorCode is the replica's user-facing error code, e.g. "IC0503".
type ErrorCode string

// The error codes a canister execution can end with.
const (
	// CodeCanisterTrapped: a wasm trap or a System API trap
	// (heap or stable memory out of bounds, the 32-bit stable API).
	CodeCanisterTrapped ErrorCode = "IC0502"
	// CodeCanisterOutOfCycles: the balance cannot cover attached cycles.
	CodeCanisterOutOfCycles ErrorCode = "IC0501"
	// CodeCanisterCalledTrap: the canister called ic0.trap (Rust panics).
	CodeCanisterCalledTrap ErrorCode = "IC0503"
	// CodeCanisterContractViolation: a System API call not allowed in the
	// context, or with arguments that break the interface contract.
	CodeCanisterContractViolation ErrorCode = "IC0504"
	// CodeInstructionLimitExceeded: the message ran out of instructions,
	// or one operation overran a deterministic time slicing slice.
	CodeInstructionLimitExceeded ErrorCode = "IC0522"
	// CodeMemoryAccessLimitExceeded: an execution accessed or modified
	// more stable memory pages than its limit allows.
	CodeMemoryAccessLimitExceeded ErrorCode = "IC0524"
	// CodeWasmMemoryLimitExceeded: the heap grew past wasm_memory_limit.
	CodeWasmMemoryLimitExceeded ErrorCode = "IC0539"
)

// Trap is an execution error raised by a System API call. Host functions
// raise it with panic(*Trap); wazero returns it wrapped in the call's error,
// so errors.As(err, &trap) recovers it.
type Trap struct {
	Code ErrorCode
	// Reason is the bare cause: the ic0.trap message, "stable memory out of
	// bounds", or a contract violation text.
	Reason string
	// Suggestion and DocSection, when set, are the replica's help for this
	// particular error (ErrorHelp), where the error code alone does not
	// decide it: contract violations, slice overruns.
	Suggestion, DocSection string
}

// Error returns the replica's description, the text that follows
// "Error from Canister <id>: " in a reject message.
func (t *Trap) Error() string {
	switch t.Code {
	case CodeCanisterCalledTrap:
		return fmt.Sprintf("Canister called `ic0.trap` with message: '%s'", t.Reason)
	case CodeCanisterTrapped:
		return "Canister trapped: " + t.Reason
	case CodeCanisterContractViolation:
		return "Canister violated contract: " + t.Reason
	case CodeMemoryAccessLimitExceeded:
		return "Canister exceeded memory access limits: " + t.Reason
	}
	return t.Reason
}

// Report returns the full reject message the replica sends for the trap,
// e.g. `IC0503: Error from Canister <id>: Canister called ...`. The
// replica's trailing documentation advice is left out.
func (t *Trap) Report(canisterID string) string {
	return fmt.Sprintf("%s: Error from Canister %s: %s", t.Code, canisterID, t.Error())
}

// The replica's reasons for System API traps (TrapCode display texts).
const (
	ReasonHeapOutOfBounds   = "heap out of bounds"
	ReasonStableOutOfBounds = "stable memory out of bounds"
	ReasonStableTooBigFor32 = "32 bit stable memory api used on a memory larger than 4GB"
	ReasonCyclesTooBigFor64 = "cycles amount exceeds 64-bit representation"
)

// CalledTrap returns the trap of ic0.trap with message msg.
func CalledTrap(msg string) *Trap {
	return &Trap{Code: CodeCanisterCalledTrap, Reason: msg}
}

// Trapped returns a trap with the given reason, e.g. ReasonHeapOutOfBounds.
func Trapped(reason string) *Trap {
	return &Trap{Code: CodeCanisterTrapped, Reason: reason}
}

// ContractViolation returns a trap for a broken System API contract.
func ContractViolation(format string, args ...any) *Trap {
	return &Trap{Code: CodeCanisterContractViolation, Reason: fmt.Sprintf(format, args...)}
}

// InstructionLimit returns the trap of a message that exceeded limit.
func InstructionLimit(limit uint64) *Trap {
	return &Trap{
		Code:   CodeInstructionLimitExceeded,
		Reason: fmt.Sprintf("Canister exceeded the limit of %d instructions for single message execution.", limit),
	}
}

// MemoryAccessLimit returns the trap of an execution over a stable memory
// page limit; reason is the replica's text for the limit.
func MemoryAccessLimit(reason string) *Trap {
	return &Trap{Code: CodeMemoryAccessLimitExceeded, Reason: reason}
}

// SliceOverrun returns the trap of one operation charged more than a
// deterministic time slicing slice can hold (HypervisorError::SliceOverrun
// in rs/interfaces/src/execution_environment/errors.rs, IC0522).
func SliceOverrun(instructions, limit uint64) *Trap {
	return &Trap{Code: CodeInstructionLimitExceeded, Reason: fmt.Sprintf(
		"Canister attempted to perform a large memory operation that used %d instructions and exceeded the slice limit %d.", instructions, limit),
		Suggestion: "Try breaking up large copies within the canister code into smaller chunks.", DocSection: "slice-overrun"}
}

// WasmMemoryLimit returns the trap of a heap of bytes over the canister's
// wasm_memory_limit (HypervisorError::WasmMemoryLimitExceeded, IC0539).
func WasmMemoryLimit(bytes, limit uint64) *Trap {
	return &Trap{Code: CodeWasmMemoryLimitExceeded, Reason: fmt.Sprintf(
		"Canister exceeded its current Wasm memory limit of %d bytes. The peak Wasm memory usage was %d bytes. "+
			"If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. "+
			"Please reach out to the canister owner to investigate the reason for the increased memory usage. "+
			"It might be necessary to move data from the Wasm memory to the stable memory. "+
			"If such high Wasm memory usage is expected and safe, then the developer can increase "+
			"the Wasm memory limit in the canister settings.", limit, bytes)}
}

// notAllowed returns the replica's error for calling fn in context c.
func notAllowed(fn string, c Context) *Trap {
	t := ContractViolation("%q cannot be executed in %s mode", "ic0_"+fn, c)
	// SystemApiImpl::error_for in rs/system_api/src/lib.rs.
	t.Suggestion = "Check the ICP documentation to make sure APIs are being called in the correct message types."
	t.DocSection = "calling-a-system-api-from-the-wrong-mode"
	return t
}

// replicaReason maps a wazero runtime error text to the replica's trap
// reason (TrapCode display). Traps the replica has no code for (integer
// overflow, bad conversions, signature mismatch) display as "unknown";
// texts canscope does not know are kept as they are.
func replicaReason(wazero string) string {
	switch wazero {
	case "out of bounds memory access":
		return ReasonHeapOutOfBounds
	case "integer divide by zero":
		return "integer division by 0"
	case "invalid table access":
		return "table out of bounds"
	case "integer overflow", "invalid conversion to integer", "indirect call type mismatch":
		return "unknown"
	}
	return wazero // "unreachable", "stack overflow" read the same
}

// AsTrap extracts the canister-facing trap from the error of a wasm call:
// a *Trap raised by a host function, or a wasm runtime trap mapped to the
// replica's reason. It returns false for other errors (context cancelled,
// engine failures).
func AsTrap(err error) (*Trap, bool) {
	if err == nil {
		return nil, false
	}
	var t *Trap
	if errors.As(err, &t) {
		return t, true
	}
	msg := err.Error()
	if msg == "stack overflow" {
		// wazero's compiler reports a stack overflow bare, without the
		// "wasm error: " prefix and without a stack trace.
		return Trapped("stack overflow"), true
	}
	rest, ok := strings.CutPrefix(msg, "wasm error: ")
	if !ok {
		return nil, false
	}
	rest, _, _ = strings.Cut(rest, "\n")
	return Trapped(replicaReason(rest)), true
}
