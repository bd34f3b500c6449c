// Package trace records what a canister does during one message or
// upgrade and lets an operator travel through it.
//
// A Session runs the message once on a copy of a stored snapshot running
// the traced variant of its module (engine.WithTracing: every function
// appends its calls and returns to an event ring in wasm, which the
// recorder drains in batches, so a traced run costs close to a plain one)
// and the ic0 recorder attached, producing an Event stream: function enter and exit
// (names from the name section), System API calls with arguments and
// results, heap and stable memory grows, and the trap, each with its
// instruction count and call depth.
//
// Every event is counted, however long the run. The events are written
// to a compact log (an unlinked temporary file beyond 16 MiB, with a
// block index in memory) up to its limits (Request.MaxEvents, by default
// DefaultMaxEvents, and Request.LogBytes); the ones past them are
// counted, not recorded (the traced code then decrements a global per
// event instead of appending to the ring), and Session.Elided says which. They stay reachable: a Seek to one
// re-executes the run and records the WindowEvents events before it on
// the way. The run's last event (the trap) is always kept, and milestones
// (instruction counts at evenly spaced events, and at every metering
// slice of the counted part, bounded in number) map an
// instruction count to the events around it.
//
// Time travel relies on determinism instead of copies: Seek(n) re-executes
// the message from its start and pauses the running execution at event n
// (the event ring calls the host exactly there), so the heap, stable memory and globals read through
// the View are the live ones, exactly as they were at that event. Moving
// forward resumes the paused execution; moving backward abandons it (the
// engine's transaction rollback restores the canister) and re-executes.
// Memory stays bounded by what the message itself touches: nothing is
// copied per event.
//
// A wasm call stack cannot be saved and resumed, so in-message
// checkpoints are executions too: with Request.Anchors the session keeps
// that many extra executions paused at evenly spaced points of the run,
// each on its own copy of the canister, and a jump continues the closest
// one at or before its target. An anchor a jump used is sent back to its
// place in the background.
//
// Any event can be kept as a checkpoint: a snapshot (made by "checkpoint",
// parent the snapshot the run started from) holding the state at that
// event, written through the store like any other child snapshot.
package trace
