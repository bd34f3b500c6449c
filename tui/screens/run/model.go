// Package run is the run / step screen: a form to call a method or
// upgrade a snapshot's canister, the run with a progress bar that can be
// cancelled, then the recorded timeline to step through with the call
// stack, recent System API calls, pages changed and instructions used at
// every event, and checkpoints saved from any event.
package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// state is the screen's phase.
type state int

const (
	stateForm state = iota
	stateRunning
	stateTimeline
)

// Messages of a run, tagged with the screen that asked for them and the
// run number: the root hands background results to every open screen, so
// a closed run screen's late result must not land in the one opened after
// it, nor a cancelled run's in the next run.
type (
	snapshotMsg struct {
		owner   *Model
		snap    snapshots.Snapshot
		methods []string // the module's callable methods, for the form
		sigs    map[string]string
		err     error
	}
	progressMsg struct {
		owner *Model
		run   int
		frac  float64
	}
	doneMsg struct {
		owner *Model
		run   int
		sess  source.Session
		err   error
	}
	seekMsg struct {
		owner   *Model
		run, at int
		state   source.State
		err     error
	}
	checkpointMsg struct {
		owner *Model
		snap  snapshots.Snapshot
		err   error
	}
)

// Model is the run / step screen for one snapshot.
type Model struct {
	ctx           *frame.Context
	id            snapshots.ID
	snap          *snapshots.Snapshot
	width, height int

	state   state
	form    form
	methods []string          // callable methods of the snapshot's module
	sigs    map[string]string // their Candid signatures, by name
	err     error
	notice  string

	// life ends when the screen closes (end): the run and any seek in
	// flight stop, so closing never waits on a long re-execution.
	life context.Context
	end  context.CancelFunc

	// job is the run in progress; shown tags the run whose session the
	// timeline shows, for its seeks.
	job   frame.Job
	shown int
	req   source.RunRequest
	frac  float64
	// measured is set once the runner reports a fraction strictly
	// between 0 and 1; until then (and with runners that only report
	// start and end) the screen shows a spinner and the elapsed time
	// rather than a bar that seems stuck at 0%.
	measured bool
	started  time.Time
	spin     spinner.Model
	progress chan tea.Msg // progressMsg, latest only
	done     chan tea.Msg // the doneMsg; buffered so the run never blocks

	sess    source.Session
	at      int // current event
	view    *seekMsg
	offset  int
	naming  bool // the checkpoint name input has focus
	cpName  textinput.Model
	lastCkp *snapshots.Snapshot
}

// New returns the run screen for a snapshot.
func New(ctx *frame.Context, id snapshots.ID) *Model {
	life, end := context.WithCancel(context.Background())
	return &Model{ctx: ctx, id: id, life: life, end: end, form: newForm(ctx),
		cpName: ctx.NewInput("checkpoint name: ", "e.g. before-trap"), spin: ctx.NewSpinner()}
}

func (m *Model) ref() string {
	if m.snap != nil {
		return m.snap.Ref()
	}
	return m.id.Short()
}

// Title implements frame.Screen.
func (m *Model) Title() string {
	ref := m.ref()
	switch m.state {
	case stateTimeline:
		return "Timeline " + ref + " · " + describe(m.req)
	case stateRunning:
		return "Running " + ref
	}
	return "Run on " + ref
}

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return m.state == stateTimeline }

// Capturing implements frame.Screen.
func (m *Model) Capturing() bool {
	return m.naming || (m.state == stateForm && m.form.input() != nil)
}

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	switch {
	case m.naming:
		return []key.Binding{k.Submit}
	case m.state == stateForm:
		return []key.Binding{k.Submit, k.NextField, k.PrevField, k.Toggle}
	case m.state == stateRunning:
		return []key.Binding{k.Cancel}
	}
	return []key.Binding{k.StepForward, k.StepBack, k.NextCall, k.PrevCall, k.Trap, k.Checkpoint, k.Fork}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	for _, in := range append(m.form.inputs(), &m.cpName) {
		in.SetWidth(max(w-20, 10))
		in.SetStyles(m.ctx.Styles.Input) // the theme may have changed
	}
}

// Init implements frame.Screen: it reads the snapshot for the title and,
// when a module inspector is wired, the methods the form can call.
func (m *Model) Init() tea.Cmd {
	src, id := m.ctx.Sources, m.id
	return func() tea.Msg {
		man, err := src.Catalog.Manifest(id)
		if err != nil {
			return snapshotMsg{owner: m, err: fmt.Errorf("read snapshot %s: %w", id.Short(), err)}
		}
		out := snapshotMsg{owner: m, snap: man.Snapshot}
		if !man.Module.IsZero() {
			if b, err := src.Catalog.ReadBlob(man.Module); err == nil {
				if info, err := src.Inspect(b); err == nil {
					out.methods, out.sigs = Methods(info.Exports), info.Signatures
				}
			}
		}
		return out
	}
}

// Methods lists the callable methods among a module's exported functions,
// queries marked: "transfer", "balance (query)".
func Methods(exports []string) []string {
	var out []string
	for _, e := range exports {
		kind, name, ok := strings.Cut(e, " ")
		if !ok || strings.HasPrefix(name, "__") {
			continue // canister_init and friends, and runtime internals
		}
		switch kind {
		case "canister_update":
			out = append(out, name)
		case "canister_query", "canister_composite_query":
			out = append(out, name+" (query)")
		}
	}
	return out
}

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case snapshotMsg:
		if msg.owner != m {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
		} else {
			m.snap, m.methods, m.sigs = &msg.snap, msg.methods, msg.sigs
		}
	case progressMsg:
		if msg.owner == m && m.job.Current(msg.run) && m.state == stateRunning {
			m.frac = msg.frac
			m.measured = m.measured || (msg.frac > 0 && msg.frac < 1)
			return m.waitProgress()
		}
	case spinner.TickMsg:
		if m.state == stateRunning {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return cmd
		}
	case doneMsg:
		return m.finished(msg)
	case seekMsg:
		if msg.owner == m && msg.run == m.shown {
			m.view = &msg
		}
	case checkpointMsg:
		if msg.owner != m {
			return nil
		}
		if msg.err != nil {
			m.err = fmt.Errorf("save checkpoint: %w", msg.err)
			return nil
		}
		m.lastCkp = &msg.snap
		m.notice = "checkpoint saved as " + msg.snap.Ref() + " — press f to fork or restore it"
		return frame.Nav(frame.StoreChangedMsg{})
	case tea.KeyPressMsg:
		switch {
		case m.naming:
			return m.updateNaming(msg)
		case m.state == stateForm:
			return m.updateForm(msg)
		case m.state == stateRunning:
			if key.Matches(msg, m.ctx.Keys.Cancel) && m.job.Running() {
				m.job.Cancel()
				m.notice = "cancelling …"
			}
			return nil
		}
		return m.updateTimeline(msg)
	}
	return nil
}

func (m *Model) updateForm(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back):
		return frame.Nav(frame.BackMsg{})
	case key.Matches(msg, k.NextField):
		m.form.move(1)
		return nil
	case key.Matches(msg, k.PrevField):
		m.form.move(-1)
		return nil
	case key.Matches(msg, k.Submit):
		return m.start()
	case m.form.input() == nil && key.Matches(msg, k.Toggle):
		m.form.toggle()
		return nil
	}
	if in := m.form.input(); in != nil {
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return cmd
	}
	return nil
}

// start validates the form and launches the run in the background.
func (m *Model) start() tea.Cmd {
	m.err, m.notice = nil, ""
	runner := m.ctx.Sources.Runner
	req, ok := m.form.request(m.id)
	if !ok {
		return nil // the error is under its field
	}
	if req.Method == "" && !req.Upgrade && !req.Timer && !req.Heartbeat {
		m.err = errors.New("name the method to call")
		return nil
	}
	ctx, run := m.job.Start(m.life)
	m.req, m.frac, m.measured, m.state = req, 0, false, stateRunning
	m.started = m.ctx.Now()
	progress, done := make(chan tea.Msg, 1), make(chan tea.Msg, 1)
	m.progress, m.done = progress, done
	go func() {
		sess, err := runner.Start(ctx, req, func(f float64) {
			select { // drop progress the UI has not caught up with
			case progress <- progressMsg{owner: m, run: run, frac: f}:
			default:
			}
		})
		if err == nil && ctx.Err() != nil {
			// Cancelled as it finished (or the screen closed): nobody
			// will show this session, so release it here.
			if c, ok := sess.(source.SessionCloser); ok {
				_ = c.Close(context.Background())
			}
			sess, err = nil, ctx.Err()
		}
		done <- doneMsg{owner: m, run: run, sess: sess, err: err}
	}()
	return tea.Batch(m.waitProgress(), m.spin.Tick)
}

// waitProgress delivers the next progress or completion message.
func (m *Model) waitProgress() tea.Cmd {
	progress, done := m.progress, m.done
	return func() tea.Msg {
		select {
		case p := <-progress:
			return p
		case d := <-done:
			return d
		}
	}
}

// Close cancels a run or seek still in progress and releases the shown
// session when the screen is closed.
func (m *Model) Close() {
	m.end()
	m.release()
}

// release closes the current session when it holds resources. Errors are
// ignored: the session is being thrown away.
func (m *Model) release() {
	if c, ok := m.sess.(source.SessionCloser); ok {
		_ = c.Close(context.Background())
	}
	m.sess = nil
}

func (m *Model) finished(msg doneMsg) tea.Cmd {
	if msg.owner != m {
		return nil // another screen's run: that screen released it
	}
	if !m.job.Finish(msg.run) {
		// A superseded run: nobody shows its session.
		if c, ok := msg.sess.(source.SessionCloser); ok {
			_ = c.Close(context.Background())
		}
		return nil
	}
	m.notice = ""
	switch {
	case errors.Is(msg.err, context.Canceled):
		m.state = stateForm
		m.notice = "run cancelled"
		return nil
	case msg.err != nil:
		m.state = stateForm
		var fe *source.FieldError
		if errors.As(msg.err, &fe) {
			m.form.errs = map[field]string{fieldOf(fe.Field): fe.Err.Error()}
			return nil
		}
		m.err = fmt.Errorf("run %s: %w", describe(m.req), msg.err)
		return nil
	}
	m.release() // a previous run's session
	m.sess, m.state, m.view, m.shown = msg.sess, stateTimeline, nil, msg.run
	// Open on the trap when there is one: that is what the operator is
	// here for.
	at := 0
	if t := m.find(m.sess.Len()-1, -1, isTrap); t >= 0 {
		at = t
	}
	return m.seek(at)
}

// seek moves to event i and asks the session for the state there.
func (m *Model) seek(i int) tea.Cmd {
	if m.sess == nil || m.sess.Len() == 0 {
		return nil
	}
	i = render.Clamp(i, 0, m.sess.Len()-1)
	m.at = i
	sess, run, life := m.sess, m.shown, m.life
	return func() tea.Msg {
		st, err := sess.Seek(life, i)
		return seekMsg{owner: m, run: run, at: i, state: st, err: err}
	}
}

func isTrap(e source.Event) bool    { return e.Kind == source.EventTrap }
func isSyscall(e source.Event) bool { return e.Kind == source.EventSyscall }

// find returns the first event from i stepping by dir that satisfies ok,
// or -1.
func (m *Model) find(i, dir int, ok func(source.Event) bool) int {
	for ; i >= 0 && i < m.sess.Len(); i += dir {
		e := m.sess.Event(i)
		if ok(e) || e.Kind == source.EventElided {
			// A search does not run through events not recorded: it
			// stops where they begin (a seek there records them).
			return i
		}
	}
	return -1
}

func (m *Model) updateTimeline(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	m.notice = ""
	switch {
	case key.Matches(msg, k.StepForward), key.Matches(msg, k.Down):
		return m.seek(m.at + 1)
	case key.Matches(msg, k.StepBack), key.Matches(msg, k.Up):
		return m.seek(m.at - 1)
	case key.Matches(msg, k.PageDown):
		return m.seek(m.at + max(m.height/2, 1))
	case key.Matches(msg, k.PageUp):
		return m.seek(m.at - max(m.height/2, 1))
	case key.Matches(msg, k.Top):
		return m.seek(0)
	case key.Matches(msg, k.Bottom):
		return m.seek(m.sess.Len() - 1)
	case key.Matches(msg, k.NextCall):
		return m.jump(m.find(m.at+1, 1, isSyscall), "no later System API call")
	case key.Matches(msg, k.PrevCall):
		return m.jump(m.find(m.at-1, -1, isSyscall), "no earlier System API call")
	case key.Matches(msg, k.Trap):
		// The trap is the run's last event: search from the end.
		return m.jump(m.find(m.sess.Len()-1, -1, isTrap), "the run did not trap")
	case key.Matches(msg, k.Checkpoint):
		if m.sess == nil {
			return nil
		}
		m.naming = true
		m.cpName.SetValue("")
		return m.cpName.Focus()
	case key.Matches(msg, k.Fork):
		// The state at an event exists only in memory: forking or
		// restoring it needs it stored first.
		if m.lastCkp == nil {
			m.notice = "save a checkpoint first (c): f forks or restores the state it stores"
			return nil
		}
		return frame.Nav(frame.OpenRestoreMsg{ID: m.lastCkp.ID})
	}
	return nil
}

// Click implements frame.Clicker: a click on an event of the timeline
// moves there.
func (m *Model) Click(x, y int) tea.Cmd {
	if m.state != stateTimeline || m.sess == nil || m.naming {
		return nil
	}
	top := m.headLines()
	if y < top || x >= m.width-min(max(m.width*2/5, 24), 60)-2 {
		return nil // the header, or the panes on the right
	}
	rows := m.rows(m.offset, max(y-top+1, 1))
	if y-top < len(rows) && !rows[y-top].header {
		return m.seek(rows[y-top].event)
	}
	return nil
}

func (m *Model) jump(i int, otherwise string) tea.Cmd {
	if i < 0 {
		m.notice = otherwise
		return nil
	}
	return m.seek(i)
}

func (m *Model) updateNaming(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back):
		m.naming = false
		m.cpName.Blur()
		return nil
	case key.Matches(msg, k.Submit):
		name := strings.TrimSpace(m.cpName.Value())
		if name == "" {
			m.err = errors.New("name the checkpoint")
			return nil
		}
		m.naming = false
		m.cpName.Blur()
		m.err = nil
		sess, at := m.sess, m.at
		return func() tea.Msg {
			snap, err := sess.Checkpoint(context.Background(), at, name)
			return checkpointMsg{owner: m, snap: snap, err: err}
		}
	}
	var cmd tea.Cmd
	m.cpName, cmd = m.cpName.Update(msg)
	return cmd
}

// View implements frame.Screen.
func (m *Model) View() string {
	switch m.state {
	case stateRunning:
		return m.runningView()
	case stateTimeline:
		return m.timelineView()
	}
	return m.formView()
}

func (m *Model) statusLines() []string {
	st := m.ctx.Styles
	var out []string
	if m.err != nil {
		out = append(out, st.Error.Render("error: "+m.err.Error()))
	}
	if m.notice != "" {
		out = append(out, st.Warn.Render(m.notice))
	}
	return out
}

func (m *Model) formView() string {
	st := m.ctx.Styles
	f := &m.form
	var lines []string
	row := func(fl field, text string) {
		if f.focus == fl {
			lines = append(lines, st.Accent.Render("▸ ")+text)
		} else {
			lines = append(lines, "  "+text)
		}
		if e, ok := f.errs[fl]; ok {
			lines = append(lines, st.Error.Render("    ✗ "+e))
		}
	}
	check := func(on bool, label string) string {
		if on {
			return "[x] " + label
		}
		return "[ ] " + label
	}
	var modes []string
	for i, label := range modeLabels {
		if mode(i) == f.mode {
			modes = append(modes, "(•) "+label)
		} else {
			modes = append(modes, "( ) "+label)
		}
	}
	lines = append(lines, st.Header.Render("What should the engine run on this snapshot?"), "")
	row(fieldMode, strings.Join(modes, "  "))
	switch f.mode {
	case modeUpgrade:
		row(fieldWasm, f.wasm.View())
	case modeTimer:
		// As the IC: the timer runs only when due at the run's time.
		lines = append(lines, st.Muted.Render("    runs canister_global_timer if its deadline has come at the time below"))
	case modeHeartbeat:
		lines = append(lines, st.Muted.Render("    runs canister_heartbeat, as the IC does every round"))
	default:
		row(fieldMethod, f.method.View())
		if len(m.methods) > 0 {
			lines = append(lines, st.Muted.Render("    methods: "+strings.Join(m.methods, " · ")))
		}
		if sig, ok := m.sigs[strings.TrimSpace(f.method.Value())]; ok {
			lines = append(lines, st.Muted.Render("    "+strings.TrimSpace(f.method.Value())+" : "+sig))
		}
	}
	if f.mode == modeCall || f.mode == modeUpgrade {
		row(fieldArg, f.arg.View())
		row(fieldArgHex, check(f.argHex, "the argument is hex bytes (sent raw, not encoded)"))
	}
	if f.mode == modeCall {
		row(fieldInspect, check(f.inspect, "run canister_inspect_message first, as for an ingress message"))
		row(fieldCycles, f.cycles.View())
	}
	if f.mode != modeUpgrade {
		row(fieldReplies, f.replies.View())
		row(fieldRejectUnanswered, check(f.rejectUnanswered, "reject unanswered calls at once (SYS_TRANSIENT), as --reject-unanswered"))
	}
	if f.mode == modeUpgrade {
		row(fieldSkip, check(f.skipPreUpgrade, "skip_pre_upgrade"))
		lines = append(lines, st.Muted.Render("      the heap is discarded: post_upgrade reads what an earlier"),
			st.Muted.Render("      pre_upgrade left in stable memory"))
		row(fieldRehearse, check(f.rehearse, "rehearse (upgrade, then upgrade again to the same module)"))
	}
	row(fieldCaller, f.caller.View())
	row(fieldTime, f.time.View())
	row(fieldLimit, f.limit.View())
	row(fieldWasmLimit, f.wasmLimit.View())
	lines = append(lines, "", st.Muted.Render("enter runs it in memory; nothing is written until you save a checkpoint."))
	lines = append(lines, "")
	lines = append(lines, m.statusLines()...)
	return render.Block(lines, m.width, m.height)
}

func (m *Model) runningView() string {
	st := m.ctx.Styles
	// The fraction is of the instruction limit (the engine knows no
	// other total), and the label says so.
	w := max(m.width-34, 10)
	progress := render.Bar(w, m.frac, st) + fmt.Sprintf(" %3.0f%% of the instruction limit", m.frac*100)
	if !m.measured {
		elapsed := m.ctx.Now().Sub(m.started).Truncate(time.Second)
		progress = m.spin.View() + " running · " + elapsed.String() + st.Muted.Render(" · the engine gives no estimate of the remaining work")
	}
	lines := []string{
		st.Header.Render(describe(m.req) + " on " + m.ref()),
		"",
		progress,
		"",
		st.Muted.Render("press x to cancel"),
	}
	lines = append(lines, m.statusLines()...)
	return render.Block(lines, m.width, m.height)
}

// headView is the timeline's header: the run, its outcome (reply, trap
// or reject), the skip_pre_upgrade verdict and the latest debug print.
func (m *Model) headView() []string {
	st := m.ctx.Styles
	out := m.sess.Outcome()
	head := []string{fmt.Sprintf("%s · %s · ", describe(m.req), render.Count(m.sess.Len(), "event"))}
	switch out.Status {
	case "ok":
		head[0] += st.OK.Render("ok")
		switch {
		case out.Reply != "":
			head = append(head, wrapped("reply "+out.Reply, m.width, 2, st.OK)...)
		case out.ReplyHex != "":
			head = append(head, wrapped("reply (not Candid) 0x"+out.ReplyHex, m.width, 2, st.OK)...)
		}
	default:
		head[0] += st.Error.Render(out.Status)
		if out.TrapMessage != "" {
			where := ""
			if out.TrapFunction != "" {
				where = " in " + out.TrapFunction
			}
			// The trap message is what the operator came for: wrap it
			// (two lines at most) rather than cut it.
			if out.RejectCode != "" {
				where = " (" + out.RejectCode + ")"
			}
			head = append(head, wrapped("✗ "+out.Status+where+": "+out.TrapMessage, m.width, 2, st.Error)...)
		}
	}
	if out.Inspect != "" {
		style := st.OK
		if out.Inspect != "accepted" {
			style = st.Error
		}
		head = append(head, wrapped("inspect_message "+out.Inspect, m.width, 2, style)...)
	}
	if out.Cycles != "" {
		head = append(head, wrapped("cycles "+out.Cycles, m.width, 1, st.Muted)...)
	}
	if out.SkippedPreUpgrade != "" {
		// "ok" alone would hide that the heap's data is gone.
		head = append(head, wrapped("⚠ "+out.SkippedPreUpgrade, m.width, 2, st.Warn)...)
	}
	if out.Awaiting > 0 {
		// Not "ok": the callbacks have not run.
		head = append(head, wrapped(fmt.Sprintf("⚠ awaiting %s: nothing answered them, so their callbacks have not run and the outcome is not known; answer them in the replies field, or reject unanswered", render.Count(out.Awaiting, "call")), m.width, 2, st.Warn)...)
	}
	const shownUnused = 2
	for i, u := range out.UnusedAnswers {
		if i == shownUnused {
			head = append(head, st.Warn.Render(fmt.Sprintf("  … %s not listed here", render.Count(len(out.UnusedAnswers)-shownUnused, "more unused answer"))))
			break
		}
		head = append(head, wrapped("⚠ "+u, m.width, 2, st.Warn)...)
	}
	if out.CallFees != "" {
		head = append(head, wrapped("call fees "+out.CallFees, m.width, 2, st.Muted)...)
	}
	const shownCalls = 3 // the timeline needs the rest of the screen
	for i, c := range out.Calls {
		if i == shownCalls {
			head = append(head, st.Muted.Render(fmt.Sprintf("  … %s not listed here", render.Count(len(out.Calls)-shownCalls, "more call"))))
			break
		}
		head = append(head, wrapped("call "+c, m.width, 2, st.Muted)...)
	}
	if n := len(out.OfflineCalls); n > 0 {
		// The verdict is not the IC's: say so next to it.
		head = append(head, wrapped(fmt.Sprintf("⚠ %s not performed offline (failed at once with SYS_TRANSIENT): %s", render.Count(n, "call"), strings.Join(out.OfflineCalls, ", ")), m.width, 2, st.Warn)...)
	}
	if n := len(out.DebugPrints); n > 0 {
		// The latest print, in full when it fits; every print is also
		// on its debug_print event in the timeline.
		line := "debug " + out.DebugPrints[n-1]
		if n > 1 {
			line = fmt.Sprintf("debug (%d of %d, every one on its event) %s", n, n, out.DebugPrints[n-1])
		}
		head = append(head, wrapped(line, m.width, 1, st.Muted)...)
	}
	return head
}

// headLines is how many rows headView takes.
func (m *Model) headLines() int { return len(m.headView()) }

func (m *Model) timelineView() string {
	st := m.ctx.Styles
	if m.sess == nil {
		// Close released the session; a frame drawn after it (the
		// last one before quitting) has nothing to show.
		return render.Block([]string{st.Muted.Render("the run was closed")}, m.width, m.height)
	}
	head := m.headView()
	bottom := m.statusLines()
	if m.naming {
		bottom = append(bottom, m.cpName.View())
	}
	detail := m.detailLines()
	bodyH := max(m.height-len(head)-len(detail)-len(bottom), 1)
	rightW := min(max(m.width*2/5, 24), 60)
	leftW := max(m.width-rightW-2, 10)
	left := strings.Split(render.Block(m.eventLines(leftW, bodyH), leftW, bodyH), "\n")
	right := strings.Split(render.Block(m.paneLines(rightW, bodyH), rightW, bodyH), "\n")
	lines := head
	for i := range left {
		lines = append(lines, left[i]+"  "+right[i])
	}
	lines = append(lines, detail...)
	lines = append(lines, bottom...)
	return render.Block(lines, m.width, m.height)
}

// detailLines is the detail pane under the timeline: the current event in
// full (the list cuts long lines), its phase and the instructions used so
// far. A text longer than two lines says how much it leaves out.
func (m *Model) detailLines() []string {
	st := m.ctx.Styles
	e := m.sess.Event(m.at)
	phase := e.Phase
	if phase == "" {
		phase = "no phase"
	}
	head := fmt.Sprintf("event %d of %d · %s · %s instructions so far", m.at, m.sess.Len(), phase, humanize.Comma(int64(e.Instructions)))
	lines := []string{st.Muted.Render(strings.Repeat("─", max(m.width, 1)))}
	lines = append(lines, wrapped(head, m.width, 1, st.Header)...)
	return append(lines, wrapped(FullEventText(e), m.width, 2, st.Text)...)
}

// FullEventText is an event with everything it carries, for the detail
// pane: arguments and results, the function a call or trap happened in.
func FullEventText(e source.Event) string {
	in := ""
	if e.Function != "" {
		in = " in " + e.Function
	}
	switch e.Kind {
	case source.EventEnter:
		return "→ enter " + e.Function + callArgs(e)
	case source.EventExit:
		return strings.TrimSpace("← return from " + e.Function + " " + e.Args)
	case source.EventSyscall:
		return "• " + e.Syscall + callArgs(e) + in
	case source.EventGrow:
		return "↑ grow " + e.Message + in
	case source.EventTrap:
		return "✗ trap" + in + ": " + e.Message
	}
	return string(e.Kind) + in
}

// row is one line of the event list: an event, or the header of the
// phase that starts at it.
type row struct {
	event  int
	header bool
}

// rows lays out the event list from event first: the phase of the first
// event heads it, and a header precedes every event whose phase differs
// from the one before, the way `canscope trace` prints its sections.
func (m *Model) rows(first, height int) []row {
	var out []row
	for i := first; i < m.sess.Len() && len(out) < height; i++ {
		if p := m.sess.Event(i).Phase; p != "" && (i == first || m.sess.Event(i-1).Phase != p) {
			out = append(out, row{event: i, header: true})
			if len(out) == height {
				break
			}
		}
		out = append(out, row{event: i})
	}
	return out
}

// eventLines renders the timeline around the current event, with phase
// headers.
func (m *Model) eventLines(width, height int) []string {
	st := m.ctx.Styles
	n := m.sess.Len()
	m.offset = render.Offset(m.at, m.offset, height, n)
	// Headers take rows: move down until the current event shows.
	rows := m.rows(m.offset, height)
	for m.offset < m.at && !slices.ContainsFunc(rows, func(r row) bool { return !r.header && r.event == m.at }) {
		m.offset++
		rows = m.rows(m.offset, height)
	}
	var lines []string
	for _, r := range rows {
		i := r.event
		e := m.sess.Event(i)
		if r.header {
			lines = append(lines, st.Header.Render(render.Fit("== "+e.Phase, width)))
			continue
		}
		text := fmt.Sprintf("%5d %s", i, EventText(e))
		switch {
		case i == m.at:
			lines = append(lines, st.Selected.Render(render.Fit("▸"+text, width)))
		case e.Kind == source.EventTrap:
			lines = append(lines, st.Error.Render(" "+text))
		case e.Kind == source.EventSyscall:
			lines = append(lines, st.Accent.Render(" "+text))
		default:
			lines = append(lines, st.Text.Render(" "+text))
		}
	}
	return lines
}

// count formats an instruction count: exact when the pane is wide,
// else in SI units ("123.5 G").
func count(n uint64, width int) string {
	if width >= 50 {
		return humanize.Comma(int64(n))
	}
	return strings.TrimSpace(humanize.SIWithDigits(float64(n), 1, ""))
}

// callArgs is a syscall's argument list in parentheses.
func callArgs(e source.Event) string {
	if strings.HasPrefix(e.Args, "(") {
		return e.Args
	}
	return "(" + e.Args + ")"
}

// EventText is the one-line form of an event, indented by call depth.
func EventText(e source.Event) string {
	indent := strings.Repeat(" ", min(e.Depth, 8))
	switch e.Kind {
	case source.EventEnter:
		return indent + "→ " + e.Function
	case source.EventExit:
		return indent + "← " + e.Function
	case source.EventSyscall:
		return indent + "• " + e.Syscall + callArgs(e)
	case source.EventGrow:
		return indent + "↑ grow " + e.Message
	case source.EventTrap:
		return indent + "✗ trap: " + e.Message
	case source.EventElided:
		return "… " + e.Message
	}
	return indent + string(e.Kind)
}

// paneLines renders the state panes: call stack, recent System API calls,
// pages changed, instructions against the limit.
func (m *Model) paneLines(width, height int) []string {
	st := m.ctx.Styles
	if m.view == nil {
		return []string{st.Muted.Render("reading state …")}
	}
	if m.view.err != nil {
		return []string{st.Error.Render("error: seek to event " + fmt.Sprint(m.view.at) + ": " + m.view.err.Error())}
	}
	s := m.view.state
	// Eleven rows are headers, blanks, pages and the instruction bar.
	// The stack comes first (leaving the recent calls a row), then the
	// recent calls, then the run's limits when three rows or more remain.
	avail := max(height-11, 2)
	stackRows := min(max(len(m.view.state.Stack), 1), avail-1)
	callRows := min(max(len(m.view.state.RecentSyscalls), 1), avail-stackRows)
	limits := m.sess.Outcome().Limits
	limitRows := 0
	if rest := avail - stackRows - callRows; len(limits) > 0 && rest >= 3 {
		limitRows = min(2+len(limits), rest)
	}
	lines := []string{st.Header.Render(fmt.Sprintf("CALL STACK at event %d", m.view.at))}
	stack := s.Stack
	if len(stack) > stackRows {
		// The innermost frames; the header says how many are outside.
		lines[0] = st.Header.Render(fmt.Sprintf("CALL STACK at %d (+%d outer)", m.view.at, len(stack)-stackRows))
		stack = stack[len(stack)-stackRows:]
	}
	if len(stack) == 0 {
		lines = append(lines, st.Muted.Render("  (empty)"))
	}
	for i := len(stack) - 1; i >= 0; i-- { // innermost first
		// A demangled name ends with what matters: cut its start.
		lines = append(lines, "  "+render.Tail(stack[i], width-2))
	}
	lines = append(lines, "", st.Header.Render("RECENT SYSTEM API CALLS"))
	calls := s.RecentSyscalls
	if len(calls) > callRows {
		calls = calls[len(calls)-callRows:]
	}
	if len(calls) == 0 {
		lines = append(lines, st.Muted.Render("  none yet"))
	}
	for _, c := range calls {
		lines = append(lines, "  "+c.Syscall+callArgs(c))
	}
	lines = append(lines, "",
		st.Header.Render("PAGES CHANGED SO FAR (64 KiB)"),
		fmt.Sprintf("  heap %d · stable %d", s.HeapPagesChanged, s.StablePagesChanged),
		"  "+render.Bytes(s.StableBytesWritten)+" stable written",
		"",
		st.Header.Render("INSTRUCTIONS"),
	)
	frac := 0.0
	if s.Limit > 0 {
		frac = float64(s.Instructions) / float64(s.Limit)
	}
	lines = append(lines,
		"  "+render.Bar(max(width-4, 4), frac, st),
		fmt.Sprintf("  %s of %s (%.1f%%)", count(s.Instructions, width), count(s.Limit, width), frac*100),
	)
	if limitRows > 0 {
		lines = append(lines, "", st.Header.Render("LIMITS (whole run)"))
		shown := limits
		if len(shown) > limitRows-2 {
			shown = shown[:limitRows-3]
		}
		for _, l := range shown {
			lines = append(lines, limitLine(l, width, st))
		}
		if len(shown) < len(limits) {
			lines = append(lines, st.Muted.Render(fmt.Sprintf("  +%d more in a taller window", len(limits)-len(shown))))
		}
	} else if len(limits) > 0 {
		// No room for the bars: the closest limit, and where the rest are.
		top := slices.MaxFunc(limits, func(a, b source.LimitUse) int { return cmpFrac(a, b) })
		lines = append(lines, st.Muted.Render(fmt.Sprintf("  closest limit %s %.0f%%", top.Name, fraction(top)*100)))
	}
	return lines
}

// wrapped wraps text to width in at most n lines; a longer text ends with
// how much was left out, so nothing is cut silently.
func wrapped(text string, width, n int, style lipgloss.Style) []string {
	lines := strings.Split(ansi.Wrap(text, max(width, 1), ""), "\n")
	if len(lines) > n {
		rest := len([]rune(strings.Join(lines[n:], "")))
		more := fmt.Sprintf(" … %d more characters", rest)
		lines = lines[:n]
		last := []rune(lines[n-1])
		keep := max(width-len([]rune(more)), 0)
		if len(last) > keep {
			rest += len(last) - keep
			last = last[:keep]
			more = fmt.Sprintf(" … %d more characters", rest)
		}
		lines[n-1] = string(last) + more
	}
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return lines
}

// fraction is how much of a limit a run used; 0 for no limit.
func fraction(l source.LimitUse) float64 {
	if l.Limit == 0 {
		return 0
	}
	return float64(l.Used) / float64(l.Limit)
}

func cmpFrac(a, b source.LimitUse) int {
	switch fa, fb := fraction(a), fraction(b); {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}

// limitHigh is the share of a limit above which the run screen flags it,
// as the CLI's headroom report does: the real canister is close to
// failing there.
const limitHigh = 0.8

// limitLine is one limit as a bar: "heap_bytes ███░░░ 41%", or "none"
// for a limit the canister does not have.
func limitLine(l source.LimitUse, width int, st themes.Styles) string {
	name := render.Fit(l.Name, min(21, max(width-14, 8))) + " "
	if l.Limit == 0 {
		return "  " + name + st.Muted.Render(" no limit")
	}
	f := fraction(l)
	pct := fmt.Sprintf(" %3.0f%%", f*100)
	line := "  " + name + render.Bar(max(width-4-lipgloss.Width(name)-len(pct), 4), f, st) + pct
	if f > limitHigh {
		return st.Warn.Render(line)
	}
	return line
}
