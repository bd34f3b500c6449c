package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newTraceCmd(a *app) *cobra.Command {
	var (
		method     string
		upgrade    bool
		wasmPath   string
		skip       bool
		rehearse   bool
		args       argFlags
		asJSON     bool
		checkpoint int
		name       string
		maxEvents  int
	)
	cmd := &cobra.Command{
		Use:   "trace SNAP (--method M | --upgrade [--wasm NEW])",
		Short: "Record what one message or upgrade does: calls, System API, grows, the trap",
		Long: `Trace runs one message (--method) or an upgrade (--upgrade) on a copy of the
snapshot and prints every event: function enter and exit (indented by call
depth), System API calls with arguments and results, heap and stable memory
grows and the trap, each with the instructions used so far. --rehearse
traces both upgrades of a rehearsal in one timeline. --checkpoint N
--name NAME stores the state as it was at event N as a snapshot made by
"checkpoint" (child of SNAP). Exit code 3 when the run traps or rejects.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkName(name); err != nil {
				return err
			}
			if upgrade == (method != "") {
				return errors.New("give either --method M or --upgrade")
			}
			if maxEvents < 1 {
				return fmt.Errorf("--max-events %d: record at least one event", maxEvents)
			}
			if !upgrade && (wasmPath != "" || skip || rehearse) {
				return errors.New("--wasm, --skip-pre-upgrade and --rehearse go with --upgrade")
			}
			if cmd.Flags().Changed("checkpoint") != (name != "") {
				return errors.New("--checkpoint N and --name NAME go together")
			}
			s, err := a.openSession()
			if err != nil {
				return err
			}
			defer s.close(ctx)
			snap, err := s.store.Resolve(pos[0])
			if err != nil {
				return err
			}
			req := trace.Request{Method: method, Upgrade: upgrade, SkipPreUpgrade: skip, Rehearse: rehearse, MaxEvents: maxEvents}
			// The argument is encoded against the Candid interface of the
			// module that receives it. Loading it under the trace
			// listeners compiles the variant the session runs.
			var code []byte
			if wasmPath != "" {
				if code, err = validation.ReadModule(wasmPath); err != nil {
					return fmt.Errorf("read module: %w", err)
				}
				req.Module = code
			} else {
				m, err := s.store.Manifest(snap.ID)
				if err != nil {
					return err
				}
				if code, err = s.store.ReadBlob(m.Module); err != nil {
					return fmt.Errorf("read module of %s: %w", snap.Ref(), err)
				}
			}
			mod, err := s.eng.Load(trace.WithListeners(ctx), code)
			if err != nil {
				return fmt.Errorf("load module: %w", err)
			}
			defer mod.Close(ctx)
			iface := workbench.Interface(mod)
			var wantArgs, wantResults []*candid.Type
			if upgrade {
				wantArgs = initTypes(iface)
			} else {
				if _, ok := mod.Method(method); !ok {
					return errNoMethod(snap, method, mod)
				}
				if ft, ok := iface.Method(method); ok {
					wantArgs, wantResults = ft.Args, ft.Results
				}
			}
			if req.Arg, err = args.bytes(wantArgs); err != nil {
				return err
			}
			tr := trace.New(s.bench, s.store)
			defer tr.Close(ctx)
			sess, err := tr.Open(ctx, snap.ID, req)
			if err != nil {
				return err
			}
			defer sess.Close(ctx)
			out := traceJSON{
				Events:    sess.Events(),
				Truncated: sess.Truncated(),
				Result:    resultJSON(sess.Result(), sess.CanisterID(), wantResults),
			}
			if name != "" {
				cp, err := sess.Checkpoint(ctx, checkpoint, name)
				if err != nil {
					return err
				}
				out.Checkpoint = &cp
			}
			if asJSON {
				if out.Events == nil {
					out.Events = []trace.Event{}
				}
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				printTrace(a.stdout, out)
			}
			if out.Result.Status != engine.StatusOK.String() {
				return &statusError{code: exitTrapped, err: errors.New(out.Result.Error)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&method, "method", "", "method to call")
	cmd.Flags().BoolVar(&upgrade, "upgrade", false, "trace an upgrade instead of a call")
	cmd.Flags().StringVar(&wasmPath, "wasm", "", "new module for --upgrade (default: the snapshot's own module)")
	cmd.Flags().BoolVar(&skip, "skip-pre-upgrade", false, "do not run the old module's canister_pre_upgrade")
	cmd.Flags().BoolVar(&rehearse, "rehearse", false, "upgrade a second time so the new pre_upgrade runs too (one timeline)")
	args.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events and the result as JSON")
	cmd.Flags().IntVar(&checkpoint, "checkpoint", 0, "store the state at this event index as a snapshot (with --name)")
	cmd.Flags().StringVar(&name, "name", "", "name of the checkpoint snapshot")
	cmd.Flags().IntVar(&maxEvents, "max-events", trace.DefaultMaxEvents, "record at most this many events")
	return cmd
}

// printTrace prints one line per event (index, instructions, the event
// indented by call depth) with a header at each phase, then the result.
func printTrace(w io.Writer, t traceJSON) {
	phase := ""
	for _, e := range t.Events {
		if e.Phase != phase {
			phase = e.Phase
			fmt.Fprintf(w, "== %s\n", phase)
		}
		fmt.Fprintf(w, "%7d %15s  %s\n", e.Index, humanize.Comma(int64(e.Instructions)), e)
	}
	if t.Truncated {
		fmt.Fprintf(w, "(more events not recorded: raise --max-events)\n")
	}
	fmt.Fprintln(w)
	printRun(w, t.Result)
	if t.Checkpoint != nil {
		fmt.Fprintf(w, "checkpoint  %s (%s)\n", t.Checkpoint.Ref(), t.Checkpoint.ID.Short())
	}
}
