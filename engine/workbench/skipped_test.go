package workbench

import (
	"context"
	"strings"
	"testing"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/snapshots"
)

// TestSkippedPreUpgrade: an upgrade with skip_pre_upgrade says what
// post_upgrade read in place of the discarded heap, and which snapshot of
// the lineage last wrote it.
func TestSkippedPreUpgrade(t *testing.T) {
	ctx := context.Background()
	b, _ := newBench(t)
	run, res, err := b.Install(ctx, fixture(t, "incident.wasm"), nil, "")
	mustOK(t, res, err)
	root, err := run.Commit(ctx, CommitOptions{Name: "ledger", MadeBy: snapshots.MadeByInstall})
	if err != nil {
		t.Fatal(err)
	}
	run.Close(ctx)

	// A fresh canister has no stable memory: post_upgrade reads nothing.
	reh := rehearseSkip(t, b, root.ID)
	if sk := reh.Skipped; sk == nil || sk.BytesRead != 0 || sk.String() != "heap discarded; post_upgrade read nothing from stable memory" {
		t.Fatalf("fresh canister: %+v", reh.Skipped)
	}
	// Stable memory grown but never written: its header reads as zeros.
	run, err = b.Open(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err = run.Canister.Update(ctx, "grow_stable", u64(2))
	mustOK(t, res, err)
	grown, err := run.Commit(ctx, CommitOptions{Name: "grown", MadeBy: snapshots.MadeByCall})
	run.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reh = rehearseSkip(t, b, grown.ID)
	if sk := reh.Skipped; sk == nil || !sk.Zeros || sk.BytesRead == 0 || !sk.LastWritten.ID.IsZero() ||
		!strings.HasSuffix(sk.String(), "all zero (never written)") {
		t.Fatalf("grown, never written: %+v", reh.Skipped)
	}

	// A real upgrade saves the state (pre_upgrade writes stable memory);
	// a call after it changes only the heap.
	run, err = b.Open(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err = run.Canister.Update(ctx, "add_chunks", u64(2))
	mustOK(t, res, err)
	r, err := run.Rehearse(ctx, RehearsalOptions{})
	if err != nil || !r.OK() {
		t.Fatalf("upgrade: %v %+v", err, r)
	}
	saved, err := run.Commit(ctx, CommitOptions{Name: "ledger", MadeBy: snapshots.MadeByUpgrade})
	if err != nil {
		t.Fatal(err)
	}
	res, err = run.Canister.Update(ctx, "add_chunks", u64(1))
	mustOK(t, res, err)
	later, err := run.Commit(ctx, CommitOptions{Name: "ledger", MadeBy: snapshots.MadeByCall})
	if err != nil {
		t.Fatal(err)
	}
	run.Close(ctx)

	reh = rehearseSkip(t, b, later.ID)
	sk := reh.Skipped
	if sk == nil || sk.Zeros || sk.BytesRead == 0 || sk.LastWritten.ID != saved.ID || reh.Steps[0].StableBytesRead != sk.BytesRead {
		t.Fatalf("after a saved upgrade: %+v (saved %s)", sk, saved.Ref())
	}
	want := "last written at snapshot " + saved.Ref()
	if !strings.HasPrefix(sk.String(), "heap discarded; post_upgrade read ") || !strings.HasSuffix(sk.String(), want) {
		t.Errorf("verdict %q, want it to end %q", sk, want)
	}
}

func rehearseSkip(t *testing.T, b *Bench, id snapshots.ID) Rehearsal {
	t.Helper()
	ctx := context.Background()
	run, err := b.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close(ctx)
	reh, err := run.Rehearse(ctx, RehearsalOptions{SkipPreUpgrade: true})
	if err != nil || len(reh.Steps) == 0 || reh.Steps[0].Result.Status != engine.StatusOK {
		t.Fatalf("skip_pre_upgrade rehearsal of %s: %v %+v", id.Short(), err, reh)
	}
	return reh
}
