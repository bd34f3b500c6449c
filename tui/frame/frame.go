// Package frame is what every screen of the terminal UI shares: the
// context (size, styles, keymap, sources, clock), the Screen interface the
// root model routes between, and the typed messages screens return to ask
// for navigation. It is a leaf package so screens never import each other
// or the root.
package frame

import (
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/keys"
	"github.com/canscope/canscope/tui/source"
)

// Context is shared by the root and every screen. The root owns it and
// updates the size; screens read it.
type Context struct {
	Width, Height int // the whole terminal
	Styles        themes.Styles
	Keys          keys.KeyMap
	Sources       source.Set
	StorePath     string
	// Now is the clock for humanized times; tests fix it so goldens do
	// not age.
	Now func() time.Time
	// Clipboard is set once the terminal reported that it takes OSC 52
	// clipboard writes (XTGETTCAP Ms); without it screens do not claim
	// to have copied anything.
	Clipboard bool
}

// NewInput returns a text input in the theme's input style, so every
// screen's inputs look alike. Screens restyle their inputs in SetSize,
// which the root calls after a theme switch.
func (c *Context) NewInput(prompt, placeholder string) textinput.Model {
	t := textinput.New()
	t.SetStyles(c.Styles.Input)
	t.Prompt = prompt
	t.Placeholder = placeholder
	return t
}

// NewSpinner returns the spinner screens show while background work
// runs.
func (c *Context) NewSpinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.Accent))
}

// Screen is one page of the UI. Screens render strings; only the root
// returns a tea.View.
type Screen interface {
	// Init returns the screen's first command (usually a load).
	Init() tea.Cmd
	// Update handles a message and returns the next command.
	Update(msg tea.Msg) tea.Cmd
	// View renders the body, exactly the size last given to SetSize.
	View() string
	// SetSize gives the body's size (the terminal minus the top bar and
	// status line). The root also calls it after switching theme, so
	// screens that keep styled sub-models restyle them here.
	SetSize(width, height int)
	// Title is shown in the top bar.
	Title() string
	// Bindings are the keys the screen honours right now, for help.
	Bindings() []key.Binding
	// Scrolls reports whether movement keys apply, for help.
	Scrolls() bool
	// Capturing reports whether the screen takes every key itself (a text
	// input or a confirmation has focus), so the root passes q, ? and esc
	// through instead of acting on them; only ctrl+c still quits.
	Capturing() bool
}

// Backer is implemented by screens that undo something of their own on
// esc before closing (clear an applied filter, stop a search): Back
// reports whether it did, else the root closes the screen.
type Backer interface {
	Back() bool
}

// Clicker is implemented by screens whose rows can be picked with the
// mouse: Click gets the cell clicked, relative to the screen's body (row 0
// is its first line).
type Clicker interface {
	Click(x, y int) tea.Cmd
}

// Closer is implemented by screens holding background work (a run) that
// must stop when the screen is closed.
type Closer interface {
	Close()
}

// OpenDetailMsg asks the root to open a snapshot's detail screen.
type OpenDetailMsg struct{ ID snapshots.ID }

// OpenDiffMsg asks the root to diff two snapshots (A older, B newer).
type OpenDiffMsg struct{ A, B snapshots.ID }

// OpenRunMsg asks the root to open the run form on a snapshot.
type OpenRunMsg struct{ ID snapshots.ID }

// OpenRestoreMsg asks the root to open fork/restore for a snapshot.
type OpenRestoreMsg struct{ ID snapshots.ID }

// OpenHeadroomMsg asks the root to open the headroom of the lineage
// (the snapshots named Name).
type OpenHeadroomMsg struct{ Name string }

// BackMsg asks the root to close the current screen.
type BackMsg struct{}

// StoreChangedMsg tells every screen that the store gained snapshots
// (a fork, a checkpoint, the demo) so lists reload.
type StoreChangedMsg struct{}

// Nav returns a command that delivers msg, for screens asking the root
// to navigate.
func Nav(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
