package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/spf13/cobra"
)

func newTransplantCmd(a *app) *cobra.Command {
	var (
		wasmPath string
		name     string
		force    bool
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "transplant SNAP --wasm FIXED",
		Short: "Put a fixed module onto a snapshot's state (a repair to rehearse and restore)",
		Long: `Transplant makes a new snapshot (made_by transplant, parent SNAP) with SNAP's
heap, stable memory, globals, certified data and timer and FIXED as its module.
FIXED's data segments are not applied: the heap stays as captured. Loading
such a snapshot on the IC replaces a stuck module without running its
pre_upgrade. Compatibility checks run first and refuse a mismatch unless
--force: memory limits, globals, and the heap layout the captured heap was
written for (data segments, __heap_base/__data_end/__stack_pointer, table
slots; the memory's initial size is reported). Changed functions are
listed by name and body hash. Rehearse the result with 'canscope upgrade NAME --rehearse'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkName(name); err != nil {
				return err
			}
			code, err := validation.ReadModule(wasmPath)
			if err != nil {
				return fmt.Errorf("read fixed module: %w", err)
			}
			s, err := a.openSession()
			if err != nil {
				return err
			}
			defer s.close(ctx)
			base, err := s.store.Resolve(pos[0])
			if err != nil {
				return err
			}
			snap, rep, err := s.bench.Transplant(ctx, base.ID, code, workbench.TransplantOptions{Name: name, Force: force})
			var refused *workbench.TransplantError
			if err != nil && !errors.As(err, &refused) {
				return err
			}
			out := transplantJSON{OK: rep.OK(), Report: rep}
			if err == nil {
				out.Snapshot = &snap
			}
			if asJSON {
				if perr := a.printJSON(out); perr != nil {
					return perr
				}
			} else {
				printReport(a.stdout, rep)
				if out.Snapshot != nil {
					fmt.Fprintf(a.stdout, "\nsnapshot %s (%s): %s's state with module %s\nnext: canscope upgrade %s --rehearse\n",
						snap.Ref(), snap.ID.Short(), base.Ref(), snap.ModuleHash.Short(), snap.Ref())
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&wasmPath, "wasm", "", "the fixed module (required)")
	cmd.Flags().StringVar(&name, "name", "", "name of the new snapshot (default: SNAP's name)")
	cmd.Flags().BoolVar(&force, "force", false, "transplant even when a compatibility check fails")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report and snapshot as JSON")
	cmd.MarkFlagRequired("wasm")
	return cmd
}

func printReport(w io.Writer, r workbench.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		mark := "ok"
		switch {
		case !c.OK:
			mark = "FAIL"
		case c.Differs:
			mark = "differs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, c.Name, c.Detail)
	}
	tw.Flush()
	for _, e := range r.RemovedExports {
		fmt.Fprintf(w, "removed export: %s\n", e)
	}
	const maxFunctions = 10 // --json lists them all
	for i, f := range r.Functions {
		if i == maxFunctions {
			fmt.Fprintf(w, "… and %d more changed functions (--json lists all)\n", len(r.Functions)-maxFunctions)
			break
		}
		switch f.Change {
		case "changed":
			fmt.Fprintf(w, "function changed: %s (body %s → %s)\n", f.Name, f.OldHash, f.NewHash)
		default:
			fmt.Fprintf(w, "function %s: %s\n", f.Change, f.Name)
		}
	}
	if len(r.CandidDiff) > 0 {
		fmt.Fprintln(w, "candid:service changes:")
		for _, l := range r.CandidDiff {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}
