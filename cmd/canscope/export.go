package main

import (
	"context"
	"fmt"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/spf13/cobra"
)

func newExportCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "export SNAP DIR",
		Short: "Write a snapshot as a directory `dfx canister snapshot upload` accepts",
		Long: `Write SNAP into DIR (new or empty) as metadata.json, wasm_module.bin,
wasm_memory.bin, stable_memory.bin (when not empty) and wasm_chunk_store/.
An imported snapshot exports byte-identical files. Memories are written as
sparse files. Upload with:
  dfx canister snapshot upload <canister> --dir DIR
or use 'canscope restore', which also prints the whole dfx sequence.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := a.export(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(exportJSON{Dir: args[1], Snapshot: snap})
			}
			fmt.Fprintf(a.stdout, "exported %s (%s) to %s\n", snap.Ref(), snap.ID.Short(), args[1])
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the directory and the snapshot as JSON")
	return cmd
}

// export writes snapshot ref as a dfx snapshot directory at dir.
func (a *app) export(ctx context.Context, ref, dir string) (snapshots.Snapshot, error) {
	st, m, err := a.loadManifest(ref)
	if err != nil {
		return snapshots.Snapshot{}, err
	}
	defer st.Close()
	if err := dfx.Export(ctx, st, m, dir); err != nil {
		return snapshots.Snapshot{}, err
	}
	return m.Snapshot, nil
}
