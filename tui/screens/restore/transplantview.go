package restore

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// The transplant flow's view: the compatibility report, the naming and
// confirmation steps, and the rehearsal.

// targetName is the name the transplanted snapshot will get.
func (t *transplantFlow) targetName() string {
	if n := strings.TrimSpace(t.tname.Value()); n != "" {
		return n
	}
	return t.m.snap.Name
}

// lines draws the transplant flow after the module path is given.
func (t *transplantFlow) lines() []string {
	m, st, r := t.m, t.m.ctx.Styles, t
	var lines []string
	switch t.stage {
	case transplantChecking:
		lines = append(lines,
			m.spin.View()+" checking "+st.Accent.Render(filepath.Base(r.wasm.Value()))+" against "+m.snap.Ref()+" …",
			"", st.Muted.Render("press x to cancel"))
	case transplantReport:
		lines = append(lines, t.reportLines()...)
	case transplantNaming:
		lines = append(lines, t.verdict()...)
		lines = append(lines, "")
		lines = append(lines, m.wrap(fmt.Sprintf("Name the new snapshot (made_by transplant, parent %s); empty keeps %q.", m.snap.Ref(), m.snap.Name))...)
		lines = append(lines, "", r.tname.View())
	case transplantConfirm:
		lines = append(lines, st.Warn.Render("Please confirm:"), "")
		lines = append(lines, m.wrapIn(st.Text, fmt.Sprintf("  Transplant %s (module %s) onto %s's state as %s.",
			filepath.Base(r.path), snapshots.HashOf(r.module).Short(), m.snap.Ref(), t.targetName()))...)
		lines = append(lines, m.wrap("  This writes one new snapshot to the store at "+m.ctx.StorePath+"; "+m.snap.Ref()+" is not changed. The upgrade is then rehearsed in memory.")...)
		if r.forced {
			lines = append(lines, "")
			lines = append(lines, m.wrapIn(st.Error, "  FORCED past failed checks: "+strings.Join(failed(r.report), "; ")+". The canister may trap or misread its data.")...)
		}
		lines = append(lines, "", "Press "+st.Accent.Render("y")+" to go ahead, esc to change it.")
	case transplantWorking:
		lines = append(lines, m.spin.View()+" "+st.Muted.Render("writing "+t.targetName()+" …"))
	case transplantRehearsing, transplantDone:
		lines = append(lines, t.rehearsalLines()...)
	}
	return lines
}

// reportLines is the compatibility report: each check, the removed
// exports, the Candid diff (cut to the screen), and what comes next.
func (t *transplantFlow) reportLines() []string {
	m, st, r := t.m, t.m.ctx.Styles, t.report
	head := []string{st.Header.Render("Compatibility of " + filepath.Base(t.path) + " with " + m.snap.Ref()), ""}
	nameW := 0
	for _, c := range r.Checks {
		nameW = max(nameW, ansi.StringWidth(c.Name))
	}
	// Details wrap under their column: they can hold a 64-digit hash.
	indent := 2 + 4 + 2 + nameW + 2
	for _, c := range r.Checks {
		mark := st.OK.Render("ok  ")
		if !c.OK {
			mark = st.Error.Render("FAIL")
		}
		for i, d := range strings.Split(ansi.Wrap(c.Detail, max(m.width-indent, 10), ""), "\n") {
			if i == 0 {
				head = append(head, fmt.Sprintf("  %s  %-*s  %s", mark, nameW, c.Name, st.Muted.Render(d)))
			} else {
				head = append(head, strings.Repeat(" ", indent)+st.Muted.Render(d))
			}
		}
	}
	head = append(head, "")
	if len(r.RemovedExports) == 0 {
		head = append(head, "Removed exports: none")
	} else {
		head = append(head, m.wrapIn(st.Warn, "Removed exports: "+strings.Join(r.RemovedExports, ", "))...)
	}
	// The heap-layout check's function-level diff: what the fix touches.
	if len(r.ChangedFunctions) == 0 {
		head = append(head, "Changed functions: none")
	} else {
		head = append(head, m.wrap("Changed functions: "+strings.Join(r.ChangedFunctions, ", "))...)
	}
	tail := append([]string{""}, t.verdict()...)
	if len(r.CandidDiff) == 0 {
		return append(append(head, "candid:service: unchanged"), tail...)
	}
	head = append(head, "candid:service changes:")
	// The diff gets the rows left over; the verdict is never cut.
	room := max(m.height-len(head)-len(tail)-2, 1)
	diff := r.CandidDiff
	var more string
	if len(diff) > room {
		more = st.Muted.Render(fmt.Sprintf("  … %d more lines (canscope transplant --json shows them all)", len(diff)-room+1))
		diff = diff[:room-1]
	}
	for _, l := range diff {
		style := st.Muted
		switch {
		case strings.HasPrefix(l, "+"):
			style = st.OK
		case strings.HasPrefix(l, "-"):
			style = st.Error
		}
		head = append(head, "  "+style.Render(l))
	}
	if more != "" {
		head = append(head, more)
	}
	return append(head, tail...)
}

// verdict says whether the report passed and what the operator can do.
func (t *transplantFlow) verdict() []string {
	m, st, r := t.m, t.m.ctx.Styles, t
	switch {
	case r.report.OK():
		return m.wrapIn(st.OK, "All checks pass. enter names the new snapshot; nothing is written yet.")
	case r.forced && t.stage != transplantReport:
		return m.wrapIn(st.Error, "FORCED past failed checks: "+strings.Join(failed(r.report), "; ")+".")
	}
	return append(
		m.wrapIn(st.Error, fmt.Sprintf("WARNING: %s failed (%s). The module does not fit this state: the canister may trap or misread its data after the load.",
			render.Count(len(failed(r.report)), "check"), strings.Join(failedNames(r.report), ", "))),
		m.wrap("F goes ahead anyway (forced); esc picks another module.")...)
}

// rehearsalLines shows the transplanted snapshot and each rehearsal step.
func (t *transplantFlow) rehearsalLines() []string {
	m, st, r := t.m, t.m.ctx.Styles, t
	lines := m.wrapIn(st.OK, fmt.Sprintf("Transplanted as %s (%s): %s's state with module %s.",
		r.made.Ref(), r.made.ID.Short(), m.snap.Ref(), r.made.ModuleHash.Short()))
	lines = append(lines, "", st.Header.Render("Rehearsal (two upgrades in memory, nothing written)"), "")
	for _, s := range r.rehearsal.Steps {
		mark := st.OK.Render("ok     ")
		if !s.OK() {
			mark = st.Error.Render(fmt.Sprintf("%-7s", strings.ToUpper(s.Status)))
		}
		lines = append(lines, fmt.Sprintf("  %s  %-13s  %s", mark, s.Name, st.Muted.Render(stepCost(s))))
		if s.TrapMessage != "" || s.TrapFunction != "" {
			where := ""
			if s.TrapFunction != "" {
				where = "in " + s.TrapFunction + ": "
			}
			lines = append(lines, m.wrapIn(st.Error, "           "+where+s.TrapMessage)...)
		}
		if len(s.Backtrace) > 1 {
			lines = append(lines, m.wrapIn(st.Muted, "           backtrace: "+strings.Join(s.Backtrace, " ← "))...)
		}
	}
	switch {
	case t.stage == transplantRehearsing:
		next := "upgrade"
		if len(r.rehearsal.Steps) > 0 {
			next = "upgrade again"
		}
		lines = append(lines, fmt.Sprintf("  %s  %-13s  %s", m.spin.View(), next, st.Muted.Render("running …")),
			"", st.Muted.Render("press x to cancel"))
	case !r.rehearsed:
	case r.rehearsal.OK() && !r.rehearsal.DataSurvived():
		lines = append(lines, t.verifyLines()...)
		lines = append(lines, "")
		lines = append(lines, m.wrapIn(st.Error, "The upgrades succeed but the data did not survive: the queries above reply differently after them. Loading "+r.made.Ref()+" loses that data; e exports it anyway, r rehearses again.")...)
	case r.rehearsal.OK():
		lines = append(lines, t.verifyLines()...)
		lines = append(lines, "")
		lines = append(lines, m.wrapIn(st.OK, "The next upgrade succeeds on this state: the fixed pre_upgrade ran and post_upgrade took the data back.")...)
		lines = append(lines, m.wrap("e exports "+r.made.Ref()+"; r rehearses again.")...)
	default:
		lines = append(lines, "")
		lines = append(lines, m.wrapIn(st.Error, "The rehearsed upgrade fails: do not load "+r.made.Ref()+" into the canister. esc goes back; transplant another module.")...)
	}
	return lines
}

// stepCost is a step's instructions and the stable pages it kept; the
// limit matters only when the step failed.
func stepCost(s source.RehearsalStep) string {
	out := humanize.Comma(int64(s.Instructions)) + " instructions"
	if s.OK() {
		return out + " · " + render.Count(s.StablePagesChanged, "stable page") + " written"
	}
	if s.Limit > 0 {
		out += " of " + humanize.Comma(int64(s.Limit))
	}
	return out
}

// failed lists the failed checks with their details.
func failed(r source.CompatReport) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// failedNames lists the names of the failed checks.
func failedNames(r source.CompatReport) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// verifyLines are the rehearsal's data-survival check (as `canscope
// upgrade --verify`): each argument-less query's reply before the upgrade
// and after each step, or why none was called.
func (t *transplantFlow) verifyLines() []string {
	m, st, r := t.m, t.m.ctx.Styles, t.rehearsal
	if len(r.Verify) == 0 {
		return append([]string{""}, m.wrapIn(st.Warn, "Data not verified: the module has no argument-less query in its candid:service to call before and after the upgrades.")...)
	}
	lines := []string{""}
	same := 0
	for _, v := range r.Verify {
		if v.Same {
			same++
		}
	}
	lines = append(lines, st.Header.Render(fmt.Sprintf("Data check: %d of %d queries reply the same before and after each upgrade", same, len(r.Verify))))
	for _, v := range r.Verify {
		if v.Same {
			lines = append(lines, m.wrap("  ok    "+v.Method+" = "+v.Before)...)
			continue
		}
		lines = append(lines, m.wrapIn(st.Error, "  DIFF  "+v.Method+": before "+v.Before+", after "+strings.Join(v.After, ", then "))...)
	}
	return lines
}
