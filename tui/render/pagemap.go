package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/canscope/canscope/snapshots"
	"github.com/canscope/canscope/themes"
)

// Cell is what one page-map cell shows for the pages it covers.
type Cell uint8

// Cell kinds, in order of precedence: a cell with any changed page is
// changed, else with any stored page is data, else zero.
const (
	CellZero Cell = iota
	CellData
	CellChanged
)

// Glyphs per cell kind; distinct so a map reads without colour.
const (
	GlyphZero    = "·"
	GlyphData    = "▒"
	GlyphChanged = "█"
)

// ChangedPages returns the sorted indices of pages whose content differs
// between two tables (including pages present in only one), by merging the
// two sorted page lists: no page is read, and a million-page table costs
// one linear pass.
func ChangedPages(a, b snapshots.PageTable) []uint64 {
	var out []uint64
	i, j := 0, 0
	for i < len(a.Pages) || j < len(b.Pages) {
		switch {
		case j == len(b.Pages) || (i < len(a.Pages) && a.Pages[i].Index < b.Pages[j].Index):
			out = append(out, a.Pages[i].Index)
			i++
		case i == len(a.Pages) || b.Pages[j].Index < a.Pages[i].Index:
			out = append(out, b.Pages[j].Index)
			j++
		default:
			if a.Pages[i].Hash != b.Pages[j].Hash {
				out = append(out, a.Pages[i].Index)
			}
			i++
			j++
		}
	}
	return out
}

// PageMap draws a memory's pages as cells, each aggregating PerCell pages.
// It is built once per manifest; rows are rendered on demand, so a View
// costs O(visible cells · log pages) however large the memory.
type PageMap struct {
	table   snapshots.PageTable
	changed []uint64 // sorted page indices that differ from the parent
	PerCell uint64   // pages per cell, ≥ 1
}

// NewPageMap returns a map of t with changed pages (sorted) highlighted.
func NewPageMap(t snapshots.PageTable, changed []uint64, perCell uint64) PageMap {
	return PageMap{table: t, changed: changed, PerCell: max(perCell, 1)}
}

// FitPerCell returns the smallest power of two of pages per cell that fits
// pages into cols×rows cells.
func FitPerCell(pages uint64, cols, rows int) uint64 {
	capacity := uint64(max(cols, 1) * max(rows, 1))
	per := uint64(1)
	for per*capacity < pages {
		per *= 2
	}
	return per
}

// Cells returns the number of cells the map has.
func (m PageMap) Cells() uint64 {
	n := m.table.NumPages()
	return (n + m.PerCell - 1) / m.PerCell
}

// Rows returns how many rows of cols cells the map needs.
func (m PageMap) Rows(cols int) int {
	if cols <= 0 {
		return 0
	}
	return int((m.Cells() + uint64(cols) - 1) / uint64(cols))
}

// Cell classifies cell i.
func (m PageMap) Cell(i uint64) Cell {
	lo := i * m.PerCell
	hi := lo + m.PerCell
	if anyIn(m.changed, lo, hi) {
		return CellChanged
	}
	p := m.table.Pages
	k := sort.Search(len(p), func(k int) bool { return p[k].Index >= lo })
	if k < len(p) && p[k].Index < hi {
		return CellData
	}
	return CellZero
}

func anyIn(sorted []uint64, lo, hi uint64) bool {
	k := sort.Search(len(sorted), func(k int) bool { return sorted[k] >= lo })
	return k < len(sorted) && sorted[k] < hi
}

// Row renders row r of a map cols cells wide, prefixed with the byte
// offset of its first cell. Runs of equal cells share one style so the
// output stays small.
func (m PageMap) Row(r, cols int, st themes.Styles) string {
	first := uint64(r) * uint64(cols)
	total := m.Cells()
	var b strings.Builder
	b.WriteString(st.Muted.Render(fmt.Sprintf("%9s ", Bytes(first*m.PerCell*snapshots.PageSize))))
	run, runKind := 0, Cell(0)
	flush := func() {
		if run == 0 {
			return
		}
		glyph, style := GlyphZero, st.CellZero
		switch runKind {
		case CellData:
			glyph, style = GlyphData, st.CellData
		case CellChanged:
			glyph, style = GlyphChanged, st.CellChanged
		}
		b.WriteString(style.Render(strings.Repeat(glyph, run)))
		run = 0
	}
	for c := first; c < first+uint64(cols) && c < total; c++ {
		k := m.Cell(c)
		if run > 0 && k != runKind {
			flush()
		}
		runKind = k
		run++
	}
	flush()
	return b.String()
}

// RowPrefixWidth is the width of the offset column Row writes.
const RowPrefixWidth = 10

// Legend explains the glyphs and the scale.
func (m PageMap) Legend(st themes.Styles) string {
	return fmt.Sprintf("%s zero  %s data  %s changed vs parent   1 cell = %s",
		st.CellZero.Render(GlyphZero), st.CellData.Render(GlyphData), st.CellChanged.Render(GlyphChanged),
		pagesText(m.PerCell))
}

func pagesText(n uint64) string {
	unit := "pages"
	if n == 1 {
		unit = "page"
	}
	return fmt.Sprintf("%d %s (%s)", n, unit, Bytes(n*snapshots.PageSize))
}

// Bytes formats a byte count in IEC units ("4.0 GiB", "64 KiB", "0 B").
func Bytes(n uint64) string { return humanize.IBytes(n) }
