package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// repair is the state of the "transplant a module" flow: the module
// checked, its report, the snapshot made and its rehearsal.
type repair struct {
	wasm  textinput.Model // path of the fixed module
	tname textinput.Model // name of the transplanted snapshot
	spin  spinner.Model   // shown while a step runs in the background

	path   string // absolute path of the checked module
	module []byte // the bytes checked: exactly these are transplanted
	report source.CompatReport
	forced bool // the operator went ahead past failed checks

	made      *snapshots.Snapshot // the transplanted snapshot
	rehearsal source.Rehearsal    // steps finished so far
	rehearsed bool                // the rehearsal ran to its end

	steps chan tea.Msg // stepMsg from the rehearsal goroutine
	done  chan tea.Msg // rehearsedMsg
}

type (
	checkedMsg struct {
		origin
		job    int
		path   string
		module []byte
		report source.CompatReport
		err    error
	}
	transplantedMsg struct {
		origin
		snap snapshots.Snapshot
		err  error
	}
	stepMsg struct {
		origin
		job  int
		step source.RehearsalStep
	}
	rehearsedMsg struct {
		origin
		job       int
		rehearsal source.Rehearsal
		err       error
	}
)

// Close implements frame.Closer: it stops a check or rehearsal still
// running when the screen is closed.
func (m *Model) Close() { m.stopJob() }

// stopJob cancels the running background step, if any, and makes sure
// its result is ignored.
func (m *Model) stopJob() { m.job.Stop() }

// startJob returns a context for a new background step.
func (m *Model) startJob() (context.Context, int) { return m.job.Start(context.Background()) }

// check reads the module at the typed path and asks for the report.
func (m *Model) check() tea.Cmd {
	m.err, m.notice = nil, ""
	t := m.ctx.Sources.Transplanter
	value := strings.TrimSpace(m.repair.wasm.Value())
	switch {
	case m.snap == nil:
		m.err = errors.New("the snapshot is not loaded")
	case value == "":
		m.err = errors.New("type the path of the fixed module")
	}
	if m.err != nil {
		return nil
	}
	path, err := filepath.Abs(value)
	if err != nil {
		m.err = fmt.Errorf("module path %s: %w", value, err)
		return nil
	}
	m.repair.wasm.SetValue(path)
	m.repair.wasm.Blur()
	// A new check starts a new repair; a snapshot made before stays in
	// the store.
	m.repair.made, m.repair.rehearsal, m.repair.rehearsed, m.repair.forced = nil, source.Rehearsal{}, false, false
	m.stage = stageChecking
	ctx, job := m.startJob()
	id := m.snap.ID
	return tea.Batch(func() tea.Msg {
		module, err := os.ReadFile(path)
		if err != nil {
			return checkedMsg{origin: origin{m}, job: job, path: path, err: fmt.Errorf("read the fixed module: %w", err)}
		}
		rep, err := t.Check(ctx, id, module)
		return checkedMsg{origin: origin{m}, job: job, path: path, module: module, report: rep, err: err}
	}, m.repair.spin.Tick)
}

// transplant writes the confirmed snapshot.
func (m *Model) transplant() tea.Cmd {
	t := m.ctx.Sources.Transplanter
	m.stage, m.err = stageWorking, nil
	id, module := m.snap.ID, m.repair.module
	req := source.TransplantRequest{Name: strings.TrimSpace(m.repair.tname.Value()), Force: m.repair.forced}
	// Writing is not cancellable: a commit is short and all or nothing.
	return tea.Batch(func() tea.Msg {
		s, _, err := t.Transplant(context.Background(), id, module, req)
		return transplantedMsg{origin: origin{m}, snap: s, err: err}
	}, m.repair.spin.Tick)
}

// rehearse upgrades the transplanted snapshot twice in memory, reporting
// each step as it finishes.
func (m *Model) rehearse() tea.Cmd {
	t := m.ctx.Sources.Transplanter
	m.stage, m.err, m.notice = stageRehearsing, nil, ""
	m.repair.rehearsal, m.repair.rehearsed = source.Rehearsal{}, false
	ctx, job := m.startJob()
	steps, done := make(chan tea.Msg, 8), make(chan tea.Msg, 1)
	m.repair.steps, m.repair.done = steps, done
	id := m.repair.made.ID
	go func() {
		r, err := t.Rehearse(ctx, id, func(s source.RehearsalStep) {
			select { // a rehearsal has two steps; never block the engine
			case steps <- stepMsg{origin: origin{m}, job: job, step: s}:
			default:
			}
		})
		done <- rehearsedMsg{origin: origin{m}, job: job, rehearsal: r, err: err}
	}()
	return tea.Batch(m.waitRehearsal(), m.repair.spin.Tick)
}

// waitRehearsal delivers the next finished step, or the end; steps are
// drained before the end so none is lost.
func (m *Model) waitRehearsal() tea.Cmd {
	steps, done := m.repair.steps, m.repair.done
	return func() tea.Msg {
		select {
		case s := <-steps:
			return s
		case d := <-done:
			select {
			case s := <-steps:
				done <- d // deliver the end after this step
				return s
			default:
				return d
			}
		}
	}
}

// updateRepair handles the results of the transplant flow's background
// steps.
func (m *Model) updateRepair(msg tea.Msg) tea.Cmd {
	r := &m.repair
	switch msg := msg.(type) {
	case spinner.TickMsg:
		switch m.stage {
		case stageChecking, stageWorking, stageRehearsing:
			var cmd tea.Cmd
			r.spin, cmd = r.spin.Update(msg)
			return cmd
		}
	case checkedMsg:
		if m.stage != stageChecking || !m.job.Finish(msg.job) {
			return nil
		}
		if msg.err != nil {
			m.stage, m.err = stageInput, fmt.Errorf("check %s against %s: %w", filepath.Base(msg.path), m.snap.Ref(), msg.err)
			return r.wasm.Focus()
		}
		r.path, r.module, r.report = msg.path, msg.module, msg.report
		m.stage = stageReport
	case transplantedMsg:
		if m.stage != stageWorking {
			return nil
		}
		if msg.err != nil {
			m.stage, m.err = stageConfirm, fmt.Errorf("transplant onto %s: %w", m.snap.Ref(), msg.err)
			return nil
		}
		r.made = &msg.snap
		return tea.Batch(frame.Nav(frame.StoreChangedMsg{}), m.rehearse())
	case stepMsg:
		if m.stage != stageRehearsing || !m.job.Current(msg.job) {
			return nil
		}
		r.rehearsal.Steps = append(r.rehearsal.Steps, msg.step)
		return m.waitRehearsal()
	case rehearsedMsg:
		if m.stage != stageRehearsing || !m.job.Finish(msg.job) {
			return nil
		}
		m.stage = stageDone
		if msg.err != nil {
			m.err = fmt.Errorf("rehearse the upgrade of %s: %w", r.made.Ref(), msg.err)
			return nil
		}
		// The outcome is authoritative; progress only showed it early.
		r.rehearsal, r.rehearsed = msg.rehearsal, true
	}
	return nil
}

// repairKey handles keys in the transplant flow's own stages.
func (m *Model) repairKey(msg tea.KeyPressMsg) tea.Cmd {
	k, r := m.ctx.Keys, &m.repair
	switch m.stage {
	case stageChecking:
		if key.Matches(msg, k.Cancel) {
			m.stopJob()
			m.stage, m.notice = stageInput, "check cancelled"
			return m.input().Focus() // the module path, or an export's directory
		}
	case stageRehearsing:
		if key.Matches(msg, k.Cancel) {
			m.stopJob()
			m.stage, m.notice = stageDone, "rehearsal cancelled: r runs it again"
		}
	case stageReport:
		switch {
		case key.Matches(msg, k.Back):
			m.stage = stageInput
			return r.wasm.Focus()
		case key.Matches(msg, k.Submit) && r.report.OK(), key.Matches(msg, k.Force) && !r.report.OK():
			r.forced = !r.report.OK()
			m.stage = stageNaming
			return r.tname.Focus()
		}
	case stageNaming:
		switch {
		case key.Matches(msg, k.Back):
			r.tname.Blur()
			m.stage, m.err = stageReport, nil
			return nil
		case key.Matches(msg, k.Submit):
			if name := strings.TrimSpace(r.tname.Value()); name != "" { // empty keeps the snapshot's name
				if err := snapshots.ValidateName(name); err != nil {
					m.err = err
					return nil
				}
			}
			r.tname.Blur()
			m.stage, m.err = stageConfirm, nil
			return nil
		}
		var cmd tea.Cmd
		r.tname, cmd = r.tname.Update(msg)
		return cmd
	case stageDone:
		switch {
		case key.Matches(msg, k.Rehearse) && r.made != nil:
			return m.rehearse()
		case key.Matches(msg, k.Export) && r.rehearsal.OK():
			// Continue into the restore flow with the repaired snapshot.
			m.action, m.stage, m.err, m.notice = actionRestore, stageInput, nil, ""
			m.dir.SetValue("")
			return m.dir.Focus()
		}
	}
	return nil
}

// targetName is the name the transplanted snapshot will get.
func (m *Model) targetName() string {
	if n := strings.TrimSpace(m.repair.tname.Value()); n != "" {
		return n
	}
	return m.snap.Name
}

// repairLines draws the transplant flow after the module path is given.
func (m *Model) repairLines() []string {
	st, r := m.ctx.Styles, &m.repair
	var lines []string
	switch m.stage {
	case stageChecking:
		lines = append(lines,
			r.spin.View()+" checking "+st.Accent.Render(filepath.Base(m.repair.wasm.Value()))+" against "+m.snap.Ref()+" …",
			"", st.Muted.Render("press x to cancel"))
	case stageReport:
		lines = append(lines, m.reportLines()...)
	case stageNaming:
		lines = append(lines, m.verdict()...)
		lines = append(lines, "")
		lines = append(lines, m.wrap(fmt.Sprintf("Name the new snapshot (made_by transplant, parent %s); empty keeps %q.", m.snap.Ref(), m.snap.Name))...)
		lines = append(lines, "", r.tname.View())
	case stageConfirm:
		lines = append(lines, st.Warn.Render("Please confirm:"), "")
		lines = append(lines, m.wrapIn(st.Text, fmt.Sprintf("  Transplant %s (module %s) onto %s's state as %s.",
			filepath.Base(r.path), snapshots.HashOf(r.module).Short(), m.snap.Ref(), m.targetName()))...)
		lines = append(lines, m.wrap("  This writes one new snapshot to the store at "+m.ctx.StorePath+"; "+m.snap.Ref()+" is not changed. The upgrade is then rehearsed in memory.")...)
		if r.forced {
			lines = append(lines, "")
			lines = append(lines, m.wrapIn(st.Error, "  FORCED past failed checks: "+strings.Join(failed(r.report), "; ")+". The canister may trap or misread its data.")...)
		}
		lines = append(lines, "", "Press "+st.Accent.Render("y")+" to go ahead, esc to change it.")
	case stageWorking:
		lines = append(lines, r.spin.View()+" "+st.Muted.Render("writing "+m.targetName()+" …"))
	case stageRehearsing, stageDone:
		lines = append(lines, m.rehearsalLines()...)
	}
	return lines
}

// reportLines is the compatibility report: each check, the removed
// exports, the Candid diff (cut to the screen), and what comes next.
func (m *Model) reportLines() []string {
	st, r := m.ctx.Styles, m.repair.report
	head := []string{st.Header.Render("Compatibility of " + filepath.Base(m.repair.path) + " with " + m.snap.Ref()), ""}
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
	tail := append([]string{""}, m.verdict()...)
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
func (m *Model) verdict() []string {
	st, r := m.ctx.Styles, &m.repair
	switch {
	case r.report.OK():
		return m.wrapIn(st.OK, "All checks pass. enter names the new snapshot; nothing is written yet.")
	case r.forced && m.stage != stageReport:
		return m.wrapIn(st.Error, "FORCED past failed checks: "+strings.Join(failed(r.report), "; ")+".")
	}
	return append(
		m.wrapIn(st.Error, fmt.Sprintf("WARNING: %s failed (%s). The module does not fit this state: the canister may trap or misread its data after the load.",
			render.Count(len(failed(r.report)), "check"), strings.Join(failedNames(r.report), ", "))),
		m.wrap("F goes ahead anyway (forced); esc picks another module.")...)
}

// rehearsalLines shows the transplanted snapshot and each rehearsal step.
func (m *Model) rehearsalLines() []string {
	st, r := m.ctx.Styles, &m.repair
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
	case m.stage == stageRehearsing:
		next := "upgrade"
		if len(r.rehearsal.Steps) > 0 {
			next = "upgrade again"
		}
		lines = append(lines, fmt.Sprintf("  %s  %-13s  %s", r.spin.View(), next, st.Muted.Render("running …")),
			"", st.Muted.Render("press x to cancel"))
	case !r.rehearsed:
	case r.rehearsal.OK() && !r.rehearsal.DataSurvived():
		lines = append(lines, m.verifyLines()...)
		lines = append(lines, "")
		lines = append(lines, m.wrapIn(st.Error, "The upgrades succeed but the data did not survive: the queries above reply differently after them. Loading "+r.made.Ref()+" loses that data; e exports it anyway, r rehearses again.")...)
	case r.rehearsal.OK():
		lines = append(lines, m.verifyLines()...)
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

// wrap breaks text into lines that fit the screen; continuation lines
// keep the first line's indentation.
func (m *Model) wrap(text string) []string {
	body := strings.TrimLeft(text, " ")
	indent := text[:len(text)-len(body)]
	lines := strings.Split(ansi.Wrap(body, max(m.width-len(indent), 10), ""), "\n")
	for i := range lines {
		lines[i] = indent + lines[i]
	}
	return lines
}

// wrapIn is wrap with each line in style (styled after wrapping, so
// every line carries its own colour).
func (m *Model) wrapIn(style lipgloss.Style, text string) []string {
	lines := m.wrap(text)
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// verifyLines are the rehearsal's data-survival check (as `canscope
// upgrade --verify`): each argument-less query's reply before the upgrade
// and after each step, or why none was called.
func (m *Model) verifyLines() []string {
	st, r := m.ctx.Styles, m.repair.rehearsal
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
