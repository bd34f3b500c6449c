package restore

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/tui/source"
)

// The restore flow's check step: the IC's upload and load checks
// (`canscope check`) on what is about to be exported, and their report.

// exportCheckedMsg is the IC's checks on the snapshot about to be
// exported (source.Exporter.Check, `canscope check`).
type exportCheckedMsg struct {
	origin
	job    int
	report source.ExportReport
	err    error
}

// check runs the IC's upload and load checks on the export's subject in
// the background; the confirmation shows the report, and a failing one
// needs a force to be written.
func (r *restoreFlow) check() tea.Cmd {
	m := r.m
	r.stage, r.icCheck, r.forced = restoreChecking, nil, false
	exporter, id := m.ctx.Sources.Exporter, m.subject().ID
	ctx, job := r.job.Start(context.Background())
	return tea.Batch(func() tea.Msg {
		rep, err := exporter.Check(ctx, id)
		return exportCheckedMsg{origin: origin{m}, job: job, report: rep, err: err}
	}, m.spin.Tick)
}

// checked takes the report to the confirmation.
func (r *restoreFlow) checked(msg exportCheckedMsg) tea.Cmd {
	if r.stage != restoreChecking || r.m.action != actionRestore || !r.job.Finish(msg.job) {
		return nil // cancelled
	}
	if msg.err != nil {
		r.stage, r.m.err = restoreInput, msg.err // it names the snapshot
		return r.dir.Focus()
	}
	r.icCheck, r.stage = &msg.report, restoreConfirm
	return nil
}

// checkFailed reports whether the export's check found what the IC
// will refuse.
func (r *restoreFlow) checkFailed() bool { return r.icCheck != nil && !r.icCheck.OK }

// checkLines draws the check report compactly enough for 80x24: every
// passing check by name under its stage, each failure with its stage, the
// replica's error text and canscope's explanation, and how many
// conditions were not checked offline. The passing checks' details and
// the not-checked list are left to `canscope check`, and the view says
// so.
func (r *restoreFlow) checkLines() []string {
	m, st, rep := r.m, r.m.ctx.Styles, r.icCheck
	if rep == nil {
		return nil
	}
	pass := len(rep.Checks) - len(rep.Failed())
	head := fmt.Sprintf("The IC's snapshot upload and load checks (canscope check): %d of %d pass", pass, len(rep.Checks))
	lines := []string{st.Header.Render(head)}
	// Passing checks by name under their stage; the failures follow,
	// each with the replica's error text.
	var stages []string
	byStage := map[string][]string{}
	for _, c := range rep.Checks {
		if !c.OK {
			continue
		}
		if _, ok := byStage[c.Stage]; !ok {
			stages = append(stages, c.Stage)
		}
		byStage[c.Stage] = append(byStage[c.Stage], c.Name)
	}
	for _, s := range stages {
		lines = append(lines, m.wrap("  ok "+s+": "+strings.Join(byStage[s], ", "))...)
	}
	for _, c := range rep.Failed() {
		lines = append(lines, m.wrapIn(st.Error, "FAIL "+c.Name+" at "+c.Stage+": "+c.Detail)...)
		if c.Explain != "" {
			lines = append(lines, m.wrap("  "+c.Explain)...)
		}
	}
	lines = append(lines, m.wrapIn(st.Muted, fmt.Sprintf("Not checked offline: %d conditions of the live canister (canscope check lists them).", len(rep.NotChecked)))...)
	return lines
}

// confirmLines is the export's confirmation: the check report,
// what will be written, and the key that writes it: y, or F when the IC
// will refuse the snapshot (the FAIL lines say at which stage and why).
func (r *restoreFlow) confirmLines() []string {
	m, st := r.m, r.m.ctx.Styles
	tail := append([]string{""}, m.wrap(fmt.Sprintf("Export %s to %s. Nothing is sent to the Internet Computer.", m.subject().Ref(), r.dir.Value()))...)
	tail = append(tail, "")
	if r.checkFailed() {
		tail = append(tail, m.wrapIn(st.Warn, fmt.Sprintf("The IC will refuse it (%d FAIL above): F exports it anyway, esc changes it.", len(r.icCheck.Failed())))...)
	} else {
		tail = append(tail, "Press "+st.Accent.Render("y")+" to export it, esc to change it.")
	}
	// The report gets the rows the header (2) and the prompt leave; what
	// does not fit is named, never dropped silently, and the key to go
	// on is never cut.
	report := r.checkLines()
	if room := m.height - 2 - len(tail); m.height > 0 && len(report) > room {
		room = max(room, 1)
		cut := len(report) - room + 1
		report = append(report[:room-1:room-1], st.Muted.Render(fmt.Sprintf("… %d more lines of the report: canscope check %s shows it whole", cut, m.subject().Ref())))
	}
	return append(report, tail...)
}
