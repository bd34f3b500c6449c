package source

import (
	"context"

	"github.com/canscope/canscope/snapshots"
)

// RunRequest is what the run form asks the engine to do on a snapshot:
// call a method, or upgrade (optionally to a new module, optionally
// skipping pre_upgrade, optionally rehearsing = upgrading twice).
type RunRequest struct {
	Snapshot snapshots.ID
	Upgrade  bool
	Method   string // for a call: the exported method name
	// Timer runs canister_global_timer instead (refused, under
	// FieldTime, when the timer is not due at the run's time), Heartbeat
	// canister_heartbeat, as `canscope call --timer | --heartbeat` do.
	Timer, Heartbeat bool
	// Inspect runs canister_inspect_message before a method call, as for
	// an ingress message (`canscope call --inspect`); Cycles are attached
	// to it as a decimal number ("" none; `canscope call --cycles`).
	Inspect bool
	Cycles  string
	// Replies answers the calls the message makes, as `canscope call
	// --replies FILE` does: a path to such a file, or one answer
	// 'CANISTER.METHOD=CANDID' (or 'reject CANISTER.METHOD=CODE:TEXT');
	// "" answers none. Unanswered calls are held (Outcome.Awaiting).
	Replies string
	// RejectUnanswered fails calls no answer matches at once with
	// SYS_TRANSIENT instead of holding them (`call --reject-unanswered`).
	RejectUnanswered bool
	// Arg is the argument as Candid text, typed by the method's declared
	// argument types (an upgrade's: the new module's init arguments), or
	// hex bytes with ArgHex; "" sends (), as dfx does.
	Arg            string
	ArgHex         bool
	WasmPath       string // for an upgrade: new module file; "" keeps the module
	SkipPreUpgrade bool
	Rehearse       bool
	// The environment, as `canscope call` takes it: Caller a principal
	// ("" the anonymous one), Time ic0.time as RFC 3339 or nanoseconds
	// ("" the snapshot's taken_at), Limit the instruction limit (0 the
	// IC's for the kind of message).
	Caller string
	Time   string
	Limit  uint64
	// WasmMemoryLimit is the canister's wasm_memory_limit in bytes, as
	// `canscope call --wasm-memory-limit` takes it (0: none); nil keeps
	// what the IC gives a canister without the setting.
	WasmMemoryLimit *uint64
}

// The form fields a FieldError can name.
const (
	FieldArg     = "arg"
	FieldWasm    = "wasm"
	FieldCaller  = "caller"
	FieldTime    = "time"
	FieldCycles  = "cycles"
	FieldReplies = "replies"
)

// FieldError is a request field the runner cannot use; the form shows the
// error under that field.
type FieldError struct {
	Field string // one of the Field constants
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the field's error.
func (e *FieldError) Unwrap() error { return e.Err }

// Runner starts engine runs that record an event timeline. Start returns
// when the run has finished (or ctx was cancelled); progress receives,
// from any goroutine, 0 at the start, then the fraction of the run's
// instruction limit used so far, and 1 when it is done.
type Runner interface {
	Start(ctx context.Context, req RunRequest, progress func(float64)) (Session, error)
}

// EventKind says what a recorded event is.
type EventKind string

// The recorded event kinds.
const (
	EventEnter   EventKind = "enter"   // a function was entered
	EventExit    EventKind = "exit"    // a function returned
	EventSyscall EventKind = "syscall" // a System API (ic0) call
	EventGrow    EventKind = "grow"    // memory.grow or stable grow
	EventTrap    EventKind = "trap"    // the run trapped here
	// EventElided stands for an event the session counted but did not
	// record; Message says how to see it (seek to it or after it).
	EventElided EventKind = "elided"
)

// Event is one entry of a run's timeline.
type Event struct {
	Kind         EventKind
	Function     string // the function entered or exited, or the caller of a syscall
	Syscall      string // the ic0 function name for EventSyscall
	Args         string // the syscall's arguments as the recorder formats them; the UI adds parentheses unless Args starts with one
	Message      string // the trap message for EventTrap; the grow amount for EventGrow
	Instructions uint64 // instructions used when the event happened
	Depth        int    // call depth
	// Phase is the entry point running, as `canscope trace` heads its
	// sections: "pre_upgrade", "start", "post_upgrade", "update transfer".
	Phase string
}

// State is the canister at one point of the timeline.
type State struct {
	Stack              []string // innermost last
	RecentSyscalls     []Event  // the latest System API calls, newest last
	HeapPagesChanged   int      // heap pages written since the run began
	StablePagesChanged int      // stable pages written since the run began
	// StableBytesWritten counts the bytes stable writes wrote so far, as
	// `canscope upgrade` counts them ("1.3 MiB written to stable memory").
	StableBytesWritten uint64
	Instructions       uint64 // used so far
	Limit              uint64 // the message's instruction limit
}

// Outcome is how the run ended.
type Outcome struct {
	Status       string // "ok", "trapped" or "rejected", as the CLI's JSON says
	TrapMessage  string
	TrapFunction string
	Instructions uint64
	Limit        uint64
	// Reply is a call's reply decoded as Candid, the way `canscope call`
	// prints it; when it does not decode, ReplyHex alone is set.
	Reply    string
	ReplyHex string
	// Inspect is canister_inspect_message's verdict for a call run with
	// RunRequest.Inspect: "accepted", or "rejected, the method did not
	// run" (Status and Error are then inspect_message's); "" without it.
	Inspect string
	// Cycles is what an update did with the cycles attached to it
	// ("1000 attached, 500 accepted, 500 refunded to the caller"), as
	// `canscope call --cycles` reports it; "" when none were attached.
	Cycles string
	// RejectCode is the reject code of a rejected call ("CanisterReject").
	RejectCode string
	// Error is the replica's error text for a trap or reject.
	Error string
	// DebugPrints are the texts the run printed with ic0.debug_print.
	DebugPrints []string
	// OfflineCalls names the calls the run made that were not really
	// performed ("CANISTER.METHOD"; engine.Result.OfflineCalls): the
	// outcome followed a failure the IC would not have produced.
	OfflineCalls []string
	// Awaiting counts the calls nothing answered (Status "awaiting"):
	// their callbacks have not run, so the outcome is not known.
	Awaiting int
	// Calls say what answered each call the run made and how its
	// callback ran ("ryjl3-….get: reply (42) → reply callback ok").
	Calls []string
	// UnusedAnswers warn of the scripted answers no call took, in the
	// CLI's words (workbench.UnusedAnswerText).
	UnusedAnswers []string
	// CallFees is what the run's calls paid, as `canscope call` reports
	// it (workbench.CallFeesText); "" when they paid none.
	CallFees string
	// SkippedPreUpgrade is, for an upgrade with skip_pre_upgrade, what
	// post_upgrade read in place of the discarded heap, as the CLI's
	// verdict says it ("heap discarded; post_upgrade read …").
	SkippedPreUpgrade string
	// Limits are the replica's limits the run was subject to and what it
	// used of each, as `canscope call` lists them (engine.Result.Limits).
	Limits []LimitUse
}

// LimitUse is one limit of a run's headroom report.
type LimitUse struct {
	Name        string // "instructions", "heap_bytes", ...
	Used, Limit uint64 // Limit 0: none
	Bytes       bool   // the amounts are bytes (else a count)
}

// Session is a finished run: its timeline, time travel over it, and
// checkpoints. Seek re-executes from the nearest checkpoint, so it may take
// a moment on long runs; it is called from a tea.Cmd, not from View. A
// session that holds resources (a live canister) also implements
// SessionCloser; the run screen closes it when it is no longer shown.
type Session interface {
	Len() int
	Event(i int) Event
	Outcome() Outcome
	Seek(ctx context.Context, i int) (State, error)
	// Checkpoint stores the state after event i as a new snapshot.
	Checkpoint(ctx context.Context, i int, name string) (snapshots.Snapshot, error)
}

// SessionCloser is implemented by sessions that must be released.
type SessionCloser interface {
	Close(ctx context.Context) error
}
