// Package lineage is the snapshots screen: every canister in the store with
// its snapshots as a lineage tree (imports, upgrades, forks, checkpoints),
// a filter, and marks for picking two snapshots to diff.
package lineage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
)

// loadedMsg carries the store's snapshot list.
type loadedMsg struct {
	list []snapshots.Snapshot
	err  error
}

// demoDoneMsg reports the end of a demo load.
type demoDoneMsg struct{ err error }

// Model is the snapshots screen.
type Model struct {
	ctx           *frame.Context
	width, height int

	all     []snapshots.Snapshot
	tree    []row // the full lineage
	rows    []row // tree after the filter
	loaded  bool
	err     error
	notice  string
	loading bool // a demo load is running

	cursor, offset int
	marked         []snapshots.ID // in marking order, at most two

	filter    textinput.Model
	filtering bool

	// life ends when the UI quits (Close): a demo load still running
	// stops instead of writing into a store being closed.
	life context.Context
	end  context.CancelFunc
}

// New returns the snapshots screen; Init loads the list.
func New(ctx *frame.Context) *Model {
	life, end := context.WithCancel(context.Background())
	return &Model{ctx: ctx, filter: ctx.NewInput("/", "filter by name, canister, hash, made-by"), life: life, end: end}
}

// Title implements frame.Screen.
func (m *Model) Title() string { return "Snapshots" }

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return true }

// Capturing implements frame.Screen: the filter takes printable keys.
func (m *Model) Capturing() bool { return m.filtering }

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(max(w-4, 1))
	m.filter.SetStyles(m.ctx.Styles.Input) // the theme may have changed
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	cat := m.ctx.Sources.Catalog
	dir := m.ctx.StorePath // read here: the command runs on another goroutine
	return func() tea.Msg {
		list, err := cat.List()
		if err != nil {
			err = fmt.Errorf("list snapshots in %s: %w", dir, err)
		}
		return loadedMsg{list: list, err: err}
	}
}

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	if m.filtering {
		return []key.Binding{k.FilterApply, k.FilterClear}
	}
	if m.loaded && len(m.all) == 0 {
		return []key.Binding{k.Demo, k.Reload}
	}
	return []key.Binding{k.Open, k.Filter, k.Mark, k.Diff, k.Run, k.Fork, k.Headroom, k.Reload}
}

// Selected returns the snapshot under the cursor.
func (m *Model) Selected() (snapshots.Snapshot, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) || m.rows[m.cursor].heading() {
		return snapshots.Snapshot{}, false
	}
	return *m.rows[m.cursor].snap, true
}

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		m.loaded = true
		m.err = msg.err
		if msg.err == nil {
			m.setList(msg.list)
		}
		return nil
	case demoDoneMsg:
		m.loading = false
		if msg.err != nil {
			m.err = fmt.Errorf("load the demo: %w", msg.err)
			return nil
		}
		m.notice = "demo loaded"
		return m.load()
	case frame.StoreChangedMsg:
		return m.load()
	case tea.KeyPressMsg:
		if m.filtering {
			return m.updateFilter(msg)
		}
		return m.updateKey(msg)
	}
	return nil
}

// Back implements frame.Backer: esc clears an applied filter.
func (m *Model) Back() bool {
	if m.filter.Value() == "" {
		return false
	}
	m.filter.SetValue("")
	m.applyFilter()
	return true
}

func (m *Model) updateFilter(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back):
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.applyFilter()
		return nil
	case key.Matches(msg, k.Open):
		m.filtering = false
		m.filter.Blur()
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.applyFilter()
	return cmd
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	m.notice = ""
	switch {
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-max(m.listHeight()-1, 1))
	case key.Matches(msg, k.PageDown):
		m.move(max(m.listHeight()-1, 1))
	case key.Matches(msg, k.Top):
		m.moveTo(0, 1)
	case key.Matches(msg, k.Bottom):
		m.moveTo(len(m.rows)-1, -1)
	case key.Matches(msg, k.Filter):
		m.filtering = true
		return m.filter.Focus()
	case key.Matches(msg, k.Reload):
		return m.load()
	case key.Matches(msg, k.Demo):
		return m.loadDemo()
	case key.Matches(msg, k.Mark):
		if s, ok := m.Selected(); ok {
			m.toggleMark(s.ID)
		}
	case key.Matches(msg, k.Diff):
		return m.diff()
	case key.Matches(msg, k.Open):
		if s, ok := m.Selected(); ok {
			return frame.Nav(frame.OpenDetailMsg{ID: s.ID})
		}
	case key.Matches(msg, k.Run):
		if s, ok := m.Selected(); ok {
			return frame.Nav(frame.OpenRunMsg{ID: s.ID})
		}
	case key.Matches(msg, k.Fork):
		if s, ok := m.Selected(); ok {
			return frame.Nav(frame.OpenRestoreMsg{ID: s.ID})
		}
	case key.Matches(msg, k.Headroom):
		if s, ok := m.Selected(); ok {
			return frame.Nav(frame.OpenHeadroomMsg{Name: s.Name})
		}
	}
	return nil
}

func (m *Model) loadDemo() tea.Cmd {
	if !m.loaded || len(m.all) > 0 || m.loading {
		return nil
	}
	demo := m.ctx.Sources.Demo
	m.loading = true
	life := m.life
	return func() tea.Msg { return demoDoneMsg{err: demo(life)} }
}

// Close implements frame.Closer: it stops a demo load still running.
func (m *Model) Close() { m.end() }

func (m *Model) toggleMark(id snapshots.ID) {
	if i := slices.Index(m.marked, id); i >= 0 {
		m.marked = slices.Delete(m.marked, i, i+1)
		return
	}
	m.marked = append(m.marked, id)
	if len(m.marked) > 2 {
		m.marked = m.marked[1:]
	}
}

// diff opens the diff of the two marked snapshots, older first; with one
// mark it diffs the mark against the cursor.
func (m *Model) diff() tea.Cmd {
	pair := append([]snapshots.ID(nil), m.marked...)
	if len(pair) == 1 {
		if s, ok := m.Selected(); ok && s.ID != pair[0] {
			pair = append(pair, s.ID)
		}
	}
	if len(pair) != 2 {
		m.notice = "mark two snapshots with space, then press d"
		return nil
	}
	a, b := m.find(pair[0]), m.find(pair[1])
	if b.CreatedAt.Before(a.CreatedAt) {
		a, b = b, a
	}
	return frame.Nav(frame.OpenDiffMsg{A: a.ID, B: b.ID})
}

func (m *Model) find(id snapshots.ID) snapshots.Snapshot {
	for _, s := range m.all {
		if s.ID == id {
			return s
		}
	}
	return snapshots.Snapshot{ID: id}
}

func (m *Model) setList(list []snapshots.Snapshot) {
	var keepID snapshots.ID
	if s, ok := m.Selected(); ok {
		keepID = s.ID
	}
	m.all = list
	m.tree = lineage(list)
	// Forget marks on snapshots that disappeared.
	kept := m.marked[:0]
	for _, id := range m.marked {
		if m.find(id).Name != "" {
			kept = append(kept, id)
		}
	}
	m.marked = kept
	m.applyFilter()
	for i, r := range m.rows {
		if !r.heading() && r.snap.ID == keepID {
			m.cursor = i
		}
	}
	m.move(0)
}

func (m *Model) applyFilter() {
	m.rows = filterRows(m.tree, m.filter.Value())
	m.move(0)
}

// move steps the cursor by delta rows.
func (m *Model) move(delta int) {
	dir := 1
	if delta < 0 {
		dir = -1
	}
	m.moveTo(m.cursor+delta, dir)
}

// moveTo puts the cursor on row i, or the nearest snapshot row from there
// in direction dir (the other way at the ends): headings are not
// selectable.
func (m *Model) moveTo(i, dir int) {
	n := len(m.rows)
	if n == 0 {
		m.cursor, m.offset = 0, 0
		return
	}
	start := render.Clamp(i, 0, n-1)
	c := start
	for c >= 0 && c < n && m.rows[c].heading() {
		c += dir
	}
	if c < 0 || c >= n { // only headings that way: search back
		c = start
		for c >= 0 && c < n && m.rows[c].heading() {
			c -= dir
		}
	}
	m.cursor = render.Clamp(c, 0, n-1)
	m.offset = render.Offset(m.cursor, m.offset, m.listHeight(), n)
}

// Click implements frame.Clicker: a click on a snapshot row selects it,
// a second click on the selected row opens it.
func (m *Model) Click(_, y int) tea.Cmd {
	i := m.offset + y - 1 // row 0 is the column header
	if m.filtering || y < 1 || y > m.listHeight() || i >= len(m.rows) || m.rows[i].heading() {
		return nil
	}
	if i == m.cursor {
		return frame.Nav(frame.OpenDetailMsg{ID: m.rows[i].snap.ID})
	}
	m.cursor = i
	return nil
}

// listHeight is the body minus the column header and the footer line.
func (m *Model) listHeight() int { return max(m.height-2, 1) }

// columns are the table's column widths for the current width.
type columns struct {
	name, size, when, version, module, madeBy, note int
}

func (m *Model) columns() columns {
	c := columns{size: 9, when: 14, version: 5, module: 12, madeBy: 10}
	if m.width < 72 { // narrow: keep name, size and time
		c.version, c.module, c.madeBy = 0, 0, 0
	}
	c.name = m.width - 2 - c.size - c.when - 2 - gap(c.version) - gap(c.module) - gap(c.madeBy)
	if c.name > 40+1+12 { // room for a useful note column
		c.note = c.name - 40 - 1
		c.name = 40
	}
	c.name = max(c.name, 8)
	return c
}

// gap is a column's width plus its separating space, 0 for a hidden column.
func gap(w int) int {
	if w == 0 {
		return 0
	}
	return w + 1
}

// cells joins the visible columns of a table line.
func (c columns) cells(name, size, when, version, module, madeBy, note string) string {
	line := render.Fit(name, c.name) + " " + render.FitLeft(size, c.size) + " " + render.Fit(when, c.when)
	if c.version > 0 {
		line += " " + render.FitLeft(version, c.version)
	}
	if c.module > 0 {
		line += " " + render.Fit(module, c.module)
	}
	if c.madeBy > 0 {
		line += " " + render.Fit(madeBy, c.madeBy)
	}
	if c.note > 0 {
		line += " " + render.Fit(note, c.note)
	}
	return line
}

// View implements frame.Screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	var lines []string
	switch {
	case !m.loaded:
		lines = []string{st.Muted.Render("reading " + m.ctx.StorePath + " …")}
	case m.err != nil && len(m.all) == 0:
		lines = []string{st.Error.Render("error: " + m.err.Error()), "", st.Muted.Render("press ctrl+r to retry")}
	case len(m.all) == 0:
		lines = m.emptyView()
	default:
		lines = m.tableView()
	}
	return render.Block(lines, m.width, m.height)
}

func (m *Model) emptyView() []string {
	st := m.ctx.Styles
	lines := []string{
		"",
		st.Header.Render("The store at " + m.ctx.StorePath + " has no snapshots yet."),
		"",
	}
	switch {
	case m.loading:
		lines = append(lines, st.Warn.Render("loading the demo canisters and incident …"))
	default:
		lines = append(lines,
			"Press "+st.Accent.Render("D")+" to load the demo: two canisters and an upgrade",
			"that traps, the same as running `canscope demo`.")
	}
	lines = append(lines, "", st.Muted.Render("Or import an icp (or dfx) snapshot download: canscope import DIR --name NAME"))
	if m.err != nil {
		lines = append(lines, "", st.Error.Render("error: "+m.err.Error()))
	}
	return lines
}

func (m *Model) tableView() []string {
	st := m.ctx.Styles
	c := m.columns()
	header := "  " + c.cells("SNAPSHOT", "SIZE", "TAKEN", "VER", "MODULE", "MADE BY", "NOTE")
	lines := []string{st.Header.Render(header)}

	h := m.listHeight()
	end := min(m.offset+h, len(m.rows))
	for i := m.offset; i < end; i++ {
		lines = append(lines, m.rowView(m.rows[i], i == m.cursor, c))
	}
	if len(m.rows) == 0 && m.filter.Value() != "" {
		lines = append(lines, "", st.Warn.Render(fmt.Sprintf("  no matches for %q — esc clears the filter", m.filter.Value())))
	}
	for len(lines) < h+1 {
		lines = append(lines, "")
	}
	lines = append(lines, m.footer())
	return lines
}

func (m *Model) rowView(r row, selected bool, c columns) string {
	st := m.ctx.Styles
	if r.heading() {
		label := "◆ " + r.canister
		if len(r.names) > 0 {
			label += "  " + strings.Join(r.names, ", ")
		}
		return st.Accent.Render(render.Fit(label, m.width))
	}
	s := r.snap
	// The cursor and the marks are glyphs as well as styles, so they
	// survive NO_COLOR and plain-text captures.
	prefix := []rune("  ")
	if selected {
		prefix[0] = '▸'
	}
	if m.isMarked(s.ID) {
		prefix[1] = '●'
	}
	tree := strings.Repeat("  ", r.depth)
	if r.branch {
		tree = strings.Repeat("  ", r.depth-1) + "└ "
	}
	line := string(prefix) + c.cells("  "+tree+s.Ref(), render.Bytes(s.HeapBytes+s.StableBytes), m.when(*s),
		fmt.Sprint(s.CanisterVersion), s.ModuleHash.Short(), string(s.MadeBy), s.Note)
	switch {
	case selected:
		return st.Selected.Render(render.Fit(line, m.width))
	case m.isMarked(s.ID):
		return st.Marked.Render(line)
	}
	return st.Text.Render(line)
}

// when is the snapshot's time: when the replica took it, else when
// canscope made it.
func (m *Model) when(s snapshots.Snapshot) string {
	t := s.CreatedAt
	if s.TakenAt != 0 {
		t = time.Unix(0, int64(s.TakenAt))
	}
	if t.IsZero() {
		return "—"
	}
	return render.Ago(t, m.ctx.Now())
}

func (m *Model) isMarked(id snapshots.ID) bool { return slices.Contains(m.marked, id) }

func (m *Model) footer() string {
	st := m.ctx.Styles
	if m.filtering || m.filter.Value() != "" {
		return m.filter.View()
	}
	if m.err != nil {
		return st.Error.Render("error: " + m.err.Error())
	}
	if m.notice != "" {
		return st.Warn.Render(m.notice)
	}
	canisters := 0
	for _, r := range m.tree {
		if r.heading() {
			canisters++
		}
	}
	text := fmt.Sprintf("%d snapshots of %d canisters", len(m.all), canisters)
	if len(m.marked) > 0 {
		text += fmt.Sprintf(" · %d marked for diff", len(m.marked))
	}
	return st.Muted.Render(text)
}
