package workbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// countCalls is an ic0.Recorder counting System API calls by name.
type countCalls map[string]int

func (c countCalls) SystemCall(name string, _, _ []uint64) { c[name]++ }

// TestRehearse rehearses the incident canister's upgrade twice: both
// steps write the whole data store to stable memory (a 64-byte header
// and the store), post_upgrade runs, the hook between the steps runs
// once, and the caller's recorder sees every call.
func TestRehearse(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "incident.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	res, err = run.Canister.Update(ctx, "add_chunks", u64(3))
	mustOK(t, res, err)

	rec := countCalls{}
	var heard []string
	between := 0
	reh, err := run.Rehearse(ctx, RehearsalOptions{
		Again:    true,
		Recorder: rec,
		Progress: func(s UpgradeStep) { heard = append(heard, s.Name) },
		AfterUpgrade: func(context.Context) error {
			between++
			if len(heard) != 1 {
				t.Errorf("AfterUpgrade ran after %d steps, want 1", len(heard))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reh.OK() || len(reh.Steps) != 2 || between != 1 || len(heard) != 2 {
		t.Fatalf("rehearsal: %+v, AfterUpgrade ran %d times, heard %v", reh, between, heard)
	}
	const store = 3 * (8 + 65536) // three records: length word and data
	for i, s := range reh.Steps {
		if want := []string{StepUpgrade, StepUpgradeAgain}[i]; s.Name != want {
			t.Errorf("step %d is %q, want %q", i, s.Name, want)
		}
		if s.StableBytesWritten != 64+store {
			t.Errorf("%s wrote %d stable bytes, want %d", s.Name, s.StableBytesWritten, 64+store)
		}
		if !s.PostUpgradeOK {
			t.Errorf("%s: post_upgrade not reported", s.Name)
		}
	}
	if rec["stable64_write"] == 0 || rec["stable_write"] == 0 {
		t.Errorf("the caller's recorder missed the stable writes: %v", rec)
	}

	// An error from the hook stops the rehearsal before the second step.
	stop := errors.New("stop here")
	reh, err = run.Rehearse(ctx, RehearsalOptions{Again: true, AfterUpgrade: func(context.Context) error { return stop }})
	if !errors.Is(err, stop) || len(reh.Steps) != 1 {
		t.Errorf("hook error: %d steps, err %v", len(reh.Steps), err)
	}

	// A discarded rehearsal reports the step as the committed one did
	// and leaves the canister as it was: the same rehearsal again (the
	// canister is now at the second step's state) gives the same step.
	state := func() engine.State {
		st, err := run.Canister.State()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := state()
	again, err := run.Rehearse(ctx, RehearsalOptions{Discard: true})
	if err != nil || len(again.Steps) != 1 || !again.OK() {
		t.Fatalf("discarded: %+v, err %v", again, err)
	}
	if !reflect.DeepEqual(state(), before) {
		t.Error("the discarded rehearsal changed the canister")
	}
	if twice, err := run.Rehearse(ctx, RehearsalOptions{Discard: true}); err != nil || !reflect.DeepEqual(twice, again) {
		t.Errorf("the same discarded rehearsal gave %+v, then %+v (err %v)", again, twice, err)
	}
	if _, err := run.Rehearse(ctx, RehearsalOptions{Discard: true, Again: true}); err == nil {
		t.Error("a discarded rehearsal upgraded again")
	}

	// A cancelled rehearsal reports the cancellation, not a step.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	reh, err = run.Rehearse(cctx, RehearsalOptions{Again: true})
	if !errors.Is(err, context.Canceled) || len(reh.Steps) != 0 {
		t.Errorf("cancelled: %d steps, err %v", len(reh.Steps), err)
	}
}

// TestRehearseKeepsHeap: a rehearsal of an EOP module (keep_counter, a
// wasm32 module with the metadata) uses the replica's heap handling:
// keep runs the new module on the old heap, in both steps; an EOP
// upgrade without the option and keep onto a module without EOP are the
// replica's IC0504 refusals, before anything runs.
func TestRehearseKeepsHeap(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "keep_counter.wasm"), nil, "")
	mustOK(t, res, err)
	defer run.Close(ctx)
	for _, m := range []string{"inc", "inc", "mark", "grow", "grow", "grow"} { // 8 pages
		res, err := run.Canister.Update(ctx, m, nil)
		mustOK(t, res, err)
	}
	v2, err := b.eng.Load(ctx, fixture(t, "keep_counter_v2.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close(ctx)
	counter, err := b.eng.Load(ctx, fixture(t, "counter.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	defer counter.Close(ctx)

	if ToolPersistence(run.Canister.Module()) != engine.PersistenceKeep || ToolPersistence(counter) != engine.PersistenceUnset {
		t.Error("ToolPersistence: want keep for the EOP module, none for counter")
	}
	var uo *engine.UpgradeOptionError
	if _, err := run.Rehearse(ctx, RehearsalOptions{Module: v2}); !errors.As(err, &uo) || !strings.Contains(err.Error(), "Missing upgrade option") {
		t.Errorf("no option: %v", err)
	}
	if _, err := run.Rehearse(ctx, RehearsalOptions{Module: counter, Persistence: engine.PersistenceKeep}); !errors.As(err, &uo) || !strings.Contains(err.Error(), "Invalid upgrade option") {
		t.Errorf("keep onto counter: %v", err)
	}

	// Commit first, so the kept heap's snapshot below is a child that
	// stores only the pages the upgrades changed.
	if _, err := run.Commit(ctx, CommitOptions{Name: "kept", MadeBy: snapshots.MadeByInstall}); err != nil {
		t.Fatal(err)
	}
	reh, err := run.Rehearse(ctx, RehearsalOptions{Module: v2, Persistence: engine.PersistenceKeep, Again: true})
	if err != nil || !reh.OK() || len(reh.Steps) != 2 {
		t.Fatalf("keep: %+v, %v", reh, err)
	}
	for _, s := range reh.Steps {
		if s.MainMemory != HeapKept || !strings.Contains(s.MainMemoryReason, "keeps the heap") {
			t.Errorf("%s: %s (%s)", s.Name, s.MainMemory, s.MainMemoryReason)
		}
	}
	res, err = run.Canister.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 2 || res.Reply[16] != 0xaa {
		t.Errorf("after keep: counter %d, marker %#x; want 2, 0xaa", got, res.Reply[16])
	}

	// The child snapshot of the kept heap (only its changed pages stored)
	// reopens to the same heap.
	if changed, _ := run.Canister.Changed(); !slices.Equal(changed, []uint64{0, 1}) {
		t.Errorf("the kept upgrades changed heap pages %v, want [0 1] (start and pre_upgrade)", changed)
	}
	snap, err := run.Commit(ctx, CommitOptions{Name: "kept", MadeBy: snapshots.MadeByUpgrade})
	if err != nil {
		t.Fatal(err)
	}
	reopened, err := b.Open(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close(ctx)
	heapNow, _, _ := stateOf(t, run.Canister)
	heapBack, _, _ := stateOf(t, reopened.Canister)
	if !bytes.Equal(heapNow, heapBack) {
		t.Error("the committed kept heap reopens different")
	}

	reh, err = run.Rehearse(ctx, RehearsalOptions{Module: v2, Persistence: engine.PersistenceReplace})
	if err != nil || !reh.OK() || reh.Steps[0].MainMemory != HeapReplaced {
		t.Fatalf("replace: %+v, %v", reh, err)
	}
	res, err = run.Canister.Query(ctx, "get", nil)
	mustOK(t, res, err)
	if got := binary.LittleEndian.Uint64(res.Reply); got != 0 || res.Reply[16] != 2 {
		t.Errorf("after replace: counter %d, marker %#x; want 0, 2", got, res.Reply[16])
	}
}
