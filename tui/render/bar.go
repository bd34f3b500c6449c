package render

import (
	"math"
	"strings"

	"github.com/canscope/canscope/themes"
)

// Bar draws a horizontal bar width cells wide, filled to frac (clamped to
// [0, 1]). Filled and empty cells use different glyphs so the bar reads
// without colour.
func Bar(width int, frac float64, st themes.Styles) string {
	if width <= 0 {
		return ""
	}
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	full := int(math.Round(frac * float64(width)))
	return st.BarFill.Render(strings.Repeat("█", full)) + st.BarEmpty.Render(strings.Repeat("░", width-full))
}
