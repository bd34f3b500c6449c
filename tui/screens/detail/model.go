// Package detail is the snapshot detail screen: metadata, globals, the
// module's exports and candid interface, and heap and stable page maps
// (zero / data / changed against the parent) drawn from the manifest alone.
package detail

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// mapRows is how many rows a page map takes at the default zoom: the
// whole memory at a glance, whatever its size.
const mapRows = 8

// loadedMsg carries what the screen shows, read once, and the screen
// that asked: the root hands results to every open screen, and a closed
// detail screen's late result must not land in the next one.
type loadedMsg struct {
	owner         *Model
	job           int
	m             *snapshots.Manifest
	parent        *snapshots.Manifest // nil without a parent in the store
	parentErr     error
	module        source.ModuleInfo
	moduleErr     error
	moduleSize    int
	heapChanged   []uint64
	stableChanged []uint64
	layout        source.StableLayout // what owns stable memory, when recognised
	layoutErr     error
	err           error
}

// Model is the detail screen of one snapshot.
type Model struct {
	ctx           *frame.Context
	id            snapshots.ID
	width, height int

	data   *loadedMsg
	job    frame.Job // the load
	doc    document
	offset int
	zoom   int // 0 fits each map in mapRows; +1 halves the pages per cell
}

// New returns the detail screen for a snapshot; Init loads it.
func New(ctx *frame.Context, id snapshots.ID) *Model {
	return &Model{ctx: ctx, id: id}
}

// Title implements frame.Screen.
func (m *Model) Title() string {
	if m.data != nil && m.data.m != nil {
		return "Snapshot " + m.data.m.Ref()
	}
	return "Snapshot " + m.id.Short()
}

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return true }

// Capturing implements frame.Screen.
func (m *Model) Capturing() bool { return false }

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	return []key.Binding{k.NextSection, k.ZoomIn, k.ZoomOut, k.Run, k.Fork}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.build()
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd {
	src := m.ctx.Sources
	id := m.id
	// The load is a job: a reload (the store changed) supersedes it, and
	// closing the screen makes its late result stale.
	_, tag := m.job.Start(context.Background())
	return func() tea.Msg {
		msg := load(src, id)
		msg.owner, msg.job = m, tag
		return msg
	}
}

// Close implements frame.Closer: a load still running is dropped.
func (m *Model) Close() { m.job.Stop() }

// load reads the manifest, its parent's manifest and the module; only the
// missing manifest is fatal, the rest degrades to a note in the view.
func load(src source.Set, id snapshots.ID) *loadedMsg {
	m, err := src.Catalog.Manifest(id)
	if err != nil {
		return &loadedMsg{err: fmt.Errorf("read snapshot %s: %w", id.Short(), err)}
	}
	out := &loadedMsg{m: m}
	if m.Parent != nil {
		out.parent, out.parentErr = src.Catalog.Manifest(*m.Parent)
		if out.parentErr == nil {
			out.heapChanged = render.ChangedPages(out.parent.Heap, m.Heap)
			out.stableChanged = render.ChangedPages(out.parent.Stable, m.Stable)
		}
	}
	// An empty stable memory still has a layout to show for a Motoko
	// module with enhanced orthogonal persistence (its variables live in
	// the heap); for any other an empty memory says nothing.
	if src.Labeller != nil {
		out.layout, out.layoutErr = src.Labeller(m, src.Catalog)
	}
	if m.Stable.Size == 0 && out.layoutErr != nil {
		out.layoutErr = nil
	}
	switch {
	case m.Module.IsZero():
		out.moduleErr = fmt.Errorf("the snapshot has no module")
	default:
		b, err := src.Catalog.ReadBlob(m.Module)
		if err != nil {
			out.moduleErr = fmt.Errorf("read module %s: %w", m.Module.Short(), err)
			break
		}
		out.moduleSize = len(b)
		out.module, out.moduleErr = src.Inspect(b)
	}
	return out
}

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case *loadedMsg:
		if msg.owner != m || !m.job.Finish(msg.job) {
			return nil
		}
		m.data = msg
		m.build()
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return nil
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	page := max(m.height-1, 1)
	switch {
	case key.Matches(msg, k.NextSection):
		m.nextSection()
	case key.Matches(msg, k.ZoomIn):
		m.zoom = min(m.zoom+1, 24)
		m.build()
	case key.Matches(msg, k.ZoomOut):
		m.zoom = max(m.zoom-1, -8)
		m.build()
	case key.Matches(msg, k.Run):
		return frame.Nav(frame.OpenRunMsg{ID: m.id})
	case key.Matches(msg, k.Fork):
		return frame.Nav(frame.OpenRestoreMsg{ID: m.id})
	default:
		if d, ok := k.Scroll(msg, page); ok {
			m.scroll(d)
		}
	}
	return nil
}

func (m *Model) scroll(delta int) {
	m.offset = render.Clamp(m.offset+delta, 0, max(m.doc.Len()-m.height, 0))
}

// nextSection scrolls to the next section heading, wrapping to the top.
func (m *Model) nextSection() {
	last := max(m.doc.Len()-m.height, 0)
	for _, at := range m.doc.Sections() {
		if min(at, last) > m.offset {
			m.offset = min(at, last)
			return
		}
	}
	m.offset = 0
}

// View implements frame.Screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	switch {
	case m.data == nil:
		return render.Block([]string{st.Muted.Render("reading manifest " + m.id.Short() + " …")}, m.width, m.height)
	case m.data.err != nil:
		return render.Block([]string{st.Error.Render("error: " + m.data.err.Error()), "", st.Muted.Render("esc goes back")}, m.width, m.height)
	}
	return render.Block(m.doc.Lines(m.offset, m.height), m.width, m.height)
}

// build lays out the document for the current width and zoom.
func (m *Model) build() {
	if m.data == nil || m.data.err != nil || m.width <= 0 {
		m.doc = nil
		return
	}
	d := m.data
	st := m.ctx.Styles
	// The page maps come before the module: exports and candid can run
	// to pages, and the maps are what an incident needs at a glance.
	doc := document{
		textSeg{title: "metadata", lines: m.metadataLines()},
		textSeg{title: "globals", lines: m.globalLines()},
	}
	cols := max(m.width-render.RowPrefixWidth-1, 1)
	for _, mem := range []struct {
		name    string
		table   snapshots.PageTable
		changed []uint64
	}{{"HEAP", d.m.Heap, d.heapChanged}, {"STABLE MEMORY", d.m.Stable, d.stableChanged}} {
		per := render.FitPerCell(mem.table.NumPages(), cols, mapRows)
		switch {
		case m.zoom > 0:
			per = max(per>>uint(m.zoom), 1)
		case m.zoom < 0:
			per <<= uint(-m.zoom)
		}
		pm := render.NewPageMap(mem.table, mem.changed, per)
		head := fmt.Sprintf("%s  %s · %d of %d pages stored", mem.name, render.Bytes(mem.table.Size),
			len(mem.table.Pages), mem.table.NumPages())
		switch {
		case d.parent != nil:
			head += fmt.Sprintf(" · %d changed vs %s", len(mem.changed), d.parent.Ref())
		case d.parentErr != nil:
			head += " · parent unreadable"
		}
		lines := []string{st.Header.Render(head)}
		if mem.name == "STABLE MEMORY" {
			switch {
			case d.layout.Summary != "":
				lines = append(lines, st.Accent.Render("layout: "+d.layout.Summary))
				for _, l := range d.layout.Lines {
					lines = append(lines, st.Text.Render("  "+l))
				}
			case d.layoutErr != nil:
				lines = append(lines, st.Muted.Render("layout: "+d.layoutErr.Error()))
			}
		}
		lines = append(lines, st.Muted.Render(pm.Legend(st)))
		if mem.table.Size == 0 {
			lines = append(lines, st.Muted.Render("(empty)"))
		}
		doc = append(doc, textSeg{title: strings.ToLower(mem.name), lines: lines}, mapSeg{pm: pm, cols: cols, st: st}, textSeg{lines: []string{""}})
	}
	m.doc = append(doc, textSeg{title: "module", lines: m.moduleLines()})
	m.scroll(0)
}

func (m *Model) metadataLines() []string {
	st := m.ctx.Styles
	s := m.data.m
	kv := func(k, v string) string { return st.Muted.Render(fmt.Sprintf("%-16s", k)) + st.Text.Render(v) }
	lines := []string{
		st.Header.Render("METADATA"),
		kv("reference", st.Accent.Render(s.Ref())),
		kv("id", s.ID.String()),
		kv("canister", s.CanisterID),
		kv("made by", m.madeBy()),
		kv("created", m.timeText(s.CreatedAt)),
	}
	if s.TakenAt != 0 {
		lines = append(lines, kv("taken at", m.timeText(time.Unix(0, int64(s.TakenAt)))))
	}
	module := s.ModuleHash.String()
	if m.data.moduleSize > 0 {
		module += " (" + render.Bytes(uint64(m.data.moduleSize)) + ")"
	}
	lines = append(lines,
		kv("version", fmt.Sprint(s.CanisterVersion)),
		kv("module hash", module),
		kv("heap", render.Bytes(s.Heap.Size)+", "+render.Count(len(s.Heap.Pages), "page")+" stored"),
		kv("stable memory", render.Bytes(s.Stable.Size)+", "+render.Count(len(s.Stable.Pages), "page")+" stored"),
		kv("certified data", certified(s.CertifiedData)),
		kv("global timer", m.timer(s.GlobalTimer)),
		kv("chunk store", render.Count(len(s.Chunks), "chunk")),
	)
	if s.LowWasmMemoryHook != "" {
		lines = append(lines, kv("low-memory hook", s.LowWasmMemoryHook))
	}
	if s.Note != "" {
		lines = append(lines, kv("note", s.Note))
	}
	return append(lines, "")
}

func (m *Model) madeBy() string {
	d := m.data
	text := string(d.m.MadeBy)
	switch {
	case d.parent != nil && d.m.ForkedFrom != nil:
		text += " (forked from " + d.parent.Ref() + ")"
	case d.parent != nil:
		text += " (parent " + d.parent.Ref() + ")"
	case d.m.Parent != nil:
		text += " (parent " + d.m.Parent.Short() + ", not in this store)"
	}
	return text
}

func (m *Model) timeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + render.Ago(t, m.ctx.Now()) + ")"
}

func (m *Model) timer(t snapshots.TimerState) string {
	switch {
	case t.Unknown:
		return "unknown (null in metadata.json)"
	case !t.Active:
		return "inactive"
	}
	return "active, fires " + m.timeText(time.Unix(0, int64(t.Deadline)))
}

func certified(b []byte) string {
	if len(b) == 0 {
		return "none"
	}
	return hex.EncodeToString(b)
}

func (m *Model) globalLines() []string {
	st := m.ctx.Styles
	g := m.data.m.Globals
	lines := []string{st.Header.Render(fmt.Sprintf("GLOBALS  %d", len(g)))}
	if len(g) == 0 {
		lines = append(lines, st.Muted.Render("none"))
	}
	for i, v := range g {
		lines = append(lines, fmt.Sprintf("%3d  %-5s %s", i, v.Kind, v.Value()))
	}
	return append(lines, "")
}

func (m *Model) moduleLines() []string {
	st := m.ctx.Styles
	d := m.data
	lines := []string{st.Header.Render("MODULE")}
	if d.moduleErr != nil {
		return append(lines, st.Warn.Render("exports and candid interface unavailable: "+d.moduleErr.Error()), "")
	}
	lines = append(lines, st.Muted.Render(fmt.Sprintf("exports (%d)", len(d.module.Exports))))
	for _, e := range d.module.Exports {
		lines = append(lines, "  "+e)
	}
	if len(d.module.Metadata) > 0 {
		lines = append(lines, st.Muted.Render("metadata sections: ")+strings.Join(d.module.Metadata, ", "))
	}
	if d.module.Candid == "" {
		lines = append(lines, st.Muted.Render("candid interface: none (no candid:service metadata)"))
	} else {
		lines = append(lines, st.Muted.Render("candid interface"))
		for _, l := range strings.Split(strings.TrimRight(d.module.Candid, "\n"), "\n") {
			lines = append(lines, "  "+l)
		}
	}
	return append(lines, "")
}
