// Package ic0 is the Internet Computer System API ("ic0" import module) as a
// wazero host module, so canscope can run real canisters in-process.
//
// # Shape
//
//   - Functions is the one table of every ic0 function: wasm32 signature,
//     the contexts it may be called in (copied from the interface
//     specification's notation, e.g. "I G U RQ Ry Rt C T"), and its fixed
//     instruction cost from the replica's system_api_complexity.rs.
//     Allowed answers the context question for the engine's validation.
//   - Env holds the deterministic inputs (time, caller, canister id,
//     controllers, subnet, root key, env vars). DefaultEnv documents the
//     defaults; the same Env, State and Message give the same outputs.
//   - State holds what the System API changes besides heap and globals:
//     stable memory, certified data, the global timer and the cycles
//     balance (the balance lives here rather than in Env because accepting,
//     burning and attaching cycles change it and a trap must undo that).
//     State.Begin/Commit/Rollback make all of it atomic together; the
//     engine brackets a message, or all steps of an upgrade, with them.
//   - Message is one execution: inputs (Context, Method, Arg, Caller, ...)
//     and outputs (Reply, Replied, Rejected, DebugPrints, Calls, ...).
//   - Host serves the module. NewHost, then Instantiate once per runtime,
//     then Begin(msg, meter, recorder) / End around each execution. Host
//     functions are api.GoModuleFunc with explicit types, not wazero's
//     reflection-based binding.
//
// # Traps
//
// A host function traps with panic(*Trap); wazero returns the panic value
// wrapped in the call's error, and AsTrap recovers it (it also maps wazero's
// own runtime traps, e.g. "out of bounds memory access", to the replica's
// reasons). Texts follow the replica:
//
//   - IC0503 ic0.trap: "Canister called `ic0.trap` with message: '<msg>'".
//   - IC0502 "Canister trapped: <reason>": "stable memory out of bounds",
//     "32 bit stable memory api used on a memory larger than 4GB", "heap
//     out of bounds" (a bad heap pointer in a stable memory call) and
//     "cycles amount exceeds 64-bit representation" (old 64-bit cycle calls).
//   - IC0504 "Canister violated contract: ...": a call outside its
//     contexts (`"ic0_msg_reply" cannot be executed in pre upgrade mode`),
//     and bad heap or source ranges in the other copy calls, which the
//     replica reports with valid_subslice's text
//     ("ic0.msg_arg_data_copy heap: src=.. + length=.. exceeds the slice size=..").
//   - IC0522 when Meter.Charge reports the instruction limit exceeded.
//   - IC0501 when call_cycles_add* asks for more than the balance.
//
// # Metering
//
// Each call charges its fixed overhead, then one instruction per byte it
// copies, and 50 per byte that leaves the sandbox (reply, reject and call
// payloads, logs), as the replica's linker does. performance_counter(0)
// and instruction_counter return Meter.Used(); performance_counter(1) adds
// Message.CallContextInstructions. Without a Meter the host counts its own
// charges and never runs out.
//
// # Inter-canister calls
//
// canscope has no network. call_new … call_perform are recorded in
// Message.Calls, and call_perform returns reject code 2 (SYS_TRANSIENT),
// meaning "the call was not enqueued": the canister sees the call fail
// immediately, no callback ever runs, and cycles attached to the call are
// back in the balance. ic-cdk and Motoko surface that as a failed await.
//
// # Other choices
//
//   - The http-outcall transform context (TQ in the specification) is not
//     modelled; PostUpgrade runs as the replica's init context.
//   - canister_liquid_cycle_balance128 equals the balance (no reserved
//     cycles, no freezing threshold).
//   - msg_caller_info_* are empty; data_certificate_* exist only in
//     non-replicated and composite queries when Env.DataCertificate is set.
//   - cost_* assume a 13-node application subnet; threshold key fees know
//     "key_1", "test_key_1" and "dfx_test_key".
//   - mint_cycles* trap unless Env.CyclesMinting is set, as on any canister
//     but the cycles minting canister.
package ic0
