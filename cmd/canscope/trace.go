package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/trace"
	"github.com/canscope/canscope/engine/validation"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		from       int
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
"checkpoint" (child of SNAP). Exit code 3 when the run traps or rejects.

Every event of the run is counted and numbered. The first --max-events of
them (default 16,384) starting at --from are recorded to a log (in a
temporary file beyond 16 MiB, at most 1 GiB); the ones past it are counted
at almost no cost and listed as not recorded, with the --from and
--max-events that print them, and the last event (the trap) is always
shown.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			ctx := cmd.Context()
			if err := checkName(name); err != nil {
				return err
			}
			if upgrade == (method != "") {
				return errors.New("give either --method M or --upgrade")
			}
			if maxEvents < 0 {
				return fmt.Errorf("--max-events %d: give a positive count, or 0 for the first %d", maxEvents, trace.DefaultMaxEvents)
			}
			if from < 0 {
				return fmt.Errorf("--from %d: give an event index, 0 or more", from)
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
			req := trace.Request{Method: method, Upgrade: upgrade, SkipPreUpgrade: skip, Rehearse: rehearse, MaxEvents: maxEvents, From: from}
			// The argument is encoded against the Candid interface of the
			// module that receives it. Loading it traced compiles the
			// variant the session runs.
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
			mod, err := s.eng.Load(trace.WithTracing(ctx), code)
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
			var live laterCanister
			req.Watch = live.c.Store
			what, key := "tracing "+method, "call "+method // tracing does not change the count
			if upgrade {
				what, key = "tracing upgrade", upgradeKey(workbench.StepUpgrade, mod, skip)
			}
			done := a.watchRun(&live, snap.ID, what, key, asJSON)
			sess, err := tr.Open(ctx, snap.ID, req)
			switch {
			case err != nil:
				done(0)
			case upgrade && rehearse:
				done(0) // the count is the second step's: no estimate for the first
			default:
				done(sess.Result().Instructions)
			}
			if err != nil {
				return err
			}
			defer sess.Close(ctx)
			out := traceJSON{
				TotalEvents: sess.Len(),
				Truncated:   sess.Truncated(),
				Result:      resultJSON(sess.Result(), sess.CanisterID(), wantResults),
			}
			for _, sp := range sess.Elided() {
				out.Elided = append(out.Elided, elidedJSON{Span: sp,
					See: fmt.Sprintf("canscope trace %s --from %d --max-events %d", pos[0], sp.From, sp.To-sp.From) + cmdFlags(cmd, "from", "max-events")})
			}
			if name != "" {
				cp, err := sess.Checkpoint(ctx, checkpoint, name)
				if err != nil {
					return err
				}
				out.Checkpoint = &cp
			}
			events, failed := sess.All()
			if asJSON {
				err = writeTraceJSON(a.stdout, events, out)
			} else {
				printTrace(a.stdout, events, out)
			}
			if err == nil {
				err = failed()
			}
			if err != nil {
				return err
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
	cmd.Flags().IntVar(&maxEvents, "max-events", 0, fmt.Sprintf("record at most this many events, counting the rest (0: %d)", trace.DefaultMaxEvents))
	cmd.Flags().IntVar(&from, "from", 0, "record the events from this index on (the earlier ones are counted, not recorded)")
	return cmd
}

// printTrace prints one line per event (index, instructions, the event
// indented by call depth) with a header at each phase, then what was not
// recorded, then the result.
func printTrace(w io.Writer, events iter.Seq[trace.Event], t traceJSON) {
	bw := bufio.NewWriterSize(w, 1<<16)
	phase := ""
	for e := range events {
		if e.Phase != phase {
			phase = e.Phase
			fmt.Fprintf(bw, "== %s\n", phase)
		}
		fmt.Fprintf(bw, "%7d %15s  %s\n", e.Index, humanize.Comma(int64(e.Instructions)), e)
	}
	for _, sp := range t.Elided {
		fmt.Fprintf(bw, "(events %d to %d of %d not recorded: %s; print them with `%s`)\n",
			sp.From, sp.To-1, t.TotalEvents, sp.Reason, sp.See)
	}
	bw.Flush()
	fmt.Fprintln(w)
	printRun(w, t.Result)
	if t.Checkpoint != nil {
		fmt.Fprintf(w, "checkpoint  %s (%s)\n", t.Checkpoint.Ref(), t.Checkpoint.ID.Short())
	}
}

// writeTraceJSON writes t with its events streamed from the log, so that
// a long run's timeline is never held in memory; the layout is the one
// printJSON gives.
func writeTraceJSON(w io.Writer, events iter.Seq[trace.Event], t traceJSON) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("{\n  \"events\": [")
	n := 0
	for e := range events {
		b, err := json.MarshalIndent(e, "    ", "  ")
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
		n++
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	rest, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	// rest is "{\n  ...fields...\n  }": splice its fields after the events.
	if body := bytes.TrimSuffix(bytes.TrimPrefix(rest, []byte("{")), []byte("}")); len(bytes.TrimSpace(body)) > 0 {
		bw.WriteString(",")
		bw.Write(bytes.TrimRight(body, " \n"))
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// cmdFlags renders the flags the user set, but --json and skip, for a
// command line to suggest.
func cmdFlags(cmd *cobra.Command, skip ...string) string {
	var b strings.Builder
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "json" || slices.Contains(skip, f.Name) {
			return
		}
		if f.Value.Type() == "bool" {
			fmt.Fprintf(&b, " --%s", f.Name)
			return
		}
		fmt.Fprintf(&b, " --%s %s", f.Name, shellQuote(f.Value.String()))
	})
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
