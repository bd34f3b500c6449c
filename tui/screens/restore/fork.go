package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
)

// forkStage is how far the fork flow has got.
type forkStage int

const (
	forkInput   forkStage = iota // typing the fork's name
	forkConfirm                  // reviewing what will be written
	forkWorking                  // writing
	forkDone                     // written
)

type forkedMsg struct {
	origin
	snap snapshots.Snapshot
	err  error
}

// forkFlow forks the screen's snapshot (or the repaired one) into a new
// branch of the lineage.
type forkFlow struct {
	m      *Model
	stage  forkStage
	name   textinput.Model
	result *snapshots.Snapshot // the fork, once written
}

func newForkFlow(m *Model) *forkFlow {
	return &forkFlow{m: m, name: m.ctx.NewInput("new name: ", "e.g. hotfix")}
}

func (f *forkFlow) atInput() bool           { return f.stage == forkInput }
func (f *forkFlow) toInput()                { f.stage = forkInput }
func (f *forkFlow) input() *textinput.Model { return &f.name }
func (f *forkFlow) capturing() bool         { return f.stage == forkConfirm }
func (f *forkFlow) busy() bool              { return f.stage == forkWorking }

// stop: writing a fork is not cancellable (a commit is short and all or
// nothing), so there is no job to stop.
func (f *forkFlow) stop() {}

func (f *forkFlow) bindings() []key.Binding {
	if f.stage == forkConfirm {
		k := f.m.ctx.Keys
		return []key.Binding{k.Confirm, k.Back}
	}
	return nil
}

// submit checks the name and moves to the confirmation.
func (f *forkFlow) submit() tea.Cmd {
	m := f.m
	m.err, m.notice = nil, ""
	value := strings.TrimSpace(f.name.Value())
	switch {
	case m.snap == nil:
		m.err = errors.New("the snapshot is not loaded")
	case value == "":
		m.err = errors.New("name the fork")
	default:
		m.err = snapshots.ValidateName(value) // the store's own rule, checked before confirming
	}
	if m.err != nil {
		return nil
	}
	f.name.Blur()
	f.stage = forkConfirm
	return nil
}

func (f *forkFlow) key(msg tea.KeyPressMsg) tea.Cmd {
	if f.stage != forkConfirm {
		return nil
	}
	k := f.m.ctx.Keys
	switch {
	case key.Matches(msg, k.Confirm):
		return f.write()
	case key.Matches(msg, k.Back):
		f.stage = forkInput
		return f.name.Focus()
	}
	return nil
}

// write forks the confirmed snapshot.
func (f *forkFlow) write() tea.Cmd {
	m := f.m
	f.stage = forkWorking
	id := m.subject().ID
	forker, name := m.ctx.Sources.Forker, strings.TrimSpace(f.name.Value())
	return func() tea.Msg {
		s, err := forker.Fork(context.Background(), id, name)
		return forkedMsg{origin: origin{m}, snap: s, err: err}
	}
}

// forked takes the fork's result.
func (f *forkFlow) forked(msg forkedMsg) tea.Cmd {
	if msg.err != nil {
		f.stage, f.m.err = forkInput, msg.err // the store's error names the fork and the snapshot
		return f.name.Focus()
	}
	f.stage, f.result = forkDone, &msg.snap
	return frame.Nav(frame.StoreChangedMsg{})
}

func (f *forkFlow) intro() []string {
	return []string{
		"A fork is a new branch in the lineage starting from this snapshot's state,",
		"for trying a fix without touching the original.",
		"", f.name.View(),
	}
}

func (f *forkFlow) lines() []string {
	m, st := f.m, f.m.ctx.Styles
	switch f.stage {
	case forkConfirm:
		return []string{st.Warn.Render("Please confirm:"), "",
			fmt.Sprintf("  Fork %s as %s.", m.subject().Ref(), st.Accent.Render(strings.TrimSpace(f.name.Value()))),
			"  This writes one new snapshot to the store at " + m.ctx.StorePath + ".",
			"", "Press " + st.Accent.Render("y") + " to go ahead, esc to change it."}
	case forkWorking:
		return []string{m.spin.View() + " " + st.Muted.Render("writing …")}
	case forkDone:
		return []string{
			st.OK.Render("Forked as " + f.result.Ref() + " (" + f.result.ID.Short() + ")."),
			"",
			"It is in the snapshots list; esc goes back.",
		}
	}
	return nil
}
