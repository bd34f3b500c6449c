package main

import (
	"fmt"

	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/spf13/cobra"
)

func newRestoreCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore SNAP DIR",
		Short: "Export a snapshot for dfx and print the exact upload/load commands",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			dir := pos[1]
			snap, err := a.export(cmd.Context(), pos[0], dir)
			if err != nil {
				return err
			}
			out := restoreJSON{exportJSON: exportJSON{Dir: dir, Snapshot: snap}, CanisterID: snap.CanisterID, Commands: dfx.RestoreCommands(snap.CanisterID, dir)}
			if asJSON {
				return a.printJSON(out)
			}
			fmt.Fprintf(a.stdout, "wrote %s as a dfx snapshot directory: %s\n", snap.Ref(), dir)
			if snap.CanisterID == "" {
				fmt.Fprintln(a.stdout, "the snapshot does not record its canister id: replace <canister> below")
			}
			fmt.Fprintln(a.stdout, "\nWARNING: take a fresh snapshot of the live canister first (second command) so you can go back.")
			fmt.Fprintln(a.stdout, "Run, in order:")
			for _, c := range out.Commands {
				fmt.Fprintf(a.stdout, "  %s\n", c)
			}
			fmt.Fprintf(a.stdout, "Then:\n  %s\n", dfx.UpgradeCommand(snap.CanisterID, "NEW.wasm"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the directory, snapshot and commands as JSON")
	return cmd
}
