package source

import (
	"context"

	"github.com/canscope/canscope/snapshots"
)

// RunRequest is what the run form asks the engine to do on a snapshot:
// call a method, or upgrade (optionally to a new module, optionally
// skipping pre_upgrade, optionally rehearsing = upgrading twice).
type RunRequest struct {
	Snapshot       snapshots.ID
	Upgrade        bool
	Method         string // for a call: the exported method name
	ArgHex         string // candid argument bytes as hex; "" means the empty tuple
	WasmPath       string // for an upgrade: new module file; "" keeps the module
	SkipPreUpgrade bool
	Rehearse       bool
}

// Runner starts engine runs that record an event timeline. Start returns
// when the run has finished (or ctx was cancelled); progress receives the
// fraction done in [0, 1] from the running goroutine.
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
}

// State is the canister at one point of the timeline.
type State struct {
	Stack              []string // innermost last
	RecentSyscalls     []Event  // the latest System API calls, newest last
	HeapPagesChanged   int      // heap pages written since the run began
	StablePagesChanged int      // stable pages written since the run began
	Instructions       uint64   // used so far
	Limit              uint64   // the message's instruction limit
}

// Outcome is how the run ended.
type Outcome struct {
	Status       string // "ok", "trapped" or "rejected", as the CLI's JSON says
	TrapMessage  string
	TrapFunction string
	Instructions uint64
	Limit        uint64
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
