package bridge

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// TestIncidentOnRunScreen drives the adapter the way the run screen does:
// start the failing upgrade, read the timeline, jump to the trap and back,
// keep a checkpoint.
func TestIncidentOnRunScreen(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/incident.wasm", "prod",
		update{"add_chunks", binary.LittleEndian.AppendUint64(nil, 4)},
		update{"grow_stable", binary.LittleEndian.AppendUint64(nil, 65537)})

	var progress []float64
	var r source.Runner = NewRunner(trace.New(bench, st))
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Upgrade: true}, func(f float64) { progress = append(progress, f) })
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(*Session).Close(ctx)
	if len(progress) < 2 || progress[0] != 0 || progress[len(progress)-1] != 1 || !slices.IsSorted(progress) {
		t.Errorf("progress = %v, want 0, rising fractions of the limit, 1", progress)
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
	// A jump to an instruction count lands on the first event at or
	// after it: here the failing System API call, just before the trap.
	if at, st, err := sess.(*Session).SeekInstructions(ctx, o.Instructions); err != nil || at != sess.Len()-2 ||
		sess.Event(at).Instructions != o.Instructions || sess.Event(at-1).Instructions >= o.Instructions || st.Instructions != o.Instructions {
		t.Errorf("seek to instruction %d: event %d of %d, state %+v, %v", o.Instructions, at, sess.Len(), st, err)
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

// TestCallReply: a call's Candid argument is typed by the method's
// declared types, its reply decoded as `canscope call` decodes it, and a
// bad argument, caller or time comes back as the form field's error.
func TestCallReply(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/motoko_v2.wasm.gz", "wallet")
	r := NewRunner(trace.New(bench, st))
	wasmLimit := uint64(5 << 30)
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "add", Arg: `(5, "deposit")`,
		Caller: "aaaaa-aa", Time: "2026-11-26T09:00:00Z", Limit: 2_000_000_000, WasmMemoryLimit: &wasmLimit}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := sess.Outcome()
	sess.(*Session).Close(ctx)
	if o.Status != "ok" || o.Reply != "(5)" || o.ReplyHex == "" || o.Limit != 2_000_000_000 {
		t.Errorf("add(5, \"deposit\") = %+v", o)
	}
	if i := slices.IndexFunc(o.Limits, func(l source.LimitUse) bool { return l.Name == engine.LimitHeapBytes }); i < 0 || o.Limits[i].Limit != wasmLimit || !o.Limits[i].Bytes {
		t.Errorf("limits %+v lack heap_bytes against wasm_memory_limit %d", o.Limits, wasmLimit)
	}
	for _, c := range []struct {
		req   source.RunRequest
		field string
	}{
		{source.RunRequest{Snapshot: snap.ID, Method: "add", Arg: `("five")`}, source.FieldArg},
		{source.RunRequest{Snapshot: snap.ID, Method: "add", Arg: "zz", ArgHex: true}, source.FieldArg},
		{source.RunRequest{Snapshot: snap.ID, Method: "get", Caller: "not a principal"}, source.FieldCaller},
		{source.RunRequest{Snapshot: snap.ID, Method: "get", Time: "yesterday"}, source.FieldTime},
	} {
		_, err := r.Start(ctx, c.req, nil)
		var fe *source.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: error %v, want one under %s", c.req, err, c.field)
		}
	}
}

// TestRunProgress: a long traced call reports the fraction of its limit
// it has used while it runs, rising, below 1 until the recording is done.
func TestRunProgress(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	st, bench := f.st, f.bench
	snap := f.snapshot(t, "../../engine/testdata/compute.wasm", "c")
	var progress []float64
	// burn(5,000,000): about 215 M instructions (21 metering slices, so
	// 21 published counts) against a limit of 500 M, polled every
	// millisecond: tens of polls however fast the machine runs the loop
	// (polling every 100 ms, a fast run ended before the second poll).
	r := NewRunner(trace.New(bench, st))
	r.every = time.Millisecond
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "burn", ArgHex: true, Arg: "404b4c00", Limit: 500_000_000},
		func(f float64) { progress = append(progress, f) })
	if err != nil {
		t.Fatal(err)
	}
	o := sess.Outcome()
	sess.(*Session).Close(ctx)
	if o.Status != "ok" {
		t.Fatalf("burn: %+v", o)
	}
	var during []float64
	for _, f := range progress[1 : len(progress)-1] {
		if f > 0 {
			during = append(during, f)
		}
	}
	if len(during) < 2 || !slices.IsSorted(progress) || progress[len(progress)-1] != 1 || slices.Max(during) >= 1 {
		t.Errorf("progress = %v; want 0, at least two rising fractions below 1, then 1", progress)
	}
	t.Logf("%d fractions during %d instructions", len(during), o.Instructions)
}

// TestCountedRunOnRunScreen: a run longer than the recording keeps (the
// incident's upgrade over 1 MiB of data: a quarter of a million calls)
// reads on the run screen as the recorded events, then elided ones saying
// how to see them; a jump into the counted part, to an instruction count
// there, and to the trap of a run that overflows the stack all land, and
// the events before a jump read as recorded ones.
func TestCountedRunOnRunScreen(t *testing.T) {
	ctx := context.Background()
	f := newRunFixture(t)
	snap := f.snapshot(t, "../../engine/testdata/incident.wasm", "prod",
		update{"add_chunks", binary.LittleEndian.AppendUint64(nil, 16)})
	r := NewRunner(trace.New(f.bench, f.st))
	sess, err := r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Upgrade: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(*Session).Close(ctx)
	if sess.Len() < 4*trace.DefaultMaxEvents {
		t.Fatalf("%d events", sess.Len())
	}
	if e := sess.Event(trace.DefaultMaxEvents - 1); e.Kind == source.EventElided {
		t.Errorf("recorded event %d = %+v", trace.DefaultMaxEvents-1, e)
	}
	mid := sess.Len() / 2
	if e := sess.Event(mid); e.Kind != source.EventElided || !strings.Contains(e.Message, "move to one to re-run up to it") {
		t.Errorf("counted event %d = %+v", mid, e)
	}
	if _, err := sess.Seek(ctx, mid); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{mid - trace.WindowEvents + 1, mid} {
		if e := sess.Event(i); e.Kind == source.EventElided {
			t.Errorf("event %d after the jump to %d = %+v", i, mid, e)
		}
	}
	n := sess.Event(mid).Instructions + 1
	at, st, err := sess.(*Session).SeekInstructions(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if e := sess.Event(at); at <= mid || e.Instructions < n || sess.Event(at-1).Instructions >= n || st.Instructions < n {
		t.Errorf("seek to instruction %d: event %d %+v, the one before %+v", n, at, e, sess.Event(at-1))
	}

	snap = f.snapshot(t, "../../engine/testdata/traps.wasm", "traps")
	sess, err = r.Start(ctx, source.RunRequest{Snapshot: snap.ID, Method: "stack_overflow"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.(*Session).Close(ctx)
	last := sess.Event(sess.Len() - 1)
	if last.Kind != source.EventTrap || sess.Event(sess.Len()-2).Kind != source.EventElided {
		t.Fatalf("last events %+v, %+v", sess.Event(sess.Len()-2), last)
	}
	trapState, err := sess.Seek(ctx, sess.Len()-1)
	if err != nil {
		t.Fatal(err)
	}
	if len(trapState.Stack) != last.Depth {
		t.Errorf("%d functions on the stack at the trap, trap event at depth %d", len(trapState.Stack), last.Depth)
	}
}
