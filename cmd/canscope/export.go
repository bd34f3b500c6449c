package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newExportCmd(a *app) *cobra.Command {
	var asJSON, force bool
	var settingsPath string
	cmd := &cobra.Command{
		Use:   "export SNAP DIR [--force]",
		Short: "Write a snapshot as a directory `icp canister snapshot upload -i DIR` (or dfx) accepts",
		Long: `Write SNAP into DIR (new or empty) as metadata.json, wasm_module.bin,
wasm_memory.bin, stable_memory.bin (when not empty) and wasm_chunk_store/
(when there are chunks), as icp-cli and dfx write them. An imported snapshot
exports byte-identical files. Memories are written as sparse files, into
a hidden .DIR.partial-* sibling renamed to DIR when complete, so DIR never
holds a partial export.
The IC's upload and load checks ('canscope check') run first: a snapshot
the IC would refuse is not written unless --force is given. Upload with:
  icp canister snapshot upload <canister> -i DIR -n ic
or use 'canscope restore', which also prints the whole sequence.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, rep, err := a.export(cmd.Context(), args[0], args[1], settingsPath, force, asJSON)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(exportJSON{Dir: args[1], Snapshot: snap, Check: &rep})
			}
			fmt.Fprintf(a.stdout, "exported %s (%s) to %s\n", snap.Ref(), snap.ID.Short(), args[1])
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the directory, the snapshot and the check report as JSON")
	cmd.Flags().BoolVar(&force, "force", false, "write the directory even when a check fails (the IC will refuse it)")
	addSettingsFlag(cmd, &settingsPath)
	return cmd
}

// export checks snapshot ref against the IC's upload and load rules and
// writes it as a snapshot directory at dir (snapcheck.Export). A failing
// check refuses the export unless force, which writes it and warns on
// stderr what will fail on the IC. Progress shows on a terminal unless
// quiet (--json).
func (a *app) export(ctx context.Context, ref, dir, settingsPath string, force, quiet bool) (snapshots.Snapshot, snapcheck.Report, error) {
	if dir == "" {
		return snapshots.Snapshot{}, snapcheck.Report{}, errors.New("export: the directory name is empty")
	}
	set, err := checkSettings(settingsPath)
	if err != nil {
		return snapshots.Snapshot{}, snapcheck.Report{}, err
	}
	st, m, err := a.loadManifest(ref)
	if err != nil {
		return snapshots.Snapshot{}, snapcheck.Report{}, err
	}
	defer st.Close()
	p := new(snapshots.Progress)
	stop := a.showProgress(progress{What: "exporting", Unit: unitBytes, Done: p.Done.Load, Total: p.Total.Load}, quiet)
	rep, err := snapcheck.ExportProgress(ctx, st, m, dir, set, force, p)
	stop()
	var refused *snapcheck.RefusedError
	if errors.As(err, &refused) {
		return snapshots.Snapshot{}, rep, fmt.Errorf("%w (run `canscope check %s` for the report; --force writes it anyway)", err, ref)
	}
	if err != nil {
		return snapshots.Snapshot{}, rep, err
	}
	if !rep.OK {
		fmt.Fprintf(a.stderr, "canscope: warning: --force: exported %s although the IC will refuse it: %s\n", m.Ref(), rep.Summary())
	}
	return m.Snapshot, rep, nil
}
