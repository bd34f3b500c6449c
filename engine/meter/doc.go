// Package meter counts executed wasm instructions the way the Internet
// Computer replica does, by rewriting a module before it is compiled.
//
// Instrument adds an i64 counter global (exported as CounterExport) and
// decrements it at the start of every basic block by the block's static
// cost (costs.go holds every instruction cost with its source in dfinity/ic;
// the cycles fees of ic0.cost_* are engine/ic0/fees.go). Function
// entries and loop headers then check the counter and, when it is negative,
// call the imported host function `__`.`out_of_instructions`. The global
// holds at most one slice of the instructions left (DefaultSlice), so the
// host function runs at the end of every slice: it grants the next one
// (Counter.Refill) and returns, or traps at the real limit. memory.fill/copy/init and table.fill/copy/init are charged their
// size at run time through a helper function the rewrite adds, exactly as
// the replica's instrumentation.rs does.
//
// The host runs a message like this:
//
//	c, _ := meter.NewCounter(instance, limits.Update) // counter = limit
//	_, err := instance.ExportedFunction("canister_update f").Call(ctx)
//	used := c.Used() // instructions of the message, System API charges included
//
// System API functions charge their cost with Counter.Charge (overhead plus
// one instruction per byte copied, see SystemAPIOverhead) and trap with
// LimitError's text when it reports false. Because checks run only at loop
// headers, function entries and System API calls, a message can end with
// the counter slightly negative (Used a little above Limit); the replica
// has the same overshoot, does not trap for it, and caps the count it
// reports at the limit (wasm_executor.rs, message_instructions_executed).
//
// Instrument the module after wasm.ExportMutableGlobals: then the exported
// globals of the instrumented module, in export order, are exactly the
// globals list of a replica snapshot, counter last (wasm.SnapshotGlobals).
package meter
