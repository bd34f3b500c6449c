package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newFsckCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fsck [--json]",
		Short: "Verify every blob and manifest of the store; exit 1 when anything is damaged",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := st.Check(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintln(a.stdout, p.String())
				}
				fmt.Fprintf(a.stdout, "checked %d snapshots and %d blobs (%d unreferenced): %d problems\n",
					rep.SnapshotsChecked, rep.BlobsChecked, rep.UnreferencedBlobs, len(rep.Problems))
			}
			if !rep.OK {
				return &statusError{code: exitError, err: fmt.Errorf("fsck found %d problems in store %s", len(rep.Problems), st.Location())}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
