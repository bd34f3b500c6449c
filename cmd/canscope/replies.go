package main

import (
	"fmt"
	"os"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/spf13/cobra"
)

// replyFlags are --reply, --reject, --replies and --reject-unanswered:
// the answers to the calls a message makes, in the order given.
type replyFlags struct {
	answers workbench.Answers
	// set: any of the answer flags was given.
	set bool
	// lastUnused lists the answers the latest run left unused.
	lastUnused func() []string
}

// answerValue is a pflag.Value appending to replyFlags in command-line
// order, whichever of the three flags it is.
type answerValue struct {
	f    *replyFlags
	kind string // "reply", "reject" or "replies"
}

func (v *answerValue) String() string { return "" }
func (v *answerValue) Type() string {
	if v.kind == "replies" {
		return "FILE"
	}
	return "CANISTER.METHOD=" + map[string]string{"reply": "CANDID", "reject": "CODE:TEXT"}[v.kind]
}

func (v *answerValue) Set(s string) error {
	v.f.set = true
	if v.kind == "replies" {
		return v.f.readFile(s)
	}
	a, err := workbench.ParseAnswer(v.kind, s)
	if err != nil {
		return err
	}
	a.Source = "--" + v.kind + " " + s
	v.f.answers.List = append(v.f.answers.List, a)
	return nil
}

func (f *replyFlags) register(cmd *cobra.Command) {
	cmd.Flags().Var(&answerValue{f, "reply"}, "reply", "answer the next call to CANISTER.METHOD with this Candid reply, e.g. 'ryjl3-tyaaa-aaaaa-aaaba-cai.get=(42 : nat64)' (repeatable, used in order)")
	cmd.Flags().Var(&answerValue{f, "reject"}, "reject", "answer the next call to CANISTER.METHOD with a reject, CODE a number 1-6 or a name such as CANISTER_REJECT (repeatable)")
	cmd.Flags().Var(&answerValue{f, "replies"}, "replies", "read answers from FILE: one per line, 'reply CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT'; # comments")
	cmd.Flags().BoolVar(&f.answers.RejectUnanswered, "reject-unanswered", false, workbench.RejectUnansweredHelp)
}

// readFile adds the answers of a --replies file.
func (f *replyFlags) readFile(path string) error {
	if err := f.answers.ReadAnswersFile(path); err != nil {
		if _, statErr := os.Stat(path); statErr != nil {
			return fmt.Errorf("--replies: %w", err)
		}
		return fmt.Errorf("--replies %w", err)
	}
	return nil
}

// calls returns the engine's rule for the calls of a run
// (workbench.Answers.Calls): unanswered calls are held, or rejected at
// once with --reject-unanswered.
func (f *replyFlags) calls() *engine.Calls {
	calls, unused := f.answers.Calls()
	f.lastUnused = unused
	return calls
}

// unused lists the answers no call of the latest run took, for the
// warning that says so.
func (f *replyFlags) unused() []string {
	if f.lastUnused == nil {
		return nil
	}
	return f.lastUnused()
}

// awaitingText says a run is not finished.
func awaitingText(n int) string {
	calls := "calls"
	if n == 1 {
		calls = "call"
	}
	return fmt.Sprintf("awaiting %d %s: nothing answered them, so their callbacks have not run and the outcome is not known; answer them with --reply/--reject/--replies, or --reject-unanswered", n, calls)
}
