package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/canscope/canscope/engine"
	"github.com/canscope/canscope/engine/candid"
	"github.com/canscope/canscope/engine/ic0"
	"github.com/canscope/canscope/engine/principal"
	"github.com/canscope/canscope/engine/workbench"
	"github.com/dustin/go-humanize"
)

func phasesOf(res engine.Result) []phaseJSON {
	out := make([]phaseJSON, 0, len(res.Phases))
	for _, p := range res.Phases {
		out = append(out, phaseJSON{Name: p.Name, Instructions: p.Instructions, DirtyHeapPages: p.DirtyHeapPages})
	}
	return out
}

func trapOf(t *engine.Trap) *trapJSON {
	if t == nil {
		return nil
	}
	tj := &trapJSON{Message: t.Message, Reason: t.Reason, Code: string(t.Code), Function: t.Function, Offset: t.Offset, Backtrace: t.Backtrace}
	if t.RawFunction != t.Function {
		tj.Raw = t.RawFunction
	}
	return tj
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
		Limits:             res.Limits,
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
	if c := res.Cycles; c != nil {
		out.Cycles = &cyclesJSON{Attached: json.Number(c.Attached.String()), Accepted: json.Number(c.Accepted.String()), Refunded: json.Number(c.Refunded.String())}
	}
	if f := res.CallFees; f != nil {
		if out.Cycles == nil {
			out.Cycles = &cyclesJSON{Attached: "0", Accepted: "0", Refunded: "0"}
		}
		out.Cycles.CallFees = feesJSON(*f)
	}
	out.OfflineCalls = []callJSON{}
	for i, c := range res.Calls {
		j := callJSON{Callee: principal.Text(c.Callee), Method: c.Method, ArgHex: hex.EncodeToString(c.Arg), Answer: workbench.CallAnswer(engine.CallOutcome{Call: c})}
		if i < len(res.CallOutcomes) {
			outcomeInto(&j, res.CallOutcomes[i])
			if w := c.Fees.Total(); !w.IsZero() {
				j.Fees = feesJSON(engine.CallFeesUse{Withdrawn: w, Refunded: res.CallOutcomes[i].FeesRefunded})
			}
		}
		out.Calls = append(out.Calls, j)
		if c.Offline() {
			out.OfflineCalls = append(out.OfflineCalls, j)
		}
	}
	if res.Status == engine.StatusAwaiting {
		out.Awaiting, out.Error = res.Awaiting, awaitingText(res.Awaiting)
	}
	return out
}

// feesJSON is u in the JSON shape.
func feesJSON(u engine.CallFeesUse) *callFeesJSON {
	return &callFeesJSON{Withdrawn: json.Number(u.Withdrawn.String()), Refunded: json.Number(u.Refunded.String()), Charged: json.Number(u.Charged().String())}
}

// outcomeInto adds what answered a call and how its callbacks ran.
func outcomeInto(j *callJSON, o engine.CallOutcome) {
	exec := func(e *engine.Execution) *executionJSON {
		if e == nil {
			return nil
		}
		return &executionJSON{Name: e.Name, Status: e.Status.String(), Trap: trapOf(e.Trap), Instructions: e.Instructions}
	}
	j.Callback, j.Cleanup = exec(o.Callback), exec(o.Cleanup)
	j.Answer = workbench.CallAnswer(o)
	if o.SelfCall != nil {
		j.SelfCall = o.SelfCall.Status.String()
	}
	r := o.Response
	if r == nil {
		return
	}
	if r.Reject {
		j.Response = &responseJSON{Kind: "reject", RejectCode: r.RejectCode, RejectMessage: r.RejectMessage}
		return
	}
	j.Response = &responseJSON{Kind: "reply", ReplyHex: hex.EncodeToString(r.Payload)}
	if text, err := candid.DecodeText(r.Payload, nil); err == nil {
		j.Response.ReplyCandid = text
	}
}

// inspectOf is canister_inspect_message's verdict.
func inspectOf(res engine.Result, canisterID string) *inspectJSON {
	v := &inspectJSON{Verdict: "accepted", Instructions: res.Instructions}
	if res.Status != engine.StatusOK {
		v.Verdict, v.Error = "rejected", res.ErrorText(canisterID)
	}
	return v
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
		if s.MainMemory != "" {
			row("", "  heap %s: %s", s.MainMemory, s.MainMemoryReason)
		}
		for _, p := range s.Phases {
			row("", "  %-13s %s", p.Name, humanize.Comma(int64(p.Instructions)))
		}
		for _, l := range s.Limits {
			row("", "  %s", limitLine(l))
		}
	}
	if r.Inspect != nil {
		line := r.Inspect.Verdict
		if r.Inspect.Error != "" {
			line += ": " + r.Inspect.Error
		}
		row("inspect", "%s (canister_inspect_message, %s instructions)", line, humanize.Comma(int64(r.Inspect.Instructions)))
	}
	row("status", "%s", r.Status)
	if r.Awaiting > 0 {
		row("awaiting", "%s", awaitingText(r.Awaiting))
	}
	if r.SkipPreUpgrade != nil {
		row("skip_pre_upgrade", "%s", r.SkipPreUpgrade.Verdict)
	}
	if r.StableTypes != nil {
		row("stable types", "%s", r.StableTypes)
	}
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
	for i, l := range r.Limits {
		k := ""
		if i == 0 {
			k = "limits"
		}
		row(k, "%s", limitLine(l))
	}
	row("heap pages", "%d changed (4 KiB)", r.HeapPagesChanged)
	row("stable pages", "%d changed (64 KiB)", r.StablePagesChanged)
	if r.ReplyHex != "" {
		row("reply", "%s", r.ReplyHex)
		if r.ReplyCandid != "" {
			row("candid", "%s", r.ReplyCandid)
		}
	}
	if c := r.Cycles; c != nil && c.Attached != "0" {
		row("cycles", "%s attached, %s accepted, %s refunded to the caller", c.Attached, c.Accepted, c.Refunded)
	}
	if c := r.Cycles; c != nil && c.CallFees != nil {
		w, _ := ic0.ParseCycles(c.CallFees.Withdrawn.String()) // written by feesJSON
		f, _ := ic0.ParseCycles(c.CallFees.Refunded.String())
		row("call fees", "%s", workbench.CallFeesText(engine.CallFeesUse{Withdrawn: w, Refunded: f}))
	}
	for _, p := range r.DebugPrints {
		row("debug", "%s", p)
	}
	for _, c := range r.Calls {
		row("call", "%s.%s: %s", c.Callee, c.Method, c.Answer)
	}
	if w := offlineWarning(len(r.OfflineCalls)); w != "" {
		row("warning", "%s", w)
	}
	if c := r.Certificate; c != nil {
		row("certificate", "%s", c.Note)
	}
	for _, u := range r.UnusedAnswers {
		row("warning", "%s", workbench.UnusedAnswerText(u))
	}
	if r.Snapshot != nil {
		row("snapshot", "%s (%s)", r.Snapshot.Ref(), r.Snapshot.ID.Short())
	}
	tw.Flush()
	if len(r.Verify) > 0 {
		printVerify(w, r.Verify, r.Steps)
	}
}

// offlineWarning is the warning line for a run whose outcome depended on
// n calls that were not really performed; "" for none.
func offlineWarning(n int) string {
	if n == 0 {
		return ""
	}
	calls := "calls were"
	if n == 1 {
		calls = "call was"
	}
	return fmt.Sprintf("%d %s not performed offline (each failed at once with SYS_TRANSIENT): the outcome follows the canister's failure path, not what the IC would do", n, calls)
}

// headroomWarning is the share of a limit above which a run is flagged:
// the real canister is close to failing there.
const headroomWarning = 0.8

// limitLine renders one limit of the headroom report: "heap_bytes
// 1.2 GiB of 3.0 GiB (40.00%)", flagged above headroomWarning.
func limitLine(l engine.LimitUse) string {
	amount := func(v uint64) string {
		if l.Name == engine.LimitInstructions || l.Name == engine.LimitLargestSliceCharge {
			return humanize.Comma(int64(v))
		}
		return humanize.IBytes(v)
	}
	if l.Limit == 0 {
		return fmt.Sprintf("%-22s %s (no limit)", l.Name, amount(l.Used))
	}
	line := fmt.Sprintf("%-22s %s of %s (%.2f%%)", l.Name, amount(l.Used), amount(l.Limit), 100*l.Fraction())
	if l.Fraction() > headroomWarning {
		line += fmt.Sprintf("  ! above %.0f%% of the limit", 100*headroomWarning)
	}
	return line
}
