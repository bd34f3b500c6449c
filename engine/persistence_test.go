package engine

import (
	"errors"
	"os"
	"testing"

	"github.com/canscope/canscope/engine/wasm"
)

// TestMainMemoryHandling: the replica's determine_main_memory_handling on
// the real fixtures: eop_counter (moc 4.x, EOP) and counter (wasm32).
func TestMainMemoryHandling(t *testing.T) {
	parse := func(path string) *wasm.Module {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wasm.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	eop, classical := parse("testdata/eop_counter.wasm"), parse("testdata/counter.wasm")
	if !eop.ExpectsEOP() || classical.ExpectsEOP() {
		t.Fatalf("ExpectsEOP: eop_counter %v, counter %v", eop.ExpectsEOP(), classical.ExpectsEOP())
	}
	const missing = "IC0504 Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` upgrade option."
	const invalid = "IC0504 Invalid upgrade option: The `wasm_memory_persistence: opt Keep` upgrade option requires that the new canister module supports enhanced orthogonal persistence."
	for _, tt := range []struct {
		name        string
		old, new    *wasm.Module
		persistence string
		keep        bool
		err         string
	}{
		{"EOP onto EOP, keep", eop, eop, PersistenceKeep, true, ""},
		{"EOP onto EOP, option left out", eop, eop, PersistenceUnset, false, missing},
		{"EOP onto EOP, replace", eop, eop, PersistenceReplace, false, ""},
		{"EOP onto classical, keep", eop, classical, PersistenceKeep, false, invalid},
		{"EOP onto classical, replace", eop, classical, PersistenceReplace, false, ""},
		{"classical onto EOP, keep", classical, eop, PersistenceKeep, true, ""},
		{"classical onto classical, option left out", classical, classical, PersistenceUnset, false, ""},
		{"classical onto classical, keep", classical, classical, PersistenceKeep, false, invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keep, err := MainMemoryHandling(tt.old.ExpectsEOP(), tt.new.ExpectsEOP(), tt.persistence)
			if tt.err != "" {
				var uo *UpgradeOptionError
				if !errors.As(err, &uo) || err.Error() != tt.err {
					t.Fatalf("err %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || keep != tt.keep {
				t.Fatalf("keep %v, err %v; want keep %v", keep, err, tt.keep)
			}
		})
	}
	if _, err := MainMemoryHandling(false, false, "retain"); err == nil {
		t.Fatal("an unknown option was accepted")
	}
}
