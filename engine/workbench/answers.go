package workbench

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
)

// rejectCodes are the interface specification's reject codes by name.
var rejectCodes = map[string]uint32{
	"SYS_FATAL": 1, "SYS_TRANSIENT": 2, "DESTINATION_INVALID": 3,
	"CANISTER_REJECT": 4, "CANISTER_ERROR": 5, "SYS_UNKNOWN": 6,
}

// RejectCodeName names a reject code as the specification does.
func RejectCodeName(code uint32) string {
	for name, c := range rejectCodes {
		if c == code {
			return name
		}
	}
	return strconv.FormatUint(uint64(code), 10)
}

// Answer is one scripted response to the calls a message makes to
// Callee.Method.
type Answer struct {
	Callee   []byte
	Method   string
	Response engine.Response
	// Source says where it was given ("--reply ...", "FILE:3").
	Source string
}

// Answers are scripted responses, matched in the order given: each call
// takes the first answer for its CANISTER.METHOD that no earlier call of
// the same run took. The CLI's --reply/--reject/--replies and the UI's
// replies field both read them here.
type Answers struct {
	List []Answer
	// RejectUnanswered fails a call no answer matches at once with
	// SYS_TRANSIENT instead of holding it (engine.Calls.RejectUnanswered).
	RejectUnanswered bool
}

// ParseAnswer reads CANISTER.METHOD=CANDID (kind "reply") or
// CANISTER.METHOD=CODE:TEXT (kind "reject"), CODE a number 1-6 or a name
// such as CANISTER_REJECT.
func ParseAnswer(kind, s string) (Answer, error) {
	target, value, ok := strings.Cut(s, "=")
	canister, method, ok2 := strings.Cut(target, ".")
	if !ok || !ok2 || method == "" {
		return Answer{}, fmt.Errorf("%q: want CANISTER.METHOD=%s", s, map[string]string{"reply": "CANDID", "reject": "CODE:TEXT"}[kind])
	}
	callee, err := principal.Parse(canister)
	if err != nil {
		return Answer{}, fmt.Errorf("%q: %w", s, err)
	}
	a := Answer{Callee: callee, Method: method}
	if kind == "reply" {
		payload, err := candid.EncodeText(value, nil)
		if err != nil {
			return Answer{}, fmt.Errorf("%q: the reply: %w", s, err)
		}
		a.Response = engine.Response{Payload: payload}
		return a, nil
	}
	codeText, text, _ := strings.Cut(value, ":")
	code, ok := rejectCodes[strings.ToUpper(codeText)]
	if !ok {
		n, err := strconv.ParseUint(codeText, 10, 32)
		if err != nil || n < 1 || n > 6 {
			return Answer{}, fmt.Errorf("%q: the reject code %q: want 1-6 or SYS_FATAL, SYS_TRANSIENT, DESTINATION_INVALID, CANISTER_REJECT, CANISTER_ERROR, SYS_UNKNOWN", s, codeText)
		}
		code = uint32(n)
	}
	a.Response = engine.Response{Reject: true, RejectCode: code, RejectMessage: text}
	return a, nil
}

// ReadAnswersFile adds the answers of a replies file: one per line,
// 'reply CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT';
// blank lines and # comments are skipped. Errors name PATH:LINE.
func (a *Answers) ReadAnswersFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
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
			return fmt.Errorf("%s:%d: want 'reply CANISTER.METHOD=CANDID' or 'reject CANISTER.METHOD=CODE:TEXT', got %q", path, n, line)
		}
		ans, err := ParseAnswer(kind, strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		ans.Source = fmt.Sprintf("%s:%d", path, n)
		a.List = append(a.List, ans)
	}
	return sc.Err()
}

// Calls returns the engine's rule for the calls of one run and a function
// listing the answers that run left unused (by Source). Each call of
// Calls starts from a fresh set of unused answers, so every execution of
// a traced run sees the same answers; runs may go on concurrently.
func (a *Answers) Calls() (*engine.Calls, func() []string) {
	used := make([]bool, len(a.List))
	var order []int // the answers taken, in order
	matches := func(ans Answer, call ic0.OutgoingCall) bool {
		return ans.Method == call.Method && bytes.Equal(ans.Callee, call.Callee)
	}
	calls := &engine.Calls{
		RejectUnanswered: a.RejectUnanswered,
		Answer: func(call ic0.OutgoingCall) (engine.Response, bool) {
			for i, ans := range a.List {
				if !used[i] && matches(ans, call) {
					used[i] = true
					order = append(order, i)
					return ans.Response, true
				}
			}
			return engine.Response{}, false
		},
		Release: func(call ic0.OutgoingCall) {
			for j := len(order) - 1; j >= 0; j-- {
				if i := order[j]; matches(a.List[i], call) {
					used[i] = false
					order = append(order[:j], order[j+1:]...)
					return
				}
			}
		},
	}
	unused := func() []string {
		var out []string
		for i, ans := range a.List {
			if !used[i] {
				out = append(out, ans.Source)
			}
		}
		return out
	}
	return calls, unused
}

// RejectUnansweredHelp says what `--reject-unanswered` (and the UI's
// toggle of the same name) does.
const RejectUnansweredHelp = "fail calls no answer matches at once with SYS_TRANSIENT (the offline default of canscope before scripted replies) instead of holding them"

// UnusedAnswerText warns that a scripted answer (by its Source) answered
// no call of the run — the words `canscope call` prints and the UI's run
// screen shows.
func UnusedAnswerText(source string) string {
	return "answer " + source + " was not used: no call matched it"
}

// CallAnswer says what completed an outgoing call and how its callbacks
// ran — the words `canscope call` prints and the UI's run screen shows:
// "not performed offline: …" for a call answered at once with
// SYS_TRANSIENT, "failed as on the IC: …" for one the balance could not
// pay for, "held: …" for one nothing answered, else the reply
// (Candid text, or hex) or reject, then "→ callback status" (with the
// trap, whose changes were rolled back) and "→ cleanup status"; a call to
// the canister itself is marked as executed by canscope.
func CallAnswer(c engine.CallOutcome) string {
	r := c.Response
	switch {
	case r == nil && c.Skipped != "":
		return c.Skipped
	case r == nil && c.Call.OutOfCycles != "":
		return fmt.Sprintf("failed as on the IC: call_perform returned %d (SYS_TRANSIENT): %s", c.Call.RejectCode, c.Call.OutOfCycles)
	case r == nil && c.HeldReason != "":
		return "held: " + c.HeldReason + ", its callback has not run"
	case r == nil && c.Call.Offline():
		return fmt.Sprintf("not performed offline: call_perform returned %d (SYS_TRANSIENT)", c.Call.RejectCode)
	case r == nil:
		return "held: no answer given, its callback has not run"
	}
	var out string
	if r.Reject {
		out = fmt.Sprintf("reject %s %q", RejectCodeName(r.RejectCode), r.RejectMessage)
	} else if text, err := candid.DecodeText(r.Payload, nil); err == nil {
		out = "reply " + text
	} else {
		out = "reply 0x" + hex.EncodeToString(r.Payload)
	}
	if e := c.Callback; e != nil {
		out += fmt.Sprintf(" → %s %s", e.Name, e.Status)
		if e.Trap != nil {
			out += ": " + e.Trap.Message + " (its changes rolled back)"
		}
	}
	if e := c.Cleanup; e != nil {
		out += fmt.Sprintf(" → cleanup %s", e.Status)
	}
	if c.SelfCall != nil {
		out = fmt.Sprintf("self-call executed by canscope (%s %s): %s", c.Call.Method, c.SelfCall.Status, out)
	}
	return out
}

// CallFeesText says what a message's outgoing calls paid, the words
// `canscope call` prints and the UI's run screen shows.
func CallFeesText(u engine.CallFeesUse) string {
	return fmt.Sprintf("%s charged: %s withdrawn at call_perform (transmission fee, reservations for the largest response and the longest callback), %s refunded with the responses",
		u.Charged(), u.Withdrawn, u.Refunded)
}
