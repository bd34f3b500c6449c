// Package tui is canscope's terminal UI: `canscope` with no arguments.
//
// The root Model routes between one model per screen (packages under
// tui/screens): snapshots (the lineage tree), detail (metadata, module,
// page maps), diff (changed ranges and side-by-side hex), run (form,
// progress, timeline stepping) and restore (fork; export plus the dfx
// commands; transplant a fixed module, rehearse, export). Screens share a frame.Context (size, themes.Styles, the one
// keys.KeyMap, the sources, a clock) and ask for navigation with frame
// messages; only the root returns a tea.View. Every style comes from the
// themes package, every key from tui/keys, so help is generated from the
// bindings the screens handle.
//
// # Sources
//
// The UI reads and writes through the consumer-side interfaces of package
// tui/source; every one is required (tui/bridge.New builds them all, and
// tests fill what they leave out with fakes, screentest.Complete):
//
//   - source.Catalog: List, Manifest, ReadBlob, ReadPage. *fsstore.Store
//     satisfies it. The detail page maps and the diff ranges come from
//     manifests alone; the diff screen reads exactly the one page it shows
//     on each side.
//
//   - source.Forker: Fork(ctx, id, name).
//
//   - source.Exporter: Check(ctx, id) is `canscope check`; Export(ctx, id,
//     dir, req) writes a snapshot directory (refused on a FAIL unless
//     req.Force) and returns the commands `canscope restore` prints.
//
//   - source.DemoLoader: fills an empty store, what `canscope demo` does.
//
//   - source.Transplanter: the restore screen's repair of a stuck
//     canister. Check(ctx, base, module) reports whether a fixed module
//     fits a snapshot's state (checks by name, removed exports, Candid
//     diff) without writing; Transplant(ctx, base, module, request)
//     writes the snapshot (made_by "transplant"), refusing a failing
//     report unless forced; Rehearse(ctx, id, progress) upgrades a copy
//     twice in memory and reports each step. The screen reads the module
//     file once, so the bytes checked are the bytes transplanted.
//
//   - source.ModuleInspector: exports and candid:service of a module
//     (tui/bridge implements it on engine/wasm).
//
//   - source.StableLabeller: names stable pages after the stable-structures
//     memory that owns them, for the diff screen.
//
//   - source.Runner: the engine bridge for the run screen:
//
//     Start(ctx, RunRequest, progress func(float64)) (Session, error)
//
//     runs a call or an upgrade (new wasm path, skip_pre_upgrade,
//     rehearse) to completion, reporting progress; cancelling ctx stops
//     it. The Session is the recorded timeline: Len, Event(i) (kind
//     enter/exit/syscall/grow/trap, function, syscall name and arguments,
//     instructions, depth), Outcome (status, trap, instructions, limit),
//     Seek(ctx, i) returning the State after event i (call stack, recent
//     System API calls, heap/stable pages changed so far, instructions
//     used and the limit), and Checkpoint(ctx, i, name), which commits
//     the state after event i as a snapshot (made_by "checkpoint").
//
// Seek and Checkpoint run in tea.Cmds, never in View.
//
// tui/bridge builds every one of them over the store, the workbench and
// the tracer with one constructor, bridge.New; cmd/canscope only opens
// those and wires flags.
package tui
