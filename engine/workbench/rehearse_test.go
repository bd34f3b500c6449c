package workbench

import (
	"context"
	"errors"
	"testing"
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

	// A cancelled rehearsal reports the cancellation, not a step.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	reh, err = run.Rehearse(cctx, RehearsalOptions{Again: true})
	if !errors.Is(err, context.Canceled) || len(reh.Steps) != 0 {
		t.Errorf("cancelled: %d steps, err %v", len(reh.Steps), err)
	}
}
