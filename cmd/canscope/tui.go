package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui"
	"github.com/canscope/canscope/tui/modinfo"
	"github.com/canscope/canscope/tui/runner"
	"github.com/canscope/canscope/tui/source"
	"github.com/canscope/canscope/tui/stablelabel"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// themeFlag is the persistent flag that picks the UI theme.
const themeFlag = "theme"

// runTUI opens the terminal UI on the store: what `canscope` without a
// subcommand does. It refuses to start without a terminal, so scripts
// that call canscope by mistake get one line instead of escape codes.
func (a *app) runTUI(cmd *cobra.Command) error {
	name, err := cmd.Flags().GetString(themeFlag)
	if err != nil {
		return err
	}
	theme, err := themes.Select(name, a.getenv)
	if err != nil {
		return err
	}
	out, ok := a.stdout.(*os.File)
	if !ok || !term.IsTerminal(out.Fd()) {
		return errors.New("the terminal UI needs a terminal; run `canscope --help` for the commands")
	}
	ctx := cmd.Context()
	s, err := a.openSession() // the store, and the engine for runs
	if err != nil {
		return err
	}
	defer s.close(ctx)
	// The tracer holds the traced compilations of the modules run in the
	// UI; it is closed before the engine that compiled them.
	tracer := trace.New(s.bench, s.store)
	defer tracer.Close(context.WithoutCancel(ctx))
	return tui.Run(ctx, tui.Options{
		StorePath: s.store.Location(),
		Theme:     theme,
		// Unless the user named a theme, follow the terminal's background.
		AutoTheme: name == "" && a.getenv("CANSCOPE_THEME") == "",
		Sources:   tuiSources(s, tracer),
	})
}

// tuiSources wires the UI to the store, the engine and the other parts of
// canscope; a part left nil shows as unavailable in the UI. The caller
// closes tracer after the UI has quit.
func tuiSources(s *session, tracer *trace.Tracer) source.Set {
	store := s.store
	return source.Set{
		Catalog:      store,
		Forker:       storeForker{store},
		Exporter:     storeExporter{store},
		Runner:       runner.New(tracer),
		Transplanter: benchTransplanter{s.bench},
		Inspect:      modinfo.Inspect,
		Labeller:     stablelabel.For,
		// The same story as `canscope demo`, into the (empty) store.
		Demo: func(ctx context.Context) error {
			_, err := demo.Load(ctx, s.bench, store)
			return err
		},
	}
}

// benchTransplanter is the UI's repair flow on the workbench: the same
// checks and transplant as `canscope transplant`, and the same rehearsal
// as `canscope upgrade --rehearse`, so the UI and the CLI never disagree.
type benchTransplanter struct{ bench *workbench.Bench }

// Check implements source.Transplanter.
func (t benchTransplanter) Check(ctx context.Context, base snapshots.ID, module []byte) (source.CompatReport, error) {
	rep, err := t.bench.CheckTransplant(ctx, base, module)
	return compatReport(rep), err
}

// Transplant implements source.Transplanter.
func (t benchTransplanter) Transplant(ctx context.Context, base snapshots.ID, module []byte, req source.TransplantRequest) (snapshots.Snapshot, source.CompatReport, error) {
	snap, rep, err := t.bench.Transplant(ctx, base, module, workbench.TransplantOptions{Name: req.Name, Force: req.Force})
	return snap, compatReport(rep), err
}

// Rehearse upgrades a copy of snapshot id to its own module twice
// (workbench's rehearsal, as `canscope upgrade --rehearse` runs it): the
// first upgrade runs the module's pre_upgrade on the captured state, the
// second the pre_upgrade the next real upgrade will run. Nothing is
// committed.
func (t benchTransplanter) Rehearse(ctx context.Context, id snapshots.ID, progress func(source.RehearsalStep)) (source.Rehearsal, error) {
	r, err := t.bench.Open(ctx, id)
	if err != nil {
		return source.Rehearsal{}, fmt.Errorf("restore %s for the rehearsal: %w", id.Short(), err)
	}
	defer r.Close(context.WithoutCancel(ctx))
	var out source.Rehearsal
	reh, err := r.Rehearse(ctx, workbench.RehearsalOptions{Again: true, Verify: workbench.VerifyQueries(r.Canister.Module()),
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

// storeExporter writes dfx snapshot directories the way `canscope
// restore` does and returns the same commands that command prints.
type storeExporter struct{ store store }

// Export implements source.Exporter.
func (e storeExporter) Export(ctx context.Context, id snapshots.ID, dir string) ([]string, error) {
	m, err := e.store.Manifest(id)
	if err != nil {
		return nil, err
	}
	// The IC's upload and load checks run first: a snapshot the IC would
	// refuse is not written (the error names what fails).
	if _, err := snapcheck.Export(ctx, e.store, m, dir, snapcheck.Settings{}, false); err != nil {
		return nil, err // it names the snapshot and the directory
	}
	return dfx.RestoreCommands(m.CanisterID, dir), nil
}

// storeForker adapts snapshots.Fork, which takes a reference, to the UI's
// Forker, which has an id: a full id is a valid reference.
type storeForker struct{ store store }

// Fork implements source.Forker.
func (f storeForker) Fork(ctx context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error) {
	return snapshots.Fork(ctx, f.store, id.String(), name)
}
