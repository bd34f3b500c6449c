// Package themes holds canscope's colour themes and turns one into the
// styles the terminal UI draws with. Every lipgloss style the UI uses is
// built here from a theme's semantic tokens, so a new theme is a new
// palette and nothing else.
package themes

import (
	"fmt"
	"image/color"
	"maps"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
)

// Default is the theme used when neither --theme nor $CANSCOPE_THEME names one.
const Default = "dark"

// Palette is a theme's semantic colour tokens: what a colour means, not
// which colour it is. Styles derive every colour from these.
type Palette struct {
	Text       color.Color // body text
	Muted      color.Color // secondary text: column headers, hints, units
	Accent     color.Color // titles, keys in help, the focused pane
	Border     color.Color // pane borders and separators
	SelectFG   color.Color // the cursor row's text
	SelectBG   color.Color // the cursor row's background
	Marked     color.Color // rows marked for a diff
	OK         color.Color // success: replies, completed work
	Warn       color.Color // attention: forks, rehearsals, partial data
	Error      color.Color // traps, failures, removed ranges
	Zero       color.Color // page-map cells with no stored page
	Data       color.Color // page-map cells with data
	Changed    color.Color // page-map cells and hex bytes that differ
	ChangedBG  color.Color // background of changed hex bytes
	BarFill    color.Color // the filled part of progress and budget bars
	BarEmpty   color.Color // the empty part of bars
	StatusFG   color.Color // the status line's text
	StatusBG   color.Color // the status line's background
	OverlayBG  color.Color // the help overlay's background
	OverlayFG  color.Color // the help overlay's text
	OverlayKey color.Color // keys inside the help overlay
}

// Theme is a named palette. NoColor themes draw with text attributes only
// (bold, reverse, underline), which is what NO_COLOR asks for.
type Theme struct {
	Name    string
	Palette Palette
	NoColor bool
}

// palettes returns the built-in palettes by name. It is a function rather
// than a package variable so nothing can modify a theme at run time.
func palettes() map[string]Palette {
	c := lipgloss.Color
	return map[string]Palette{
		"dark": {
			Text: c("#d0d0d0"), Muted: c("#808080"), Accent: c("#7aa2f7"), Border: c("#4a4a4a"),
			SelectFG: c("#ffffff"), SelectBG: c("#3a3f5a"), Marked: c("#e0af68"),
			OK: c("#9ece6a"), Warn: c("#e0af68"), Error: c("#f7768e"),
			Zero: c("#3a3a3a"), Data: c("#5f87af"), Changed: c("#ff9e64"), ChangedBG: c("#5a2e1e"),
			BarFill: c("#7aa2f7"), BarEmpty: c("#3a3a3a"),
			StatusFG: c("#c0c0c0"), StatusBG: c("#262626"),
			OverlayBG: c("#1f2335"), OverlayFG: c("#d0d0d0"), OverlayKey: c("#7aa2f7"),
		},
		"light": {
			Text: c("#303030"), Muted: c("#707070"), Accent: c("#2e5cb8"), Border: c("#b0b0b0"),
			SelectFG: c("#000000"), SelectBG: c("#cfd8f0"), Marked: c("#a05a00"),
			OK: c("#2e7d32"), Warn: c("#a05a00"), Error: c("#c62828"),
			Zero: c("#d0d0d0"), Data: c("#4a78b0"), Changed: c("#d2691e"), ChangedBG: c("#ffe0c0"),
			BarFill: c("#2e5cb8"), BarEmpty: c("#d8d8d8"),
			StatusFG: c("#303030"), StatusBG: c("#e4e4e4"),
			OverlayBG: c("#f4f4f4"), OverlayFG: c("#303030"), OverlayKey: c("#2e5cb8"),
		},
		"high-contrast": {
			Text: c("#ffffff"), Muted: c("#c0c0c0"), Accent: c("#00ffff"), Border: c("#ffffff"),
			SelectFG: c("#000000"), SelectBG: c("#ffff00"), Marked: c("#ff00ff"),
			OK: c("#00ff00"), Warn: c("#ffff00"), Error: c("#ff0000"),
			Zero: c("#808080"), Data: c("#00ffff"), Changed: c("#ffff00"), ChangedBG: c("#ff0000"),
			BarFill: c("#00ff00"), BarEmpty: c("#808080"),
			StatusFG: c("#000000"), StatusBG: c("#ffffff"),
			OverlayBG: c("#000000"), OverlayFG: c("#ffffff"), OverlayKey: c("#ffff00"),
		},
	}
}

// Names lists the built-in themes in alphabetical order.
func Names() []string { return slices.Sorted(maps.Keys(palettes())) }

// Lookup returns the built-in theme called name.
func Lookup(name string) (Theme, error) {
	p, ok := palettes()[name]
	if !ok {
		return Theme{}, fmt.Errorf("theme %q: unknown, pick one of %s", name, strings.Join(Names(), ", "))
	}
	return Theme{Name: name, Palette: p}, nil
}

// Select picks the theme the user asked for: the --theme flag, else
// $CANSCOPE_THEME, else Default. A set NO_COLOR (any value, per
// no-color.org) keeps the theme's name but turns colour off.
func Select(flag string, getenv func(string) string) (Theme, error) {
	name := flag
	if name == "" {
		name = getenv("CANSCOPE_THEME")
	}
	if name == "" {
		name = Default
	}
	t, err := Lookup(name)
	if err != nil {
		return Theme{}, err
	}
	t.NoColor = getenv("NO_COLOR") != ""
	return t, nil
}
