package themes

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Styles is every style the terminal UI draws with, built from one theme.
// Screens take it from their shared context and never build their own, so
// switching theme (or NO_COLOR) restyles everything at once.
type Styles struct {
	Title    lipgloss.Style // the screen title in the top bar
	TopBar   lipgloss.Style // the top bar behind the title
	Header   lipgloss.Style // table column headers and section headings
	Text     lipgloss.Style // body text
	Muted    lipgloss.Style // secondary text
	Accent   lipgloss.Style // emphasised text: names, selected options
	Selected lipgloss.Style // the cursor row
	Marked   lipgloss.Style // rows marked for a diff
	OK       lipgloss.Style // success
	Warn     lipgloss.Style // attention
	Error    lipgloss.Style // traps and failures

	Pane        lipgloss.Style // a bordered pane without focus
	PaneFocused lipgloss.Style // the pane that has focus
	Status      lipgloss.Style // the status line
	StatusKey   lipgloss.Style // key hints inside the status line
	Overlay     lipgloss.Style // the help overlay box

	CellZero    lipgloss.Style // page-map cell: no stored page
	CellData    lipgloss.Style // page-map cell: data, same as the parent
	CellChanged lipgloss.Style // page-map cell: differs from the parent
	HexSame     lipgloss.Style // a hex byte equal on both sides
	HexChanged  lipgloss.Style // a hex byte that differs
	BarFill     lipgloss.Style // filled part of a bar
	BarEmpty    lipgloss.Style // empty part of a bar

	Help  help.Styles      // the help bubble (overlay and status hints)
	Input textinput.Styles // text inputs (filter, names, paths)
}

// Styles builds the style set for the theme. With NoColor every style keeps
// its text attributes and drops its colours, so the UI stays readable: page
// maps and bars also differ by glyph, never by colour alone.
func (t Theme) Styles() Styles {
	p := t.Palette
	fg := func(c color.Color) lipgloss.Style {
		if t.NoColor {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(c)
	}
	fgbg := func(f, b color.Color) lipgloss.Style {
		if t.NoColor {
			return lipgloss.NewStyle().Reverse(true)
		}
		return lipgloss.NewStyle().Foreground(f).Background(b)
	}
	border := func(c color.Color) lipgloss.Style {
		s := lipgloss.NewStyle().Border(lipgloss.RoundedBorder())
		if !t.NoColor {
			s = s.BorderForeground(c)
		}
		return s
	}

	s := Styles{
		Title:       fg(p.Accent).Bold(true),
		TopBar:      fg(p.Text),
		Header:      fg(p.Muted).Bold(true),
		Text:        fg(p.Text),
		Muted:       fg(p.Muted),
		Accent:      fg(p.Accent).Bold(true),
		Selected:    fgbg(p.SelectFG, p.SelectBG).Bold(true),
		Marked:      fg(p.Marked).Bold(true),
		OK:          fg(p.OK),
		Warn:        fg(p.Warn),
		Error:       fg(p.Error).Bold(true),
		Pane:        border(p.Border),
		PaneFocused: border(p.Accent),
		Status:      fgbg(p.StatusFG, p.StatusBG),
		StatusKey:   fgbg(p.Accent, p.StatusBG).Bold(true),
		Overlay:     border(p.Accent).Padding(0, 1),
		CellZero:    fg(p.Zero),
		CellData:    fg(p.Data),
		CellChanged: fg(p.Changed).Bold(true),
		HexSame:     fg(p.Text),
		HexChanged:  fgbg(p.Changed, p.ChangedBG).Bold(true),
		BarFill:     fg(p.BarFill),
		BarEmpty:    fg(p.BarEmpty),
	}
	if !t.NoColor {
		s.Overlay = s.Overlay.Background(p.OverlayBG).Foreground(p.OverlayFG)
	}

	s.Help = help.Styles{
		ShortKey:       fg(p.Accent),
		ShortDesc:      fg(p.Muted),
		ShortSeparator: fg(p.Border),
		Ellipsis:       fg(p.Border),
		FullKey:        fg(p.OverlayKey).Bold(true),
		FullDesc:       fg(p.OverlayFG),
		FullSeparator:  fg(p.Border),
	}

	state := textinput.StyleState{
		Text:        fg(p.Text),
		Placeholder: fg(p.Muted),
		Suggestion:  fg(p.Muted),
		Prompt:      fg(p.Accent),
	}
	s.Input = textinput.Styles{
		Focused: state,
		Blurred: textinput.StyleState{Text: fg(p.Muted), Placeholder: fg(p.Muted), Suggestion: fg(p.Muted), Prompt: fg(p.Muted)},
		// A steady cursor: blinking costs a timer per input and makes
		// screen captures depend on when they were taken.
		Cursor: textinput.CursorStyle{Color: p.Accent, Shape: tea.CursorBlock, Blink: false},
	}
	return s
}
