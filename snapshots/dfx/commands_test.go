package dfx

import (
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/fixed.wasm":    "/tmp/fixed.wasm",
		"/tmp/my dir/x.wasm": "'/tmp/my dir/x.wasm'",
		"it's.wasm":          `'it'\''s.wasm'`,
		"":                   "''",
		"a;rm -rf ~/x.wasm":  "'a;rm -rf ~/x.wasm'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRestoreCommands(t *testing.T) {
	got := strings.Join(RestoreCommands("bkyz2-fmaaa-aaaaa-qaaaq-cai", "my dir"), "\n")
	for _, want := range []string{
		"dfx canister stop bkyz2-fmaaa-aaaaa-qaaaq-cai\n",
		"dfx canister snapshot upload bkyz2-fmaaa-aaaaa-qaaaq-cai --dir 'my dir'",
		"dfx canister snapshot load bkyz2-fmaaa-aaaaa-qaaaq-cai <uploaded-snapshot-id>\n",
		"dfx canister start bkyz2-fmaaa-aaaaa-qaaaq-cai",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("commands lack %q:\n%s", want, got)
		}
	}
	if c := RestoreCommands("", "d")[0]; c != "dfx canister stop <canister>" {
		t.Errorf("without a canister id: %q", c)
	}
	if c := UpgradeCommand("", "/x y.wasm"); !strings.HasPrefix(c, "dfx canister install <canister> --mode upgrade --wasm '/x y.wasm'") {
		t.Errorf("UpgradeCommand = %q", c)
	}
}

// TestCommands: icp-cli's sequence by default (command names and flags of
// crates/icp-cli/src/commands/canister), dfx's on request; the upgrade line
// carries the rehearsal's options.
func TestCommands(t *testing.T) {
	icp := Commands(ToolICP, "bkyz2-fmaaa-aaaaa-qaaaq-cai", "my dir", Upgrade{Wasm: "fix.wasm", Arg: "(1)", WasmMemoryPersistence: "keep", CanisterEOP: true})
	want := []string{
		"icp canister stop bkyz2-fmaaa-aaaaa-qaaaq-cai -n ic",
		"icp canister snapshot create bkyz2-fmaaa-aaaaa-qaaaq-cai -n ic   # a way back: keep the id it prints",
		"icp canister snapshot upload bkyz2-fmaaa-aaaaa-qaaaq-cai -i 'my dir' -n ic   # prints <uploaded-snapshot-id>",
		"icp canister snapshot restore bkyz2-fmaaa-aaaaa-qaaaq-cai <uploaded-snapshot-id> -n ic",
		"icp canister start bkyz2-fmaaa-aaaaa-qaaaq-cai -n ic",
	}
	if strings.Join(icp.Commands, "\n") != strings.Join(want, "\n") || icp.Tool != ToolICP {
		t.Errorf("icp commands:\n%s", strings.Join(icp.Commands, "\n"))
	}
	if u := "icp canister install bkyz2-fmaaa-aaaaa-qaaaq-cai --mode upgrade --wasm fix.wasm --args '(1)' --wasm-memory-persistence keep -n ic"; icp.Upgrade != u {
		t.Errorf("icp upgrade %q, want %q", icp.Upgrade, u)
	}
	if len(icp.Notes) != 1 || !strings.Contains(icp.Notes[0], "at most 10 snapshots") {
		t.Errorf("icp notes %q", icp.Notes)
	}
	d := Commands(ToolDFX, "", "d", Upgrade{SkipPreUpgrade: true})
	if d.Commands[0] != "dfx canister stop <canister> --network ic" || d.Commands[3] != "dfx canister snapshot load <canister> <uploaded-snapshot-id> --network ic" {
		t.Errorf("dfx commands:\n%s", strings.Join(d.Commands, "\n"))
	}
	if d.Upgrade != "dfx canister install <canister> --mode upgrade --wasm NEW.wasm --skip-pre-upgrade --network ic" {
		t.Errorf("dfx upgrade %q", d.Upgrade)
	}
	skip := Commands(ToolICP, "", "d", Upgrade{SkipPreUpgrade: true})
	if strings.Contains(skip.Upgrade, "skip") || !strings.Contains(skip.Notes[len(skip.Notes)-1], "icp-cli cannot: run the upgrade with dfx instead: "+d.Upgrade) {
		t.Errorf("icp with skip-pre-upgrade: %q, notes %q", skip.Upgrade, skip.Notes)
	}
	// icp-cli's own rules for --wasm-memory-persistence
	// (crates/icp-cli/src/commands/canister/install.rs): refused for a
	// canister that is not EOP, replace asks for confirmation.
	keep := Commands(ToolICP, "", "d", Upgrade{WasmMemoryPersistence: "keep"})
	if !strings.Contains(keep.Notes[len(keep.Notes)-1], "refuses --wasm-memory-persistence for a canister whose module is not EOP: run the upgrade with dfx instead: dfx canister install <canister> --mode upgrade --wasm NEW.wasm --wasm-memory-persistence keep --network ic") {
		t.Errorf("keep on a non-EOP canister: notes %q", keep.Notes)
	}
	repl := Commands(ToolICP, "", "d", Upgrade{WasmMemoryPersistence: "replace"})
	if strings.Contains(repl.Upgrade, "persistence") || !strings.Contains(repl.Notes[len(repl.Notes)-1], "without it the IC replaces the heap") {
		t.Errorf("replace on a non-EOP canister: %q, notes %q", repl.Upgrade, repl.Notes)
	}
	replEOP := Commands(ToolICP, "", "d", Upgrade{WasmMemoryPersistence: "replace", CanisterEOP: true})
	if !strings.Contains(replEOP.Upgrade, "--wasm-memory-persistence replace") || !strings.Contains(replEOP.Notes[len(replEOP.Notes)-1], "add --yes") {
		t.Errorf("replace on an EOP canister: %q, notes %q", replEOP.Upgrade, replEOP.Notes)
	}
}
