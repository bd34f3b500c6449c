package detail

import (
	"github.com/canscope/canscope/themes"
	"github.com/canscope/canscope/tui/render"
)

// segment is a part of the scrollable body that renders its lines on
// demand, so a page map of a million pages costs only its visible rows.
type segment interface {
	Len() int
	Line(i int) string
	// Title names the section for the jump-to-section key ("" for none).
	Title() string
}

// textSeg is a section of prepared lines.
type textSeg struct {
	title string
	lines []string
}

func (s textSeg) Len() int          { return len(s.lines) }
func (s textSeg) Line(i int) string { return s.lines[i] }
func (s textSeg) Title() string     { return s.title }

// mapSeg is a page map drawn cols cells wide.
type mapSeg struct {
	pm   render.PageMap
	cols int
	st   themes.Styles
}

func (s mapSeg) Len() int          { return s.pm.Rows(s.cols) }
func (s mapSeg) Line(i int) string { return s.pm.Row(i, s.cols, s.st) }
func (s mapSeg) Title() string     { return "" }

// document is the body: segments one after another.
type document []segment

func (d document) Len() int {
	n := 0
	for _, s := range d {
		n += s.Len()
	}
	return n
}

// Lines renders lines [from, from+n).
func (d document) Lines(from, n int) []string {
	out := make([]string, 0, n)
	for _, s := range d {
		l := s.Len()
		if from >= l {
			from -= l
			continue
		}
		for i := from; i < l && len(out) < n; i++ {
			out = append(out, s.Line(i))
		}
		from = 0
		if len(out) == n {
			break
		}
	}
	return out
}

// Sections returns the first line of every titled segment.
func (d document) Sections() []int {
	var out []int
	at := 0
	for _, s := range d {
		if s.Title() != "" {
			out = append(out, at)
		}
		at += s.Len()
	}
	return out
}
