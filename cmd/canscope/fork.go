package main

import (
	"errors"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newForkCmd(a *app) *cobra.Command {
	var name string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fork SNAP --name N",
		Short: "Start a new named branch from a snapshot (shares all its pages)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return errors.New("fork needs --name NAME for the new branch")
			}
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			snap, err := snapshots.Fork(cmd.Context(), st, args[0], name)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(snapshotResult{snap})
			}
			fmt.Fprintf(a.stdout, "forked %s (%s) from %s\n", snap.Ref(), snap.ID.Short(), snap.Parent.Short())
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name of the new branch")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new snapshot as JSON")
	return cmd
}
