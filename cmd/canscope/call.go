package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/canscope/canscope/snapshots"
	"github.com/spf13/cobra"
)

func newCallCmd(a *app) *cobra.Command {
	var (
		args   argFlags
		envs   envFlags
		entry  entryFlags
		answer replyFlags
		query  bool
		commit bool
		name   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "call SNAP METHOD | call SNAP --timer | call SNAP --heartbeat",
		Short: "Run one message on a copy of a snapshot's state",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkCommitName(name, commit); err != nil {
				return err
			}
			if query && commit {
				return errors.New("--query and --commit exclude each other: a query never changes state")
			}
			method := ""
			if len(pos) == 2 {
				method = pos[1]
			}
			if err := entry.check(method, query); err != nil {
				return err
			}
			s, snap, r, err := a.openRun(ctx, pos[0], &envs)
			if err != nil {
				return err
			}
			defer s.close(ctx)
			defer r.Close(ctx)
			var out runJSON
			note := "call " + method
			if entry.system() {
				done := a.watchRun(r.Canister, snap.ID, "running --"+entry.systemName(), "call --"+entry.systemName(), asJSON)
				res, err := entry.runSystem(ctx, r.Canister, snap, answer.calls())
				if err != nil {
					done(0)
					return err
				}
				done(res.Instructions)
				out, note = resultJSON(res, r.Canister.ID(), nil), "call --"+entry.systemName()
			} else {
				done := a.watchRun(r.Canister, snap.ID, "running "+method, "call "+method, asJSON)
				out, err = runMethod(ctx, r.Canister, snap, method, &args, &entry, &answer, query)
				if err != nil {
					done(0)
					return err
				}
				if out.Inspect == nil || out.Inspect.Verdict == "accepted" {
					done(out.Instructions)
				} else {
					done(0) // the method did not run: inspect_message's count is not its
				}
			}
			if unused := answer.unused(); len(unused) > 0 {
				out.UnusedAnswers = unused
			}
			if commit && out.Status == engine.StatusOK.String() {
				if name == "" {
					name = snap.Name
				}
				child, err := r.Commit(ctx, workbench.CommitOptions{Name: name, MadeBy: snapshots.MadeByCall, Note: note})
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
	entry.register(cmd)
	answer.register(cmd)
	cmd.Flags().BoolVar(&query, "query", false, "run as a query (changes discarded)")
	cmd.Flags().BoolVar(&commit, "commit", false, "store the resulting state as a child snapshot")
	cmd.Flags().StringVar(&name, "name", "", "name of the committed snapshot (default: the snapshot's name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// runMethod runs a public method (after canister_inspect_message with
// --inspect) and converts its result.
func runMethod(ctx context.Context, c *engine.Canister, snap snapshots.Snapshot, method string, args *argFlags, entry *entryFlags, answer *replyFlags, query bool) (runJSON, error) {
	m, ok := c.Module().Method(method)
	if !ok {
		return runJSON{}, errNoMethod(snap, method, c.Module())
	}
	iface := workbench.Interface(c.Module())
	var wantArgs, wantResults []*candid.Type
	if ft, ok := iface.Method(method); ok {
		wantArgs, wantResults = ft.Args, ft.Results
	}
	arg, err := args.bytes(wantArgs)
	if err != nil {
		return runJSON{}, err
	}
	update := !query && m.Kind == engine.Update
	if (entry.inspect || entry.cycles != "") && !update {
		return runJSON{}, fmt.Errorf("--inspect and --cycles apply to update calls: %s is a %s", method, m.Kind)
	}
	composite := !update && m.Kind == engine.CompositeQuery
	if answer.set && !update && !composite {
		return runJSON{}, fmt.Errorf("--reply, --reject and --replies answer the calls of updates, composite queries, timers and heartbeats: %s runs as a %s, which makes none", method, m.Kind)
	}
	var inspect *inspectJSON
	if entry.inspect {
		res, err := c.InspectMessage(ctx, method, arg)
		if err != nil {
			return runJSON{}, fmt.Errorf("inspect_message for %s on %s: %w", method, snap.Ref(), err)
		}
		inspect = inspectOf(res, c.ID())
		if res.Status != engine.StatusOK {
			// The ingress message never reaches the canister: the
			// verdict is inspect_message's.
			out := resultJSON(res, c.ID(), nil)
			out.Inspect = inspect
			return out, nil
		}
	}
	var res engine.Result
	if update {
		opts := engine.UpdateOptions{Calls: answer.calls()}
		if entry.cycles != "" {
			if opts.Cycles, err = ic0.ParseCycles(entry.cycles); err != nil {
				return runJSON{}, fmt.Errorf("--cycles %q: %w", entry.cycles, err)
			}
		}
		res, err = c.UpdateWith(ctx, method, arg, opts)
	} else if composite {
		res, err = c.QueryWith(ctx, method, arg, answer.calls())
	} else {
		res, err = c.Query(ctx, method, arg)
	}
	if err != nil {
		return runJSON{}, fmt.Errorf("call %s on %s: %w", method, snap.Ref(), err)
	}
	out := resultJSON(res, c.ID(), wantResults)
	out.Inspect = inspect
	if res.CertificateRead {
		out.Certificate = &certificateJSON{RootKeyHex: hex.EncodeToString(c.Env().RootKey),
			Note: "signed offline with canscope's local key (the root key above, also ic0.root_key): it does not verify against mainnet's root key"}
	}
	return out, nil
}

// entryFlags choose the entry point `call` runs: a system task (--timer,
// --heartbeat) instead of a method, canister_inspect_message before an
// update (--inspect), cycles attached to it (--cycles).
type entryFlags struct {
	timer, heartbeat, inspect bool
	cycles                    string
}

func (f *entryFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.timer, "timer", false, "run canister_global_timer (when the timer is due at --time; no METHOD)")
	cmd.Flags().BoolVar(&f.heartbeat, "heartbeat", false, "run canister_heartbeat (no METHOD)")
	cmd.Flags().BoolVar(&f.inspect, "inspect", false, "run canister_inspect_message first, as for an ingress message, and the update only if it accepts")
	cmd.Flags().StringVar(&f.cycles, "cycles", "", "cycles attached to the update, as a call from another canister would attach them")
	cmd.MarkFlagsMutuallyExclusive("timer", "heartbeat")
	cmd.MarkFlagsMutuallyExclusive("timer", "inspect")
	cmd.MarkFlagsMutuallyExclusive("heartbeat", "inspect")
	cmd.MarkFlagsMutuallyExclusive("timer", "cycles")
	cmd.MarkFlagsMutuallyExclusive("heartbeat", "cycles")
}

func (f *entryFlags) system() bool { return f.timer || f.heartbeat }

func (f *entryFlags) systemName() string {
	if f.timer {
		return "timer"
	}
	return "heartbeat"
}

// check refuses a METHOD with a system task, and no METHOD without one.
func (f *entryFlags) check(method string, query bool) error {
	switch {
	case f.system() && method != "":
		return fmt.Errorf("--%s runs a system task, not METHOD %q: drop one", f.systemName(), method)
	case f.system() && query:
		return fmt.Errorf("--%s and --query exclude each other: system tasks are replicated executions", f.systemName())
	case !f.system() && method == "":
		return errors.New("call needs METHOD, or --timer or --heartbeat")
	}
	return nil
}

// runSystem runs the system task; a timer that is not due does not run,
// as on the IC.
func (f *entryFlags) runSystem(ctx context.Context, c *engine.Canister, snap snapshots.Snapshot, calls *engine.Calls) (engine.Result, error) {
	if f.heartbeat {
		if err := c.CheckHeartbeat(); err != nil {
			return engine.Result{}, fmt.Errorf("%s: %w", snap.Ref(), err)
		}
		return c.HeartbeatWith(ctx, calls)
	}
	if err := c.CheckGlobalTimer(); err != nil {
		var notDue *engine.TimerNotDueError
		if errors.As(err, &notDue) && notDue.Deadline != 0 {
			return engine.Result{}, fmt.Errorf("%s: %w; pass --time %d or later to run it", snap.Ref(), err, notDue.Deadline)
		}
		return engine.Result{}, fmt.Errorf("%s: %w", snap.Ref(), err)
	}
	return c.GlobalTimerWith(ctx, calls)
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
