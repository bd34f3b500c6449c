package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/keys"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/screens/detail"
	"github.com/canscope/canscope/tui/screens/diff"
	"github.com/canscope/canscope/tui/screens/headroom"
	"github.com/canscope/canscope/tui/screens/lineage"
	"github.com/canscope/canscope/tui/screens/restore"
	"github.com/canscope/canscope/tui/screens/run"
	"github.com/canscope/canscope/tui/source"
)

// Smallest usable terminal; below it the UI asks for a bigger window
// instead of drawing a broken layout.
const (
	minWidth  = 40
	minHeight = 10
)

// Options configure the UI.
type Options struct {
	Sources   source.Set
	StorePath string
	Theme     themes.Theme
	// AutoTheme lets the UI switch Theme to the light theme when the
	// terminal reports a light background; set it when the user did not
	// name a theme.
	AutoTheme bool
	// Now is the clock for humanized times; nil means time.Now.
	Now func() time.Time
}

// Model is the root model: it owns the shared context, routes messages to
// a stack of screens (esc pops), draws the top bar, the status line and
// the help overlay, and is the only model that returns a tea.View.
type Model struct {
	ctx       *frame.Context
	stack     []frame.Screen
	help      help.Model
	showHelp  bool
	autoTheme bool
	noColor   bool
	// quitting is set when the user quits: the screens are closed (their
	// sessions released) but Bubble Tea still draws one last frame, which
	// must not ask a closed screen to render.
	quitting bool
}

// New returns the root model showing the snapshots screen.
func New(opts Options) *Model {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctx := &frame.Context{
		Styles:    opts.Theme.Styles(),
		Keys:      keys.DefaultKeyMap(),
		Sources:   opts.Sources,
		StorePath: opts.StorePath,
		Now:       now,
	}
	h := help.New()
	h.Styles = ctx.Styles.Help
	return &Model{ctx: ctx, stack: []frame.Screen{lineage.New(ctx)}, help: h, autoTheme: opts.AutoTheme, noColor: opts.Theme.NoColor}
}

// Run opens the UI on the terminal and returns when the user quits or
// ctx is cancelled. Either way the screens' background work is stopped and
// their sessions released before it returns, so the caller can close the
// engine and the store behind them.
func Run(ctx context.Context, opts Options, programOpts ...tea.ProgramOption) error {
	m := New(opts)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, programOpts...)...)
	_, err := p.Run()
	m.closeAll() // after a cancel or a panic too, not only on q
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic):
		return nil // the caller cancelled
	}
	return fmt.Errorf("terminal UI: %w", err)
}

// Init implements tea.Model. With AutoTheme it also asks the terminal
// for its background colour.
func (m *Model) Init() tea.Cmd {
	// Ms is the terminfo capability of OSC 52 clipboard writes: a
	// terminal that has it answers, and only then do screens say they
	// copied something.
	cmds := []tea.Cmd{m.top().Init(), tea.RequestCapability("Ms")}
	if m.autoTheme {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// setTheme restyles the UI: the shared styles, the help, and every
// screen through SetSize.
func (m *Model) setTheme(t themes.Theme) {
	t.NoColor = m.noColor
	m.ctx.Styles = t.Styles()
	m.help.Styles = m.ctx.Styles.Help
	for _, s := range m.stack {
		s.SetSize(m.bodySize())
	}
}

func (m *Model) top() frame.Screen { return m.stack[len(m.stack)-1] }

// bodySize is the screens' area: the terminal minus top bar and status line.
func (m *Model) bodySize() (int, int) { return m.ctx.Width, max(m.ctx.Height-2, 1) }

// push opens a screen on top of the stack.
func (m *Model) push(s frame.Screen) tea.Cmd {
	s.SetSize(m.bodySize())
	m.stack = append(m.stack, s)
	return s.Init()
}

// pop closes the top screen; the snapshots screen is never closed.
func (m *Model) pop() {
	if len(m.stack) == 1 {
		return
	}
	if c, ok := m.top().(frame.Closer); ok {
		c.Close()
	}
	m.stack = m.stack[:len(m.stack)-1]
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		for _, s := range m.stack {
			s.SetSize(m.bodySize())
		}
		return m, nil
	case tea.BackgroundColorMsg:
		if m.autoTheme && !msg.IsDark() {
			if light, err := themes.Lookup("light"); err == nil {
				m.setTheme(light)
			}
		}
		m.autoTheme = false // decided once, at start-up
		return m, nil
	case tea.CapabilityMsg:
		if strings.HasPrefix(msg.Content, "Ms") {
			m.ctx.Clipboard = true
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.MouseWheelMsg:
		return m, m.wheel(msg)
	case tea.MouseClickMsg:
		if c, ok := m.top().(frame.Clicker); ok && msg.Button == tea.MouseLeft && !m.showHelp && msg.Y >= 1 {
			return m, c.Click(msg.X, msg.Y-1) // the top bar is row 0
		}
		return m, nil
	case frame.OpenDetailMsg:
		return m, m.push(detail.New(m.ctx, msg.ID))
	case frame.OpenDiffMsg:
		return m, m.push(diff.New(m.ctx, msg.A, msg.B))
	case frame.OpenRunMsg:
		return m, m.push(run.New(m.ctx, msg.ID))
	case frame.OpenRestoreMsg:
		return m, m.push(restore.New(m.ctx, msg.ID))
	case frame.OpenHeadroomMsg:
		return m, m.push(headroom.New(m.ctx, msg.Name))
	case frame.BackMsg:
		m.pop()
		return m, nil
	}
	// Results of background work go to every open screen: each screen
	// acts only on its own message types, and the one that asked may no
	// longer be on top.
	var cmds []tea.Cmd
	for _, s := range m.stack {
		cmds = append(cmds, s.Update(msg))
	}
	return m, tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	if key.Matches(msg, k.Interrupt) {
		return m.quit()
	}
	if m.top().Capturing() {
		return m.top().Update(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = !m.showHelp
		return nil
	case m.showHelp && key.Matches(msg, k.Back):
		m.showHelp = false
		return nil
	case key.Matches(msg, k.Back):
		if b, ok := m.top().(frame.Backer); ok && b.Back() {
			return nil
		}
		m.pop()
		return nil
	}
	m.showHelp = false
	return m.top().Update(msg)
}

// wheelStep is how many rows one wheel notch scrolls.
const wheelStep = 3

// wheel scrolls the screen on top as the arrow keys do, so every list,
// the timeline and the hex scroll alike; the keyboard stays primary.
func (m *Model) wheel(msg tea.MouseWheelMsg) tea.Cmd {
	if m.showHelp || m.top().Capturing() {
		return nil
	}
	code := tea.KeyDown
	switch msg.Button {
	case tea.MouseWheelUp:
		code = tea.KeyUp
	case tea.MouseWheelDown:
	default:
		return nil
	}
	var cmds []tea.Cmd
	for range wheelStep {
		cmds = append(cmds, m.top().Update(tea.KeyPressMsg{Code: code}))
	}
	return tea.Batch(cmds...)
}

// quit stops every screen's background work and ends the program.
func (m *Model) quit() tea.Cmd {
	m.quitting = true
	m.closeAll()
	return tea.Quit
}

// closeAll stops background work before quitting; closing twice is
// harmless.
func (m *Model) closeAll() {
	for _, s := range m.stack {
		if c, ok := s.(frame.Closer); ok {
			c.Close()
		}
	}
}

// helpKeys is the keymap view for the screen on top.
func (m *Model) helpKeys() help.KeyMap {
	if m.top().Capturing() {
		// A text input has the keys: q and ? type themselves, only
		// ctrl+c still quits.
		quit := key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))
		return keys.Help{Screen: m.top().Bindings(), Global: []key.Binding{quit}}
	}
	return m.ctx.Keys.For(m.top().Bindings(), m.top().Scrolls())
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	// Wheel and click; most terminals still select text with shift+drag.
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "canscope · " + m.top().Title()
	return v
}

// Render draws the whole screen as a string, exactly the terminal's size.
func (m *Model) Render() string {
	st := m.ctx.Styles
	w, h := m.ctx.Width, m.ctx.Height
	if m.quitting {
		// The last frame, after the screens were closed: blank, the
		// terminal is restored right after.
		return render.Block(nil, max(w, 1), max(h, 1))
	}
	if w < minWidth || h < minHeight {
		return render.Block([]string{
			st.Warn.Render("terminal too small:"),
			st.Warn.Render(fmt.Sprintf("%dx%d, need %dx%d", w, h, minWidth, minHeight)),
			"", "q quits",
		}, max(w, 1), max(h, 1))
	}
	body := m.top().View()
	if m.showHelp {
		body = m.overlay()
	}
	return m.topBar() + "\n" + body + "\n" + m.statusLine()
}

// topBar shows where the user is: the titles of the open screens.
func (m *Model) topBar() string {
	st := m.ctx.Styles
	titles := make([]string, len(m.stack))
	for i, s := range m.stack {
		titles[i] = s.Title()
	}
	crumbs := strings.Join(titles[:len(titles)-1], " › ")
	if crumbs != "" {
		crumbs += " › "
	}
	line := st.Title.Render(" canscope ") + st.Muted.Render(crumbs) + st.Accent.Render(titles[len(titles)-1])
	return st.TopBar.Render(render.Fit(line, m.ctx.Width))
}

// statusLine shows the store and the keys of the screen on top.
func (m *Model) statusLine() string {
	st := m.ctx.Styles
	store := " " + m.ctx.StorePath + " "
	maxStore := m.ctx.Width / 3
	if lipgloss.Width(store) > maxStore {
		store = " …" + tail(m.ctx.StorePath, maxStore-3) + " "
	}
	h := m.help
	h.SetWidth(m.ctx.Width - lipgloss.Width(store) - 1)
	hints := h.ShortHelpView(m.helpKeys().ShortHelp())
	return st.Status.Render(render.Fit(st.StatusKey.Render(store)+" "+hints, m.ctx.Width))
}

// tail returns the last n cells of s.
func tail(s string, n int) string {
	r := []rune(s)
	if n <= 0 {
		return ""
	}
	if len(r) <= n {
		return s
	}
	return string(r[len(r)-n:])
}

// overlay is the help box over the body: every key of the current screen,
// generated from the same bindings the screen handles.
func (m *Model) overlay() string {
	st := m.ctx.Styles
	w, h := m.bodySize()
	hm := m.help
	hm.ShowAll = true
	hm.SetWidth(w - 6)
	content := st.Title.Render("Keys · "+m.top().Title()) + "\n\n" + hm.FullHelpView(m.helpKeys().FullHelp()) +
		"\n\n" + st.Muted.Render("? or esc closes this help")
	box := st.Overlay.MaxWidth(w).Render(content)
	// On a small terminal the box can be taller than the body: clip it
	// so the frame keeps its size (the top of the help stays visible).
	placed := lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box)
	return render.Block(strings.Split(placed, "\n"), w, h)
}
