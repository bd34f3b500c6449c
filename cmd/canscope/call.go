package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newCallCmd(a *app) *cobra.Command {
	var (
		args   argFlags
		envs   envFlags
		query  bool
		commit bool
		name   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "call SNAP METHOD",
		Short: "Run one message on a copy of a snapshot's state",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkCommitName(name, commit); err != nil {
				return err
			}
			if query && commit {
				return errors.New("--query and --commit exclude each other: a query never changes state")
			}
			s, snap, r, err := a.openRun(ctx, pos[0], envs.limits())
			if err != nil {
				return err
			}
			defer s.close(ctx)
			defer r.Close(ctx)
			if err := envs.setOn(r.Canister); err != nil {
				return err
			}
			method := pos[1]
			m, ok := r.Canister.Module().Method(method)
			if !ok {
				return errNoMethod(snap, method, r.Canister.Module())
			}
			iface := workbench.Interface(r.Canister.Module())
			var wantArgs, wantResults []*candid.Type
			if ft, ok := iface.Method(method); ok {
				wantArgs, wantResults = ft.Args, ft.Results
			}
			arg, err := args.bytes(wantArgs)
			if err != nil {
				return err
			}
			var res engine.Result
			if query || m.Kind != engine.Update {
				res, err = r.Canister.Query(ctx, method, arg)
			} else {
				res, err = r.Canister.Update(ctx, method, arg)
			}
			if err != nil {
				return fmt.Errorf("call %s on %s: %w", method, snap.Ref(), err)
			}
			out := resultJSON(res, r.Canister.ID(), wantResults)
			if commit && res.Status == engine.StatusOK {
				if name == "" {
					name = snap.Name
				}
				child, err := r.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: snapshots.MadeByCall, Note: "call " + method})
				if err != nil {
					return err
				}
				out.Snapshot = &child
			}
			return a.finish(out, asJSON)
		},
	}
	args.register(cmd)
	envs.register(cmd)
	cmd.Flags().BoolVar(&query, "query", false, "run as a query (changes discarded)")
	cmd.Flags().BoolVar(&commit, "commit", false, "store the resulting state as a child snapshot")
	cmd.Flags().StringVar(&name, "name", "", "name of the committed snapshot (default: the snapshot's name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// errNoMethod is the error for a method snap's module does not export; it
// lists the ones it does, which is what the operator needs next.
func errNoMethod(snap snapshots.Snapshot, method string, mod *engine.Module) error {
	var names []string
	for _, m := range mod.Methods() {
		names = append(names, m.Name)
	}
	has := "no methods"
	if len(names) > 0 {
		has = strings.Join(names, ", ")
	}
	return fmt.Errorf("%s exports no method %q (it has: %s)", snap.Ref(), method, has)
}
