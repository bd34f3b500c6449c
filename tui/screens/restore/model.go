// Package restore is the fork / restore screen: fork a snapshot into a new
// branch of the lineage, restore it by exporting a dfx snapshot directory
// and showing the exact icp-cli commands that upload and load it (after
// the IC's checks, `canscope check`: a failing one needs a force), or repair it
// by transplanting a fixed module onto its state: compatibility report,
// confirmation, the transplant, a rehearsed upgrade, then the export.
// Nothing is written before the operator confirms.
package restore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/snapshots/dfx"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// action is what the screen will do.
type action int

const (
	actionFork action = iota
	actionRestore
	actionTransplant
	actionCount // how many actions tab cycles through
)

// stage is how far the operator has got.
type stage int

const (
	stageInput      stage = iota // typing a name, directory or module path
	stageChecking                // checking a module (transplant)
	stageReport                  // reading the compatibility report (transplant)
	stageNaming                  // naming the transplanted snapshot
	stageConfirm                 // reviewing what will be written
	stageWorking                 // writing
	stageRehearsing              // upgrading the transplanted snapshot in memory
	stageDone                    // written (and, for a transplant, rehearsed)
)

// origin names the screen a background result belongs to: the root hands
// results to every open screen, and a closed restore screen's late result
// must not land in the one opened after it.
type origin struct{ owner *Model }

func (o origin) from() *Model { return o.owner }

type (
	snapshotMsg struct {
		origin
		snap snapshots.Snapshot
		err  error
	}
	forkedMsg struct {
		origin
		snap snapshots.Snapshot
		err  error
	}
	exportedMsg struct {
		origin
		job int
		dir string
		seq dfx.Sequence
		err error
	}
)

// Model is the fork / restore screen for one snapshot.
type Model struct {
	ctx           *frame.Context
	id            snapshots.ID
	snap          *snapshots.Snapshot
	width, height int

	action action
	stage  stage
	name   textinput.Model
	dir    textinput.Model
	err    error
	notice string

	repair repair // the transplant flow's state
	// job is the export, check or rehearsal running in the background.
	job frame.Job

	forked       *snapshots.Snapshot
	icCheck      *source.ExportReport // the IC's checks on the export, before confirming
	exportForced bool                 // the operator exports past a failing check
	exported     string               // absolute export directory
	seq          dfx.Sequence         // what loads the export into the canister
	copied       bool
}

// New returns the fork / restore screen for a snapshot.
func New(ctx *frame.Context, id snapshots.ID) *Model {
	input := ctx.NewInput
	m := &Model{
		ctx:  ctx,
		id:   id,
		name: input("new name: ", "e.g. hotfix"),
		dir:  input("export to: ", "a new directory, e.g. ./restore-ledger"),
		repair: repair{
			wasm:  input("fixed module: ", "path to the fixed .wasm or .wasm.gz"),
			tname: input("new name: ", "empty keeps the snapshot's name"),
			spin:  ctx.NewSpinner(),
		},
	}
	m.name.Focus()
	return m
}

// Title implements frame.Screen.
func (m *Model) Title() string {
	ref := m.id.Short()
	if m.snap != nil {
		ref = m.snap.Ref()
	}
	return "Fork / restore " + ref
}

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return false }

// Capturing implements frame.Screen: the inputs take printable keys, and
// the report, naming and confirmation steps keep esc to go back a step.
func (m *Model) Capturing() bool {
	switch m.stage {
	case stageInput, stageReport, stageNaming, stageConfirm:
		return true
	}
	return false
}

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	switch m.stage {
	case stageInput:
		return []key.Binding{k.Submit, k.SwitchAction, k.Back}
	case stageChecking, stageRehearsing:
		return []key.Binding{k.Cancel}
	case stageWorking:
		if m.action == actionRestore {
			return []key.Binding{k.Cancel}
		}
	case stageReport:
		if m.repair.report.OK() {
			return []key.Binding{k.Submit, k.Back}
		}
		return []key.Binding{k.Force, k.Back}
	case stageNaming:
		return []key.Binding{k.Submit, k.Back}
	case stageConfirm:
		if m.action == actionRestore && m.checkFailed() {
			return []key.Binding{k.Force, k.Back}
		}
		return []key.Binding{k.Confirm, k.Back}
	case stageDone:
		switch m.action {
		case actionRestore:
			return []key.Binding{k.Copy}
		case actionTransplant:
			if m.repair.rehearsal.OK() {
				return []key.Binding{k.Export, k.Rehearse}
			}
			return []key.Binding{k.Rehearse}
		}
	}
	return nil
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.repair.spin.Style = m.ctx.Styles.Accent
	for _, in := range []*textinput.Model{&m.name, &m.dir, &m.repair.wasm, &m.repair.tname} {
		// Room for the prompt and the cursor.
		in.SetWidth(max(w-ansi.StringWidth(in.Prompt)-2, 10))
		in.SetStyles(m.ctx.Styles.Input) // the theme may have changed
	}
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd {
	cat, id := m.ctx.Sources.Catalog, m.id
	return func() tea.Msg {
		list, err := cat.List()
		if err != nil {
			return snapshotMsg{origin: origin{m}, err: fmt.Errorf("list snapshots: %w", err)}
		}
		for _, s := range list {
			if s.ID == id {
				return snapshotMsg{origin: origin{m}, snap: s}
			}
		}
		return snapshotMsg{origin: origin{m}, err: fmt.Errorf("snapshot %s: %w", id.Short(), snapshots.ErrNotFound)}
	}
}

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if o, ok := msg.(interface{ from() *Model }); ok && o.from() != m {
		return nil
	}
	switch msg := msg.(type) {
	case snapshotMsg:
		m.err = msg.err
		if msg.err == nil {
			m.snap = &msg.snap
		}
	case forkedMsg:
		if msg.err != nil {
			m.stage, m.err = stageInput, msg.err // the store's error names the fork and the snapshot
			return m.name.Focus()
		}
		m.stage, m.forked = stageDone, &msg.snap
		return frame.Nav(frame.StoreChangedMsg{})
	case exportCheckedMsg:
		return m.exportChecked(msg)
	case checkedMsg, transplantedMsg, stepMsg, rehearsedMsg, spinner.TickMsg:
		return m.updateRepair(msg)
	case exportedMsg:
		if m.stage != stageWorking || !m.job.Finish(msg.job) {
			return nil // cancelled
		}
		if msg.err != nil {
			m.stage, m.err = stageInput, msg.err // source.Exporter's errors name the snapshot and the directory
			return m.dir.Focus()
		}
		m.stage, m.exported, m.seq = stageDone, msg.dir, msg.seq
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return nil
}

func (m *Model) input() *textinput.Model {
	switch m.action {
	case actionRestore:
		return &m.dir
	case actionTransplant:
		return &m.repair.wasm
	}
	return &m.name
}

// subject is the snapshot a fork or an export acts on: the transplanted
// one once a repair has been made, else the screen's snapshot.
func (m *Model) subject() *snapshots.Snapshot {
	if m.repair.made != nil {
		return m.repair.made
	}
	return m.snap
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch m.stage {
	case stageInput:
		switch {
		case key.Matches(msg, k.Back) && m.action == actionRestore && m.repair.rehearsal.OK():
			// Back from the export to the repair it continues.
			m.dir.Blur()
			m.action, m.stage, m.err = actionTransplant, stageDone, nil
			return nil
		case key.Matches(msg, k.Back):
			return frame.Nav(frame.BackMsg{})
		case key.Matches(msg, k.SwitchAction):
			m.input().Blur()
			m.action = (m.action + 1) % actionCount
			m.err, m.notice = nil, ""
			return m.input().Focus()
		case key.Matches(msg, k.Submit) && m.action == actionTransplant:
			return m.check()
		case key.Matches(msg, k.Submit):
			return m.review()
		}
		var cmd tea.Cmd
		in := m.input()
		*in, cmd = in.Update(msg)
		return cmd
	case stageChecking, stageReport, stageNaming, stageRehearsing:
		return m.repairKey(msg)
	case stageWorking:
		if m.action == actionRestore && key.Matches(msg, k.Cancel) {
			m.stopJob()
			m.stage, m.notice = stageInput, "export cancelled"
			return m.dir.Focus()
		}
	case stageConfirm:
		switch {
		case key.Matches(msg, k.Confirm) && m.action == actionTransplant:
			return m.transplant()
		case key.Matches(msg, k.Force) && m.action == actionRestore && m.checkFailed():
			m.exportForced = true // the operator saw what the IC will refuse
			return m.execute()
		case key.Matches(msg, k.Confirm) && !(m.action == actionRestore && m.checkFailed()):
			return m.execute()
		case key.Matches(msg, k.Back) && m.action == actionTransplant:
			m.stage = stageNaming
			return m.repair.tname.Focus()
		case key.Matches(msg, k.Back):
			m.stage = stageInput
			return m.input().Focus()
		}
	case stageDone:
		if m.action == actionTransplant {
			return m.repairKey(msg)
		}
		if key.Matches(msg, k.Copy) && m.action == actionRestore {
			m.copied = true
			if !m.ctx.Clipboard {
				return nil // the view says to select the text instead
			}
			return tea.SetClipboard(strings.Join(m.allCommands(), "\n"))
		}
	}
	return nil
}

// review checks the input and moves to the confirmation step.
func (m *Model) review() tea.Cmd {
	m.err, m.notice = nil, ""
	value := strings.TrimSpace(m.input().Value())
	switch {
	case m.snap == nil:
		m.err = errors.New("the snapshot is not loaded")
	case value == "" && m.action == actionFork:
		m.err = errors.New("name the fork")
	case value == "":
		m.err = errors.New("choose the directory to export to")
	case m.action == actionFork:
		m.err = snapshots.ValidateName(value) // the store's own rule, checked before confirming
	}
	if m.err != nil {
		return nil
	}
	if m.action == actionRestore {
		abs, err := filepath.Abs(value)
		if err != nil {
			m.err = fmt.Errorf("directory %s: %w", value, err)
			return nil
		}
		m.dir.SetValue(abs)
		m.input().Blur()
		return m.checkExport() // the confirmation shows the IC's checks
	}
	m.input().Blur()
	m.stage = stageConfirm
	return nil
}

// execute performs the confirmed action.
func (m *Model) execute() tea.Cmd {
	m.stage = stageWorking
	id := m.subject().ID
	if m.action == actionFork {
		forker, name := m.ctx.Sources.Forker, strings.TrimSpace(m.name.Value())
		return func() tea.Msg {
			s, err := forker.Fork(context.Background(), id, name)
			return forkedMsg{origin: origin{m}, snap: s, err: err}
		}
	}
	// An export of a large memory takes a while: x or closing the screen
	// cancels it, and the exporter removes what it had written.
	exporter, dir := m.ctx.Sources.Exporter, m.dir.Value()
	req := source.ExportRequest{Force: m.exportForced, Upgrade: m.upgrade()}
	ctx, job := m.startJob()
	return tea.Batch(func() tea.Msg {
		seq, err := exporter.Export(ctx, id, dir, req)
		return exportedMsg{origin: origin{m}, job: job, dir: dir, seq: seq, err: err}
	}, m.repair.spin.Tick)
}

// View implements frame.Screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	var lines []string
	if m.snap == nil {
		if m.err != nil {
			lines = []string{st.Error.Render("error: " + m.err.Error())}
		} else {
			lines = []string{st.Muted.Render("reading snapshot …")}
		}
		return render.Block(lines, m.width, m.height)
	}
	s := m.subject()
	lines = append(lines,
		st.Header.Render(fmt.Sprintf("%s · canister %s · %s", s.Ref(), s.CanisterID, s.ID.Short())),
		"",
	)
	switch {
	case m.action == actionTransplant && m.stage != stageInput:
		lines = append(lines, m.repairLines()...)
	case m.stage == stageInput:
		lines = append(lines, m.choiceLine(), "")
		switch m.action {
		case actionTransplant:
			lines = append(lines, m.wrap(
				"A transplant puts a fixed module onto this snapshot's heap, stable memory and "+
					"globals, the way an uploaded dfx snapshot replaces a stuck module without running "+
					"its pre_upgrade. canscope checks that they fit, writes a new snapshot once you "+
					"confirm, and rehearses the next upgrade in memory.")...)
			lines = append(lines, "", m.repair.wasm.View())
		case actionFork:
			lines = append(lines,
				"A fork is a new branch in the lineage starting from this snapshot's state,",
				"for trying a fix without touching the original.",
				"", m.name.View())
		default:
			lines = append(lines,
				"Restore checks this snapshot against the IC's upload and load rules,",
				"writes it as a snapshot directory, then shows the icp-cli commands that",
				"upload it to the canister and load it.",
				"", m.dir.View())
		}
	case m.stage == stageChecking:
		lines = append(lines, m.repair.spin.View()+" "+st.Muted.Render("checking "+s.Ref()+" against the IC's snapshot upload and load rules …"))
	case m.stage == stageConfirm && m.action == actionRestore:
		lines = append(lines, m.exportConfirmLines()...)
	case m.stage == stageConfirm:
		lines = append(lines, st.Warn.Render("Please confirm:"), "",
			fmt.Sprintf("  Fork %s as %s.", s.Ref(), st.Accent.Render(strings.TrimSpace(m.name.Value()))),
			"  This writes one new snapshot to the store at "+m.ctx.StorePath+".",
			"", "Press "+st.Accent.Render("y")+" to go ahead, esc to change it.")
	case m.stage == stageWorking:
		lines = append(lines, m.repair.spin.View()+" "+st.Muted.Render("writing …"))
	case m.stage == stageDone:
		lines = append(lines, m.doneLines()...)
	}
	if m.notice != "" {
		lines = append(lines, "", st.Warn.Render(m.notice))
	}
	if m.err != nil {
		lines = append(lines, "")
		lines = append(lines, m.wrapIn(st.Error, "error: "+m.err.Error())...)
	}
	return render.Block(lines, m.width, m.height)
}

func (m *Model) choiceLine() string {
	st := m.ctx.Styles
	names := []string{actionFork: "fork", actionRestore: "restore", actionTransplant: "transplant a module"}
	parts := make([]string, len(names))
	for i, n := range names {
		if action(i) == m.action {
			parts[i] = st.Accent.Render("(•) " + n)
		} else {
			parts[i] = "( ) " + n
		}
	}
	return strings.Join(parts, "   ") + st.Muted.Render("   (tab switches)")
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

// allCommands is what loads the export (dfx.Commands, as `canscope
// restore` prints it), and after a repair also the upgrade that was
// rehearsed: the fixed module upgraded onto itself, so the next real
// upgrade has run once under supervision.
func (m *Model) allCommands() []string {
	if m.upgrade().Wasm == "" {
		return m.seq.Commands
	}
	return append(append([]string(nil), m.seq.Commands...), m.seq.Upgrade+"   # the upgrade you rehearsed")
}

func (m *Model) doneLines() []string {
	st := m.ctx.Styles
	if m.action == actionFork {
		return []string{
			st.OK.Render("Forked as " + m.forked.Ref() + " (" + m.forked.ID.Short() + ")."),
			"",
			"It is in the snapshots list; esc goes back.",
		}
	}
	lines := []string{st.OK.Render("Exported to " + m.exported + ".")}
	if m.exportForced {
		lines = append(lines, m.wrapIn(st.Error, "Forced: the IC will refuse it: "+m.icCheck.Summary)...)
	}
	lines = append(lines, "", "To load it into the canister, run in order:", "")
	// The commands are plain text on their own lines, so they can be
	// selected and copied with the mouse as well as with c; a command
	// wider than the screen wraps rather than losing its end.
	for _, c := range m.allCommands() {
		lines = append(lines, commandLines(c, m.width, st.Muted.Render)...)
	}
	for _, n := range m.seq.Notes {
		lines = append(lines, m.wrapIn(st.Muted, "Note: "+n)...)
	}
	lines = append(lines, "")
	switch {
	case !m.ctx.Clipboard && m.copied:
		lines = append(lines, st.Warn.Render("this terminal did not report clipboard (OSC 52) support: select the text to copy (shift+drag)"))
	case !m.ctx.Clipboard:
		lines = append(lines, st.Muted.Render("select the text to copy (shift+drag); c copies where the terminal supports OSC 52"))
	case m.copied:
		lines = append(lines, st.Muted.Render("copied to the clipboard"))
	default:
		lines = append(lines, st.Muted.Render("c copies the commands to the clipboard"))
	}
	return lines
}
