// Package engine runs Internet Computer canisters in-process, on wazero,
// with the replica's System API (package ic0) and message semantics.
//
// An Engine compiles modules; a Canister holds one canister's code and
// state and runs messages against it:
//
//	eng, _ := engine.New(engine.Config{})
//	mod, _ := eng.Load(ctx, wasmBytes)            // .wasm or .wasm.gz
//	c, _ := eng.NewCanister(ctx, engine.Options{}) // or eng.Restore(ctx, mod, state, opts)
//	res, _ := c.Install(ctx, mod, initArg)
//	res, _ = c.Update(ctx, "inc", arg)
//	if res.Status != engine.StatusOK {
//		fmt.Println(res.ErrorText(c.ID())) // the replica's error text
//	}
//
// # Messages are transactions
//
// Every message (Update, Query, Heartbeat, GlobalTimer, InspectMessage)
// and every lifecycle operation (Install, Reinstall, Upgrade) either
// commits all its changes or none: a trap rolls back heap bytes and size,
// stable memory, globals, certified data and the timer, and an upgrade
// that traps in pre_upgrade, start or post_upgrade leaves the old module
// and state byte-identical. Queries never change state. A Go error
// (rather than a Result) means the engine could not run the message, for
// example because ctx was cancelled; the state is then unchanged too.
//
// Each Result reports the reply or rejection, the trap with the
// replica's reason, the trapping function and its offset, instructions
// used against the limit, the 4 KiB heap pages and 64 KiB stable pages
// the message changed, debug prints and the inter-canister calls made.
//
// # The replica's limits and charges
//
// Every run applies the replica's limits with its numbers, texts and
// error codes (meter.Limits, application-subnet defaults, each settable
// through Options): instructions per kind of message, the deterministic
// time slicing slice (SliceOverrun, IC0522), stable memory pages modified
// and accessed per execution (IC0524), the canister's wasm_memory_limit
// (IC0539), dirty_page_overhead per 4 KiB page dirtied (heap pages after
// each execution, stable pages on each write) and the compilation charge
// of install and upgrade (phase "compile"). Result.Limits reports each
// limit with what the run used: the headroom before the IC would refuse.
//
// # State in and out
//
// State is a snapshot's content: module, heap and stable pages, globals
// in the replica's snapshot order, certified data, timer and canister
// version. Restore starts from one without re-applying the module's data
// segments or start function; Canister.State hands one back, and
// Canister.Changed lists the pages changed since the last Mark, so a
// store can write a child snapshot holding only those.
//
// # Determinism
//
// Time, caller, canister id, cycle balance and the rest of ic0.Env are
// inputs with documented defaults (ic0.DefaultEnv): the same module,
// state, environment and messages give byte-identical states and results.
//
// RATIONALE.md explains the design decisions.
package engine
