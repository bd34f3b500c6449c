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
