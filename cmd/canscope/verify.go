package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/spf13/cobra"
)

// verifyFlags are upgrade's data-survival check: which queries to call
// before the upgrade and after each step.
type verifyFlags struct {
	all     bool
	queries []string
	file    string
	ignore  []string
}

func (f *verifyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.all, "verify", false, "call the module's argument-less queries (candid:service) before and after each step and compare the replies; exit 3 when any differs or traps")
	cmd.Flags().StringArrayVar(&f.queries, "verify-query", nil, "'METHOD [CANDID-ARG]' to call and compare (repeatable; implies --verify)")
	cmd.Flags().StringVar(&f.file, "verify-file", "", "file of 'METHOD [CANDID-ARG]' lines to call and compare (# comments; implies --verify)")
	cmd.Flags().StringArrayVar(&f.ignore, "verify-ignore", nil, "METHOD whose reply may change (time, cycles, version): shown, never fails (repeatable)")
}

// on reports whether any verify flag asks for the check.
func (f *verifyFlags) on() bool { return f.all || len(f.queries) > 0 || f.file != "" }

// build returns the queries to call on a canister running mod (the
// snapshot's module, before the upgrade): the named ones, typed by mod's
// candid:service, else every argument-less query it declares.
func (f *verifyFlags) build(mod *engine.Module) ([]workbench.Query, error) {
	if !f.on() {
		if len(f.ignore) > 0 {
			return nil, errors.New("--verify-ignore needs --verify, --verify-query or --verify-file")
		}
		return nil, nil
	}
	lines := slices.Clone(f.queries)
	if f.file != "" {
		fl, err := readVerifyFile(f.file)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fl...)
	}
	var qs []workbench.Query
	if len(lines) == 0 {
		qs = workbench.VerifyQueries(mod)
		if len(qs) == 0 {
			return nil, errors.New("--verify: the module's candid:service declares no query without arguments; name the queries with --verify-query 'METHOD [ARG]'")
		}
	}
	iface := workbench.Interface(mod)
	for _, line := range lines {
		method, argText, _ := strings.Cut(strings.TrimSpace(line), " ")
		argText = strings.TrimSpace(argText)
		if method == "" {
			return nil, fmt.Errorf("--verify-query %q: give a method name", line)
		}
		if m, ok := mod.Method(method); !ok || m.Kind == engine.Update {
			return nil, fmt.Errorf("--verify-query %q: the snapshot's module exports no query %q", line, method)
		}
		q := workbench.Query{Method: method, ArgText: argText}
		if argText != "" {
			var want []*candid.Type
			if ft, ok := iface.Method(method); ok {
				want = ft.Args
			}
			arg, err := candid.EncodeText(argText, want)
			if err != nil {
				return nil, fmt.Errorf("--verify-query %q: %w", line, err)
			}
			q.Arg = arg
		}
		qs = append(qs, q)
	}
	for i := range qs {
		qs[i].Ignore = slices.Contains(f.ignore, qs[i].Method)
	}
	for _, m := range f.ignore {
		if !slices.ContainsFunc(qs, func(q workbench.Query) bool { return q.Method == m }) {
			return nil, fmt.Errorf("--verify-ignore %s: not among the verified queries", m)
		}
	}
	return qs, nil
}

// readVerifyFile reads 'METHOD [ARG]' lines, skipping blanks and # comments.
func readVerifyFile(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--verify-file: %w", err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--verify-file %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--verify-file %s: no queries in it", path)
	}
	return out, nil
}

// verifyOf converts the verifications to the CLI's JSON.
func verifyOf(vs []workbench.Verification) []verifyJSON {
	out := make([]verifyJSON, 0, len(vs))
	for _, v := range vs {
		j := verifyJSON{Method: v.Query.Method, Arg: v.Query.ArgText, Before: replyOf(v.Before), After: []replyJSON{}, Same: v.Same(), Ignored: v.Query.Ignore}
		if j.Arg == "" {
			j.Arg = "()"
		}
		for _, a := range v.After {
			j.After = append(j.After, replyOf(a))
		}
		out = append(out, j)
	}
	return out
}

func replyOf(r workbench.Reply) replyJSON {
	return replyJSON{Status: r.Status.String(), Candid: r.Text, Hex: fmt.Sprintf("%x", r.Reply), Error: r.Error}
}

// replyText is a reply as one line: its Candid text, else hex, else the
// error of a call that trapped or was rejected.
func replyText(r replyJSON) string {
	switch {
	case r.Status != engine.StatusOK.String():
		return r.Status + ": " + r.Error
	case r.Candid != "":
		return r.Candid
	}
	return "0x" + r.Hex
}

// printVerify prints one line per verified query: same, differs (with a
// short diff of the first reply that differs) or traps, after which step.
func printVerify(w io.Writer, vs []verifyJSON, steps []stepJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vs {
		verdict := "same"
		if !v.Same {
			verdict = verifyDiff(v, steps)
		}
		if v.Ignored {
			verdict += " (ignored)"
		}
		fmt.Fprintf(tw, "verify\t%s %s\t%s\n", v.Method, v.Arg, verdict)
	}
	tw.Flush()
}

// verifyDiff says how a query that is not the same went wrong.
func verifyDiff(v verifyJSON, steps []stepJSON) string {
	if v.Before.Status != engine.StatusOK.String() {
		return "fails before the upgrade: " + replyText(v.Before)
	}
	for i, a := range v.After {
		step := fmt.Sprintf("step %d", i+1)
		if i < len(steps) {
			step = steps[i].Step
		}
		if a.Status != engine.StatusOK.String() {
			return "traps after " + step + ": " + replyText(a)
		}
		if a.Hex != v.Before.Hex {
			return "differs after " + step + ": " + workbench.ShortDiff(replyText(v.Before), replyText(a), 60)
		}
	}
	return "differs" // same bytes, reported different: cannot happen
}

// verifyError is the exit-3 error of a rehearsal whose data did not
// survive, or nil.
func verifyError(vs []workbench.Verification) error {
	failed := workbench.VerifyFailed(vs)
	if len(failed) == 0 {
		return nil
	}
	return &statusError{code: exitTrapped, err: fmt.Errorf("verify: %d of %d queries differ or trap after the upgrade: %s", len(failed), len(vs), strings.Join(failed, ", "))}
}
