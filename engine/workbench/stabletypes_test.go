package workbench

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots"
)

func parsed(t *testing.T, name string) *wasm.Module {
	t.Helper()
	m, err := parseModule(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The Motoko fixtures built by moc 4.10.0: eop_counter_v2 adds a variable
// (the runtime accepts), eop_counter_bad changes count from Nat to Text
// (the runtime traps "Memory-incompatible program upgrade"); the
// classical motoko_v1 → v2 pair is judged by moc's static rule only.
func TestStableTypesCheck(t *testing.T) {
	counter := parsed(t, "eop_counter.wasm")
	c, ok := stableTypesCheck(counter, parsed(t, "eop_counter_v2.wasm"))
	if !ok || !c.OK || c.Differs || !strings.Contains(c.Detail, "compatible as moc's runtime checks") || !strings.Contains(c.Detail, "new stable variables: note") {
		t.Errorf("v2: %+v", c)
	}
	c, ok = stableTypesCheck(counter, parsed(t, "eop_counter_bad.wasm"))
	if !ok || c.OK {
		t.Fatalf("bad accepted: %+v", c)
	}
	for _, want := range []string{`"Memory-incompatible program upgrade"`, "stable variable count: the old type Nat is not compatible with the new type Text", "M0170"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("bad: %q lacks %q", c.Detail, want)
		}
	}
	st, _ := CompareStableTypes(counter, parsed(t, "eop_counter_bad.wasm"))
	if st.Incompatibility == nil || st.Incompatibility.Variable != "count" || st.Incompatibility.Old != "Nat" || st.Incompatibility.New != "Text" {
		t.Errorf("bad: %+v", st)
	}
	// eop_trap declares only count: upgrades is dropped, which both rules
	// refuse (upgrades' field hash is larger than count's, so idl.rs's
	// main actor loop ends with it unmatched).
	st, _ = CompareStableTypes(counter, parsed(t, "eop_trap.wasm"))
	if st.Runtime != "incompatible" || st.Incompatibility.Variable != "upgrades" || len(st.Moc) != 1 || st.Moc[0].Code != "M0169" || st.Moc[0].Variable != "upgrades" {
		t.Errorf("eop_trap: %s", st)
	}

	c, ok = stableTypesCheck(parsed(t, "motoko_v1.wasm"), parsed(t, "motoko_v2.wasm"))
	if !ok || !c.OK || !c.Differs || !strings.Contains(c.Detail, "classical persistence") {
		t.Errorf("classical: %+v", c)
	}
	if _, ok := stableTypesCheck(parsed(t, "counter.wasm"), parsed(t, "counter.wasm")); ok {
		t.Error("a module without motoko:stable-types was compared")
	}
}

// The transplant report carries the check (through layoutChecks, which
// reads the wasm: it applies even where the module cannot run).
func TestTransplantReportsStableTypes(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "motoko_v1.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	snap, err := run.Commit(ctx, CommitOptions{Name: "mo", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := b.CheckTransplant(ctx, snap.ID, fixture(t, "motoko_v2.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Name == CheckStableTypes {
			return
		}
	}
	t.Errorf("no %q check in %+v", CheckStableTypes, rep.Checks)
}
