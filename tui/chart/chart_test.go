package chart

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUsage keeps to its size, draws the series nearest to their limits
// and says which in the legend.
func TestUsage(t *testing.T) {
	if got := Usage(nil, "x", 80, 24); got != "" {
		t.Errorf("no series drew %q", got)
	}
	series := []Series{
		{"low", []float64{0.1, 0.2, 0.3}},
		{"high", []float64{10, 20, 30}},
		{"mid", []float64{1, 2, 3}},
		{"flat", []float64{0, 0, 0}},
	}
	for _, size := range [][2]int{{80, 24}, {40, 10}} {
		out := Usage(series, Caption(3, "prod"), size[0], size[1])
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d rows", size[0], size[1], len(lines))
		}
		for _, l := range lines {
			if utf8.RuneCountInString(l) > size[0] {
				t.Errorf("%dx%d: row of %d columns: %q", size[0], size[1], utf8.RuneCountInString(l), l)
			}
		}
		legend := lines[len(lines)-1]
		if !strings.Contains(legend, "─ high") || !strings.Contains(legend, "• mid") || !strings.Contains(legend, "+ low") || strings.Contains(legend, "flat") {
			t.Errorf("%dx%d legend %q", size[0], size[1], legend)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("%dx%d: ANSI escapes in the chart", size[0], size[1])
		}
	}
}
