// Package bridge connects the terminal UI to the rest of canscope: one
// constructor, New, builds every source the screens use (tui/source) over
// a store, a workbench and a tracer, with the same rules the CLI applies
// (the fork, the IC's export checks and dfx commands, the transplant and
// its rehearsal, traced runs, module and stable-memory inspection). The
// CLI only opens those three and wires its flags; tests that need the
// real program build their sources here too.
package bridge

import (
	"context"
	"fmt"
	"os"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/tui/source"
)

// New returns every source the UI needs over store, the bench that runs
// its snapshots (over the same store) and the tracer of the run screen.
// The caller closes tracer, bench and store after the UI has quit.
func New(store snapshots.Store, bench *workbench.Bench, tracer *trace.Tracer) source.Set {
	return source.Set{
		Catalog:      store,
		Forker:       forker{store},
		Exporter:     exporter{store},
		Runner:       NewRunner(tracer),
		Transplanter: transplanter{bench},
		// The CLI's headroom cache ($XDG_CACHE_HOME/canscope/headroom).
		Headroom: headroom{store: store, bench: bench, cache: workbench.HeadroomCache{Dir: workbench.HeadroomCacheDir(os.Getenv)}},
		Inspect:  Inspect,
		Labeller: StableLayout,
		// The same story as `canscope demo`, into the (empty) store.
		Demo: func(ctx context.Context) error {
			_, err := demo.Load(ctx, bench, store)
			return err
		},
	}
}

// transplanter is the UI's repair flow on the workbench: the same
// checks and transplant as `canscope transplant`, and the same rehearsal
// as `canscope upgrade --rehearse`, so the UI and the CLI never disagree.
type transplanter struct{ bench *workbench.Bench }

// Check implements source.Transplanter.
func (t transplanter) Check(ctx context.Context, base snapshots.ID, module []byte) (source.CompatReport, error) {
	rep, err := t.bench.CheckTransplant(ctx, base, module)
	return compatReport(rep), err
}

// Transplant implements source.Transplanter.
func (t transplanter) Transplant(ctx context.Context, base snapshots.ID, module []byte, req source.TransplantRequest) (snapshots.Snapshot, source.CompatReport, error) {
	snap, rep, err := t.bench.Transplant(ctx, base, module, workbench.TransplantOptions{Name: req.Name, Force: req.Force})
	return snap, compatReport(rep), err
}

// Rehearse upgrades a copy of snapshot id to its own module twice
// (workbench's rehearsal, as `canscope upgrade --rehearse` runs it): the
// first upgrade runs the module's pre_upgrade on the captured state, the
// second the pre_upgrade the next real upgrade will run. Nothing is
// committed.
func (t transplanter) Rehearse(ctx context.Context, id snapshots.ID, progress func(source.RehearsalStep)) (source.Rehearsal, error) {
	r, err := t.bench.Open(ctx, id)
	if err != nil {
		return source.Rehearsal{}, fmt.Errorf("restore %s for the rehearsal: %w", id.Short(), err)
	}
	defer r.Close(context.WithoutCancel(ctx))
	var out source.Rehearsal
	reh, err := r.Rehearse(ctx, workbench.RehearsalOptions{Again: true, Verify: workbench.VerifyQueries(r.Canister.Module()),
		Persistence: workbench.ToolPersistence(r.Canister.Module()),
		Progress: func(st workbench.UpgradeStep) {
			s := rehearsalStep(st)
			progress(s)
			out.Steps = append(out.Steps, s)
		}})
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("rehearse %s: %w", id.Short(), err)
	}
	for _, v := range reh.Verify {
		q := source.VerifiedQuery{Method: v.Query.Method, Before: verifiedReply(v.Before), Same: v.Same()}
		for _, a := range v.After {
			q.After = append(q.After, verifiedReply(a))
		}
		out.Verify = append(out.Verify, q)
	}
	return out, err
}

// verifiedReply is a verify reply as the UI shows it.
func verifiedReply(r workbench.Reply) string {
	switch {
	case !r.OK():
		return r.Status.String() + ": " + r.Error
	case r.Text != "":
		return r.Text
	}
	return fmt.Sprintf("0x%x", r.Reply)
}

// rehearsalStep is one upgrade's result as the UI shows it.
func rehearsalStep(st workbench.UpgradeStep) source.RehearsalStep {
	res := st.Result
	s := source.RehearsalStep{
		Name:               st.Name,
		Status:             res.Status.String(),
		TrapMessage:        res.RejectMessage,
		Instructions:       res.Instructions,
		Limit:              res.Limit,
		StablePagesChanged: len(res.StablePagesChanged),
		StableBytesWritten: st.StableBytesWritten,
		PostUpgradeOK:      st.PostUpgradeOK,
	}
	if res.Trap != nil {
		s.TrapMessage, s.TrapFunction, s.Backtrace = res.Trap.Message, res.Trap.Function, res.Trap.Backtrace
	}
	return s
}

// compatReport converts the workbench's report to the UI's.
func compatReport(r workbench.Report) source.CompatReport {
	out := source.CompatReport{RemovedExports: r.RemovedExports, CandidDiff: r.CandidDiff}
	for _, c := range r.Checks {
		out.Checks = append(out.Checks, source.CompatCheck{Name: c.Name, OK: c.OK, Detail: c.Detail})
	}
	for _, f := range r.Functions {
		out.ChangedFunctions = append(out.ChangedFunctions, f.Change+" "+f.Name)
	}
	return out
}

// exporter checks and writes snapshot directories the way `canscope
// restore` does and returns the same commands that command prints.
type exporter struct{ store snapshots.Store }

// Check implements source.Exporter: `canscope check` on the snapshot as
// exported.
func (e exporter) Check(_ context.Context, id snapshots.ID) (source.ExportReport, error) {
	m, err := e.store.Manifest(id)
	if err != nil {
		return source.ExportReport{}, err
	}
	rep, err := snapcheck.Run(e.store, snapcheck.ForExport(e.store, m), snapcheck.Settings{})
	if err != nil {
		return source.ExportReport{}, fmt.Errorf("check %s: %w", m.Ref(), err)
	}
	return ExportReport(rep), nil
}

// ExportReport is snapcheck's report as the UI shows it.
func ExportReport(r snapcheck.Report) source.ExportReport {
	out := source.ExportReport{OK: r.OK, NotChecked: r.NotChecked, Summary: r.Summary()}
	for _, c := range r.Checks {
		out.Checks = append(out.Checks, source.ExportCheck{Name: c.Name, Stage: c.Stage, OK: c.OK, Detail: c.Detail, Explain: c.Explain})
	}
	return out
}

// Export implements source.Exporter.
func (e exporter) Export(ctx context.Context, id snapshots.ID, dir string, req source.ExportRequest) (dfx.Sequence, error) {
	m, err := e.store.Manifest(id)
	if err != nil {
		return dfx.Sequence{}, err
	}
	// The IC's upload and load checks run first: a snapshot the IC would
	// refuse is not written unless forced (the error names what fails).
	if _, err := snapcheck.Export(ctx, e.store, m, dir, snapcheck.Settings{}, req.Force); err != nil {
		return dfx.Sequence{}, err // it names the snapshot and the directory
	}
	return dfx.Commands(dfx.ToolICP, m.CanisterID, dir, req.Upgrade), nil
}

// forker adapts snapshots.Fork, which takes a reference, to the UI's
// Forker, which has an id: a full id is a valid reference.
type forker struct{ store snapshots.Store }

// Fork implements source.Forker.
func (f forker) Fork(ctx context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error) {
	return snapshots.Fork(ctx, f.store, id.String(), name)
}
