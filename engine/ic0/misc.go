package ic0

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// maxPrincipalSize is the longest principal id in bytes.
const maxPrincipalSize = 29

// time: time() -> i64, Env.Time, constant within a message.
func (h *Host) time(_ api.Module, s []uint64) {
	s[0] = h.env.Time
}

// globalTimerSet: global_timer_set(ns) -> i64 sets State.GlobalTimer (0
// deactivates it) and returns the previous value.
func (h *Host) globalTimerSet(_ api.Module, s []uint64) {
	old := h.state.GlobalTimer
	h.state.GlobalTimer = s[0]
	s[0] = old
}

// performanceCounter: performance_counter(type) -> i64. Type 0 counts the
// instructions of this message, type 1 those of the whole call context;
// other types trap.
func (h *Host) performanceCounter(_ api.Module, s []uint64) {
	switch t := uint32(s[0]); t {
	case 0:
		s[0] = h.meter.Used()
	case 1:
		s[0] = h.msg.CallContextInstructions + h.meter.Used()
	default:
		panic(ContractViolation("Error getting performance counter type %d", t))
	}
}

// instructionCounter: instruction_counter() -> i64, the predecessor of
// performance_counter(0).
func (h *Host) instructionCounter(_ api.Module, s []uint64) {
	s[0] = h.meter.Used()
}

// isController: is_controller(src, size) -> i32, 1 when the principal at
// heap[src:src+size] is one of Env.Controllers.
func (h *Host) isController(mod api.Module, s []uint64) {
	src, size := uint32(s[0]), uint32(s[1])
	h.charge(uint64(size))
	p := readHeap(mod, "is_controller", "", src, size)
	if len(p) > maxPrincipalSize {
		panic(ContractViolation("ic0.is_controller: invalid principal id: more than %d bytes", maxPrincipalSize))
	}
	s[0] = 0
	for _, c := range h.env.Controllers {
		if bytes.Equal(c, p) {
			s[0] = 1
			break
		}
	}
}

// inReplicatedExecution: in_replicated_execution() -> i32.
func (h *Host) inReplicatedExecution(_ api.Module, s []uint64) {
	s[0] = 0
	if h.msg.Context.Replicated() {
		s[0] = 1
	}
}

// logCapacity is the canister log's capacity
// (DEFAULT_AGGREGATE_LOG_MEMORY_LIMIT, 4 KiB).
const logCapacity = 4 << 10

// debugPrint: debug_print(src, size) appends the text to
// Message.DebugPrints. Like the replica it never traps: a range outside the
// heap prints a placeholder. The charge is the replica's logging rule
// (linker.rs, logging_charge_bytes): 2 per byte kept in the canister log
// (at most its capacity) and 50 per byte transmitted (at most the space
// left in this execution's log); the debug print copy itself is not
// charged because application subnets rate-limit (disable) debug prints.
func (h *Host) debugPrint(mod api.Module, s []uint64) {
	src, size := uint64(uint32(s[0])), uint64(uint32(s[1]))
	allocated := min(size, logCapacity)
	transmitted := min(size, logCapacity-h.logUsed)
	h.charge(2*allocated + byteTransmissionCost*transmitted)
	if h.logUsed+allocated <= logCapacity {
		h.logUsed += allocated
	} else {
		h.logUsed = allocated // older records make room
	}
	if text := DebugText(mod, src, size); h.prints.add(text) {
		h.msg.DebugPrints = append(h.msg.DebugPrints, text)
	}
}

// DebugText is the text debug_print(src, size) prints from mod's heap:
// the bytes as UTF-8, or the replica's placeholder when the range is
// outside the heap. The trace recorder shows the same text on its events.
func DebugText(mod api.Module, src, size uint64) string {
	if src+size > heapSize(mod) {
		return "(debug_print message out of memory bounds)"
	}
	if size > MaxDebugPrint {
		return heapText(mod, src, MaxDebugPrint) + fmt.Sprintf(" … (%d more bytes not shown)", size-MaxDebugPrint)
	}
	return heapText(mod, src, size)
}

// maxTrapMessage is how much of an ic0.trap message the replica keeps
// (MAX_ERROR_MESSAGE_SIZE, 16 KiB, in ic0_trap of rs/system_api/src/lib.rs).
const maxTrapMessage = 16 << 10

// trap: trap(src, size) ends the message with IC0503 and the heap text as
// its message, cut to maxTrapMessage bytes; a range outside the heap gives
// the replica's placeholder. The charge is the overhead and one per byte
// of the full size (linker.rs: charge_for_cpu_and_mem(TRAP, length)).
func (h *Host) trap(mod api.Module, s []uint64) {
	src, size := uint64(uint32(s[0])), uint64(uint32(s[1]))
	h.charge(size)
	size = min(size, maxTrapMessage)
	msg := "(trap message out of memory bounds)"
	if src+size <= heapSize(mod) {
		msg = heapText(mod, src, size)
	}
	panic(CalledTrap(msg))
}

// heapText returns heap bytes [src, src+size), known to be in bounds, as
// text with invalid UTF-8 replaced (the replica's from_utf8_lossy).
func heapText(mod api.Module, src, size uint64) string {
	if size == 0 {
		return ""
	}
	b, _ := heap(mod).Read(uint32(src), uint32(size))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
