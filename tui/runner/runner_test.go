package runner

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/tui/source"
)

// TestIncidentOnRunScreen drives the adapter the way the run screen does:
// start the failing upgrade, read the timeline, jump to the trap and back,
// keep a checkpoint.
func TestIncidentOnRunScreen(t *testing.T) {
	ctx := context.Background()
	st, err := fsstore.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	bench := workbench.New(st, eng)
	code, err := os.ReadFile("../../engine/testdata/incident.wasm")
	if err != nil {
		t.Fatal(err)
	}
	run, res, err := bench.Install(ctx, code, nil, "")
	if err != nil || res.Status != engine.StatusOK {
		t.Fatalf("install: %v %+v", err, res)
	}
	defer run.Close(ctx)
	for _, c := range []struct {
		method string
		arg    uint64
	}{{"add_chunks", 4}, {"grow_stable", 65537}} {
		if res, err := run.Canister.Update(ctx, c.method, binary.LittleEndian.AppendUint64(nil, c.arg)); err != nil || res.Status != engine.StatusOK {
			t.Fatalf("%s: %v %+v", c.method, err, res)
		}
	}
	snap, err := run.Commit(ctx, workbench.CommitOptions{Name: "prod", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}

	var progress []float64
	var r source.Runner = New(trace.New(bench, st))
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Upgrade: true}, func(f float64) { progress = append(progress, f) })
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(*Session).Close(ctx)
	if !slices.Equal(progress, []float64{0, 1}) {
		t.Errorf("progress = %v", progress)
	}
	o := sess.Outcome()
	if o.Status != "trapped" || o.TrapFunction != "ic_cdk::api::stable::stable_size" {
		t.Fatalf("outcome = %+v", o)
	}
	last := sess.Event(sess.Len() - 1)
	if last.Kind != source.EventTrap || last.Message != o.TrapMessage {
		t.Fatalf("last event = %+v", last)
	}
	trapState, err := sess.Seek(ctx, sess.Len()-1)
	if err != nil {
		t.Fatal(err)
	}
	wantStack := []string{"incident::pre_upgrade", "ic_cdk::storage::stable_save", "ic_cdk::api::stable::StableWriter::flush", "ic_cdk::api::stable::stable_size"}
	if !slices.Equal(trapState.Stack, wantStack) {
		t.Errorf("stack at the trap = %q, want %q", trapState.Stack, wantStack)
	}
	if n := len(trapState.RecentSyscalls); n == 0 || trapState.RecentSyscalls[n-1].Syscall != "stable_size" {
		t.Errorf("recent syscalls at the trap = %+v", trapState.RecentSyscalls)
	}
	if trapState.StablePagesChanged == 0 || trapState.Instructions != o.Instructions || trapState.Limit != o.Limit {
		t.Errorf("state at the trap = %+v, outcome %+v", trapState, o)
	}
	first, err := sess.Seek(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.StablePagesChanged != 0 || len(first.Stack) != 1 {
		t.Errorf("state at the start = %+v", first)
	}
	cp, err := sess.Checkpoint(ctx, sess.Len()-1, "at-trap")
	if err != nil {
		t.Fatal(err)
	}
	if cp.MadeBy != snapshots.MadeByCheckpoint || *cp.Parent != snap.ID {
		t.Errorf("checkpoint = %+v", cp)
	}
}
