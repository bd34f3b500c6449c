// Package render holds the terminal UI's pure formatting: page maps, hex
// dumps, bars, table cells and scrolling arithmetic. Nothing here does I/O
// or keeps state, so each function is tested against fixed inputs and is
// cheap enough to call from View on every frame.
package render

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"
)

// Fit truncates s (which may carry ANSI styles) to width cells with an
// ellipsis and pads it with spaces to exactly width.
func Fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if lipgloss.Width(s) > width {
		s = ansi.Truncate(s, width, "…")
	}
	if pad := width - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// FitLeft is Fit with the text aligned right, for numbers.
func FitLeft(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if lipgloss.Width(s) > width {
		s = ansi.Truncate(s, width, "…")
	}
	if pad := width - lipgloss.Width(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// Tail keeps the last cells of s that fit in width, marking the cut with
// a leading ellipsis: for names whose end says the most (a demangled
// path's function, a file's name). s must be plain text.
func Tail(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return "…" + ansi.TruncateLeft(s, ansi.StringWidth(s)-width+1, "")
}

// Block fits lines into a width×height block: each line fitted, missing
// lines blank, extra lines dropped. Screens return blocks so the root can
// stack them without measuring.
func Block(lines []string, width, height int) string {
	if height <= 0 {
		return ""
	}
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = Fit(lines[i], width)
		} else {
			out[i] = strings.Repeat(" ", max(width, 0))
		}
	}
	return strings.Join(out, "\n")
}

// Offset returns the first visible row of a list of n rows shown in height
// rows so that cursor stays visible, moving the window as little as
// possible from the previous offset.
func Offset(cursor, offset, height, n int) int {
	if height <= 0 || n <= height {
		return 0
	}
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+height {
		offset = cursor - height + 1
	}
	return min(max(offset, 0), n-height)
}

// Clamp bounds v to [lo, hi]; hi < lo yields lo.
func Clamp(v, lo, hi int) int {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}

// Count formats n with a noun, plural unless n is 1: "1 page", "3 pages".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// agoMagnitudes are humanize's, with days up to a month: an incident's
// snapshots are days apart, and "1 week ago" for all of them hides which
// is which.
var agoMagnitudes = []humanize.RelTimeMagnitude{
	{D: time.Second, Format: "now", DivBy: time.Second},
	{D: 2 * time.Second, Format: "1 second %s", DivBy: 1},
	{D: time.Minute, Format: "%d seconds %s", DivBy: time.Second},
	{D: 2 * time.Minute, Format: "1 minute %s", DivBy: 1},
	{D: time.Hour, Format: "%d minutes %s", DivBy: time.Minute},
	{D: 2 * time.Hour, Format: "1 hour %s", DivBy: 1},
	{D: humanize.Day, Format: "%d hours %s", DivBy: time.Hour},
	{D: 2 * humanize.Day, Format: "1 day %s", DivBy: 1},
	{D: 31 * humanize.Day, Format: "%d days %s", DivBy: humanize.Day},
	{D: 2 * humanize.Month, Format: "1 month %s", DivBy: 1},
	{D: humanize.Year, Format: "%d months %s", DivBy: humanize.Month},
	{D: 2 * humanize.Year, Format: "1 year %s", DivBy: 1},
	{D: math.MaxInt64, Format: "%d years %s", DivBy: humanize.Year},
}

// Ago is t relative to now, by days within a month: "3 days ago".
func Ago(t, now time.Time) string {
	return humanize.CustomRelTime(t, now, "ago", "from now", agoMagnitudes)
}
