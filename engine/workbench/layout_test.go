package workbench

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/snapshots"
)

// TestLayoutCheck transplants rebuilds of the Rust ledger (one source,
// built by rustc with different options) onto its captured state: the
// same build passes with no changed function; a build whose static data
// moved fails on the data segments and the layout globals; a build where
// only checksum's body changed passes and names it.
func TestLayoutCheck(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "rust_ledger.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	res, err = run.Canister.Update(ctx, "insert", []byte("DIDL\x00\x01\x78\x04\x00\x00\x00\x00\x00\x00\x00"))
	mustOK(t, res, err)
	snap, err := run.Commit(ctx, CommitOptions{Name: "led", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	check := func(fixed string) Report {
		t.Helper()
		rep, err := b.CheckTransplant(ctx, snap.ID, fixture(t, fixed))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	byName := func(r Report, name string) Check {
		t.Helper()
		for _, c := range r.Checks {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no %q check in %+v", name, r.Checks)
		return Check{}
	}

	same := check("rust_ledger.wasm")
	if !same.OK() || len(same.Functions) != 0 {
		t.Errorf("the same build: %v, functions %v", same.Failed(), same.Functions)
	}
	if c := byName(same, CheckLayoutGlobal); !strings.Contains(c.Detail, "__heap_base") || !strings.Contains(c.Detail, "__stack_pointer") || !strings.Contains(c.Detail, "captured the same") {
		t.Errorf("layout globals of the same build: %q", c.Detail)
	}

	moved := check("rust_ledger_moved.wasm")
	if moved.OK() {
		t.Fatal("a build whose data moved passed")
	}
	for _, name := range []string{CheckDataSegments, CheckLayoutGlobal} {
		if c := byName(moved, name); c.OK || !c.Differs {
			t.Errorf("moved build: %s = %+v, want a failure", name, c)
		}
	}
	if c := byName(moved, CheckLayoutGlobal); !strings.Contains(c.Detail, "__heap_base 0x") || !strings.Contains(c.Detail, "→") {
		t.Errorf("moved build, layout globals: %q", c.Detail)
	}
	if err := (&TransplantError{Report: moved}).Error(); !strings.Contains(err, "data segments") {
		t.Errorf("refusal %q does not name the data segments", err)
	}

	changed := check("rust_ledger_changed.wasm")
	if !changed.OK() {
		t.Errorf("a build with one changed function failed: %v", changed.Failed())
	}
	if len(changed.Functions) != 1 || !strings.Contains(changed.Functions[0].Name, "checksum") || changed.Functions[0].Change != "changed" ||
		changed.Functions[0].OldHash == changed.Functions[0].NewHash {
		t.Errorf("changed build: functions %+v, want checksum alone", changed.Functions)
	}
}
