package main

import (
	"context"
	"errors"
	"os"

	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui"
	"github.com/canscope/canscope/tui/bridge"
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
		Sources:   bridge.New(s.store, s.bench, tracer),
	})
}
