package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/meter"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/fsstore"
)

// session bundles what a run command opens: the store, the engine and the
// bench over both. close releases them in order.
type session struct {
	store *fsstore.Store
	eng   *engine.Engine
	bench *workbench.Bench
}

// openSession opens the store and an engine over it.
func (a *app) openSession() (*session, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Config{})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start engine: %w", err)
	}
	return &session{store: st, eng: eng, bench: workbench.New(st, eng)}, nil
}

// openRun opens a session and restores snapshot ref into a canister with
// the given instruction limits (zero: the IC's). The caller closes the
// run, then the session.
func (a *app) openRun(ctx context.Context, ref string, limits meter.Limits) (*session, snapshots.Snapshot, *workbench.Run, error) {
	s, err := a.openSession()
	if err != nil {
		return nil, snapshots.Snapshot{}, nil, err
	}
	snap, err := s.store.Resolve(ref)
	if err == nil {
		var r *workbench.Run
		if r, err = s.bench.OpenWith(ctx, snap.ID, engine.Options{Limits: limits}); err == nil {
			return s, snap, r, nil
		}
	}
	s.close(ctx)
	return nil, snapshots.Snapshot{}, nil, err
}

// close releases the bench, the engine and the store, in that order. Their
// errors are dropped: the command's own result has been decided, and the
// store's writes were atomic and durable before it.
func (s *session) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // release them after Ctrl+C too
	s.bench.Close(ctx)
	s.eng.Close(ctx)
	s.store.Close()
}

// interfaceOf parses a module's candid:service section; nil when it has
// none or it does not parse (decoding then falls back to the type table).
func interfaceOf(mod *engine.Module) *candid.Interface {
	did, _, ok := mod.Metadata("candid:service")
	if !ok {
		return nil
	}
	iface, err := candid.ParseInterface(string(did))
	if err != nil {
		return nil
	}
	return iface
}

// runJSON is the --json result of call and upgrade (design.md, CLI
// contract): the listed fields are stable; others may be added.
type runJSON struct {
	Status             string              `json:"status"`
	Trap               *trapJSON           `json:"trap"`
	Reject             *rejectJSON         `json:"reject,omitempty"`
	Error              string              `json:"error,omitempty"`
	Instructions       uint64              `json:"instructions"`
	Phases             []phaseJSON         `json:"phases"`
	Limit              uint64              `json:"limit"`
	HeapPagesChanged   int                 `json:"heap_pages_changed"`
	StablePagesChanged int                 `json:"stable_pages_changed"`
	ReplyHex           string              `json:"reply_hex"`
	ReplyCandid        string              `json:"reply_candid,omitempty"`
	DebugPrints        []string            `json:"debug_prints"`
	Calls              []callJSON          `json:"calls,omitempty"`
	Steps              []stepJSON          `json:"steps,omitempty"`
	Snapshot           *snapshots.Snapshot `json:"snapshot"`
}

type trapJSON struct {
	Message   string   `json:"message"`
	Reason    string   `json:"reason"`
	Code      string   `json:"code"`
	Function  string   `json:"function"`
	Offset    uint64   `json:"offset"`
	Backtrace []string `json:"backtrace,omitempty"`
}

type rejectJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type callJSON struct {
	Callee string `json:"callee"`
	Method string `json:"method"`
	ArgHex string `json:"arg_hex"`
}

// phaseJSON is one execution inside an operation (pre_upgrade, start,
// post_upgrade) with the instructions it used.
type phaseJSON struct {
	Name         string `json:"name"`
	Instructions uint64 `json:"instructions"`
}

func phasesOf(res engine.Result) []phaseJSON {
	out := make([]phaseJSON, 0, len(res.Phases))
	for _, p := range res.Phases {
		out = append(out, phaseJSON{Name: p.Name, Instructions: p.Instructions})
	}
	return out
}

// stepJSON is one upgrade of a rehearsal. StableBytesWritten and
// PostUpgradeOK say whether the data passed through: the upgrade wrote
// stable memory (pre_upgrade saving state; bytes written, whether or not
// they differ from what was there) and post_upgrade ran without trapping.
type stepJSON struct {
	Step               string      `json:"step"`
	Status             string      `json:"status"`
	Trap               *trapJSON   `json:"trap"`
	Instructions       uint64      `json:"instructions"`
	Phases             []phaseJSON `json:"phases"`
	StablePagesChanged int         `json:"stable_pages_changed"`
	StableBytesWritten uint64      `json:"stable_bytes_written"`
	PostUpgradeOK      bool        `json:"post_upgrade_ok"`
}

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

func trapOf(t *engine.Trap) *trapJSON {
	if t == nil {
		return nil
	}
	return &trapJSON{Message: t.Message, Reason: t.Reason, Code: string(t.Code), Function: t.Function, Offset: t.Offset, Backtrace: t.Backtrace}
}

// resultJSON converts an engine result; reply decoding uses want, the
// method's declared result types (nil: type-table-only decoding).
func resultJSON(res engine.Result, canisterID string, want []*candid.Type) runJSON {
	out := runJSON{
		Status:             res.Status.String(),
		Trap:               trapOf(res.Trap),
		Instructions:       res.Instructions,
		Phases:             phasesOf(res),
		Limit:              res.Limit,
		HeapPagesChanged:   len(res.HeapPagesChanged),
		StablePagesChanged: len(res.StablePagesChanged),
		ReplyHex:           hex.EncodeToString(res.Reply),
		DebugPrints:        res.DebugPrints,
	}
	if out.DebugPrints == nil {
		out.DebugPrints = []string{}
	}
	if res.Status == engine.StatusRejected {
		out.Reject = &rejectJSON{Code: string(res.Code), Message: res.RejectMessage}
	}
	if res.Status != engine.StatusOK {
		out.Error = res.ErrorText(canisterID)
	}
	if len(res.Reply) > 0 {
		if text, err := candid.DecodeText(res.Reply, want); err == nil {
			out.ReplyCandid = text
		}
	}
	for _, c := range res.Calls {
		out.Calls = append(out.Calls, callJSON{Callee: principal.Text(c.Callee), Method: c.Method, ArgHex: hex.EncodeToString(c.Arg)})
	}
	return out
}

// finish prints a run result (JSON or text) and turns a trap or reject
// into exit code 3 with the replica's error as the one stderr line.
func (a *app) finish(out runJSON, asJSON bool) error {
	if asJSON {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		printRun(a.stdout, out)
	}
	if out.Status != engine.StatusOK.String() {
		return &statusError{code: exitTrapped, err: errors.New(out.Error)}
	}
	return nil
}

func printRun(w io.Writer, r runJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	for _, s := range r.Steps {
		line := s.Status
		if s.Trap != nil {
			line += ": " + s.Trap.Message
		}
		row(s.Step, "%s (%s instructions, %s written to stable memory)", line, humanize.Comma(int64(s.Instructions)), humanize.IBytes(s.StableBytesWritten))
		for _, p := range s.Phases {
			row("", "  %-13s %s", p.Name, humanize.Comma(int64(p.Instructions)))
		}
	}
	row("status", "%s", r.Status)
	if r.Trap != nil {
		row("trap", "%s", r.Trap.Message)
		row("function", "%s (offset %#x)", r.Trap.Function, r.Trap.Offset)
	}
	if r.Reject != nil {
		row("reject", "%s %s", r.Reject.Code, r.Reject.Message)
	}
	if r.Limit > 0 {
		row("instructions", "%s of %s (%.2f%%)", humanize.Comma(int64(r.Instructions)), humanize.Comma(int64(r.Limit)), 100*float64(r.Instructions)/float64(r.Limit))
	} else {
		row("instructions", "%s", humanize.Comma(int64(r.Instructions)))
	}
	row("heap pages", "%d changed (4 KiB)", r.HeapPagesChanged)
	row("stable pages", "%d changed (64 KiB)", r.StablePagesChanged)
	if r.ReplyHex != "" {
		row("reply", "%s", r.ReplyHex)
		if r.ReplyCandid != "" {
			row("candid", "%s", r.ReplyCandid)
		}
	}
	for _, p := range r.DebugPrints {
		row("debug", "%s", p)
	}
	for _, c := range r.Calls {
		row("call", "%s.%s (not executed offline: rejected)", c.Callee, c.Method)
	}
	if r.Snapshot != nil {
		row("snapshot", "%s (%s)", r.Snapshot.Ref(), r.Snapshot.ID.Short())
	}
	tw.Flush()
}

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
			code, err := os.ReadFile(pos[0])
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
			iface := interfaceOf(mod)
			arg, err := args.bytes(iface, initTypes(iface))
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
			r, res, err := s.bench.InstallWith(ctx, code, arg, engine.Options{Env: env, Limits: envs.limits()})
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
			iface := interfaceOf(r.Canister.Module())
			var wantArgs, wantResults []*candid.Type
			if ft, ok := iface.Method(method); ok {
				wantArgs, wantResults = ft.Args, ft.Results
			}
			arg, err := args.bytes(iface, wantArgs)
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
