package render

import (
	"fmt"
	"strings"

	"github.com/canscope/canscope/themes"
)

// HexRowDiffers reports whether row r (perRow bytes) differs between a and b.
func HexRowDiffers(a, b []byte, r, perRow int) bool {
	lo := r * perRow
	for i := lo; i < lo+perRow; i++ {
		if byteAt(a, i) != byteAt(b, i) {
			return true
		}
	}
	return false
}

func byteAt(p []byte, i int) int {
	if i < 0 || i >= len(p) {
		return -1
	}
	return int(p[i])
}

// HexRow renders row r of a side-by-side dump: the offset (base + row
// start), a's bytes, a marker (≠ when the row differs), b's bytes. Changed
// bytes carry the HexChanged style on both sides.
func HexRow(a, b []byte, base uint64, r, perRow int, st themes.Styles) string {
	lo := r * perRow
	var left, right strings.Builder
	differs := false
	side := func(sb *strings.Builder, p, other []byte, i int) {
		if i > lo {
			sb.WriteByte(' ')
		}
		v := byteAt(p, i)
		cell := "--"
		if v >= 0 {
			cell = fmt.Sprintf("%02x", v)
		}
		if v != byteAt(other, i) {
			sb.WriteString(st.HexChanged.Render(cell))
			return
		}
		sb.WriteString(st.HexSame.Render(cell))
	}
	for i := lo; i < lo+perRow; i++ {
		side(&left, a, b, i)
		side(&right, b, a, i)
		if byteAt(a, i) != byteAt(b, i) {
			differs = true
		}
	}
	mark := " │ "
	if differs {
		mark = st.CellChanged.Render(" ≠ ")
	}
	return st.Muted.Render(fmt.Sprintf("%010x  ", base+uint64(lo))) + left.String() + mark + right.String()
}

// HexRowWidth is the width of a HexRow of perRow bytes.
func HexRowWidth(perRow int) int { return 12 + 2*(3*perRow-1) + 3 }
