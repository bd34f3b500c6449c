package main

import (
	"context"
	"fmt"
	"os"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

// stableWrites is an ic0.Recorder counting the bytes a canister writes to
// stable memory.
type stableWrites struct{ bytes uint64 }

func (w *stableWrites) SystemCall(name string, params, _ []uint64) {
	if (name == "stable_write" || name == "stable64_write") && len(params) == 3 {
		w.bytes += params[2]
	}
}

// upgradeStep runs one upgrade of c and describes it as a rehearsal step.
func upgradeStep(ctx context.Context, c *engine.Canister, name string, mod *engine.Module, arg []byte, opts engine.UpgradeOptions) (engine.Result, stepJSON, error) {
	var w stableWrites
	c.SetRecorder(&w)
	defer c.SetRecorder(nil)
	res, err := c.Upgrade(ctx, mod, arg, opts)
	if err != nil {
		return res, stepJSON{}, err
	}
	s := stepJSON{Step: name, Status: res.Status.String(), Trap: trapOf(res.Trap), Instructions: res.Instructions,
		Phases: phasesOf(res), StablePagesChanged: len(res.StablePagesChanged), StableBytesWritten: w.bytes}
	for _, p := range res.Phases {
		if p.Name == "post_upgrade" {
			s.PostUpgradeOK = res.Status == engine.StatusOK
		}
	}
	return res, s, nil
}

func newUpgradeCmd(a *app) *cobra.Command {
	var (
		wasmPath string
		args     argFlags
		envs     envFlags
		skip     bool
		rehearse bool
		commit   bool
		name     string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "upgrade SNAP",
		Short: "Upgrade a copy of a snapshot's canister (rehearse it before the real one)",
		Long: `Upgrade runs the IC's upgrade on a copy of the snapshot: the old module's
canister_pre_upgrade (unless --skip-pre-upgrade), then the new module's start
function and canister_post_upgrade. Without --wasm the snapshot's own module
is upgraded onto itself. --rehearse upgrades a second time to the same new
module, so the new pre_upgrade runs too. Exit code 3 when any step traps.
--commit stores the state after the first upgrade (the state the real
upgrade would produce).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkCommitName(name, commit); err != nil {
				return err
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
			newMod := r.Canister.Module()
			if wasmPath != "" {
				code, err := os.ReadFile(wasmPath)
				if err != nil {
					return fmt.Errorf("read module: %w", err)
				}
				if newMod, err = s.eng.Load(ctx, code); err != nil {
					return fmt.Errorf("%s: %w", wasmPath, err)
				}
			}
			iface := interfaceOf(newMod)
			arg, err := args.bytes(iface, initTypes(iface))
			if err != nil {
				return err
			}
			first, step, err := upgradeStep(ctx, r.Canister, "upgrade", newMod, arg, engine.UpgradeOptions{SkipPreUpgrade: skip})
			if err != nil {
				return fmt.Errorf("upgrade %s: %w", snap.Ref(), err)
			}
			out := resultJSON(first, r.Canister.ID(), nil)
			steps := []stepJSON{step}
			if first.Status == engine.StatusOK && commit {
				if name == "" {
					name = snap.Name
				}
				child, err := r.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: snapshots.MadeByUpgrade, Note: upgradeNote(wasmPath, skip)})
				if err != nil {
					return err
				}
				out.Snapshot = &child
			}
			if rehearse && first.Status == engine.StatusOK {
				// The second upgrade runs the new module's pre_upgrade, the
				// one the next real upgrade will run.
				second, step, err := upgradeStep(ctx, r.Canister, "upgrade again", nil, arg, engine.UpgradeOptions{})
				if err != nil {
					return fmt.Errorf("rehearse upgrade of %s: %w", snap.Ref(), err)
				}
				steps = append(steps, step)
				if second.Status != engine.StatusOK {
					snapshotted := out.Snapshot
					out = resultJSON(second, r.Canister.ID(), nil)
					out.Snapshot = snapshotted
				}
			}
			out.Steps = steps
			return a.finish(out, asJSON)
		},
	}
	cmd.Flags().StringVar(&wasmPath, "wasm", "", "new module (default: the snapshot's own module)")
	args.register(cmd)
	envs.register(cmd)
	cmd.Flags().BoolVar(&skip, "skip-pre-upgrade", false, "do not run the old module's canister_pre_upgrade")
	cmd.Flags().BoolVar(&rehearse, "rehearse", false, "upgrade a second time so the new pre_upgrade runs too")
	cmd.Flags().BoolVar(&commit, "commit", false, "store the upgraded state as a child snapshot")
	cmd.Flags().StringVar(&name, "name", "", "name of the committed snapshot (default: the snapshot's name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func upgradeNote(wasmPath string, skip bool) string {
	n := "upgrade"
	if wasmPath != "" {
		n += " to " + wasmPath
	}
	if skip {
		n += " (skip_pre_upgrade)"
	}
	return n
}
