package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
	"github.com/spf13/cobra"
)

// rejectCodes are the interface specification's reject codes by name.
var rejectCodes = map[string]uint32{
	"SYS_FATAL": 1, "SYS_TRANSIENT": 2, "DESTINATION_INVALID": 3,
	"CANISTER_REJECT": 4, "CANISTER_ERROR": 5, "SYS_UNKNOWN": 6,
}

// rejectCodeName names a reject code as the specification does.
func rejectCodeName(code uint32) string {
	for name, c := range rejectCodes {
		if c == code {
			return name
		}
	}
	return strconv.FormatUint(uint64(code), 10)
}

// scripted is one answer the operator gave for calls to CANISTER.METHOD.
type scripted struct {
	callee   []byte
	method   string
	response engine.Response
	// source says where it was given ("--reply ...", "FILE:3").
	source string
	used   bool
}

// replyFlags are --reply, --reject, --replies and --reject-unanswered:
// the answers to the calls a message makes, in the order given.
type replyFlags struct {
	answers          []*scripted
	rejectUnanswered bool
	// set: any of the answer flags was given.
	set bool
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
	a, err := parseAnswer(v.kind, s)
	if err != nil {
		return err
	}
	a.source = "--" + v.kind + " " + s
	v.f.answers = append(v.f.answers, a)
	return nil
}

func (f *replyFlags) register(cmd *cobra.Command) {
	cmd.Flags().Var(&answerValue{f, "reply"}, "reply", "answer the next call to CANISTER.METHOD with this Candid reply, e.g. 'ryjl3-tyaaa-aaaaa-aaaba-cai.get=(42 : nat64)' (repeatable, used in order)")
	cmd.Flags().Var(&answerValue{f, "reject"}, "reject", "answer the next call to CANISTER.METHOD with a reject, CODE a number 1-6 or a name such as CANISTER_REJECT (repeatable)")
	cmd.Flags().Var(&answerValue{f, "replies"}, "replies", "read answers from FILE: one per line, 'reply CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT'; # comments")
	cmd.Flags().BoolVar(&f.rejectUnanswered, "reject-unanswered", false, "fail calls no answer matches at once with SYS_TRANSIENT (the offline default of canscope before scripted replies) instead of holding them")
}

// readFile adds the answers of a --replies file.
func (f *replyFlags) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--replies: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		if kind != "reply" && kind != "reject" {
			return fmt.Errorf("--replies %s:%d: want 'reply CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT', got %q", path, n, line)
		}
		a, err := parseAnswer(kind, strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("--replies %s:%d: %w", path, n, err)
		}
		a.source = fmt.Sprintf("%s:%d", path, n)
		f.answers = append(f.answers, a)
	}
	return sc.Err()
}

// parseAnswer reads CANISTER.METHOD=CANDID (reply) or
// CANISTER.METHOD=CODE:TEXT (reject).
func parseAnswer(kind, s string) (*scripted, error) {
	target, value, ok := strings.Cut(s, "=")
	canister, method, ok2 := strings.Cut(target, ".")
	if !ok || !ok2 || method == "" {
		return nil, fmt.Errorf("%q: want CANISTER.METHOD=%s", s, map[string]string{"reply": "CANDID", "reject": "CODE:TEXT"}[kind])
	}
	callee, err := principal.Parse(canister)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	a := &scripted{callee: callee, method: method}
	if kind == "reply" {
		payload, err := candid.EncodeText(value, nil)
		if err != nil {
			return nil, fmt.Errorf("%q: the reply: %w", s, err)
		}
		a.response = engine.Response{Payload: payload}
		return a, nil
	}
	codeText, text, _ := strings.Cut(value, ":")
	code, ok := rejectCodes[strings.ToUpper(codeText)]
	if !ok {
		n, err := strconv.ParseUint(codeText, 10, 32)
		if err != nil || n < 1 || n > 6 {
			return nil, fmt.Errorf("%q: the reject code %q: want 1-6 or SYS_FATAL, SYS_TRANSIENT, DESTINATION_INVALID, CANISTER_REJECT, CANISTER_ERROR, SYS_UNKNOWN", s, codeText)
		}
		code = uint32(n)
	}
	a.response = engine.Response{Reject: true, RejectCode: code, RejectMessage: text}
	return a, nil
}

// calls returns the engine's rule for the calls of a run: each call takes
// the first unused answer for its CANISTER.METHOD; unanswered ones are
// held, or rejected at once with --reject-unanswered.
func (f *replyFlags) calls() *engine.Calls {
	return &engine.Calls{
		RejectUnanswered: f.rejectUnanswered,
		Answer: func(call ic0.OutgoingCall) (engine.Response, bool) {
			for _, a := range f.answers {
				if !a.used && a.method == call.Method && bytes.Equal(a.callee, call.Callee) {
					a.used = true
					return a.response, true
				}
			}
			return engine.Response{}, false
		},
	}
}

// unused lists the answers no call took, for the warning that says so.
func (f *replyFlags) unused() []string {
	var out []string
	for _, a := range f.answers {
		if !a.used {
			out = append(out, a.source)
		}
	}
	return out
}

// awaitingText says a run is not finished.
func awaitingText(n int) string {
	calls := "calls"
	if n == 1 {
		calls = "call"
	}
	return fmt.Sprintf("awaiting %d %s: nothing answered them, so their callbacks have not run and the outcome is not known; answer them with --reply/--reject/--replies, or --reject-unanswered", n, calls)
}
