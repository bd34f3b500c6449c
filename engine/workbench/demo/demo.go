// Package demo fills a store with the story canscope exists for: a
// production canister whose pre_upgrade traps once its stable memory passes
// 4 GiB, snapshots of it taken over a few days, and the repair (the fixed
// module transplanted onto the captured state, its upgrade rehearsed), plus
// a healthy Motoko canister upgraded from v1 to v2. It is what a newcomer
// sees first, so every snapshot in it is made by the real engine.
package demo

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
)

// The demo modules are copies of engine/testdata's fixtures (go:embed cannot
// reach that folder); TestModulesMatchFixtures keeps them identical.
var (
	//go:embed wasm/incident.wasm
	incidentWasm []byte
	//go:embed wasm/incident_fixed.wasm
	incidentFixedWasm []byte
	//go:embed wasm/motoko_v1.wasm
	motokoV1Wasm []byte
	//go:embed wasm/motoko_v2.wasm
	motokoV2Wasm []byte
)

// Names of the demo's snapshots.
const (
	IncidentName = "demo-ledger"
	FixedName    = "demo-ledger-fixed"
	MotokoName   = "demo-wallet"
)

// Canister ids the demo canisters run under.
const (
	incidentID = "bkyz2-fmaaa-aaaaa-qaaaq-cai"
	motokoID   = "53zcu-tiaaa-aaaaa-qaaba-cai"
)

// start is the demo's first day; each step moves the canister clock on, so
// the snapshots read like ones taken over an incident.
var start = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// Lister is the part of the store Load checks before writing.
type Lister interface {
	// List returns every snapshot in the store (snapshots.Store.List).
	List() ([]snapshots.Snapshot, error)
}

// ErrPresent is returned when the store already holds the demo.
var ErrPresent = errors.New("the store already holds the demo snapshots")

// Remover is the part of a store that clears an interrupted demo
// (fsstore.Store.Remove).
type Remover interface {
	Remove(ctx context.Context, ids []snapshots.ID, withDescendants bool) ([]snapshots.Snapshot, error)
}

// Load runs the demo on b and commits its snapshots. It refuses to run
// twice on one store. The snapshots of an interrupted run (the last one,
// the wallet's upgrade, is missing) are removed first when the store is a
// Remover, so the demo can be run again.
func Load(ctx context.Context, b *workbench.Bench, store Lister) ([]snapshots.Snapshot, error) {
	all, err := store.List()
	if err != nil {
		return nil, err
	}
	var partial []snapshots.ID
	for _, s := range all {
		if s.Name == MotokoName && s.MadeBy == snapshots.MadeByUpgrade {
			return nil, fmt.Errorf("%w (%s): use another store", ErrPresent, s.Ref())
		}
		if s.Name == IncidentName || s.Name == FixedName || s.Name == MotokoName {
			partial = append(partial, s.ID)
		}
	}
	if len(partial) > 0 {
		rm, ok := store.(Remover)
		if !ok {
			return nil, fmt.Errorf("%w (an interrupted run): use another store", ErrPresent)
		}
		if _, err := rm.Remove(ctx, partial, true); err != nil {
			return nil, fmt.Errorf("demo: remove the snapshots of an interrupted run: %w", err)
		}
	}
	var made []snapshots.Snapshot
	if err := incident(ctx, b, &made); err != nil {
		return made, fmt.Errorf("demo incident: %w", err)
	}
	if err := wallet(ctx, b, &made); err != nil {
		return made, fmt.Errorf("demo wallet: %w", err)
	}
	return made, nil
}

// step is one message of the story: run it, then commit when name is set.
type step struct {
	method string
	arg    []byte
	commit string
	note   string
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	return b
}

func incident(ctx context.Context, b *workbench.Bench, made *[]snapshots.Snapshot) error {
	run, res, err := b.Install(ctx, incidentWasm, candid.DefaultArg(), incidentID)
	if err != nil {
		return err
	}
	defer run.Close(ctx)
	if err := res.Err(incidentID); err != nil {
		return err
	}
	clock := start
	advance(run, clock) // the install's snapshot is taken at the story's start
	commit := func(name, note string) error {
		s, err := run.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: commitKind(run), Note: note})
		if err != nil {
			return err
		}
		*made = append(*made, s)
		return nil
	}
	if err := commit(IncidentName, "install incident.wasm (v1.4.2)"); err != nil {
		return err
	}
	steps := []step{
		{method: "add_chunks", arg: u64(8), commit: IncidentName, note: "day 1: 8 ledger blocks"},
		{method: "add_chunks", arg: u64(8), commit: IncidentName, note: "day 2: 8 more blocks"},
		// The archive feature grows stable memory past 4 GiB: from here on
		// the 32-bit StableWriter in pre_upgrade traps.
		{method: "grow_stable", arg: u64(65537), commit: IncidentName, note: "day 3: archive grows stable memory past 4 GiB"},
		{method: "add_chunks", arg: u64(4), commit: IncidentName, note: "day 4: taken before the failed upgrade"},
	}
	for _, s := range steps {
		clock = clock.Add(24 * time.Hour)
		advance(run, clock)
		res, err := run.Canister.Update(ctx, s.method, s.arg)
		if err != nil {
			return err
		}
		if err := res.Err(incidentID); err != nil {
			return fmt.Errorf("%s: %w", s.method, err)
		}
		if err := commit(s.commit, s.note); err != nil {
			return err
		}
	}
	last := (*made)[len(*made)-1]

	// The upgrade that failed in production fails here too; the repair
	// transplants the fixed module and proves the next upgrade works.
	fixed, _, err := b.Transplant(ctx, last.ID, incidentFixedWasm, workbench.TransplantOptions{Name: FixedName})
	if err != nil {
		return err
	}
	*made = append(*made, fixed)
	rehearsal, err := b.Open(ctx, fixed.ID)
	if err != nil {
		return err
	}
	defer rehearsal.Close(ctx)
	// The rehearsal `canscope upgrade --commit` runs, with its argument.
	reh, err := rehearsal.Rehearse(ctx, workbench.RehearsalOptions{})
	if err != nil {
		return err
	}
	up := reh.Last().Result
	if err := up.Err(incidentID); err != nil {
		return fmt.Errorf("rehearse the fixed upgrade: %w", err)
	}
	s, err := rehearsal.Commit(ctx, workbench.CommitOptions{Name: FixedName, MadeBy: snapshots.MadeByUpgrade, Note: "rehearsed upgrade of the fixed module"})
	if err != nil {
		return err
	}
	*made = append(*made, s)
	return nil
}

func wallet(ctx context.Context, b *workbench.Bench, made *[]snapshots.Snapshot) error {
	run, res, err := b.Install(ctx, motokoV1Wasm, candid.DefaultArg(), motokoID)
	if err != nil {
		return err
	}
	defer run.Close(ctx)
	if err := res.Err(motokoID); err != nil {
		return err
	}
	clock := start.Add(2 * time.Hour)
	advance(run, clock)
	s, err := run.Commit(ctx, workbench.CommitOptions{Name: MotokoName, MadeBy: snapshots.MadeByInstall, Note: "install motoko_v1.wasm"})
	if err != nil {
		return err
	}
	*made = append(*made, s)
	for i, text := range []string{"(5, \"deposit\")", "(12, \"payout\")"} {
		arg, err := candid.EncodeText(text, nil)
		if err != nil {
			return err
		}
		clock = clock.Add(24 * time.Hour)
		advance(run, clock)
		res, err := run.Canister.Update(ctx, "add", arg)
		if err != nil {
			return err
		}
		if err := res.Err(motokoID); err != nil {
			return fmt.Errorf("add #%d: %w", i+1, err)
		}
		s, err := run.Commit(ctx, workbench.CommitOptions{Name: MotokoName, MadeBy: snapshots.MadeByCall, Note: "call add" + text})
		if err != nil {
			return err
		}
		*made = append(*made, s)
	}
	v2, err := b.Engine().Load(ctx, motokoV2Wasm)
	if err != nil {
		return err
	}
	defer v2.Close(ctx)
	reh, err := run.Rehearse(ctx, workbench.RehearsalOptions{Module: v2})
	if err != nil {
		return err
	}
	up := reh.Last().Result
	if err := up.Err(motokoID); err != nil {
		return fmt.Errorf("upgrade to v2: %w", err)
	}
	s, err = run.Commit(ctx, workbench.CommitOptions{Name: MotokoName, MadeBy: snapshots.MadeByUpgrade, Note: "upgrade to motoko_v2.wasm"})
	if err != nil {
		return err
	}
	*made = append(*made, s)
	return nil
}

// commitKind is install for a run's first snapshot, call afterwards.
func commitKind(r *workbench.Run) snapshots.MadeBy {
	if r.Base() == nil {
		return snapshots.MadeByInstall
	}
	return snapshots.MadeByCall
}

// advance sets the canister's clock to t for the following messages.
func advance(r *workbench.Run, t time.Time) {
	env := *r.Canister.Env()
	env.Time = uint64(t.UnixNano())
	r.Canister.SetEnv(&env)
}
