package screentest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/source"
)

// Transplanter is a test-only source.Transplanter over a Memory store:
// Check returns Report (naming the module's hash in the "wasm32 canister"
// check, worded as the workbench does), Rehearse replays Steps, and
// Transplant commits a real child snapshot (made_by transplant, the module
// as a blob), refusing a failing report unless forced, as the workbench
// does.
type Transplanter struct {
	Store  *Memory
	Report source.CompatReport
	Steps  []source.RehearsalStep
	// Verify is the rehearsal's data-survival check Rehearse returns.
	Verify []source.VerifiedQuery
	// Block makes Check and Rehearse (not Transplant) wait for their
	// context to be cancelled, to test cancelling.
	Block bool
	// Rehearsed records the snapshots Rehearse was asked to upgrade.
	Rehearsed []snapshots.ID
}

// PassingReport is what the workbench reports for a module that fits.
func PassingReport() source.CompatReport {
	return source.CompatReport{
		Checks: []source.CompatCheck{
			{Name: "wasm32 canister", OK: true},
			{Name: "memory limits", OK: true, Detail: "heap of 64 pages within [2, 65536]"},
			{Name: "globals", OK: true, Detail: "3 globals match (i32, i64, i64)"},
		},
		CandidDiff:       []string{"- get_status : () -> (text) query;", "+ get_status : () -> (Status) query;"},
		ChangedFunctions: []string{"changed canister_pre_upgrade", "changed canister_query get_status"},
	}
}

// SurvivedVerify is a rehearsal's data check whose queries reply the
// same before and after both upgrades.
func SurvivedVerify() []source.VerifiedQuery {
	return []source.VerifiedQuery{
		{Method: "count", Before: "(3 : nat64)", After: []string{"(3 : nat64)", "(3 : nat64)"}, Same: true},
		{Method: "checksum", Before: "(1_234_567 : nat64)", After: []string{"(1_234_567 : nat64)", "(1_234_567 : nat64)"}, Same: true},
	}
}

// LostVerify is a rehearsal's data check where the upgrade lost the
// entries count returns.
func LostVerify() []source.VerifiedQuery {
	v := SurvivedVerify()
	v[0].After, v[0].Same = []string{"(0 : nat64)", "(0 : nat64)"}, false
	return v
}

// FailingReport is what the workbench reports for a module with other
// globals and methods.
func FailingReport() source.CompatReport {
	return source.CompatReport{
		Checks: []source.CompatCheck{
			{Name: "wasm32 canister", OK: true},
			{Name: "memory limits", OK: true, Detail: "heap of 64 pages within [1, 65536]"},
			{Name: "globals", OK: false, Detail: "snapshot has 3 globals, module has 1"},
		},
		RemovedExports: []string{"canister_update transfer", "canister_query balance"},
	}
}

// OKSteps is a rehearsal whose two upgrades succeed.
func OKSteps() []source.RehearsalStep {
	return []source.RehearsalStep{
		{Name: "upgrade", Status: "ok", Instructions: 1_834_201, Limit: 300_000_000_000, StablePagesChanged: 2},
		{Name: "upgrade again", Status: "ok", Instructions: 1_790_112, Limit: 300_000_000_000, StablePagesChanged: 2},
	}
}

// TrappedSteps is a rehearsal whose second upgrade traps in the new
// pre_upgrade.
func TrappedSteps() []source.RehearsalStep {
	return []source.RehearsalStep{
		{Name: "upgrade", Status: "ok", Instructions: 1_834_201, Limit: 300_000_000_000, StablePagesChanged: 2},
		{Name: "upgrade again", Status: "trapped", Instructions: 52_337, Limit: 300_000_000_000,
			TrapFunction: "ic_cdk::api::stable::stable_size",
			Backtrace:    []string{"ic_cdk::api::stable::stable_size", "ic_cdk::storage::stable_save", "canister_pre_upgrade"},
			TrapMessage:  "Canister trapped: 32 bit stable memory api used on a memory larger than 4GB"},
	}
}

// Check implements source.Transplanter.
func (t *Transplanter) Check(ctx context.Context, base snapshots.ID, module []byte) (source.CompatReport, error) {
	if _, err := t.Store.Manifest(base); err != nil {
		return source.CompatReport{}, err
	}
	if t.Block {
		<-ctx.Done()
		return source.CompatReport{}, ctx.Err()
	}
	return t.report(module)
}

// report is Check's answer once the snapshot is known.
func (t *Transplanter) report(module []byte) (source.CompatReport, error) {
	if !strings.HasPrefix(string(module), "\x00asm") {
		return source.CompatReport{}, errors.New("parse module: not a wasm binary (no \\0asm header)")
	}
	rep := t.Report
	rep.Checks = append([]source.CompatCheck(nil), rep.Checks...)
	for i, c := range rep.Checks {
		if c.Name == "wasm32 canister" {
			rep.Checks[i].Detail = fmt.Sprintf("module %s loads and validates", snapshots.HashOf(module).Short())
		}
	}
	return rep, nil
}

// Transplant implements source.Transplanter.
func (t *Transplanter) Transplant(ctx context.Context, base snapshots.ID, module []byte, req source.TransplantRequest) (snapshots.Snapshot, source.CompatReport, error) {
	m, err := t.Store.Manifest(base)
	if err != nil {
		return snapshots.Snapshot{}, source.CompatReport{}, err
	}
	rep, err := t.report(module)
	if err != nil {
		return snapshots.Snapshot{}, rep, err
	}
	if !rep.OK() && !req.Force {
		return snapshots.Snapshot{}, rep, fmt.Errorf("module is not compatible with snapshot %s: pass force to transplant anyway", base.Short())
	}
	c := m.Child(snapshots.MadeByTransplant)
	c.Module = t.Store.Blob(module)
	c.ModuleHash = c.Module
	if req.Name != "" {
		c.Name = req.Name
	}
	return t.Store.Add(c), rep, nil
}

// Rehearse implements source.Transplanter.
func (t *Transplanter) Rehearse(ctx context.Context, id snapshots.ID, progress func(source.RehearsalStep)) (source.Rehearsal, error) {
	t.Rehearsed = append(t.Rehearsed, id)
	if _, err := t.Store.Manifest(id); err != nil {
		return source.Rehearsal{}, err
	}
	var r source.Rehearsal
	for _, s := range t.Steps {
		if t.Block {
			<-ctx.Done()
			return r, ctx.Err()
		}
		progress(s)
		r.Steps = append(r.Steps, s)
	}
	r.Verify = t.Verify
	return r, nil
}
