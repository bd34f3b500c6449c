package main

import (
	"fmt"
	"path/filepath"

	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/spf13/cobra"
)

func newRestoreCmd(a *app) *cobra.Command {
	var asJSON, force bool
	var settingsPath string
	var tool string
	var up dfx.Upgrade
	cmd := &cobra.Command{
		Use:   "restore SNAP DIR [--tool icp|dfx]",
		Short: "Export a snapshot and print the exact commands that upload and load it (icp-cli by default)",
		Long: `Check and export SNAP into DIR (as 'canscope export'), then print the
sequence that loads it onto the live canister: stop it, take a snapshot as
a way back, upload DIR, restore (dfx: load) the uploaded snapshot, start it,
then the upgrade you rehearsed. --tool dfx prints the dfx commands (dfx
0.29.2 or newer). Give the rehearsal's options (--wasm, --arg,
--skip-pre-upgrade, --wasm-memory-persistence) so the upgrade line carries
them.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			t := dfx.Tool(tool)
			if t != dfx.ToolICP && t != dfx.ToolDFX {
				return fmt.Errorf("--tool %q: want icp or dfx", tool)
			}
			switch up.WasmMemoryPersistence {
			case "", "keep", "replace":
			default:
				return fmt.Errorf("--wasm-memory-persistence %q: want keep or replace", up.WasmMemoryPersistence)
			}
			dir := pos[1]
			snap, rep, err := a.export(cmd.Context(), pos[0], dir, settingsPath, force, asJSON)
			if err != nil {
				return err
			}
			if up.WasmMemoryPersistence != "" {
				// What icp-cli will see on the canister once DIR is restored.
				if up.CanisterEOP, err = moduleExpectsEOP(filepath.Join(dir, dfx.ModuleFile)); err != nil {
					return fmt.Errorf("restore %s: %w", pos[0], err)
				}
			}
			seq := dfx.Commands(t, snap.CanisterID, dir, up)
			if asJSON {
				out := restoreJSON{exportJSON: exportJSON{Dir: dir, Snapshot: snap, Check: &rep}, CanisterID: snap.CanisterID,
					Commands: seq.Commands, Tool: string(seq.Tool), Upgrade: seq.Upgrade, Notes: seq.Notes}
				return a.printJSON(out)
			}
			if rep.OK {
				fmt.Fprintf(a.stdout, "wrote %s as a snapshot directory: %s (the IC's upload and load checks pass)\n", snap.Ref(), dir)
			} else {
				fmt.Fprintf(a.stdout, "wrote %s as a snapshot directory: %s\nWARNING: --force: the IC will refuse it: %s\n", snap.Ref(), dir, rep.Summary())
			}
			if snap.CanisterID == "" {
				fmt.Fprintln(a.stdout, "the snapshot does not record its canister id: replace <canister> below")
			}
			fmt.Fprintln(a.stdout, "\nWARNING: take a fresh snapshot of the live canister first (second command) so you can go back.")
			fmt.Fprintln(a.stdout, "Run, in order:")
			for _, c := range seq.Commands {
				fmt.Fprintf(a.stdout, "  %s\n", c)
			}
			fmt.Fprintf(a.stdout, "Then the upgrade you rehearsed:\n  %s\n", seq.Upgrade)
			for _, n := range seq.Notes {
				fmt.Fprintf(a.stdout, "Note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the directory, snapshot, check report and commands as JSON")
	cmd.Flags().BoolVar(&force, "force", false, "export even when a check fails (the IC will refuse it)")
	addSettingsFlag(cmd, &settingsPath)
	cmd.Flags().StringVar(&tool, "tool", string(dfx.ToolICP), "the tool to print commands for: icp or dfx")
	cmd.Flags().StringVar(&up.Wasm, "wasm", "", "the module of the rehearsed upgrade (default NEW.wasm)")
	cmd.Flags().StringVar(&up.Arg, "arg", "", "the rehearsed upgrade's Candid argument")
	cmd.Flags().BoolVar(&up.SkipPreUpgrade, "skip-pre-upgrade", false, "the rehearsal skipped pre_upgrade")
	cmd.Flags().StringVar(&up.WasmMemoryPersistence, "wasm-memory-persistence", "", "the rehearsal's wasm memory persistence: keep or replace")
	return cmd
}

// moduleExpectsEOP reports whether the module file at path carries the
// enhanced-orthogonal-persistence metadata.
func moduleExpectsEOP(path string) (bool, error) {
	code, err := validation.ReadModule(path)
	if err == nil {
		if code, err = wasm.Decompress(code); err == nil {
			var mod *wasm.Module
			if mod, err = wasm.Parse(code); err == nil {
				return mod.ExpectsEOP(), nil
			}
		}
	}
	return false, fmt.Errorf("module %s: %w", path, err)
}
