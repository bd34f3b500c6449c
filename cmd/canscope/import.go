package main

import (
	"fmt"

	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newImportCmd(a *app) *cobra.Command {
	var opt dfx.ImportOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import DIR [--name N] [--canister-id ID]",
		Short: "Import a `dfx canister snapshot download` directory into the store",
		Long: `Import a directory written by ` + "`dfx canister snapshot download <canister> <id> --dir DIR`" + `.
dfx's directory does not record the canister id: pass --canister-id to keep it
(it is then also the default name). Importing under an existing name adds the
next NAME@N, a child of the newest snapshot of that name that keeps its
canister id.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.CanisterID != "" {
				if _, err := principal.Parse(opt.CanisterID); err != nil {
					return fmt.Errorf("--canister-id: %w", err)
				}
			}
			st, err := a.openStore()
			if err != nil {
				return err
			}
			defer st.Close()
			opt.Progress = new(snapshots.Progress)
			stop := a.showProgress(progress{What: "importing", Unit: unitBytes,
				Done: opt.Progress.Done.Load, Total: opt.Progress.Total.Load}, asJSON)
			// The importer also writes the heap as a raw image into the
			// cache, so the first open maps it instead of streaming it.
			var img *workbench.HeapImage
			if dir := a.heapImageDir(); dir != "" {
				opt.HeapCopy = func(size uint64, base *snapshots.PageTable) dfx.PageCopier {
					if img = workbench.NewHeapImage(dir, size, base); img == nil {
						return nil
					}
					return img
				}
			}
			snap, err := dfx.Import(cmd.Context(), st, args[0], opt)
			stop()
			if img != nil {
				keepHeapImage(st, snap, img, err)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(snapshotResult{snap})
			}
			fmt.Fprintf(a.stdout, "imported %s (%s): heap %s (%d pages stored), stable memory %s (%d pages stored)\n",
				snap.Ref(), snap.ID.Short(), humanize.IBytes(snap.HeapBytes), snap.HeapPagesStored,
				humanize.IBytes(snap.StableBytes), snap.StablePagesStored)
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.Name, "name", "", "snapshot name (default: the canister id, else the directory name)")
	cmd.Flags().StringVar(&opt.CanisterID, "canister-id", "", "canister id to record (dfx's directory does not carry it)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the snapshot as JSON")
	return cmd
}

// keepHeapImage names img as the heap image of the imported snapshot, or
// drops it when the import failed. An image only saves time: its own
// errors are not the import's.
func keepHeapImage(st snapshots.Store, snap snapshots.Snapshot, img *workbench.HeapImage, importErr error) {
	if importErr != nil {
		img.Discard()
		return
	}
	m, err := st.Manifest(snap.ID)
	if err != nil {
		img.Discard()
		return
	}
	img.Keep(m.Heap)
}
