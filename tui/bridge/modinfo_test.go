package bridge_test

import (
	"github.com/canscope/canscope/tui/bridge"

	// Registers -update, so go test ./tui/... -update runs everywhere.
	_ "github.com/canscope/canscope/tui/internal/screentest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInspect(t *testing.T) {
	tests := []struct {
		file       string
		wantExport string
		wantCandid bool
	}{
		{"motoko_v1.wasm", "canister_update add", true},
		{"motoko_v1.wasm.gz", "canister_update add", true},
		{"counter.wasm", "canister_update inc", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "engine", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			info, err := bridge.Inspect(b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(info.Exports, tt.wantExport) {
				t.Errorf("exports %q lack %q", info.Exports, tt.wantExport)
			}
			if got := strings.Contains(info.Candid, "service"); got != tt.wantCandid {
				t.Errorf("candid = %q, want a service: %v", info.Candid, tt.wantCandid)
			}
			if got := info.StableTypes != ""; got != tt.wantCandid { // the Motoko fixtures have both
				t.Errorf("stable types = %q, want some: %v", info.StableTypes, tt.wantCandid)
			}
		})
	}
}

func TestInspectRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not wasm"), []byte("\x00asm\x01\x00\x00\x00\x01\xff")} {
		if _, err := bridge.Inspect(b); err == nil {
			t.Errorf("bridge.Inspect(%q) succeeded", b)
		}
	}
}
