// Package keys is the terminal UI's one keymap. Every screen matches keys
// against these bindings and lists the ones it honours, so the `?` overlay
// and the status-line hints are generated from the same place the keys are
// handled and cannot drift from them.
package keys

import (
	"fmt"
	"math"
	"slices"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
)

// KeyMap holds every binding of the UI. Screens receive it through the
// shared context; there is no package-level keymap to mutate.
type KeyMap struct {
	// Global.
	Quit key.Binding
	// Interrupt quits even while a screen captures keys (a text input
	// has focus and takes q, ? and esc itself).
	Interrupt key.Binding
	Help      key.Binding
	Back      key.Binding

	// Movement.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	// Snapshots.
	Open   key.Binding
	Filter key.Binding
	// FilterApply and FilterClear are enter and esc while filtering.
	FilterApply key.Binding
	FilterClear key.Binding
	Mark        key.Binding
	Diff        key.Binding
	Run         key.Binding
	Fork        key.Binding
	Headroom    key.Binding
	Demo        key.Binding
	Reload      key.Binding

	// Detail.
	NextSection key.Binding
	ZoomIn      key.Binding
	ZoomOut     key.Binding

	// Diff.
	NextChange  key.Binding
	PrevChange  key.Binding
	FirstChange key.Binding
	LastChange  key.Binding
	GoTo        key.Binding
	Search      key.Binding

	// Run / step.
	StepForward  key.Binding
	StepBack     key.Binding
	NextCall     key.Binding
	PrevCall     key.Binding
	Trap         key.Binding
	Checkpoint   key.Binding
	Cancel       key.Binding
	NextField    key.Binding
	PrevField    key.Binding
	Toggle       key.Binding
	Submit       key.Binding
	Confirm      key.Binding
	Copy         key.Binding
	SwitchAction key.Binding

	// Transplant (on the restore screen).
	Force    key.Binding
	Rehearse key.Binding
	Export   key.Binding
}

// DefaultKeyMap returns the standard bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, helpKey, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
	}
	return KeyMap{
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Interrupt: b([]string{"ctrl+c"}, "ctrl+c", "quit, even from a text input"),
		Help:      b([]string{"?"}, "?", "help"),
		Back:      b([]string{"esc"}, "esc", "back"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),

		Open:        b([]string{"enter"}, "enter", "open"),
		Filter:      b([]string{"/"}, "/", "filter"),
		FilterApply: b([]string{"enter"}, "enter", "keep the filter"),
		FilterClear: b([]string{"esc"}, "esc", "clear the filter"),
		Mark:        b([]string{"space"}, "space", "mark for diff"),
		Diff:        b([]string{"d"}, "d", "diff marked"),
		Run:         b([]string{"r"}, "r", "run / upgrade"),
		Fork:        b([]string{"f"}, "f", "fork / restore"),
		Headroom:    b([]string{"H"}, "H", "headroom"),
		Demo:        b([]string{"D"}, "D", "load demo"),
		Reload:      b([]string{"ctrl+r"}, "ctrl+r", "reload"),

		NextSection: b([]string{"tab"}, "tab", "next section"),
		ZoomIn:      b([]string{"+", "="}, "+", "zoom in"),
		ZoomOut:     b([]string{"-"}, "-", "zoom out"),

		NextChange: b([]string{"n"}, "n", "next change"),
		PrevChange: b([]string{"N"}, "N", "prev change"),
		// g and G on the diff: its "top" and "bottom" are the first and
		// last change.
		FirstChange: b([]string{"home", "g"}, "g", "first change"),
		LastChange:  b([]string{"end", "G"}, "G", "last change"),
		GoTo:        b([]string{":"}, ":", "go to offset"),
		Search:      b([]string{"/"}, "/", "search bytes or text"),

		StepForward:  b([]string{"right", "l"}, "→", "step"),
		StepBack:     b([]string{"left", "h"}, "←", "step back"),
		NextCall:     b([]string{"]"}, "]", "next System API call"),
		PrevCall:     b([]string{"["}, "[", "prev System API call"),
		Trap:         b([]string{"t"}, "t", "jump to trap"),
		Checkpoint:   b([]string{"c"}, "c", "save checkpoint"),
		Cancel:       b([]string{"x"}, "x", "cancel run"),
		NextField:    b([]string{"tab"}, "tab", "next field"),
		PrevField:    b([]string{"shift+tab"}, "shift+tab", "prev field"),
		Toggle:       b([]string{"space"}, "space", "toggle"),
		Submit:       b([]string{"enter"}, "enter", "start / next"),
		Confirm:      b([]string{"y"}, "y", "confirm"),
		Copy:         b([]string{"c"}, "c", "copy commands"),
		SwitchAction: b([]string{"tab"}, "tab", "fork / restore / transplant"),

		Force:    b([]string{"F"}, "F", "force past failed checks"),
		Rehearse: b([]string{"r"}, "r", "rehearse again"),
		Export:   b([]string{"e"}, "e", "export for dfx"),
	}
}

// Global returns the bindings every screen honours.
func (k KeyMap) Global() []key.Binding { return []key.Binding{k.Help, k.Back, k.Quit} }

// Movement returns the list-movement bindings.
func (k KeyMap) Movement() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}

// Scroll returns how far a Movement key moves a view scrolled by lines:
// one line, page lines, or to the top or bottom (math.MinInt32 /
// math.MaxInt32, for the caller to clamp); ok is false for other keys.
func (k KeyMap) Scroll(msg fmt.Stringer, page int) (delta int, ok bool) {
	switch {
	case key.Matches(msg, k.Up):
		return -1, true
	case key.Matches(msg, k.Down):
		return 1, true
	case key.Matches(msg, k.PageUp):
		return -page, true
	case key.Matches(msg, k.PageDown):
		return page, true
	case key.Matches(msg, k.Top):
		return math.MinInt32, true
	case key.Matches(msg, k.Bottom):
		return math.MaxInt32, true
	}
	return 0, false
}

// For returns the help for a screen: its own bindings first, then
// movement when the screen scrolls, then the global ones.
func (k KeyMap) For(screen []key.Binding, scrolls bool) help.KeyMap {
	// A global key a screen also lists (esc in a form) is shown once.
	var global []key.Binding
	for _, g := range k.Global() {
		dup := false
		for _, s := range screen {
			dup = dup || s.Help().Key == g.Help().Key
		}
		if !dup {
			global = append(global, g)
		}
	}
	h := Help{Screen: screen, Global: global}
	if scrolls {
		// A movement key the screen gives its own meaning (g on the
		// diff) is shown once, with the screen's.
		for _, mv := range k.Movement() {
			if !slices.ContainsFunc(screen, func(s key.Binding) bool { return s.Help().Key == mv.Help().Key }) {
				h.Movement = append(h.Movement, mv)
			}
		}
	}
	return h
}

// Help is a screen's view of the keymap, as the help bubble wants it.
type Help struct {
	Screen   []key.Binding
	Movement []key.Binding
	Global   []key.Binding
}

// ShortHelp is the status-line hint: help first (the line is cut on
// narrow terminals, and ? leads to everything else), then the screen's
// keys, then the rest of the global ones.
func (h Help) ShortHelp() []key.Binding {
	var out, rest []key.Binding
	for _, b := range h.Global {
		if b.Help().Key == "?" {
			out = append(out, b)
		} else {
			rest = append(rest, b)
		}
	}
	out = append(out, h.Screen...)
	return append(out, rest...)
}

// FullHelp is the `?` overlay: one column per group.
func (h Help) FullHelp() [][]key.Binding {
	var cols [][]key.Binding
	for _, g := range [][]key.Binding{h.Screen, h.Movement, h.Global} {
		if len(g) > 0 {
			cols = append(cols, g)
		}
	}
	return cols
}
