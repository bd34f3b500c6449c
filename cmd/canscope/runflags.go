package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/certify"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

// argFlags are the --arg / --arg-hex pair every command that sends an
// argument takes.
type argFlags struct {
	hex    string
	candid string
	// hexSet: --arg-hex was given, so `--arg-hex ''` sends an empty
	// argument (for modules that read raw bytes).
	hexSet func() bool
}

func (f *argFlags) register(cmd *cobra.Command) {
	f.hexSet = func() bool { return cmd.Flags().Changed("arg-hex") }
	cmd.Flags().StringVar(&f.hex, "arg-hex", "", "argument as hex bytes (raw, not re-encoded)")
	cmd.Flags().StringVar(&f.candid, "arg", "", "argument as Candid text, e.g. '(42 : nat64, \"x\")'")
	cmd.MarkFlagsMutuallyExclusive("arg-hex", "arg")
}

// bytes encodes the argument. want are the Candid types the module's
// candid:service declares for it (nil without one). Without an argument
// flag every module gets candid.DefaultArg, `()`, as dfx sends.
func (f *argFlags) bytes(want []*candid.Type) ([]byte, error) {
	switch {
	case f.hex != "" || (f.hexSet != nil && f.hexSet()):
		b, err := hex.DecodeString(strings.TrimPrefix(f.hex, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--arg-hex %q: %w", f.hex, err)
		}
		return b, nil
	case f.candid != "":
		b, err := candid.EncodeText(f.candid, want)
		if err != nil {
			return nil, fmt.Errorf("--arg %q: %w", f.candid, err)
		}
		return b, nil
	default:
		return candid.DefaultArg(), nil
	}
}

// initTypes are the argument types the module's candid:service declares
// for canister_init (and so for post_upgrade); nil without an interface.
func initTypes(iface *candid.Interface) []*candid.Type {
	if iface == nil {
		return nil
	}
	return iface.Init
}

// checkName refuses a --name the store would refuse before any work
// runs: an upgrade can take minutes, and its result would be lost at the
// commit. An empty name is the command's default.
func checkName(name string) error {
	if name == "" {
		return nil
	}
	if err := snapshots.ValidateName(name); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	return nil
}

// checkCommitName checks the --name of a command that stores its result
// only with --commit.
func checkCommitName(name string, commit bool) error {
	if name != "" && !commit {
		return errors.New("--name names the committed snapshot: add --commit")
	}
	return checkName(name)
}

// envFlags set the deterministic environment a run sees, for canisters
// whose methods check who calls them or what time it is.
type envFlags struct {
	caller      string
	controllers []string
	time        string
	limit       uint64
	// wasmLimit is --wasm-memory-limit, wasmLimitSet whether it was given;
	// settings is --settings.
	wasmLimit    uint64
	wasmLimitSet func() bool
	settings     string
}

func (f *envFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.caller, "caller", "", "principal the message comes from (default the anonymous principal 2vxsx-fae)")
	cmd.Flags().StringSliceVar(&f.controllers, "controller", nil, "principal ic0.is_controller accepts (repeatable; default none)")
	cmd.Flags().StringVar(&f.time, "time", "", "ic0.time as RFC 3339 or nanoseconds since the epoch (default: the snapshot's taken_at)")
	cmd.Flags().Uint64Var(&f.limit, "limit", 0, "instruction limit for this run (default the IC's: 40e9 update, 5e9 query, 300e9 install/upgrade)")
	cmd.Flags().Uint64Var(&f.wasmLimit, "wasm-memory-limit", 0, "the canister's wasm_memory_limit in bytes, 0 for none (default what the IC gives a canister without the setting: 3 GiB, or halfway from the heap to 4 GiB when more)")
	cmd.Flags().StringVar(&f.settings, "settings", "", "read wasm_memory_limit and controllers from `FILE`, the output of icp canister status --json or dfx canister status")
	f.wasmLimitSet = func() bool { return cmd.Flags().Changed("wasm-memory-limit") }
}

// loadSettings reads --settings, if given.
func (f *envFlags) loadSettings() (canisterSettings, error) {
	if f.settings == "" {
		return canisterSettings{}, nil
	}
	return readSettings(f.settings)
}

// wasmMemoryLimit returns the wasm_memory_limit --wasm-memory-limit or
// --settings give (the flag wins), nil for the engine's default.
func (f *envFlags) wasmMemoryLimit() (*uint64, error) {
	if f.wasmLimitSet != nil && f.wasmLimitSet() {
		v := f.wasmLimit
		return &v, nil
	}
	st, err := f.loadSettings()
	if err != nil {
		return nil, err
	}
	return st.WasmMemoryLimit, nil
}

// limits returns the instruction limits --limit asks for; zero fields mean
// the IC's limits.
func (f *envFlags) limits() meter.Limits {
	return meter.Limits{Update: f.limit, Query: f.limit, Install: f.limit, InspectMessage: f.limit}
}

// setOn applies the flags to c's environment for the following messages.
func (f *envFlags) setOn(c *engine.Canister) error {
	env := *c.Env()
	if err := f.apply(&env); err != nil {
		return err
	}
	c.SetEnv(&env)
	lim, err := f.wasmMemoryLimit()
	if err != nil {
		return err
	}
	if lim != nil {
		c.SetWasmMemoryLimit(*lim)
	}
	return nil
}

// apply sets the flagged fields of env and leaves the rest (canister id,
// the snapshot's clock) as the workbench chose them.
func (f *envFlags) apply(env *ic0.Env) error {
	local, err := certify.LocalCertificates()
	if err != nil {
		return err
	}
	local(env)
	if f.caller != "" {
		id, err := principal.Parse(f.caller)
		if err != nil {
			return fmt.Errorf("--caller: %w", err)
		}
		env.Caller = id
	}
	env.Controllers = slices.Clone(env.Controllers) // env is a copy; its slices are not
	st, err := f.loadSettings()
	if err != nil {
		return err
	}
	for _, p := range append(slices.Clone(f.controllers), st.Controllers...) {
		id, err := principal.Parse(p)
		if err != nil {
			return fmt.Errorf("--controller: %w", err)
		}
		env.Controllers = append(env.Controllers, id)
	}
	if f.time != "" {
		ns, err := ic0.ParseTime(f.time)
		if err != nil {
			return fmt.Errorf("--time %q: %w", f.time, err)
		}
		env.Time = ns
	}
	return nil
}
