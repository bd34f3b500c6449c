package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/canscope/canscope/engine/workbench/demo"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newDemoCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fill the store with demo canisters and an incident to explore",
		Long: `Demo runs a small story on the real engine and stores its snapshots:
demo-ledger, a canister whose pre_upgrade traps once its stable memory passes
4 GiB, snapshotted over four days; demo-ledger-fixed, the fixed module
transplanted onto its last state with the upgrade rehearsed; and demo-wallet,
a Motoko canister upgraded from v1 to v2 with its stable variables intact.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openSession()
			if err != nil {
				return err
			}
			defer s.close(ctx)
			made, err := demo.Load(ctx, s.bench, s.store)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(struct {
					Snapshots []snapshots.Snapshot `json:"snapshots"`
				}{made})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, sn := range made {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sn.Ref(), sn.ID.Short(), sn.MadeBy, sn.Note)
			}
			tw.Flush()
			fmt.Fprintf(a.stdout, "\nTry: canscope upgrade %s --rehearse   (the stuck upgrade)\n", demo.IncidentName)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the snapshots made as JSON")
	return cmd
}
