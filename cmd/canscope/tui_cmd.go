package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/trace/tuirun"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/snapshots/fsstore"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui"
	"github.com/canscope/canscope/tui/modinfo"
	"github.com/canscope/canscope/tui/source"
	"github.com/canscope/canscope/tui/stablelabel"
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
	s, err := a.openSession(ctx) // the store, and the engine for runs
	if err != nil {
		return err
	}
	defer s.close(ctx)
	return tui.Run(ctx, tui.Options{
		StorePath: s.store.Dir(),
		Theme:     theme,
		// Unless the user named a theme, follow the terminal's background.
		AutoTheme: name == "" && a.getenv("CANSCOPE_THEME") == "",
		Sources:   a.tuiSources(s, cmd.Root()),
	})
}

// tuiSources wires the UI to the store, the engine and the other parts of
// canscope; a part left nil shows as unavailable in the UI.
func (a *app) tuiSources(s *session, root *cobra.Command) source.Set {
	store := s.store
	return source.Set{
		Catalog:  store,
		Forker:   storeForker{store},
		Exporter: storeExporter{store},
		Runner:   tuirun.New(trace.New(s.bench, store)),
		Inspect:  modinfo.Inspect,
		Labeller: stablelabel.For,
		Demo:     a.demoLoader(root),
	}
}

// storeExporter writes dfx snapshot directories the way `canscope
// restore` does and returns the same commands that command prints.
type storeExporter struct{ store *fsstore.Store }

func (e storeExporter) Export(ctx context.Context, id snapshots.ID, dir string) ([]string, error) {
	m, err := e.store.Manifest(id)
	if err != nil {
		return nil, err
	}
	if err := dfx.Export(ctx, e.store, m, dir); err != nil {
		return nil, fmt.Errorf("export %s to %s: %w", m.Ref(), dir, err)
	}
	return restoreCommands(m.CanisterID, dir), nil
}

// storeForker adapts fsstore's Fork, which takes a reference, to the UI's
// Forker, which has an id: a full id is a valid reference.
type storeForker struct{ store *fsstore.Store }

func (f storeForker) Fork(ctx context.Context, id snapshots.ID, name string) (snapshots.Snapshot, error) {
	return f.store.Fork(ctx, id.String(), name)
}

// demoLoader returns a loader that runs the `demo` subcommand, or nil when
// this build has none. The command's output is discarded: the UI owns the
// terminal while it runs, and reloads the list when it is done.
func (a *app) demoLoader(root *cobra.Command) source.DemoLoader {
	demo, _, err := root.Find([]string{"demo"})
	if err != nil || demo == root || demo.RunE == nil {
		return nil
	}
	return func(ctx context.Context) error {
		stdout, stderr := a.stdout, a.stderr
		a.stdout, a.stderr = io.Discard, io.Discard
		defer func() { a.stdout, a.stderr = stdout, stderr }()
		demo.SetContext(ctx)
		return demo.RunE(demo, nil)
	}
}
