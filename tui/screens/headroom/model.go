// Package headroom is the headroom screen of a lineage (the snapshots
// that share a name): every snapshot's upgrade rehearsed, each limit's use
// today and where its trend against memory and time reaches the limit,
// and a chart of the limits nearest to theirs, as `canscope headroom NAME`
// prints them. Nothing is written.
package headroom

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/canscope/canscope/tui/chart"
	"github.com/canscope/canscope/tui/frame"
	"github.com/canscope/canscope/tui/render"
	"github.com/canscope/canscope/tui/source"
)

// chartRows is the chart's height: room for the plot, its caption and
// legend, leaving the limits' lines below it.
const chartRows = 12

// doneMsg is the headroom of the lineage, for the screen that asked (the
// root hands results to every open screen).
type doneMsg struct {
	owner  *Model
	job    int
	report source.HeadroomReport
	err    error
}

// progressMsg is how many snapshots of the lineage are rehearsed.
type progressMsg struct {
	owner       *Model
	job         int
	done, total int
	next        tea.Cmd // waits for what follows
}

// Model is the headroom screen of one lineage.
type Model struct {
	ctx           *frame.Context
	name          string
	width, height int

	job    frame.Job
	spin   spinner.Model
	report *source.HeadroomReport
	err    error
	notice string
	offset int

	done, total int // snapshots rehearsed so far, of total
}

// New returns the headroom screen of the snapshots named name; Init
// starts the rehearsals.
func New(ctx *frame.Context, name string) *Model {
	return &Model{ctx: ctx, name: name, spin: ctx.NewSpinner()}
}

// Title implements frame.Screen.
func (m *Model) Title() string { return "Headroom " + m.name }

// Scrolls implements frame.Screen.
func (m *Model) Scrolls() bool { return true }

// Capturing implements frame.Screen.
func (m *Model) Capturing() bool { return false }

// Bindings implements frame.Screen.
func (m *Model) Bindings() []key.Binding {
	k := m.ctx.Keys
	if m.job.Running() {
		return []key.Binding{k.Cancel, k.Back}
	}
	return []key.Binding{k.Rehearse, k.Back}
}

// SetSize implements frame.Screen.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.spin.Style = m.ctx.Styles.Accent
	m.scroll(0)
}

// Init implements frame.Screen.
func (m *Model) Init() tea.Cmd { return m.start() }

// start rehearses the lineage in the background; x or closing the screen
// cancels it.
func (m *Model) start() tea.Cmd {
	src, name := m.ctx.Sources.Headroom, m.name
	ctx, job := m.job.Start(context.Background())
	m.err, m.notice, m.done, m.total = nil, "", 0, 0
	// Progress goes through a small buffer and is dropped when it is
	// full (a newer count follows); the end always arrives.
	updates := make(chan tea.Msg, 4)
	end := make(chan tea.Msg, 1)
	go func() {
		rep, err := src.Headroom(ctx, name, func(done, total int) {
			select {
			case updates <- progressMsg{owner: m, job: job, done: done, total: total}:
			default:
			}
		})
		end <- doneMsg{owner: m, job: job, report: rep, err: err}
	}()
	return tea.Batch(m.wait(updates, end), m.spin.Tick)
}

// wait delivers the next progress count (carrying the wait for the one
// after it), or the end once the counts sent before it are delivered.
func (m *Model) wait(updates, end chan tea.Msg) tea.Cmd {
	next := func(u tea.Msg) tea.Msg {
		p := u.(progressMsg)
		p.next = m.wait(updates, end)
		return p
	}
	return func() tea.Msg {
		select {
		case u := <-updates:
			return next(u)
		case d := <-end:
			select {
			case u := <-updates:
				end <- d
				return next(u)
			default:
				return d
			}
		}
	}
}

// Close implements frame.Closer: rehearsals still running are cancelled.
func (m *Model) Close() { m.job.Stop() }

// Update implements frame.Screen.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case doneMsg:
		if msg.owner != m || !m.job.Finish(msg.job) {
			return nil
		}
		if msg.err != nil {
			m.err = fmt.Errorf("headroom of %s: %w", m.name, msg.err)
			return nil
		}
		m.report, m.offset = &msg.report, 0
	case progressMsg:
		if msg.owner != m || !m.job.Current(msg.job) {
			return nil
		}
		m.done, m.total = msg.done, msg.total
		return msg.next
	case spinner.TickMsg:
		if m.job.Running() {
			var cmd tea.Cmd
			m.spin, cmd = m.spin.Update(msg)
			return cmd
		}
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	}
	return nil
}

func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.ctx.Keys
	page := max(m.height-1, 1)
	switch {
	case key.Matches(msg, k.Cancel) && m.job.Running():
		m.job.Stop()
		m.notice = "headroom cancelled: r runs it again"
	case key.Matches(msg, k.Rehearse) && !m.job.Running():
		return m.start()
	default:
		if d, ok := k.Scroll(msg, page); ok {
			m.scroll(d)
		}
	}
	return nil
}

func (m *Model) scroll(delta int) {
	m.offset = render.Clamp(m.offset+delta, 0, max(len(m.lines())-m.height, 0))
}

// View implements frame.Screen: the lines from the scroll offset; when
// more follow, the last row says how many.
func (m *Model) View() string {
	lines := m.lines()
	if m.height > 0 && len(lines) > m.height {
		end := min(m.offset+m.height, len(lines))
		rest := len(lines) - end
		lines = lines[m.offset:end]
		if rest > 0 {
			lines[len(lines)-1] = m.ctx.Styles.Muted.Render(fmt.Sprintf("… %d more lines (↓ scrolls)", rest+1))
		}
	}
	return render.Block(lines, m.width, m.height)
}

// lines is the whole screen: the summary, failed rehearsals, the chart,
// then each limit's use and trend.
func (m *Model) lines() []string {
	st := m.ctx.Styles
	var lines []string
	switch {
	case m.err != nil:
		return m.wrapIn(st.Error, "error: "+m.err.Error())
	case m.report == nil && m.job.Running():
		count := ""
		if m.total > 0 {
			count = fmt.Sprintf(": %d of %d done", m.done, m.total)
		}
		return append(m.wrap(m.spin.View()+" rehearsing the upgrade of every snapshot named "+m.name+
			" (each twice, as upgrade --rehearse; cached ones are instant)"+count+" …"), "", st.Muted.Render("x cancels"))
	case m.report == nil:
		return []string{st.Warn.Render(m.notice)}
	}
	r := m.report
	lines = append(lines, m.wrapIn(st.Header, r.Summary)...)
	// A failure's first line here; a longer error (a backtrace, the
	// replica's advice) follows whole at the bottom, and the line says so.
	var long []string
	for _, f := range r.Failures {
		first, _, more := strings.Cut(f, "\n")
		if more {
			first += " (whole error at the bottom)"
			long = append(long, f)
		}
		lines = append(lines, m.wrapIn(st.Error, first)...)
	}
	if r.Note != "" {
		lines = append(lines, m.wrapIn(st.Warn, "note: "+r.Note)...)
	}
	if m.notice != "" {
		lines = append(lines, st.Warn.Render(m.notice))
	}
	if r.Points >= 2 {
		lines = append(lines, "")
		if c := chart.Usage(r.Series, chart.Caption(r.Points, r.Name), m.width, chartRows); c != "" {
			lines = append(lines, strings.Split(strings.TrimRight(c, "\n"), "\n")...)
		}
	}
	lines = append(lines, "")
	for _, l := range r.Limits {
		lines = append(lines, m.wrap(st.Accent.Render(l.Name)+": "+l.Use)...)
		lines = append(lines, m.wrap("  "+strings.Join(l.Trend, "; "))...)
	}
	for _, f := range long {
		lines = append(lines, "")
		for _, l := range strings.Split(f, "\n") {
			lines = append(lines, m.wrapIn(st.Muted, l)...)
		}
	}
	return lines
}

// wrap breaks text to the screen's width, continuation lines indented
// as the first.
func (m *Model) wrap(text string) []string {
	body := strings.TrimLeft(text, " ")
	indent := text[:len(text)-len(body)]
	out := strings.Split(ansi.Wrap(body, max(m.width-len(indent), 10), ""), "\n")
	for i := range out {
		out[i] = indent + out[i]
	}
	return out
}

// wrapIn is wrap with each line in style.
func (m *Model) wrapIn(style interface{ Render(...string) string }, text string) []string {
	out := m.wrap(text)
	for i, l := range out {
		out[i] = style.Render(l)
	}
	return out
}
