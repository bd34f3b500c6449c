package main

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// remover is a store that can delete snapshots and reclaim their blobs.
type remover interface {
	Remove(ctx context.Context, ids []snapshots.ID, withDescendants bool) ([]snapshots.Snapshot, error)
	Prune(ctx context.Context) (snapshots.PruneReport, error)
}

func newRmCmd(a *app) *cobra.Command {
	var asJSON, withDescendants bool
	cmd := &cobra.Command{
		Use:   "rm SNAP... [--with-descendants]",
		Short: "Remove snapshots from the store (then `canscope prune` frees their space)",
		Long: `Remove the named snapshots. A snapshot others descend from (their parent or
fork source) is refused unless --with-descendants, which removes them too.
A damaged snapshot (see ls, fsck) is removed by its id. The blobs stay until
` + "`canscope prune`" + ` removes the ones no snapshot references.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			rm, ok := st.(remover)
			if !ok {
				return fmt.Errorf("store %s cannot remove snapshots", st.Location())
			}
			var ids []snapshots.ID
			for _, ref := range args {
				id, err := resolveForRemoval(st, ref)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			removed, err := rm.Remove(cmd.Context(), ids, withDescendants)
			if err != nil {
				return fmt.Errorf("rm: %w", err)
			}
			if asJSON {
				return a.printJSON(struct {
					Removed []snapshots.Snapshot `json:"removed"`
				}{removed})
			}
			for _, s := range removed {
				ref := s.Ref()
				if s.Name == "" {
					ref = "damaged snapshot"
				}
				fmt.Fprintf(a.stdout, "removed %s (%s)\n", ref, s.ID.Short())
			}
			fmt.Fprintln(a.stdout, "run `canscope prune` to free the space of blobs no snapshot uses")
			return nil
		},
	}
	cmd.Flags().BoolVar(&withDescendants, "with-descendants", false, "also remove every snapshot descending from the named ones")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the removed snapshots as JSON")
	return cmd
}

// resolveForRemoval resolves ref, accepting the id of a damaged snapshot
// (which Resolve refuses to hand out for use).
func resolveForRemoval(st store, ref string) (snapshots.ID, error) {
	snap, err := st.Resolve(ref)
	if err == nil {
		return snap.ID, nil
	}
	if dl, ok := st.(damagedLister); ok {
		if damaged, derr := dl.Damaged(); derr == nil {
			if d, ok := snapshots.MatchDamaged(damaged, ref); ok {
				return d.ID, nil
			}
		}
	}
	return snapshots.ID{}, fmt.Errorf("rm: %w", err)
}

func newPruneCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "prune [--json]",
		Short: "Remove blobs no snapshot references and temp files of interrupted writes",
		Long: `Free the space of blobs no snapshot references (left by rm or by an
interrupted import) and of temp files killed writers left. Prune waits for
running imports and commits to finish and they wait for it, so it is safe
beside them. A store with a damaged manifest is refused: fix it first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			rm, ok := st.(remover)
			if !ok {
				return fmt.Errorf("store %s cannot be pruned", st.Location())
			}
			rep, err := rm.Prune(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(rep)
			}
			fmt.Fprintf(a.stdout, "removed %d blobs and %d temp files, freed %s; %d blobs in use kept\n",
				rep.BlobsRemoved, rep.TempRemoved, humanize.IBytes(uint64(rep.BytesFreed)), rep.BlobsKept)
			if rep.BlobsTooYoung > 0 {
				fmt.Fprintf(a.stdout, "kept %d unreferenced blobs younger than a day: an import may be writing them; prune again later\n", rep.BlobsTooYoung)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
