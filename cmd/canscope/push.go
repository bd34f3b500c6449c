package main

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

// copyStore is a store a snapshot can be copied into.
type copyStore interface {
	store
	snapshots.Receiver
}

func newPushCmd(a *app) *cobra.Command { return newCopyCmd(a, true) }
func newPullCmd(a *app) *cobra.Command { return newCopyCmd(a, false) }

// newCopyCmd builds push (from --store to --to) and pull (from --from
// into --store): one copy, two directions.
func newCopyCmd(a *app, push bool) *cobra.Command {
	var other string
	var asJSON bool
	verb, flag, use, short := "push", "to", "push SNAP --to STORE", "Copy a snapshot and its ancestors to another store, sending only the blobs it lacks"
	if !push {
		verb, flag, use, short = "pull", "from", "pull SNAP --from STORE", "Copy a snapshot and its ancestors from another store, fetching only the blobs this store lacks"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.
STORE is a directory or s3://BUCKET/PREFIX. Snapshots keep their ids and NAME@N
in both stores; a NAME@N the target already gave another snapshot is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if other == "" {
				return fmt.Errorf("%s needs --%s STORE (a directory or s3://BUCKET/PREFIX)", verb, flag)
			}
			here, err := a.openStore()
			if err != nil {
				return err
			}
			defer here.Close()
			there, err := a.openStoreAt(other)
			if err != nil {
				return err
			}
			defer there.Close()
			src, dst := store(here), there
			if !push {
				src, dst = there, here
			}
			recv, ok := dst.(copyStore)
			if !ok {
				return fmt.Errorf("store %s cannot receive copied snapshots", dst.Location())
			}
			if src.Location() == dst.Location() {
				return errors.New("the source and the target are the same store")
			}
			sent := new(atomic.Uint64)
			stop := a.showProgress(progress{What: verb + "ing", Unit: unitBytes, Done: sent.Load}, asJSON)
			opt := snapshots.CopyOptions{Progress: sent}
			// A pull also writes the heap as a raw image into the cache
			// from the pages it verifies, as import does, so the first
			// open maps it instead of streaming it.
			var img *workbench.HeapImage
			if dir := a.heapImageDir(); dir != "" && !push {
				opt.HeapCopy = func(size uint64, base *snapshots.PageTable) snapshots.PageWriter {
					if img = workbench.NewHeapImage(dir, size, base); img == nil {
						return nil
					}
					return img
				}
			}
			res, err := snapshots.Copy(cmd.Context(), src, recv, args[0], opt)
			stop()
			if img != nil {
				if err != nil {
					img.Discard()
				} else {
					keepHeapImage(dst, res.Snapshot, img, res.HeapErr)
				}
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", verb, args[0], err)
			}
			if res.Copied == nil {
				res.Copied = []snapshots.Snapshot{}
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "%s %s (%s) to %s: %d snapshots copied, %d already there; %d blobs sent (%s), %d already there\n",
				verb+"ed", res.Snapshot.Ref(), res.Snapshot.ID.Short(), dst.Location(), len(res.Copied), res.Present,
				res.BlobsSent, humanize.IBytes(uint64(res.BytesSent)), res.BlobsPresent)
			return nil
		},
	}
	cmd.Flags().StringVar(&other, flag, "", "the other store: a directory or s3://BUCKET/PREFIX")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was copied as JSON")
	return cmd
}
