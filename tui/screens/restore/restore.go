package restore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/source"
)

// restoreStage is how far the restore (export) flow has got.
type restoreStage int

const (
	restoreInput    restoreStage = iota // typing the export directory
	restoreChecking                     // the IC's checks run on the subject
	restoreConfirm                      // reading the check report, confirming
	restoreWorking                      // exporting
	restoreDone                         // exported: the commands that load it
)

type exportedMsg struct {
	origin
	job int
	dir string
	seq dfx.Sequence
	err error
}

// restoreFlow exports the subject (the screen's snapshot, or the repaired
// one) as a dfx snapshot directory after the IC's checks, and shows the
// icp-cli commands that upload and load it.
type restoreFlow struct {
	m     *Model
	stage restoreStage
	dir   textinput.Model
	// job is the check or the export running in the background.
	job frame.Job

	icCheck  *source.ExportReport // the IC's checks on the export, before confirming
	forced   bool                 // the operator exports past a failing check
	exported string               // absolute export directory
	seq      dfx.Sequence         // what loads the export into the canister
	copied   bool
}

func newRestoreFlow(m *Model) *restoreFlow {
	return &restoreFlow{m: m, dir: m.ctx.NewInput("export to: ", "a new directory, e.g. ./restore-ledger")}
}

func (r *restoreFlow) atInput() bool           { return r.stage == restoreInput }
func (r *restoreFlow) toInput()                { r.stage = restoreInput }
func (r *restoreFlow) input() *textinput.Model { return &r.dir }
func (r *restoreFlow) capturing() bool         { return r.stage == restoreConfirm }
func (r *restoreFlow) stop()                   { r.job.Stop() }
func (r *restoreFlow) busy() bool {
	return r.stage == restoreChecking || r.stage == restoreWorking
}

func (r *restoreFlow) bindings() []key.Binding {
	k := r.m.ctx.Keys
	switch r.stage {
	case restoreChecking, restoreWorking:
		return []key.Binding{k.Cancel}
	case restoreConfirm:
		if r.checkFailed() {
			return []key.Binding{k.Force, k.Back}
		}
		return []key.Binding{k.Confirm, k.Back}
	case restoreDone:
		return []key.Binding{k.Copy}
	}
	return nil
}

// submit makes the directory absolute and runs the IC's checks: the
// confirmation shows them.
func (r *restoreFlow) submit() tea.Cmd {
	m := r.m
	m.err, m.notice = nil, ""
	value := strings.TrimSpace(r.dir.Value())
	switch {
	case m.snap == nil:
		m.err = errors.New("the snapshot is not loaded")
	case value == "":
		m.err = errors.New("choose the directory to export to")
	}
	if m.err != nil {
		return nil
	}
	abs, err := filepath.Abs(value)
	if err != nil {
		m.err = fmt.Errorf("directory %s: %w", value, err)
		return nil
	}
	r.dir.SetValue(abs)
	r.dir.Blur()
	return r.check()
}

func (r *restoreFlow) key(msg tea.KeyPressMsg) tea.Cmd {
	m, k := r.m, r.m.ctx.Keys
	switch r.stage {
	case restoreChecking:
		if key.Matches(msg, k.Cancel) {
			r.job.Stop()
			r.stage, m.notice = restoreInput, "check cancelled"
			return r.dir.Focus()
		}
	case restoreWorking:
		if key.Matches(msg, k.Cancel) {
			r.job.Stop()
			r.stage, m.notice = restoreInput, "export cancelled"
			return r.dir.Focus()
		}
	case restoreConfirm:
		switch {
		case key.Matches(msg, k.Force) && r.checkFailed():
			r.forced = true // the operator saw what the IC will refuse
			return r.export()
		case key.Matches(msg, k.Confirm) && !r.checkFailed():
			return r.export()
		case key.Matches(msg, k.Back):
			r.stage = restoreInput
			return r.dir.Focus()
		}
	case restoreDone:
		if key.Matches(msg, k.Copy) {
			r.copied = true
			if !m.ctx.Clipboard {
				return nil // the view says to select the text instead
			}
			return tea.SetClipboard(strings.Join(r.allCommands(), "\n"))
		}
	}
	return nil
}

// export writes the confirmed export. An export of a large memory takes a
// while: x or closing the screen cancels it, and the exporter removes
// what it had written.
func (r *restoreFlow) export() tea.Cmd {
	m := r.m
	r.stage = restoreWorking
	id := m.subject().ID
	exporter, dir := m.ctx.Sources.Exporter, r.dir.Value()
	req := source.ExportRequest{Force: r.forced, Upgrade: r.upgrade()}
	ctx, job := r.job.Start(context.Background())
	return tea.Batch(func() tea.Msg {
		seq, err := exporter.Export(ctx, id, dir, req)
		return exportedMsg{origin: origin{m}, job: job, dir: dir, seq: seq, err: err}
	}, m.spin.Tick)
}

// written takes the export's result.
func (r *restoreFlow) written(msg exportedMsg) tea.Cmd {
	if r.stage != restoreWorking || !r.job.Finish(msg.job) {
		return nil // cancelled
	}
	if msg.err != nil {
		r.stage, r.m.err = restoreInput, msg.err // source.Exporter's errors name the snapshot and the directory
		return r.dir.Focus()
	}
	r.stage, r.exported, r.seq = restoreDone, msg.dir, msg.seq
	return nil
}

// upgrade is the rehearsed upgrade the restore sequence ends with: the
// fixed module of a repair, upgraded onto itself; none without one.
func (r *restoreFlow) upgrade() dfx.Upgrade {
	t := r.m.transplant
	if t.made == nil || t.path == "" {
		return dfx.Upgrade{}
	}
	return dfx.Upgrade{Wasm: t.path}
}

// allCommands is what loads the export (dfx.Commands, as `canscope
// restore` prints it), and after a repair also the upgrade that was
// rehearsed: the fixed module upgraded onto itself, so the next real
// upgrade has run once under supervision.
func (r *restoreFlow) allCommands() []string {
	if r.upgrade().Wasm == "" {
		return r.seq.Commands
	}
	return append(append([]string(nil), r.seq.Commands...), r.seq.Upgrade+"   # the upgrade you rehearsed")
}

func (r *restoreFlow) intro() []string {
	return []string{
		"Restore checks this snapshot against the IC's upload and load rules,",
		"writes it as a snapshot directory, then shows the icp-cli commands that",
		"upload it to the canister and load it.",
		"", r.dir.View(),
	}
}

func (r *restoreFlow) lines() []string {
	m, st := r.m, r.m.ctx.Styles
	switch r.stage {
	case restoreChecking:
		return []string{m.spin.View() + " " + st.Muted.Render("checking "+m.subject().Ref()+" against the IC's snapshot upload and load rules …")}
	case restoreConfirm:
		return r.confirmLines()
	case restoreWorking:
		return []string{m.spin.View() + " " + st.Muted.Render("writing …")}
	case restoreDone:
		return r.doneLines()
	}
	return nil
}

func (r *restoreFlow) doneLines() []string {
	m, st := r.m, r.m.ctx.Styles
	lines := []string{st.OK.Render("Exported to " + r.exported + ".")}
	if r.forced {
		lines = append(lines, m.wrapIn(st.Error, "Forced: the IC will refuse it: "+r.icCheck.Summary)...)
	}
	lines = append(lines, "", "To load it into the canister, run in order:", "")
	// The commands are plain text on their own lines, so they can be
	// selected and copied with the mouse as well as with c; a command
	// wider than the screen wraps rather than losing its end.
	for _, c := range r.allCommands() {
		lines = append(lines, commandLines(c, m.width, st.Muted.Render)...)
	}
	for _, n := range r.seq.Notes {
		lines = append(lines, m.wrapIn(st.Muted, "Note: "+n)...)
	}
	lines = append(lines, "")
	switch {
	case !m.ctx.Clipboard && r.copied:
		lines = append(lines, st.Warn.Render("this terminal did not report clipboard (OSC 52) support: select the text to copy (shift+drag)"))
	case !m.ctx.Clipboard:
		lines = append(lines, st.Muted.Render("select the text to copy (shift+drag); c copies where the terminal supports OSC 52"))
	case r.copied:
		lines = append(lines, st.Muted.Render("copied to the clipboard"))
	default:
		lines = append(lines, st.Muted.Render("c copies the commands to the clipboard"))
	}
	return lines
}

// commandLines lays out one shell command for a width-column screen so
// that a mouse copy still pastes as a working command: a trailing
// "# comment" moves to its own line above the command, and a command
// too wide for the screen breaks between words with " \" continuations.
func commandLines(cmd string, width int, muted func(...string) string) []string {
	var out []string
	if code, comment, ok := strings.Cut(cmd, "   # "); ok {
		out = append(out, muted("# "+comment))
		cmd = code
	}
	line := ""
	for _, w := range strings.Fields(cmd) {
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line+" "+w+" \\") > width:
			out = append(out, line+" \\")
			line = "    " + w
		default:
			line += " " + w
		}
	}
	return append(out, line)
}
