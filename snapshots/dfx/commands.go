package dfx

import "strings"

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
