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
// start), a's bytes, a marker (≠ when the row differs), b's bytes; with
// ascii, each side's bytes also as text (printable ASCII, else "."), as
// hexdump -C shows them. Changed bytes carry the HexChanged style on both
// sides.
func HexRow(a, b []byte, base uint64, r, perRow int, ascii bool, st themes.Styles) string {
	lo := r * perRow
	var left, right, lText, rText strings.Builder
	differs := false
	side := func(sb, text *strings.Builder, p, other []byte, i int) {
		if i > lo {
			sb.WriteByte(' ')
		}
		v := byteAt(p, i)
		cell, ch := "--", " "
		if v >= 0 {
			cell, ch = fmt.Sprintf("%02x", v), "."
			if v >= 0x20 && v < 0x7f {
				ch = string(rune(v))
			}
		}
		style := st.HexSame
		if v != byteAt(other, i) {
			style = st.HexChanged
		}
		sb.WriteString(style.Render(cell))
		text.WriteString(style.Render(ch))
	}
	for i := lo; i < lo+perRow; i++ {
		side(&left, &lText, a, b, i)
		side(&right, &rText, b, a, i)
		if byteAt(a, i) != byteAt(b, i) {
			differs = true
		}
	}
	mark := " │ "
	if differs {
		mark = st.CellChanged.Render(" ≠ ")
	}
	if ascii {
		left.WriteString(" " + lText.String())
		right.WriteString(" " + rText.String())
	}
	return st.Muted.Render(fmt.Sprintf("%010x  ", base+uint64(lo))) + left.String() + mark + right.String()
}

// HexRowWidth is the width of a HexRow of perRow bytes, with or without
// the ASCII columns.
func HexRowWidth(perRow int, ascii bool) int {
	w := 12 + 2*(3*perRow-1) + 3
	if ascii {
		w += 2 * (perRow + 1)
	}
	return w
}
