// Package diff is the diff screen: what changed between two snapshots
// (heap and stable ranges from the manifests, globals, metadata) and a
// side-by-side hex view of one changed page at a time, with the differing
// bytes highlighted. Only the page on screen is read from the store.
package diff

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// loadedMsg carries the two manifests and their diff. Like pageMsg it
// names the screen that asked: the root hands results to every open
// screen, and a closed diff's late result must not land in the next one.
type loadedMsg struct {
	owner    *Model
	a, b     *snapshots.Manifest
	changes  *snapshots.Changes
	label    func(start, end uint64) string // what owns a stable range; nil without a labeller
	labelErr error
	err      error
}

// pageMsg carries the bytes of one page on both sides.
type pageMsg struct {
	owner *Model
	at    stop
	a, b  []byte // nil when the page is past that side's memory
	err   error
}

// Model is the diff screen of two snapshots.
type Model struct {
	ctx           *frame.Context
	idA, idB      snapshots.ID
	width, height int

	data  *loadedMsg
	walk  stops
	at    stop
	page  *pageMsg
	row   int // first hex row shown
	items []item
}

// item is one line of the change list: a range, a global or a metadata key.
type item struct {
	mem  memory
	rng  int // -1 for globals and metadata lines
	text string
	kind snapshots.RangeKind
}

// New returns the diff screen for a (older) and b (newer).
func New(ctx *frame.Context, a, b snapshots.ID) *Model {
	return &Model{ctx: ctx, idA: a, idB: b}
}

// Title implements frame.Screen.
func (m *Model) Title() string {
	if m.data != nil && m.data.err == nil {
		return "Diff " + m.data.a.Ref() + " → " + m.data.b.Ref()
	}
	return "Diff " + m.idA.Short() + " → " + m.idB.Short()
}

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return true }

// Capturing implements frame.Screen.
func (m *Model) Capturing() bool { return false }

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.NextChange, k.PrevChange}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clampRow()
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd {
	src := m.ctx.Sources
	a, b := m.idA, m.idB
	return func() tea.Msg {
		if src.Catalog == nil {
			return &loadedMsg{owner: m, err: fmt.Errorf("no snapshot store is open")}
		}
		ma, err := src.Catalog.Manifest(a)
		if err != nil {
			return &loadedMsg{owner: m, err: fmt.Errorf("read snapshot %s: %w", a.Short(), err)}
		}
		mb, err := src.Catalog.Manifest(b)
		if err != nil {
			return &loadedMsg{owner: m, err: fmt.Errorf("read snapshot %s: %w", b.Short(), err)}
		}
		out := &loadedMsg{owner: m, a: ma, b: mb, changes: snapshots.Diff(ma, mb)}
		if src.Labeller != nil && len(out.changes.Stable.Ranges) > 0 {
			var lay source.StableLayout
			lay, out.labelErr = src.Labeller(mb, src.Catalog)
			out.label = lay.Label
		}
		return out
	}
}

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case *loadedMsg:
		if msg.owner != m {
			return nil
		}
		m.data = msg
		if msg.err != nil {
			return nil
		}
		m.walk = stops{
			mems:   [2][]snapshots.Range{msg.changes.Heap.Ranges, msg.changes.Stable.Ranges},
			tables: [2][2]snapshots.PageTable{{msg.a.Heap, msg.b.Heap}, {msg.a.Stable, msg.b.Stable}},
		}
		m.items = m.buildItems()
		return m.goTo(m.walk.first())
	case *pageMsg:
		if msg.owner == m && msg.at == m.at {
			m.page = msg
			m.row = firstDiffRow(msg.a, msg.b, m.perRow())
			m.clampRow()
		}
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return nil
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.data == nil || m.data.err != nil {
		return nil
	}
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.NextChange):
		return m.goTo(m.walk.next(m.at))
	case key.Matches(msg, k.PrevChange):
		return m.goTo(m.walk.prev(m.at))
	case key.Matches(msg, k.Top):
		return m.goTo(m.walk.first())
	case key.Matches(msg, k.Bottom):
		return m.goTo(m.walk.last())
	case key.Matches(msg, k.Up):
		m.row--
	case key.Matches(msg, k.Down):
		m.row++
	case key.Matches(msg, k.PageUp):
		m.row -= max(m.hexHeight()-1, 1)
	case key.Matches(msg, k.PageDown):
		m.row += max(m.hexHeight()-1, 1)
	}
	m.clampRow()
	return nil
}

// goTo moves to a stop and reads its page on both sides.
func (m *Model) goTo(at stop) tea.Cmd {
	if !at.valid || (at == m.at && m.page != nil) {
		return nil
	}
	m.at = at
	m.page = nil
	cat := m.ctx.Sources.Catalog
	ta, tb := m.data.a.Heap, m.data.b.Heap
	if at.mem == stable {
		ta, tb = m.data.a.Stable, m.data.b.Stable
	}
	refA, refB := m.data.a.Ref(), m.data.b.Ref()
	return func() tea.Msg {
		out := &pageMsg{owner: m, at: at}
		var err error
		if out.a, err = readPage(cat, ta, at.page); err != nil {
			out.err = fmt.Errorf("read %s page %d of %s: %w", at.mem, at.page, refA, err)
			return out
		}
		if out.b, err = readPage(cat, tb, at.page); err != nil {
			out.err = fmt.Errorf("read %s page %d of %s: %w", at.mem, at.page, refB, err)
		}
		return out
	}
}

// readPage returns page idx of a memory: zeros when not stored, nil when
// past the memory's end (the side that lacks an added or removed range).
func readPage(r snapshots.PageReader, t snapshots.PageTable, idx uint64) ([]byte, error) {
	if idx >= t.NumPages() {
		return nil, nil
	}
	buf := make([]byte, snapshots.PageSize)
	h := t.Lookup(idx)
	if h.IsZero() {
		return buf, nil
	}
	if err := r.ReadPage(h, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func firstDiffRow(a, b []byte, perRow int) int {
	rows := snapshots.PageSize / perRow
	for r := 0; r < rows; r++ {
		if render.HexRowDiffers(a, b, r, perRow) {
			return r
		}
	}
	return 0
}

// wide reports whether the list and the hex fit side by side.
func (m *Model) wide() bool { return m.width >= 140 }

func (m *Model) perRow() int {
	if m.wide() || m.width >= render.HexRowWidth(16) {
		return 16
	}
	return 8
}

// listHeight is the change list's height in the stacked layout.
func (m *Model) listHeight() int {
	if m.wide() {
		return m.height - 1
	}
	return render.Clamp(len(m.items), 1, max(m.height/3, 3))
}

// hexHeight is the number of hex rows shown.
func (m *Model) hexHeight() int {
	if m.wide() {
		return max(m.height-3-m.noteLines(), 1)
	}
	return max(m.height-1-m.listHeight()-3-m.noteLines(), 1)
}

// noteLines is 1 when the current stop is in an added or removed range,
// whose note line (pages with data, zero pages skipped) the hex view
// shows, else 0.
func (m *Model) noteLines() int {
	if !m.at.valid || m.rangeAt().Kind == snapshots.RangeChanged {
		return 0
	}
	return 1
}

func (m *Model) clampRow() {
	rows := snapshots.PageSize / m.perRow()
	m.row = render.Clamp(m.row, 0, max(rows-m.hexHeight(), 0))
}

func (m *Model) buildItems() []item {
	c := m.data.changes
	var out []item
	for _, mem := range []memory{heap, stable} {
		d := c.Heap
		if mem == stable {
			d = c.Stable
		}
		for i, r := range d.Ranges {
			text := fmt.Sprintf("%-6s %#x–%#x %s %s", mem, r.Start, r.End, render.Bytes(r.End-r.Start), r.Kind)
			if r.Kind != snapshots.RangeChanged {
				text += " · " + render.Count(int(m.walk.dataPages(mem, i)), "page") + " with data"
			}
			if mem == stable && m.data.label != nil {
				if l := m.data.label(r.Start, r.End); l != "" {
					text += " · " + l
				}
			}
			out = append(out, item{mem: mem, rng: i, text: text, kind: r.Kind})
		}
	}
	for _, g := range c.Globals {
		out = append(out, item{rng: -1, text: fmt.Sprintf("global %d: %s → %s", g.Index, globalText(g.A), globalText(g.B))})
	}
	for _, md := range c.Metadata {
		out = append(out, item{rng: -1, text: fmt.Sprintf("%s: %v → %v", md.Key, metaText(md.A), metaText(md.B))})
	}
	return out
}

func globalText(g *snapshots.Global) string {
	if g == nil {
		return "absent"
	}
	return g.String()
}

// metaText formats a metadata value, shortening hashes to 12 digits.
func metaText(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 16 && strings.Trim(s, "0123456789abcdef") == "" && strings.ContainsAny(s, "abcdef") {
		return s[:12] + "…"
	}
	return s
}

// View implements frame.Screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	switch {
	case m.data == nil:
		return render.Block([]string{st.Muted.Render("reading manifests …")}, m.width, m.height)
	case m.data.err != nil:
		return render.Block([]string{st.Error.Render("error: " + m.data.err.Error()), "", st.Muted.Render("esc goes back")}, m.width, m.height)
	}
	summary := m.summary()
	if len(m.items) == 0 {
		return render.Block([]string{summary, "", st.OK.Render("The two snapshots hold the same state.")}, m.width, m.height)
	}
	if !m.walk.first().valid {
		// Only the module, globals or metadata differ (a transplant
		// against its parent): list them, there is no page to show.
		lines := []string{summary, "", st.OK.Render("No page differs: heap and stable memory are the same."), ""}
		lines = append(lines, m.listLines(m.height-len(lines), m.width)...)
		return render.Block(lines, m.width, m.height)
	}
	if m.wide() {
		listW := m.width - render.HexRowWidth(16) - 2
		list := render.Block(m.listLines(m.height-1, listW), listW, m.height-1)
		hex := render.Block(m.hexLines(), m.width-listW-2, m.height-1)
		return render.Block([]string{summary}, m.width, 1) + "\n" + joinColumns(list, hex, "  ")
	}
	lines := []string{summary}
	lines = append(lines, m.listLines(m.listHeight(), m.width)...)
	lines = append(lines, "")
	lines = append(lines, m.hexLines()...)
	return render.Block(lines, m.width, m.height)
}

// joinColumns puts two blocks of equal height side by side.
func joinColumns(left, right, gap string) string {
	l, r := strings.Split(left, "\n"), strings.Split(right, "\n")
	for i := range l {
		if i < len(r) {
			l[i] += gap + r[i]
		}
	}
	return strings.Join(l, "\n")
}

// rangeAt is the range of the current stop.
func (m *Model) rangeAt() snapshots.Range {
	return m.walk.mems[m.at.mem][m.at.rng]
}

// differs says how many things differ, with the verb agreeing: "1 page
// differs", "3 bytes differ".
func differs(n int, noun string) string {
	if n == 1 {
		return render.Count(n, noun) + " differs"
	}
	return render.Count(n, noun) + " differ"
}

func (m *Model) summary() string {
	st := m.ctx.Styles
	c := m.data.changes
	mem := func(name string, d snapshots.MemDiff) string {
		if len(d.Ranges) == 0 {
			return name + " same"
		}
		return fmt.Sprintf("%s %s in %s", name, render.Count(int(d.ChangedPages), "page"), render.Count(len(d.Ranges), "range"))
	}
	text := fmt.Sprintf("%s · %s · %s · metadata %d",
		mem("heap", c.Heap), mem("stable", c.Stable), render.Count(len(c.Globals), "global"), len(c.Metadata))
	if m.data.labelErr != nil {
		text += " · no stable-structures labels"
	}
	return st.Header.Render(text)
}

func (m *Model) listLines(height, width int) []string {
	st := m.ctx.Styles
	cur := 0
	for i, it := range m.items {
		if it.rng == m.at.rng && it.mem == m.at.mem {
			cur = i
		}
	}
	off := render.Offset(cur, 0, height, len(m.items))
	var lines []string
	for i := off; i < len(m.items) && len(lines) < height; i++ {
		it := m.items[i]
		style := st.Text
		switch {
		case i == cur:
			lines = append(lines, st.Selected.Render(render.Fit("▸ "+it.text, width)))
			continue
		case it.kind == snapshots.RangeAdded:
			style = st.OK
		case it.kind == snapshots.RangeRemoved:
			style = st.Error
		case it.rng < 0:
			style = st.Muted
		}
		lines = append(lines, style.Render("  "+it.text))
	}
	return lines
}

func (m *Model) hexLines() []string {
	st := m.ctx.Styles
	p := m.page
	if p == nil {
		return []string{st.Muted.Render(fmt.Sprintf("reading %s page %d …", m.at.mem, m.at.page))}
	}
	if p.err != nil {
		return []string{st.Error.Render("error: " + p.err.Error())}
	}
	per := m.perRow()
	base := p.at.page * snapshots.PageSize
	differ := 0
	for i := 0; i < snapshots.PageSize; i++ {
		if (p.a == nil) != (p.b == nil) || (p.a != nil && p.a[i] != p.b[i]) {
			differ++
		}
	}
	head := fmt.Sprintf("%s page %d at 0x%x · %s", p.at.mem, p.at.page, base, differs(differ, "byte"))
	if m.at.mem == stable && m.data.label != nil {
		if l := m.data.label(base, base+snapshots.PageSize); l != "" {
			head += " · " + l
		}
	}
	half := (render.HexRowWidth(per) - 12 - 3) / 2
	cols := strings.Repeat(" ", 12) + render.Fit(m.data.a.Ref(), half) + "   " + render.Fit(m.data.b.Ref(), half)
	lines := []string{st.Header.Render(head)}
	if m.noteLines() > 0 {
		// An added or removed range shows only its pages with data: say
		// where this one is among them and how many zero pages were
		// skipped, so nothing is silently left out.
		note := fmt.Sprintf("%s range: page %d of %d with data", m.rangeAt().Kind, m.walk.ordinal(m.at), m.walk.dataPages(m.at.mem, m.at.rng))
		if z := m.walk.zeroPages(m.at.mem, m.at.rng); z > 0 {
			note += fmt.Sprintf(" · %s skipped", render.Count(int(z), "zero page"))
		}
		lines = append(lines, st.Warn.Render(note))
	}
	lines = append(lines, st.Muted.Render(cols))
	for r := m.row; r < m.row+m.hexHeight() && r < snapshots.PageSize/per; r++ {
		lines = append(lines, render.HexRow(p.a, p.b, base, r, per, st))
	}
	return lines
}
