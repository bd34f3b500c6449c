// Package diff is the diff screen: what changed between two snapshots
// (heap and stable ranges from the manifests, globals, metadata) and a
// side-by-side hex view of one changed page at a time, with the differing
// bytes highlighted. Only the page on screen is read from the store.
package diff

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

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

	// prompt is the : (go to offset) or / (search) input; asking says
	// which has focus, 0 for neither.
	prompt textinput.Model
	asking rune
	// wantRow is the hex row to show when the page being read arrives
	// (a jump or a match), -1 for the first differing row.
	wantRow int
	// notice is the outcome of the last jump or search.
	notice string
	search frame.Job // the / search running in the background
}

// searchMsg is the outcome of a / search.
type searchMsg struct {
	owner *Model
	seq   int
	found bool
	mem   memory
	off   uint64
	what  string
	pages int // stored pages searched
	err   error
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
	return &Model{ctx: ctx, idA: a, idB: b, wantRow: -1, prompt: ctx.NewInput("", "")}
}

// Back implements frame.Backer: esc stops a running search first.
func (m *Model) Back() bool {
	if !m.search.Running() {
		return false
	}
	m.stopSearch()
	m.notice = "search stopped"
	return true
}

// Close implements frame.Closer: a search still running stops.
func (m *Model) Close() { m.stopSearch() }

func (m *Model) stopSearch() { m.search.Stop() }

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
func (m *Model) Capturing() bool { return m.asking != 0 }

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	if m.asking != 0 {
		return []key.Binding{k.Submit, k.Back}
	}
	return []key.Binding{k.NextChange, k.PrevChange, k.FirstChange, k.LastChange, k.GoTo, k.Search}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.prompt.SetWidth(max(w-30, 10))
	m.prompt.SetStyles(m.ctx.Styles.Input)
	m.clampRow()
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd {
	src := m.ctx.Sources
	a, b := m.idA, m.idB
	return func() tea.Msg {
		ma, err := src.Catalog.Manifest(a)
		if err != nil {
			return &loadedMsg{owner: m, err: fmt.Errorf("read snapshot %s: %w", a.Short(), err)}
		}
		mb, err := src.Catalog.Manifest(b)
		if err != nil {
			return &loadedMsg{owner: m, err: fmt.Errorf("read snapshot %s: %w", b.Short(), err)}
		}
		out := &loadedMsg{owner: m, a: ma, b: mb, changes: snapshots.Diff(ma, mb)}
		if len(out.changes.Stable.Ranges) > 0 {
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
			if m.wantRow >= 0 {
				m.row, m.wantRow = m.wantRow, -1
			}
			m.clampRow()
		}
	case searchMsg:
		if msg.owner != m || !m.search.Finish(msg.seq) {
			return nil
		}
		switch {
		case msg.err != nil:
			m.notice = "search: " + msg.err.Error()
		case !msg.found:
			m.notice = fmt.Sprintf("no %s in %s memory of %s after this row (%s with data searched; zero pages hold none)",
				msg.what, msg.mem, m.data.b.Ref(), render.Count(msg.pages, "page"))
		default:
			m.notice = fmt.Sprintf("%s found at %#x", msg.what, msg.off)
			return m.show(msg.mem, msg.off)
		}
	case tea.KeyPressMsg:
		if m.asking != 0 {
			return m.updatePrompt(msg)
		}
		return m.updateKey(msg)
	}
	return nil
}

// updatePrompt handles a key while the : or / input has focus.
func (m *Model) updatePrompt(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back):
		m.asking = 0
		m.prompt.Blur()
		return nil
	case key.Matches(msg, k.Submit):
		text := strings.TrimSpace(m.prompt.Value())
		asking := m.asking
		m.asking = 0
		m.prompt.Blur()
		if text == "" {
			return nil
		}
		if asking == ':' {
			return m.goToOffset(text)
		}
		return m.startSearch(text)
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(msg)
	return cmd
}

// ask focuses the prompt for : or /.
func (m *Model) ask(which rune) tea.Cmd {
	m.asking = which
	m.notice = ""
	m.prompt.SetValue("")
	if which == ':' {
		m.prompt.Prompt = "go to offset: "
		m.prompt.Placeholder = "0x10000 or 65536; prefix heap or stable to switch memory"
	} else {
		m.stopSearch()
		m.prompt.Prompt = "search: "
		m.prompt.Placeholder = "hex bytes (de ad be ef) or text (\"transfer\")"
	}
	return m.prompt.Focus()
}

// goToOffset shows the page holding an offset typed as "0x3e90010",
// "4096", "stable 0x100000000" or "heap 0x30000".
func (m *Model) goToOffset(text string) tea.Cmd {
	mem := m.at.mem
	fields := strings.Fields(text)
	if len(fields) == 2 {
		switch fields[0] {
		case "heap", "h":
			mem = heap
		case "stable", "s":
			mem = stable
		default:
			m.notice = fmt.Sprintf("go to %q: name the memory heap or stable, then the offset", text)
			return nil
		}
		fields = fields[1:]
	}
	if len(fields) != 1 {
		m.notice = fmt.Sprintf("go to %q: give one offset, e.g. 0x10000 or stable 0x100000000", text)
		return nil
	}
	off, err := strconv.ParseUint(fields[0], 0, 64)
	if err != nil {
		m.notice = fmt.Sprintf("go to %q: not an offset (hex with 0x, or decimal)", text)
		return nil
	}
	size := max(m.table(mem, 0).Size, m.table(mem, 1).Size)
	if off >= size {
		m.notice = fmt.Sprintf("go to %#x: past the end of %s memory (%s on the larger side)", off, mem, render.Bytes(size))
		return nil
	}
	return m.show(mem, off)
}

// show moves to the page holding off in mem with off's row on screen.
func (m *Model) show(mem memory, off uint64) tea.Cmd {
	page := off / snapshots.PageSize
	at := m.walk.at(mem, page)
	m.wantRow = int(off%snapshots.PageSize) / m.perRow()
	if at == m.at && m.page != nil {
		m.row, m.wantRow = m.wantRow, -1
		m.clampRow()
		return nil
	}
	return m.goTo(at)
}

// table is side's (0: a, 1: b) page table of mem.
func (m *Model) table(mem memory, side int) snapshots.PageTable {
	return m.walk.tables[mem][side]
}

// pattern reads a search as hex bytes ("de ad be ef", "0xdeadbeef") or,
// quoted or otherwise, as text.
func pattern(text string) ([]byte, string) {
	if q, err := strconv.Unquote(text); err == nil && strings.HasPrefix(text, "\"") {
		return []byte(q), strconv.Quote(q)
	}
	digits := strings.TrimPrefix(strings.ReplaceAll(text, " ", ""), "0x")
	if b, err := hex.DecodeString(digits); err == nil && len(b) > 0 {
		return b, "bytes " + hex.EncodeToString(b)
	}
	return []byte(text), strconv.Quote(text)
}

// startSearch looks for text in the newer snapshot's current memory
// after the row on screen, in the background; esc or closing stops it.
func (m *Model) startSearch(text string) tea.Cmd {
	pat, what := pattern(text)
	if len(bytes.Trim(pat, "\x00")) == 0 {
		m.notice = "search for zeros: zero pages are not stored, so they cannot be searched; search for a byte that is not zero"
		return nil
	}
	ctx, seq := m.search.Start(context.Background())
	m.notice = "searching for " + what + " … (esc stops)"
	mem := m.at.mem
	from := m.at.page*snapshots.PageSize + uint64(m.row*m.perRow()) + 1
	t, cat := m.table(mem, 1), m.ctx.Sources.Catalog
	return func() tea.Msg {
		out := searchMsg{owner: m, seq: seq, mem: mem, what: what}
		out.found, out.off, out.pages, out.err = find(ctx, cat, t, pat, from)
		return out
	}
}

// find returns the first offset at or after from where pat occurs in the
// memory t describes, reading only its stored pages (a match may span two
// adjacent ones), and how many pages it read.
func find(ctx context.Context, r snapshots.PageReader, t snapshots.PageTable, pat []byte, from uint64) (bool, uint64, int, error) {
	buf := make([]byte, snapshots.PageSize)
	var carry []byte // the previous stored page's tail, when adjacent
	var prev uint64
	read := 0
	for i, p := range t.Pages {
		if (p.Index+1)*snapshots.PageSize <= from {
			continue
		}
		if err := ctx.Err(); err != nil {
			return false, 0, read, errors.New("stopped")
		}
		if err := r.ReadPage(p.Hash, buf); err != nil {
			return false, 0, read, err
		}
		read++
		base := p.Index * snapshots.PageSize
		hay := buf
		if carry != nil && i > 0 && prev+1 == p.Index {
			hay = append(append([]byte{}, carry...), buf...)
			base -= uint64(len(carry))
		}
		for at := 0; ; {
			k := bytes.Index(hay[at:], pat)
			if k < 0 {
				break
			}
			if off := base + uint64(at+k); off >= from {
				return true, off, read, nil
			}
			at += k + 1
		}
		carry = append(carry[:0], buf[len(buf)-min(len(pat)-1, len(buf)):]...)
		prev = p.Index
	}
	return false, 0, read, nil
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.data == nil || m.data.err != nil {
		return nil
	}
	k := m.ctx.Keys
	m.notice = ""
	switch {
	case key.Matches(msg, k.GoTo):
		return m.ask(':')
	case key.Matches(msg, k.Search):
		return m.ask('/')
	case key.Matches(msg, k.NextChange):
		return m.goTo(m.walk.next(m.at))
	case key.Matches(msg, k.PrevChange):
		return m.goTo(m.walk.prev(m.at))
	case key.Matches(msg, k.FirstChange):
		return m.goTo(m.walk.first())
	case key.Matches(msg, k.LastChange):
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
	// A page only one side has differs everywhere: show where its data
	// starts instead of its first (often zero) row.
	if (a == nil) != (b == nil) {
		only := a
		if only == nil {
			only = b
		}
		for r := 0; r < rows; r++ {
			if slices.ContainsFunc(only[r*perRow:(r+1)*perRow], func(c byte) bool { return c != 0 }) {
				return r
			}
		}
		return 0
	}
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
	if m.wide() || m.width >= render.HexRowWidth(16, false) {
		return 16
	}
	return 8
}

// ascii reports whether the hex rows have room for their text columns.
func (m *Model) ascii() bool {
	if m.wide() {
		return m.width-render.HexRowWidth(16, true)-2 >= 50
	}
	return m.width >= render.HexRowWidth(m.perRow(), true)
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
		return max(m.height-3-m.noteLines()-len(m.footer()), 1)
	}
	return max(m.height-1-m.listHeight()-3-m.noteLines()-len(m.footer()), 1)
}

// noteLines is 1 when the current stop is in an added or removed range,
// whose note line (pages with data, zero pages skipped) the hex view
// shows, else 0.
func (m *Model) noteLines() int {
	if !m.at.valid || m.at.rng < 0 || m.rangeAt().Kind == snapshots.RangeChanged {
		return 0
	}
	return 1
}

// footer is the line under the hex: the : or / prompt, or the outcome of
// the last jump or search.
func (m *Model) footer() []string {
	switch {
	case m.asking != 0:
		return []string{m.prompt.View()}
	case m.notice != "":
		// Two lines at most; the notices are written to fit in them.
		lines := strings.Split(ansi.Wrap(m.notice, max(m.width, 1), ""), "\n")
		for i := range lines {
			lines[i] = m.ctx.Styles.Warn.Render(lines[i])
		}
		return lines[:min(len(lines), 2)]
	}
	return nil
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
		listW := m.width - render.HexRowWidth(16, m.ascii()) - 2
		list := render.Block(m.listLines(m.height-1, listW), listW, m.height-1)
		hex := render.Block(append(m.hexLines(), m.footer()...), m.width-listW-2, m.height-1)
		return render.Block([]string{summary}, m.width, 1) + "\n" + joinColumns(list, hex, "  ")
	}
	lines := []string{summary}
	lines = append(lines, m.listLines(m.listHeight(), m.width)...)
	lines = append(lines, "")
	hexL := m.hexLines()
	lines = append(lines, hexL...)
	if f := m.footer(); len(f) > 0 {
		// The footer sits on the last row, under a short page too.
		for len(lines) < m.height-len(f) {
			lines = append(lines, "")
		}
		lines = append(lines[:min(len(lines), m.height-len(f))], f...)
	}
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
		if len(d.Ranges) == 1 {
			return fmt.Sprintf("%s %s", name, render.Count(int(d.ChangedPages), "page"))
		}
		return fmt.Sprintf("%s %s in %s", name, render.Count(int(d.ChangedPages), "page"), render.Count(len(d.Ranges), "range"))
	}
	text := mem("heap", c.Heap) + " · " + mem("stable", c.Stable)
	if len(c.Globals) > 0 {
		text += " · " + render.Count(len(c.Globals), "global")
	}
	if len(c.Metadata) > 0 {
		text += fmt.Sprintf(" · metadata %d", len(c.Metadata))
	}
	if m.data.labelErr != nil {
		text += " · stable layout unknown"
	}
	return st.Header.Render(text)
}

func (m *Model) listLines(height, width int) []string {
	st := m.ctx.Styles
	cur := -1 // no range is current on a page outside every change
	for i, it := range m.items {
		if it.rng >= 0 && it.rng == m.at.rng && it.mem == m.at.mem {
			cur = i
		}
	}
	if cur < 0 && !m.walk.first().valid {
		cur = 0 // nothing to walk: the list is what the screen shows
	}
	off := render.Offset(max(cur, 0), 0, height, len(m.items))
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
	if p.at.rng < 0 {
		head += " · not a change"
	}
	if m.at.mem == stable && m.data.label != nil {
		if l := m.data.label(base, base+snapshots.PageSize); l != "" {
			head += " · " + l
		}
	}
	half := (render.HexRowWidth(per, m.ascii()) - 12 - 3) / 2
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
		lines = append(lines, render.HexRow(p.a, p.b, base, r, per, m.ascii(), st))
	}
	return lines
}
