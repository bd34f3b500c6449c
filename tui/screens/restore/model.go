// Package restore is the fork / restore screen: fork a snapshot into a new
// branch of the lineage, restore it by exporting a dfx snapshot directory
// and showing the exact icp-cli commands that upload and load it (after
// the IC's checks, `canscope check`: a failing one needs a force), or repair it
// by transplanting a fixed module onto its state: compatibility report,
// confirmation, the transplant, a rehearsed upgrade, then the export.
// Nothing is written before the operator confirms.
//
// The screen (Model) is a shell over three flows, each a sub-model with its
// own stages, keys and view: forkFlow (fork.go), restoreFlow (restore.go,
// check.go) and transplantFlow (transplant.go, transplantview.go). The
// shell owns what they share: the snapshot, the choice between them, the
// input step's keys, the spinner, the notice and the error.
package restore

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
)

// action is what the screen will do: which flow is shown.
type action int

const (
	actionFork action = iota
	actionRestore
	actionTransplant
	actionCount // how many actions tab cycles through
)

// flow is one of the screen's three sub-models. Each starts at its input
// step (a text input the shell drives: typing, tab, esc, enter → submit)
// and goes through stages of its own after it.
type flow interface {
	// atInput reports whether the flow is at its input step.
	atInput() bool
	// toInput puts the flow back at its input step (tab chose it).
	toInput()
	// input is the flow's text input.
	input() *textinput.Model
	// submit acts on the typed input.
	submit() tea.Cmd
	// intro is the input step's description and input.
	intro() []string
	// capturing, bindings, key and lines are frame.Screen's Capturing,
	// Bindings, key handling and View past the input step.
	capturing() bool
	bindings() []key.Binding
	key(tea.KeyPressMsg) tea.Cmd
	lines() []string
	// busy reports whether background work runs (the spinner turns).
	busy() bool
	// stop cancels the flow's background job, if any.
	stop()
}

// origin names the screen a background result belongs to: the root hands
// results to every open screen, and a closed restore screen's late result
// must not land in the one opened after it.
type origin struct{ owner *Model }

func (o origin) from() *Model { return o.owner }

type snapshotMsg struct {
	origin
	snap snapshots.Snapshot
	err  error
}

// Model is the fork / restore screen for one snapshot.
type Model struct {
	ctx           *frame.Context
	id            snapshots.ID
	snap          *snapshots.Snapshot
	width, height int

	action     action
	fork       *forkFlow
	restore    *restoreFlow
	transplant *transplantFlow

	spin   spinner.Model // shown while a flow's step runs in the background
	err    error
	notice string
}

// New returns the fork / restore screen for a snapshot.
func New(ctx *frame.Context, id snapshots.ID) *Model {
	m := &Model{ctx: ctx, id: id, spin: ctx.NewSpinner()}
	m.fork = newForkFlow(m)
	m.restore = newRestoreFlow(m)
	m.transplant = newTransplantFlow(m)
	m.fork.name.Focus()
	return m
}

// current is the flow the operator chose.
func (m *Model) current() flow {
	switch m.action {
	case actionRestore:
		return m.restore
	case actionTransplant:
		return m.transplant
	}
	return m.fork
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
	f := m.current()
	return f.atInput() || f.capturing()
}

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	if f := m.current(); !f.atInput() {
		return f.bindings()
	}
	k := m.ctx.Keys
	return []key.Binding{k.Submit, k.SwitchAction, k.Back}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.spin.Style = m.ctx.Styles.Accent
	for _, in := range []*textinput.Model{&m.fork.name, &m.restore.dir, &m.transplant.wasm, &m.transplant.tname} {
		// Room for the prompt and the cursor.
		in.SetWidth(max(w-ansi.StringWidth(in.Prompt)-2, 10))
		in.SetStyles(m.ctx.Styles.Input) // the theme may have changed
	}
}

// Close implements frame.Closer: it stops a check, export or rehearsal
// still running when the screen is closed.
func (m *Model) Close() {
	for _, f := range []flow{m.fork, m.restore, m.transplant} {
		f.stop()
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

// Update implements frame.Screen: each background result goes to the flow
// that started it.
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
		return m.fork.forked(msg)
	case exportCheckedMsg:
		return m.restore.checked(msg)
	case exportedMsg:
		return m.restore.written(msg)
	case checkedMsg, transplantedMsg, stepMsg, rehearsedMsg:
		return m.transplant.update(msg)
	case spinner.TickMsg:
		if m.current().busy() {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return cmd
		}
	case tea.KeyPressMsg:
		if f := m.current(); !f.atInput() {
			return f.key(msg)
		}
		return m.inputKey(msg)
	}
	return nil
}

// inputKey handles a key at a flow's input step.
func (m *Model) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back) && m.action == actionRestore && m.transplant.rehearsal.OK():
		// Back from the export to the repair it continues.
		m.restore.dir.Blur()
		m.action, m.err = actionTransplant, nil
		m.transplant.stage = transplantDone
		return nil
	case key.Matches(msg, k.Back):
		return frame.Nav(frame.BackMsg{})
	case key.Matches(msg, k.SwitchAction):
		m.current().input().Blur()
		m.action = (m.action + 1) % actionCount
		m.err, m.notice = nil, ""
		f := m.current()
		f.toInput()
		return f.input().Focus()
	case key.Matches(msg, k.Submit):
		return m.current().submit()
	}
	var cmd tea.Cmd
	in := m.current().input()
	*in, cmd = in.Update(msg)
	return cmd
}

// subject is the snapshot a fork or an export acts on: the transplanted
// one once a repair has been made, else the screen's snapshot.
func (m *Model) subject() *snapshots.Snapshot {
	if m.transplant.made != nil {
		return m.transplant.made
	}
	return m.snap
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
	if f := m.current(); f.atInput() {
		lines = append(lines, m.choiceLine(), "")
		lines = append(lines, f.intro()...)
	} else {
		lines = append(lines, f.lines()...)
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
