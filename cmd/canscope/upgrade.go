package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/wasm"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

// stepOf describes one rehearsal step in the CLI's JSON.
func stepOf(st workbench.UpgradeStep) stepJSON {
	res := st.Result
	return stepJSON{Step: st.Name, Status: res.Status.String(), Trap: trapOf(res.Trap), Instructions: res.Instructions,
		Phases: phasesOf(res), StablePagesChanged: len(res.StablePagesChanged), StableBytesWritten: st.StableBytesWritten,
		StableBytesRead: st.StableBytesRead, PostUpgradeOK: st.PostUpgradeOK, Limits: res.Limits,
		MainMemory: st.MainMemory, MainMemoryReason: st.MainMemoryReason}
}

// skipOf describes what an upgrade with --skip-pre-upgrade read.
func skipOf(sk *workbench.SkippedPreUpgrade) *skipJSON {
	if sk == nil {
		return nil
	}
	out := &skipJSON{HeapDiscarded: true, StableBytesRead: sk.BytesRead, StableReadZeros: sk.Zeros, Verdict: sk.String()}
	if !sk.LastWritten.ID.IsZero() {
		out.LastWrittenAt = &sk.LastWritten
	}
	return out
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
		verify   verifyFlags
		persist  string
	)
	cmd := &cobra.Command{
		Use:   "upgrade SNAP",
		Short: "Upgrade a copy of a snapshot's canister (rehearse it before the real one)",
		Long: `Upgrade runs the IC's upgrade on a copy of the snapshot: the old module's
canister_pre_upgrade (unless --skip-pre-upgrade), then the new module's start
function and canister_post_upgrade. Without --wasm the snapshot's own module
is upgraded onto itself. --rehearse upgrades a second time to the same new
module, so the new pre_upgrade runs too. Exit code 3 when any step traps.
--verify calls the module's query methods that take no arguments (from
candid:service; or the ones --verify-query and --verify-file name) before
the upgrade and after each step, and compares the replies: exit code 3
when any differs or traps, unless marked --verify-ignore.
--commit stores the state after the first upgrade (the state the real
upgrade would produce).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkCommitName(name, commit); err != nil {
				return err
			}
			pre, err := a.checkPersistence(pos[0], wasmPath, persist)
			if err != nil {
				return err
			}
			s, snap, r, err := a.openRun(ctx, pos[0], &envs)
			if err != nil {
				return pre.notRehearsed(err)
			}
			defer s.close(ctx)
			defer r.Close(ctx)
			newMod := r.Canister.Module()
			if wasmPath != "" {
				code, err := validation.ReadModule(wasmPath)
				if err != nil {
					return fmt.Errorf("read module: %w", err)
				}
				if newMod, err = s.eng.Load(ctx, code); err != nil {
					return pre.notRehearsed(fmt.Errorf("%s: %w", wasmPath, err))
				}
			}
			arg, err := args.bytes(initTypes(workbench.Interface(newMod)))
			if err != nil {
				return err
			}
			queries, err := verify.build(r.Canister.Module())
			if err != nil {
				return err
			}
			var child *snapshots.Snapshot
			// Each step has its own progress line and previous count.
			watch := func(step string) func(uint64) {
				return a.watchRun(r.Canister, snap.ID, "rehearsing "+step, upgradeKey(step, newMod, skip && step == workbench.StepUpgrade), asJSON)
			}
			done := watch(workbench.StepUpgrade)
			reh, err := r.Rehearse(ctx, workbench.RehearsalOptions{
				Module: newMod, Arg: arg, SkipPreUpgrade: skip, Again: rehearse, Verify: queries, Persistence: persist,
				Progress: func(st workbench.UpgradeStep) {
					done(st.Result.Instructions)
					done = func(uint64) {}
					if st.Name == workbench.StepUpgrade && st.OK() && rehearse {
						done = watch(workbench.StepUpgradeAgain)
					}
				},
				AfterUpgrade: func(ctx context.Context) error {
					if !commit {
						return nil
					}
					if name == "" {
						name = snap.Name
					}
					c, err := r.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: snapshots.MadeByUpgrade, Note: upgradeNote(wasmPath, skip)})
					child = &c
					return err
				},
			})
			done(0) // clear the line before the result prints
			done = func(uint64) {}
			if err != nil {
				return fmt.Errorf("upgrade %s: %w", snap.Ref(), err)
			}
			// The result is the first failing step's, else the last one's.
			out := resultJSON(reh.Last().Result, r.Canister.ID(), nil)
			out.Snapshot = child
			steps := make([]stepJSON, 0, len(reh.Steps))
			for _, st := range reh.Steps {
				steps = append(steps, stepOf(st))
			}
			out.Steps = steps
			out.SkipPreUpgrade = skipOf(reh.Skipped)
			out.WasmMemoryPersistence = persist
			if pre.stableTypes != nil && len(reh.Steps) > 0 {
				pre.stableTypes.Confirm(reh.Steps[0])
			}
			out.StableTypes = pre.stableTypes
			if len(reh.Verify) > 0 {
				out.Verify = verifyOf(reh.Verify)
			}
			if err := a.finish(out, asJSON); err != nil {
				return err
			}
			return verifyError(reh.Verify)
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
	cmd.Flags().StringVar(&persist, "wasm-memory-persistence", "", "the upgrade option wasm_memory_persistence: keep or replace (required by the IC for a canister with enhanced orthogonal persistence)")
	verify.register(cmd)
	return cmd
}

// upgradeCheck is what an upgrade's options and modules say before
// anything runs.
type upgradeCheck struct {
	// heap is what the IC does with the heap: "kept" or "replaced".
	heap string
	// stableTypes is moc's verdict on two Motoko modules' stable
	// signatures, nil for other modules.
	stableTypes *workbench.StableTypes
}

// notRehearsed explains a module canscope cannot run (a wasm64 module
// before the memory64 lowering) with what it did decide: the IC's verdict
// on the options and moc's on the stable types.
func (c upgradeCheck) notRehearsed(err error) error {
	if !errors.Is(err, engine.ErrMemory64) {
		return err
	}
	msg := fmt.Sprintf("the IC accepts these upgrade options (the heap is %s), but the upgrade was not rehearsed: %v", c.heap, err)
	if c.stableTypes != nil {
		msg += "; stable types: " + c.stableTypes.String()
	}
	return errors.New(msg)
}

// checkPersistence applies the replica's wasm_memory_persistence rules
// (engine.MainMemoryHandling) to an upgrade of the snapshot ref to the
// module at wasmPath (its own module when empty), before anything runs: a
// refusal is the IC's, in its words. It also compares two Motoko modules'
// stable types as moc does (workbench.CompareStableTypes); the rehearsal
// then shows what the runtime really does.
func (a *app) checkPersistence(ref, wasmPath, persistence string) (upgradeCheck, error) {
	var c upgradeCheck
	switch persistence {
	case engine.PersistenceUnset, engine.PersistenceKeep, engine.PersistenceReplace:
	default:
		return c, fmt.Errorf("--wasm-memory-persistence %q: want keep or replace", persistence)
	}
	st, m, err := a.loadManifest(ref)
	if err != nil {
		return c, err
	}
	defer st.Close()
	oldCode, err := st.ReadBlob(m.Module)
	if err != nil {
		return c, fmt.Errorf("upgrade %s: module: %w", m.Ref(), err)
	}
	newCode := oldCode
	if wasmPath != "" {
		if newCode, err = validation.ReadModule(wasmPath); err != nil {
			return c, fmt.Errorf("read module: %w", err)
		}
	}
	parse := func(what string, b []byte) (*wasm.Module, error) {
		raw, err := wasm.Decompress(b)
		if err == nil {
			var mod *wasm.Module
			if mod, err = wasm.Parse(raw); err == nil {
				return mod, nil
			}
		}
		return nil, fmt.Errorf("upgrade %s: %s: %w", m.Ref(), what, err)
	}
	oldMod, err := parse("the snapshot's module", oldCode)
	if err != nil {
		return c, err
	}
	newMod, err := parse("the new module", newCode)
	if err != nil {
		return c, err
	}
	keep, err := engine.MainMemoryHandling(oldMod.ExpectsEOP(), newMod.ExpectsEOP(), persistence)
	if err != nil {
		err = fmt.Errorf("upgrade %s: the IC refuses this upgrade: %w", m.Ref(), err)
		if persistence == engine.PersistenceUnset {
			// icp-cli sends keep for an EOP canister when its flag is left
			// out (workbench.ToolPersistence); say so.
			err = fmt.Errorf("%w (icp-cli sends keep when its flag is left out: pass --wasm-memory-persistence keep to rehearse that)", err)
		}
		return c, err
	}
	c.heap = workbench.HeapReplaced
	if keep {
		c.heap = workbench.HeapKept
	}
	if v, ok := workbench.CompareStableTypes(oldMod, newMod); ok {
		c.stableTypes = &v
	}
	return c, nil
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
