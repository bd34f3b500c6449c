package demo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

func TestModulesMatchFixtures(t *testing.T) {
	for name, embedded := range map[string][]byte{
		"incident.wasm":       incidentWasm,
		"incident_fixed.wasm": incidentFixedWasm,
		"motoko_v1.wasm":      motokoV1Wasm,
		"motoko_v2.wasm":      motokoV2Wasm,
	} {
		fixture, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fixture, embedded) {
			t.Errorf("wasm/%s differs from engine/testdata/%s: copy it again", name, name)
		}
	}
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	b := workbench.New(store, eng)

	made, err := Load(ctx, b, store)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range made {
		count[s.Name]++
	}
	want := map[string]int{IncidentName: 5, FixedName: 2, MotokoName: 4}
	for name, n := range want {
		if count[name] != n {
			t.Errorf("%s: %d snapshots, want %d", name, count[name], n)
		}
	}
	all, err := store.List()
	if err != nil || len(all) != len(made) {
		t.Fatalf("store lists %d snapshots (err %v), Load made %d", len(all), err, len(made))
	}

	// The last incident snapshot is the stuck canister: its upgrade traps
	// with the replica's 32-bit message.
	stuck, err := store.Resolve(IncidentName)
	if err != nil {
		t.Fatal(err)
	}
	if stuck.StableBytes <= 4<<30 {
		t.Errorf("stuck canister has %d bytes of stable memory, want more than 4 GiB", stuck.StableBytes)
	}
	run, err := b.Open(ctx, stuck.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	res, err := run.Canister.Upgrade(ctx, nil, nil, engine.UpgradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trap == nil || res.Trap.Reason != "32 bit stable memory api used on a memory larger than 4GB" {
		t.Errorf("upgrade of the stuck canister: %+v, want the 32-bit trap", res.Trap)
	}
	fixed, err := store.Resolve(FixedName + "@1")
	if err != nil {
		t.Fatal(err)
	}
	if fixed.MadeBy != snapshots.MadeByTransplant || fixed.Parent == nil || *fixed.Parent != stuck.ID {
		t.Errorf("fixed snapshot: made by %s, parent %v; want a transplant of %s", fixed.MadeBy, fixed.Parent, stuck.ID.Short())
	}

	if _, err := Load(ctx, b, store); !errors.Is(err, ErrPresent) {
		t.Errorf("second Load: %v, want ErrPresent", err)
	}

	// An interrupted run (everything but the wallet's upgrade committed)
	// can be run again: its snapshots are replaced, the store stays clean.
	last, err := store.Resolve(MotokoName)
	if err != nil || last.MadeBy != snapshots.MadeByUpgrade {
		t.Fatalf("last demo snapshot %s made by %s (%v), want the wallet's upgrade", last.Ref(), last.MadeBy, err)
	}
	if _, err := store.Remove(ctx, []snapshots.ID{last.ID}, false); err != nil {
		t.Fatal(err)
	}
	again, err := Load(ctx, b, store)
	if err != nil {
		t.Fatalf("Load after an interrupted run: %v", err)
	}
	if all, _ := store.List(); len(all) != len(again) || len(again) != len(made) {
		t.Errorf("after rerun: store lists %d snapshots, Load made %d, first run %d", len(all), len(again), len(made))
	}
	if rep, err := store.Check(ctx); err != nil || !rep.OK {
		t.Errorf("fsck after rerun: %+v, %v", rep, err)
	}
}
