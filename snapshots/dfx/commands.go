package dfx

import (
	"fmt"
	"strings"
)

// RestoreCommands returns the dfx command sequence that loads a snapshot
// directory written by Export into canister id: stop it, take a fresh
// snapshot as a way back, upload, load, start. dfx prints the uploaded
// snapshot's id; the load command names it <uploaded-snapshot-id>. An
// empty id is written as <canister> for the operator to fill in.
func RestoreCommands(canisterID, dir string) []string {
	id := canisterOrPlaceholder(canisterID)
	return []string{
		"dfx canister stop " + id,
		"dfx canister snapshot create " + id + "   # a way back: keep the id it prints",
		"dfx canister snapshot upload " + id + " --dir " + ShellQuote(dir) + "   # prints <uploaded-snapshot-id>",
		"dfx canister snapshot load " + id + " <uploaded-snapshot-id>",
		"dfx canister start " + id,
	}
}

// UpgradeCommand is the upgrade to run after a restore: the module that
// was rehearsed offline, installed in upgrade mode.
func UpgradeCommand(canisterID, wasmPath string) string {
	return "dfx canister install " + canisterOrPlaceholder(canisterID) + " --mode upgrade --wasm " + ShellQuote(wasmPath) + "   # the upgrade you rehearsed"
}

func canisterOrPlaceholder(id string) string {
	if id == "" {
		return "<canister>"
	}
	return id
}

// ShellQuote quotes s for a POSIX shell unless it consists only of
// characters paths usually hold, so a printed command can be pasted as it
// is.
func ShellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@%+=,~", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Tool is the command-line tool the restore sequence is written for.
type Tool string

// The tools that upload snapshots: icp-cli (the default; dfx is deprecated
// since 0.32.0) and dfx (snapshot download/upload need dfx >= 0.29.2).
const (
	ToolICP Tool = "icp"
	ToolDFX Tool = "dfx"
)

// MaxSnapshotsPerCanister is the replica's max_number_of_snapshots_per_canister:
// a canister holding this many refuses a new one unless it replaces one.
const MaxSnapshotsPerCanister = 10

// Upgrade is the upgrade the operator rehearsed, to run after the restore.
type Upgrade struct {
	Wasm string // module path; "" prints NEW.wasm
	// Arg is the Candid argument text; "" sends none.
	Arg            string
	SkipPreUpgrade bool
	// WasmMemoryPersistence is "keep" or "replace" ("" leaves the tool's
	// default: icp-cli keeps the heap of an EOP Motoko canister).
	WasmMemoryPersistence string
	// CanisterEOP says the restored module carries the
	// enhanced-orthogonal-persistence metadata. icp-cli refuses
	// --wasm-memory-persistence for a canister without it (is_eop_canister
	// in crates/icp-cli/src/commands/canister/install.rs), though the IC
	// accepts keep whenever the new module carries it.
	CanisterEOP bool
}

// Sequence is what an operator runs to load an exported directory.
type Sequence struct {
	Tool     Tool     `json:"tool"`
	Commands []string `json:"commands"`
	// Upgrade is the rehearsed upgrade, run after the restore.
	Upgrade string `json:"upgrade"`
	// Notes say what the commands cannot express or what to watch for.
	Notes []string `json:"notes"`
}

// Commands returns the sequence loading dir into the canister with
// canisterID on the IC mainnet with tool: stop it, take a snapshot as a way
// back, upload dir, load (icp: restore) the uploaded snapshot, start it,
// then the rehearsed upgrade. Command names and flags are icp-cli's
// (crates/icp-cli/src/commands/canister/snapshot/*.rs, canister/install.rs)
// or dfx's.
func Commands(tool Tool, canisterID, dir string, up Upgrade) Sequence {
	id := canisterOrPlaceholder(canisterID)
	q := ShellQuote(dir)
	wasmPath := up.Wasm
	if wasmPath == "" {
		wasmPath = "NEW.wasm"
	}
	limit := fmt.Sprintf("a canister holds at most %d snapshots: when it is full, add --replace <old-snapshot-id> to the create and upload commands (the old one is deleted once the new one exists)", MaxSnapshotsPerCanister)
	s := Sequence{Tool: tool, Notes: []string{limit}}
	switch tool {
	case ToolDFX:
		n := " --network ic"
		s.Commands = []string{
			"dfx canister stop " + id + n,
			"dfx canister snapshot create " + id + n + "   # a way back: keep the id it prints",
			"dfx canister snapshot upload " + id + " --dir " + q + n + "   # prints <uploaded-snapshot-id>",
			"dfx canister snapshot load " + id + " <uploaded-snapshot-id>" + n,
			"dfx canister start " + id + n,
		}
		u := "dfx canister install " + id + " --mode upgrade --wasm " + ShellQuote(wasmPath)
		if up.Arg != "" {
			u += " --argument " + ShellQuote(up.Arg)
		}
		if up.SkipPreUpgrade {
			u += " --skip-pre-upgrade"
		}
		if up.WasmMemoryPersistence != "" {
			u += " --wasm-memory-persistence " + up.WasmMemoryPersistence
		}
		s.Upgrade = u + n
		s.Notes = append(s.Notes, "snapshot download and upload need dfx 0.29.2 or newer")
	default:
		s.Tool = ToolICP
		n := " -n ic"
		s.Commands = []string{
			"icp canister stop " + id + n,
			"icp canister snapshot create " + id + n + "   # a way back: keep the id it prints",
			"icp canister snapshot upload " + id + " -i " + q + n + "   # prints <uploaded-snapshot-id>",
			"icp canister snapshot restore " + id + " <uploaded-snapshot-id>" + n,
			"icp canister start " + id + n,
		}
		u := "icp canister install " + id + " --mode upgrade --wasm " + ShellQuote(wasmPath)
		if up.Arg != "" {
			u += " --args " + ShellQuote(up.Arg)
		}
		dfxUpgrade := func() string { return Commands(ToolDFX, canisterID, dir, up).Upgrade }
		switch {
		case up.WasmMemoryPersistence != "" && !up.CanisterEOP:
			// icp-cli bails before sending anything ("--wasm-memory-persistence
			// only applies to Motoko canisters with enhanced orthogonal
			// persistence (EOP)"). Without the option the IC replaces the
			// heap of a canister that does not expect EOP (upgrade.rs
			// determine_main_memory_handling), so only keep needs dfx.
			if up.WasmMemoryPersistence == "keep" {
				s.Notes = append(s.Notes, "the rehearsal kept the heap, but icp-cli refuses --wasm-memory-persistence for a canister whose module is not EOP: run the upgrade with dfx instead: "+dfxUpgrade())
				u += " --wasm-memory-persistence keep"
			} else {
				s.Notes = append(s.Notes, "icp-cli refuses --wasm-memory-persistence for a canister whose module is not EOP; without it the IC replaces the heap, as rehearsed")
			}
		case up.WasmMemoryPersistence != "":
			u += " --wasm-memory-persistence " + up.WasmMemoryPersistence
			if up.WasmMemoryPersistence == "replace" {
				s.Notes = append(s.Notes, "icp-cli asks to confirm --wasm-memory-persistence replace (it discards the heap; only stable variables survive); add --yes to run it unattended")
			}
		}
		s.Upgrade = u + n
		if up.SkipPreUpgrade {
			// icp-cli's install always sends skip_pre_upgrade: None
			// (crates/icp-cli/src/operations/install.rs).
			s.Notes = append(s.Notes, "the rehearsal skipped pre_upgrade, which icp-cli cannot: run the upgrade with dfx instead: "+dfxUpgrade())
		}
	}
	return s
}
