// Package chart draws usage-against-limit charts in plain text (with
// asciigraph), for `canscope headroom` and the UI alike, so the two show
// one picture. It knows nothing of the engine: callers pass percentages.
package chart

import (
	"fmt"
	"sort"
	"strings"

	"github.com/guptarohit/asciigraph"
)

// Series is one limit's use over a lineage, oldest first, in percent of
// the limit.
type Series struct {
	Name    string
	Percent []float64
}

// MaxSeries is how many series Usage draws: the ones nearest to their
// limit now (the last value), which the caption says.
const MaxSeries = 3

// marks tell the series apart without colour (goldens and NO_COLOR).
var marks = []string{"─", "•", "+"}

// Usage draws the series nearest to their limits in at most width columns
// and rows rows: the plot, a caption naming what it shows and a legend (a
// caption or legend too long for width ends in "…"). It returns "" without
// series or below 20x4.
func Usage(series []Series, caption string, width, rows int) string {
	all := make([]Series, 0, len(series))
	for _, s := range series {
		if len(s.Percent) > 0 {
			all = append(all, s)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return last(all[i]) > last(all[j]) })
	if len(all) > MaxSeries {
		all = all[:MaxSeries]
	}
	if len(all) == 0 || rows < 4 || width < 20 {
		return ""
	}
	data := make([][]float64, len(all))
	chars := make([]asciigraph.CharSet, len(all))
	legend := make([]string, len(all))
	top := 0.0
	for i, s := range all {
		data[i] = s.Percent
		chars[i] = asciigraph.CreateCharSet(marks[i])
		if i == 0 {
			chars[i] = asciigraph.DefaultCharSet
		}
		legend[i] = marks[i] + " " + s.Name
		for _, v := range s.Percent {
			top = max(top, v)
		}
	}
	plot := asciigraph.PlotMany(data,
		asciigraph.Height(rows-3), asciigraph.Width(width-12),
		asciigraph.LowerBound(0), asciigraph.UpperBound(max(top*1.1, 1e-3)),
		asciigraph.Precision(3), asciigraph.SeriesChars(chars...),
		asciigraph.Caption(caption))
	lines := strings.Split(plot+"\n"+strings.Repeat(" ", 7)+strings.Join(legend, "   "), "\n")
	for i, l := range lines {
		lines[i] = fit(strings.TrimRight(l, " "), width)
	}
	return strings.Join(lines, "\n") + "\n"
}

// fit cuts a line to width columns, ending it with "…" when cut.
func fit(l string, width int) string {
	r := []rune(l)
	if len(r) <= width {
		return l
	}
	return string(r[:width-1]) + "…"
}

func last(s Series) float64 { return s.Percent[len(s.Percent)-1] }

// Caption is the usual caption: what the y axis means and the x axis spans.
func Caption(points int, name string) string {
	return fmt.Sprintf("%% of each limit over %d snapshots of %s, oldest left", points, name)
}
