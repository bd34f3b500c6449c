package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/canscope/canscope/engine/snapcheck"
	"github.com/spf13/cobra"
)

func newCheckCmd(a *app) *cobra.Command {
	var asJSON bool
	var settingsPath string
	cmd := &cobra.Command{
		Use:   "check SNAP [--settings FILE] [--json]",
		Short: "Replay offline the IC's upload and load checks for SNAP; exit 1 when any fails",
		Long: `Check SNAP as the replica checks an uploaded snapshot at
upload_canister_snapshot_metadata, upload_canister_snapshot_data and
load_canister_snapshot (and as dfx/icp read metadata.json before uploading).
Each check prints ok or FAIL with the replica's error text. What depends on
the live canister (controllers, cycles, the 10-snapshot limit, settings) is
listed as not checked. export and restore run these checks first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := checkSettings(settingsPath)
			if err != nil {
				return err
			}
			st, m, err := a.loadManifest(args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := snapcheck.Run(st, m, set)
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				a.printCheck(rep)
			}
			if !rep.OK {
				return &statusError{code: exitError, err: fmt.Errorf("check %s: %d of %d checks fail: the IC would refuse this snapshot", m.Ref(), len(rep.Failed()), len(rep.Checks))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	addSettingsFlag(cmd, &settingsPath)
	return cmd
}

// addSettingsFlag adds --settings to a command that runs the IC's snapshot
// checks.
func addSettingsFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "settings", "", "the live canister's settings (wasm_memory_limit, wasm_memory_threshold) from `FILE`, the output of icp canister status --json or dfx canister status")
}

// checkSettings reads --settings for the snapshot checks; "" means the
// canister's defaults.
func checkSettings(path string) (snapcheck.Settings, error) {
	if path == "" {
		return snapcheck.Settings{}, nil
	}
	s, err := readSettings(path)
	if err != nil {
		return snapcheck.Settings{}, err
	}
	return snapcheck.Settings{WasmMemoryLimit: s.WasmMemoryLimit, WasmMemoryThreshold: s.WasmMemoryThreshold}, nil
}

// printCheck writes the human form of a check report.
func (a *app) printCheck(rep snapcheck.Report) {
	fmt.Fprintf(a.stdout, "%s (%s) against the IC's snapshot upload and load checks:\n", rep.Snapshot.Ref(), rep.Snapshot.ID.Short())
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		status := "ok"
		if !c.OK {
			status = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", status, c.Name, c.Stage, c.Detail)
		if c.Explain != "" {
			fmt.Fprintf(tw, "\t\t\t(%s)\n", c.Explain)
		}
	}
	tw.Flush()
	fmt.Fprintln(a.stdout, "not checked offline (they depend on the live canister):")
	for _, n := range rep.NotChecked {
		fmt.Fprintf(a.stdout, "  - %s\n", n)
	}
}
