package trace

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// TestUpgradeCheckpoints traces upgrades whose new module runs (so the
// heap is replaced mid-run) and checks that a checkpoint at any phase
// restores to exactly the state the session showed.
func TestUpgradeCheckpoints(t *testing.T) {
	f := newFixture(t)
	counter := f.install(t, "../testdata/counter.wasm", call{"inc", u64(5)})
	incident := f.install(t, "../testdata/incident.wasm", call{"add_chunks", u64(2)})
	fixed := readFile(t, "../testdata/incident_fixed.wasm")
	for _, c := range []struct {
		name   string
		snap   snapshots.Snapshot
		req    Request
		phases []string
	}{
		{"rehearse counter", counter, Request{Upgrade: true, Rehearse: true},
			[]string{"pre_upgrade", "post_upgrade", "pre_upgrade", "post_upgrade"}},
		{"incident to fixed module", incident, Request{Upgrade: true, Module: fixed},
			[]string{"pre_upgrade", "post_upgrade"}},
		{"skip pre_upgrade", incident, Request{Upgrade: true, Module: fixed, SkipPreUpgrade: true},
			[]string{"post_upgrade"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := f.open(t, c.snap.ID, c.req)
			if s.Result().Status != engine.StatusOK {
				t.Fatalf("result %v: %+v", s.Result().Status, s.Result().Trap)
			}
			// A single upgrade is discarded once recorded: its canister
			// waits at the snapshot's state for the first jump (the
			// checkpoints below check the states those jumps reach). A
			// rehearsal's first upgrade commits.
			if kept := len(s.idle) == 1; kept == c.req.Rehearse {
				t.Errorf("%d canisters kept after the recording", len(s.idle))
			}
			var phases []string
			firstOf := map[string]int{}
			for _, e := range events(t, s) {
				if e.Depth == 0 && e.Kind == Enter {
					phases = append(phases, e.Phase)
					firstOf[e.Phase] = e.Index
				}
			}
			if !slices.Equal(phases, c.phases) {
				t.Fatalf("phases = %q, want %q", phases, c.phases)
			}
			for _, i := range []int{0, firstOf["post_upgrade"] + 1, s.Len() - 1} {
				checkCheckpoint(t, f, s, i)
			}
		})
	}
}

// checkCheckpoint stores event i as a checkpoint, restores it and
// compares it with the state the session shows at i.
func checkCheckpoint(t *testing.T, f *fixture, s *Session, i int) {
	t.Helper()
	ctx := context.Background()
	v, err := s.Seek(ctx, i)
	if err != nil {
		t.Fatal(err)
	}
	wantHeap := bytes.Clone(v.heapBytes())
	wantGlobals, err := v.Globals()
	if err != nil {
		t.Fatal(err)
	}
	wantStableSize := v.StableSize()
	stablePages := v.StablePagesChanged()
	wantStable := make([]byte, len(stablePages)*engine.PageSize)
	for k, p := range stablePages {
		if err := v.ReadStable(wantStable[k*engine.PageSize:(k+1)*engine.PageSize], p*engine.PageSize); err != nil {
			t.Fatal(err)
		}
	}
	wantModule := v.Module().Hash()
	cp, err := s.Checkpoint(ctx, i, "cp")
	if err != nil {
		t.Fatal(err)
	}
	if cp.ModuleHash != snapshots.Hash(wantModule) {
		t.Errorf("event %d: checkpoint module %s, want the running one", i, cp.ModuleHash)
	}
	run, err := f.bench.Open(ctx, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	c := run.Canister
	heap := make([]byte, c.HeapSize())
	if err := c.ReadHeap(heap, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(heap, wantHeap) {
		t.Errorf("event %d: checkpoint heap (%d bytes) differs from the session's (%d bytes)", i, len(heap), len(wantHeap))
	}
	if g := c.Globals(); !reflect.DeepEqual(g, wantGlobals) {
		t.Errorf("event %d: checkpoint globals %v, want %v", i, g, wantGlobals)
	}
	if c.StableSize() != wantStableSize {
		t.Errorf("event %d: checkpoint stable size %d, want %d", i, c.StableSize(), wantStableSize)
	}
	got := make([]byte, engine.PageSize)
	for k, p := range stablePages {
		if err := c.ReadStable(got, p*engine.PageSize); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantStable[k*engine.PageSize:(k+1)*engine.PageSize]) {
			t.Errorf("event %d: checkpoint stable page %d differs", i, p)
		}
	}
}

// TestSeekCountsEarlierExecutions: a jump into post_upgrade re-executes
// pre_upgrade counting its events, then records post_upgrade from its
// start, so the state there has the recorded stack: the events and
// stacks at jumps match a recording of every event.
func TestSeekCountsEarlierExecutions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	snap := f.install(t, "../testdata/incident.wasm", call{"add_chunks", u64(2)})
	s := f.open(t, snap.ID, Request{Upgrade: true, MaxEvents: 1 << 40})
	all := events(t, s)
	post := -1
	for _, e := range all {
		if e.Depth == 0 && e.Kind == Enter && e.Phase == "post_upgrade" {
			post = e.Index
		}
	}
	if post < 1 || len(s.starts) < 2 || s.starts[len(s.starts)-1] > post {
		t.Fatalf("post_upgrade starts at %d, executions at %v", post, s.starts)
	}
	for _, i := range []int{post + 1, (post + len(all)) / 2, len(all) - 2, post - 1} {
		for all[i].Kind != Enter {
			i--
		}
		v, err := s.Seek(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		e := all[i]
		if !reflect.DeepEqual(v.Event(), e) || v.Phase() != e.Phase {
			t.Errorf("event %d: %+v in %s, want %+v", i, v.Event(), v.Phase(), e)
		}
		if st := v.Stack(); len(st) != e.Depth+1 || st[e.Depth] != e.Function {
			t.Errorf("event %d (%s): stack %q", i, e, st)
		}
	}
}
