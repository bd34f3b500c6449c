package main

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"

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
			var rep *snapshots.CheckReport
			if cp, ok := st.(progressChecker); ok {
				p := new(snapshots.Progress)
				stop := a.showProgress(progress{What: "checking", Unit: unitBlobs, Done: p.Done.Load, Total: p.Total.Load}, asJSON)
				rep, err = cp.CheckProgress(cmd.Context(), p)
				stop()
			} else {
				rep, err = st.Check(cmd.Context())
			}
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
				fmt.Fprintf(a.stdout, "checked %d snapshots and %d blobs (%d unreferenced, %s): %d problems\n",
					rep.SnapshotsChecked, rep.BlobsChecked, rep.UnreferencedBlobs, humanize.IBytes(uint64(rep.UnreferencedBytes)), len(rep.Problems))
				if rep.UnreferencedBlobs > 0 {
					fmt.Fprintln(a.stdout, "`canscope prune` removes the unreferenced blobs")
				}
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

// progressChecker is a store whose fsck can count its progress.
type progressChecker interface {
	CheckProgress(ctx context.Context, p *snapshots.Progress) (*snapshots.CheckReport, error)
}
