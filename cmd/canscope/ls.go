package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newLsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls [--json]",
		Short: "List the snapshots in the store, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.List()
			if err != nil {
				return err
			}
			damaged := []snapshots.Damaged{}
			if dl, ok := st.(damagedLister); ok {
				if damaged, err = dl.Damaged(); err != nil {
					return err
				}
				if damaged == nil {
					damaged = []snapshots.Damaged{}
				}
			}
			if asJSON {
				return a.printJSON(struct {
					Snapshots []snapshots.Snapshot `json:"snapshots"`
					Damaged   []snapshots.Damaged  `json:"damaged"`
				}{all, damaged})
			}
			if len(all) == 0 && len(damaged) == 0 {
				fmt.Fprintln(a.stdout, "no snapshots: import one with `canscope import DIR`, or try `canscope demo`")
				return nil
			}
			if len(all) > 0 {
				printList(a.stdout, all)
			}
			for _, d := range damaged {
				fmt.Fprintf(a.stdout, "DAMAGED %s: %s\n", d.ID.Short(), d.Reason)
			}
			if len(damaged) > 0 {
				fmt.Fprintf(a.stdout, "%d damaged snapshots: run `canscope fsck` for the details\n", len(damaged))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"snapshots": [...], "damaged": [...]} as JSON`)
	return cmd
}

// damagedLister is a store that can name the manifests List leaves out.
type damagedLister interface {
	Damaged() ([]snapshots.Damaged, error)
}

func printList(w io.Writer, all []snapshots.Snapshot) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SNAPSHOT\tID\tMADE BY\tCREATED\tCANISTER\tVERSION\tHEAP\tSTABLE\tMODULE")
	for _, s := range all {
		canister := s.CanisterID
		if canister == "" {
			canister = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Ref(), s.ID.Short(), s.MadeBy,
			s.CreatedAt.Format("2006-01-02 15:04:05"), canister, s.CanisterVersion,
			humanize.IBytes(s.HeapBytes), humanize.IBytes(s.StableBytes), shortHash(s.ModuleHash))
	}
	tw.Flush()
}
