package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/source"
)

// transplantStage is how far the transplant flow has got.
type transplantStage int

const (
	transplantInput      transplantStage = iota // typing the fixed module's path
	transplantChecking                          // checking the module
	transplantReport                            // reading the compatibility report
	transplantNaming                            // naming the transplanted snapshot
	transplantConfirm                           // reviewing what will be written
	transplantWorking                           // writing
	transplantRehearsing                        // upgrading the transplanted snapshot in memory
	transplantDone                              // written and rehearsed
)

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

// transplantFlow is "transplant a module": the module checked, its
// report, the snapshot made and its rehearsal; e continues into the
// restore flow with the snapshot made.
type transplantFlow struct {
	m     *Model
	stage transplantStage
	wasm  textinput.Model // path of the fixed module
	tname textinput.Model // name of the transplanted snapshot
	// job is the check or the rehearsal running in the background.
	job frame.Job

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

func newTransplantFlow(m *Model) *transplantFlow {
	return &transplantFlow{
		m:     m,
		wasm:  m.ctx.NewInput("fixed module: ", "path to the fixed .wasm or .wasm.gz"),
		tname: m.ctx.NewInput("new name: ", "empty keeps the snapshot's name"),
	}
}

func (t *transplantFlow) atInput() bool           { return t.stage == transplantInput }
func (t *transplantFlow) toInput()                { t.stage = transplantInput }
func (t *transplantFlow) input() *textinput.Model { return &t.wasm }
func (t *transplantFlow) submit() tea.Cmd         { return t.check() }
func (t *transplantFlow) stop()                   { t.job.Stop() }

func (t *transplantFlow) capturing() bool {
	switch t.stage {
	case transplantReport, transplantNaming, transplantConfirm:
		return true
	}
	return false
}

func (t *transplantFlow) busy() bool {
	switch t.stage {
	case transplantChecking, transplantWorking, transplantRehearsing:
		return true
	}
	return false
}

func (t *transplantFlow) bindings() []key.Binding {
	k := t.m.ctx.Keys
	switch t.stage {
	case transplantChecking, transplantRehearsing:
		return []key.Binding{k.Cancel}
	case transplantReport:
		if t.report.OK() {
			return []key.Binding{k.Submit, k.Back}
		}
		return []key.Binding{k.Force, k.Back}
	case transplantNaming:
		return []key.Binding{k.Submit, k.Back}
	case transplantConfirm:
		return []key.Binding{k.Confirm, k.Back}
	case transplantDone:
		if t.rehearsal.OK() {
			return []key.Binding{k.Export, k.Rehearse}
		}
		return []key.Binding{k.Rehearse}
	}
	return nil
}

func (t *transplantFlow) intro() []string {
	return append(t.m.wrap(
		"A transplant puts a fixed module onto this snapshot's heap, stable memory and "+
			"globals, the way an uploaded dfx snapshot replaces a stuck module without running "+
			"its pre_upgrade. canscope checks that they fit, writes a new snapshot once you "+
			"confirm, and rehearses the next upgrade in memory."), "", t.wasm.View())
}

// check reads the module at the typed path and asks for the report.
func (t *transplantFlow) check() tea.Cmd {
	m := t.m
	m.err, m.notice = nil, ""
	tr := m.ctx.Sources.Transplanter
	value := strings.TrimSpace(t.wasm.Value())
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
	t.wasm.SetValue(path)
	t.wasm.Blur()
	// A new check starts a new repair; a snapshot made before stays in
	// the store.
	t.made, t.rehearsal, t.rehearsed, t.forced = nil, source.Rehearsal{}, false, false
	t.stage = transplantChecking
	ctx, job := t.job.Start(context.Background())
	id := m.snap.ID
	return tea.Batch(func() tea.Msg {
		module, err := os.ReadFile(path)
		if err != nil {
			return checkedMsg{origin: origin{m}, job: job, path: path, err: fmt.Errorf("read the fixed module: %w", err)}
		}
		rep, err := tr.Check(ctx, id, module)
		return checkedMsg{origin: origin{m}, job: job, path: path, module: module, report: rep, err: err}
	}, m.spin.Tick)
}

// transplant writes the confirmed snapshot.
func (t *transplantFlow) transplant() tea.Cmd {
	m := t.m
	tr := m.ctx.Sources.Transplanter
	t.stage, m.err = transplantWorking, nil
	id, module := m.snap.ID, t.module
	req := source.TransplantRequest{Name: strings.TrimSpace(t.tname.Value()), Force: t.forced}
	// Writing is not cancellable: a commit is short and all or nothing.
	return tea.Batch(func() tea.Msg {
		s, _, err := tr.Transplant(context.Background(), id, module, req)
		return transplantedMsg{origin: origin{m}, snap: s, err: err}
	}, m.spin.Tick)
}

// rehearse upgrades the transplanted snapshot twice in memory, reporting
// each step as it finishes.
func (t *transplantFlow) rehearse() tea.Cmd {
	m := t.m
	tr := m.ctx.Sources.Transplanter
	t.stage, m.err, m.notice = transplantRehearsing, nil, ""
	t.rehearsal, t.rehearsed = source.Rehearsal{}, false
	ctx, job := t.job.Start(context.Background())
	steps, done := make(chan tea.Msg, 8), make(chan tea.Msg, 1)
	t.steps, t.done = steps, done
	id := t.made.ID
	go func() {
		r, err := tr.Rehearse(ctx, id, func(s source.RehearsalStep) {
			select { // a rehearsal has two steps; never block the engine
			case steps <- stepMsg{origin: origin{m}, job: job, step: s}:
			default:
			}
		})
		done <- rehearsedMsg{origin: origin{m}, job: job, rehearsal: r, err: err}
	}()
	return tea.Batch(t.waitRehearsal(), m.spin.Tick)
}

// waitRehearsal delivers the next finished step, or the end; steps are
// drained before the end so none is lost.
func (t *transplantFlow) waitRehearsal() tea.Cmd {
	steps, done := t.steps, t.done
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

// update handles the results of the flow's background steps.
func (t *transplantFlow) update(msg tea.Msg) tea.Cmd {
	m := t.m
	switch msg := msg.(type) {
	case checkedMsg:
		if t.stage != transplantChecking || !t.job.Finish(msg.job) {
			return nil
		}
		if msg.err != nil {
			t.stage, m.err = transplantInput, fmt.Errorf("check %s against %s: %w", filepath.Base(msg.path), m.snap.Ref(), msg.err)
			return t.wasm.Focus()
		}
		t.path, t.module, t.report = msg.path, msg.module, msg.report
		t.stage = transplantReport
	case transplantedMsg:
		if t.stage != transplantWorking {
			return nil
		}
		if msg.err != nil {
			t.stage, m.err = transplantConfirm, fmt.Errorf("transplant onto %s: %w", m.snap.Ref(), msg.err)
			return nil
		}
		t.made = &msg.snap
		return tea.Batch(frame.Nav(frame.StoreChangedMsg{}), t.rehearse())
	case stepMsg:
		if t.stage != transplantRehearsing || !t.job.Current(msg.job) {
			return nil
		}
		t.rehearsal.Steps = append(t.rehearsal.Steps, msg.step)
		return t.waitRehearsal()
	case rehearsedMsg:
		if t.stage != transplantRehearsing || !t.job.Finish(msg.job) {
			return nil
		}
		t.stage = transplantDone
		if msg.err != nil {
			m.err = fmt.Errorf("rehearse the upgrade of %s: %w", t.made.Ref(), msg.err)
			return nil
		}
		// The outcome is authoritative; progress only showed it early.
		t.rehearsal, t.rehearsed = msg.rehearsal, true
	}
	return nil
}

// key handles keys past the input step.
func (t *transplantFlow) key(msg tea.KeyPressMsg) tea.Cmd {
	m, k := t.m, t.m.ctx.Keys
	switch t.stage {
	case transplantChecking:
		if key.Matches(msg, k.Cancel) {
			t.job.Stop()
			t.stage, m.notice = transplantInput, "check cancelled"
			return t.wasm.Focus()
		}
	case transplantRehearsing:
		if key.Matches(msg, k.Cancel) {
			t.job.Stop()
			t.stage, m.notice = transplantDone, "rehearsal cancelled: r runs it again"
		}
	case transplantReport:
		switch {
		case key.Matches(msg, k.Back):
			t.stage = transplantInput
			return t.wasm.Focus()
		case key.Matches(msg, k.Submit) && t.report.OK(), key.Matches(msg, k.Force) && !t.report.OK():
			t.forced = !t.report.OK()
			t.stage = transplantNaming
			return t.tname.Focus()
		}
	case transplantNaming:
		switch {
		case key.Matches(msg, k.Back):
			t.tname.Blur()
			t.stage, m.err = transplantReport, nil
			return nil
		case key.Matches(msg, k.Submit):
			if name := strings.TrimSpace(t.tname.Value()); name != "" { // empty keeps the snapshot's name
				if err := snapshots.ValidateName(name); err != nil {
					m.err = err
					return nil
				}
			}
			t.tname.Blur()
			t.stage, m.err = transplantConfirm, nil
			return nil
		}
		var cmd tea.Cmd
		t.tname, cmd = t.tname.Update(msg)
		return cmd
	case transplantConfirm:
		switch {
		case key.Matches(msg, k.Confirm):
			return t.transplant()
		case key.Matches(msg, k.Back):
			t.stage = transplantNaming
			return t.tname.Focus()
		}
	case transplantDone:
		switch {
		case key.Matches(msg, k.Rehearse) && t.made != nil:
			return t.rehearse()
		case key.Matches(msg, k.Export) && t.rehearsal.OK():
			// Continue into the restore flow with the repaired snapshot.
			r := m.restore
			m.action, r.stage, m.err, m.notice = actionRestore, restoreInput, nil, ""
			r.dir.SetValue("")
			return r.dir.Focus()
		}
	}
	return nil
}
