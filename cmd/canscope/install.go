package main

import (
	"fmt"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newInstallCmd(a *app) *cobra.Command {
	var (
		name       string
		canisterID string
		args       argFlags
		envs       envFlags
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "install WASM --name N",
		Short: "Install a module on a fresh canister and store it as a snapshot",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkName(name); err != nil {
				return err
			}
			code, err := validation.ReadModule(pos[0])
			if err != nil {
				return fmt.Errorf("read module: %w", err)
			}
			s, err := a.openSession()
			if err != nil {
				return err
			}
			defer s.close(ctx)
			mod, err := s.eng.Load(ctx, code)
			if err != nil {
				return fmt.Errorf("%s: %w", pos[0], err)
			}
			arg, err := args.bytes(initTypes(workbench.Interface(mod)))
			if err != nil {
				return err
			}
			env, err := workbench.EnvFor(snapshots.Snapshot{CanisterID: canisterID})
			if err != nil {
				return err
			}
			if err := envs.apply(env); err != nil {
				return err
			}
			wasmLimit, err := envs.wasmMemoryLimit()
			if err != nil {
				return err
			}
			r, res, err := s.bench.InstallWith(ctx, code, arg, engine.Options{Env: env, Limits: envs.limits(), WasmMemoryLimit: wasmLimit})
			if err != nil {
				return fmt.Errorf("install %s: %w", pos[0], err)
			}
			defer r.Close(ctx)
			out := resultJSON(res, r.Canister.ID(), nil)
			if res.Status == engine.StatusOK {
				snap, err := r.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: snapshots.MadeByInstall, Note: "install " + pos[0]})
				if err != nil {
					return err
				}
				out.Snapshot = &snap
			}
			return a.finish(out, asJSON)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "snapshot name (required)")
	cmd.Flags().StringVar(&canisterID, "canister-id", "", "canister id to install under (default: the engine's fixed test id)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	args.register(cmd)
	envs.register(cmd)
	cmd.MarkFlagRequired("name")
	return cmd
}
