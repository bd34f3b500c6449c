package trace

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what an Event is.
type Kind string

// The event kinds, as the CLI's JSON names them.
const (
	// Enter: a canister function was called; Args are its parameters.
	Enter Kind = "enter"
	// Exit: a canister function returned; Results are its results.
	Exit Kind = "exit"
	// Syscall: a System API (ic0) function returned or trapped; Name is
	// the ic0 function, Results is nil when it trapped.
	Syscall Kind = "syscall"
	// Grow: the heap (Name "memory") or stable memory (Name "stable")
	// grew; Args is the number of pages added, Results the old size in
	// pages, like memory.grow.
	Grow Kind = "grow"
	// Trap: the execution trapped; Message says why.
	Trap Kind = "trap"
)

// Grow event names.
const (
	HeapMemory   = "memory"
	StableMemory = "stable"
)

// Event is one entry of a run's timeline.
type Event struct {
	Index int  `json:"index"`
	Kind  Kind `json:"kind"`
	// Phase is the entry point running, without the "canister_" prefix:
	// "update add_chunks", "query stats", or for an upgrade
	// "pre_upgrade", "start" and "post_upgrade" in turn.
	Phase string `json:"phase"`
	// Function is the canister function entered or exited, or the one
	// running (the caller of a System API call, the one that trapped).
	Function string `json:"function"`
	// Raw is Function's name as the module's name section stores it
	// (mangled), when that differs from Function (demangled, see
	// engine.Module.FuncLabel).
	Raw string `json:"raw,omitempty"`
	// Name is the ic0 function of a Syscall and the memory of a Grow.
	Name    string   `json:"name"`
	Args    []uint64 `json:"args"`
	Results []uint64 `json:"results"`
	// Message is the trap message of a Trap (the replica's text).
	Message string `json:"message,omitempty"`
	// Text is what a debug_print Syscall printed, as Result.DebugPrints
	// holds it.
	Text string `json:"text,omitempty"`
	// Instructions are the instructions the message had used when the
	// event happened, over all its phases.
	Instructions uint64 `json:"instructions"`
	// Depth is the call depth: 0 for the entry point itself.
	Depth int `json:"depth"`
}

// String renders the event on one line, indented by depth, the way
// `canscope trace` prints it.
func (e Event) String() string {
	indent := strings.Repeat("  ", e.Depth)
	switch e.Kind {
	case Enter:
		return fmt.Sprintf("%s-> %s(%s)", indent, e.Function, FormatValues(e.Args))
	case Exit:
		if len(e.Results) == 0 {
			return fmt.Sprintf("%s<- %s", indent, e.Function)
		}
		return fmt.Sprintf("%s<- %s = %s", indent, e.Function, FormatValues(e.Results))
	case Syscall:
		if e.Results == nil {
			return fmt.Sprintf("%sic0.%s(%s) trapped", indent, e.Name, FormatValues(e.Args))
		}
		if e.Name == "debug_print" {
			return fmt.Sprintf("%sic0.debug_print(%s) %q", indent, FormatValues(e.Args), e.Text)
		}
		if len(e.Results) == 0 {
			return fmt.Sprintf("%sic0.%s(%s)", indent, e.Name, FormatValues(e.Args))
		}
		return fmt.Sprintf("%sic0.%s(%s) = %s", indent, e.Name, FormatValues(e.Args), FormatValues(e.Results))
	case Grow:
		var added, old uint64
		if len(e.Args) > 0 {
			added = e.Args[0]
		}
		if len(e.Results) > 0 {
			old = e.Results[0]
		}
		return fmt.Sprintf("%s%s grew by %d pages from %d to %d", indent, e.Name, added, old, old+added)
	case Trap:
		return fmt.Sprintf("%strap in %s: %s", indent, e.Function, e.Message)
	}
	return indent + string(e.Kind)
}

// FormatValues renders raw wasm values the way String does: small ones
// in decimal, large ones (addresses, hashes) in hex.
func FormatValues(vs []uint64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		if v < 1<<20 {
			s[i] = strconv.FormatUint(v, 10)
		} else {
			s[i] = "0x" + strconv.FormatUint(v, 16)
		}
	}
	return strings.Join(s, ", ")
}
